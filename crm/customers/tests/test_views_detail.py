"""Customer detail: fields, contacts, team and shares, timeline; bounded queries."""

import pytest

from crm.audit.models import OperationLog
from crm.customers import services
from crm.customers.models import Contact, Customer, CustomerAccess, DictionaryItem


@pytest.fixture
def customer(users):
    city = DictionaryItem.objects.get(kind="region", name="深圳市")
    return services.customer_create(
        actor=users["sales1"],
        values={
            "name": "深圳市中兴通讯股份有限公司",
            "region": city,
            "tags": "重点,华南",
            "website": "https://zte.example",
        },
        contacts=[{"name": "张三", "mobile": "13800138000"}],
    )


def test_detail_shows_fields_contacts_and_timeline_in_bounded_queries(
    client, users, customer, django_assert_max_num_queries
):
    for i in range(60):
        services.contact_create(actor=users["sales1"], customer=customer, values={"name": f"联系人{i}"})
    for i in range(30):
        services.customer_update(actor=users["sales1"], customer=customer, values={"keyword": f"关键字{i}"})
    services.customers_share(
        actor=users["sales1"], customers=Customer.objects.filter(pk=customer.pk), users=[users["sales2"]]
    )
    client.force_login(users["manager"])
    # The page and its module cards (opportunities, price history, registrations, contracts,
    # receivables, invoices, points, purchases), each a fixed number of queries.
    with django_assert_max_num_queries(30):
        response = client.get(f"/customers/{customer.pk}/")
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count('data-testid="contact-row"') == 61
    assert page.count('data-testid="timeline-event"') == 50
    assert "广东省 / 深圳市" in page and "重点" in page and "https://zte.example" in page
    assert users["sales2"].display_name in page
    assert "修改客户" in page  # the action label, not the code


def test_timeline_is_newest_first_and_covers_contacts(client, users, customer):
    contact = customer.contacts.get()
    services.contact_update(actor=users["sales1"], contact=contact, values={"title": "总经理"})
    client.force_login(users["sales1"])
    timeline = client.get(f"/customers/{customer.pk}/").context["timeline"]
    assert timeline[0].action == "contact.updated"
    assert timeline[-1].action == "customer.created"


def test_add_edit_set_primary_and_delete_contacts(client, users, customer):
    client.force_login(users["sales1"])
    response = client.post(
        f"/customers/{customer.pk}/contacts/new/", {"name": "李四", "mobile": "13900139000", "title": "采购"}
    )
    assert response.status_code == 302
    li = customer.contacts.get(name="李四")
    assert client.post(f"/customers/{customer.pk}/contacts/{li.pk}/primary/").status_code == 302
    assert customer.contacts.get(is_primary=True) == li
    response = client.post(
        f"/customers/{customer.pk}/contacts/{li.pk}/edit/", {"name": "李四", "mobile": "123"}
    )
    assert response.status_code == 400 and "手机号码" in response.content.decode()
    client.post(f"/customers/{customer.pk}/contacts/{li.pk}/edit/", {"name": "李四四", "is_primary": "on"})
    li.refresh_from_db()
    assert li.name == "李四四"
    client.force_login(users["manager"])  # sales may not delete contacts
    assert client.post(f"/customers/{customer.pk}/contacts/{li.pk}/delete/").status_code == 302
    assert not Contact.objects.filter(pk=li.pk).exists()
    assert customer.contacts.get().is_primary


def test_contact_of_another_customer_is_404(client, users, customer):
    other = services.customer_create(
        actor=users["sales1"], values={"name": "乙"}, contacts=[{"name": "王五"}]
    )
    client.force_login(users["sales1"])
    wang = other.contacts.get()
    assert client.get(f"/customers/{customer.pk}/contacts/{wang.pk}/edit/").status_code == 404


def test_share_team_and_remove(client, users, customer):
    client.force_login(users["sales1"])
    client.post(f"/customers/{customer.pk}/access/", {"kind": "shared", "users": [users["sales2"].pk]})
    client.post(
        f"/customers/{customer.pk}/access/",
        {"kind": "team", "users": [users["finance"].pk], "can_edit": "on"},
    )
    assert CustomerAccess.objects.get(customer=customer, user=users["sales2"]).kind == "shared"
    team = CustomerAccess.objects.get(customer=customer, user=users["finance"])
    assert team.kind == "team" and team.can_edit
    assert OperationLog.objects.filter(action="customer.team_added", target_id=str(customer.pk)).exists()
    client.post(f"/customers/{customer.pk}/access/{team.pk}/remove/")
    assert not CustomerAccess.objects.filter(pk=team.pk).exists()


def test_a_shared_user_cannot_manage_shares(client, users, customer):
    services.customers_share(
        actor=users["sales1"], customers=Customer.objects.filter(pk=customer.pk), users=[users["sales2"]]
    )
    client.force_login(users["sales2"])
    response = client.post(
        f"/customers/{customer.pk}/access/", {"kind": "team", "users": [users["sales2"].pk]}
    )
    assert response.status_code == 404
    assert CustomerAccess.objects.get(customer=customer, user=users["sales2"]).kind == "shared"


def test_delete_from_the_detail_page_moves_to_the_recycle_bin(client, users, customer):
    client.force_login(users["manager"])
    assert client.post(f"/customers/{customer.pk}/delete/").status_code == 302
    customer.refresh_from_db()
    assert customer.deleted_at is not None
    assert client.get(f"/customers/{customer.pk}/").status_code == 404


def test_timeline_shows_choice_labels_not_stored_values(client, users):
    created = services.customer_create(
        actor=users["sales1"], values={"name": "深圳市选项标签科技有限公司", "kind": Customer.Kind.INDIVIDUAL}
    )
    client.force_login(users["sales1"])
    page = client.get(f"/customers/{created.pk}/").content.decode()
    timeline = page[page.index("操作记录") :]
    assert str(Customer.Kind.INDIVIDUAL.label) in timeline
    assert "individual" not in timeline


def test_timeline_shows_logged_date_times_in_local_time(client, users):
    from datetime import UTC, datetime

    created = services.customer_create(
        actor=users["sales1"],
        values={
            "name": "深圳市时间显示科技有限公司",
            "next_contact_at": datetime(2026, 12, 7, 0, 56, 17, tzinfo=UTC),
        },
    )
    client.force_login(users["sales1"])
    page = client.get(f"/customers/{created.pk}/", {"feed": "log"}).content.decode()
    timeline = page[page.index('data-testid="timeline"') :]
    assert "2026-12-07 08:56" in timeline  # Asia/Shanghai
    assert "00:56:17" not in timeline


def test_sales_cards_cost_the_same_queries_whatever_the_deals(client, users, customer):
    """Contracts, plans, receivables, invoices and points on the customer page: one customer with
    one of each and one with fifteen of each answer in the same number of queries."""
    import datetime
    from decimal import Decimal

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from crm.contracts.models import Contract
    from crm.invoices.models import Invoice
    from crm.points.models import PointsEntry
    from crm.receivables.models import PaymentPlan, Receivable

    def add_deals(count, start):
        for i in range(start, start + count):
            contract = Contract.objects.create(
                code=f"HT-Q-{i}",
                name=f"合同{i}",
                customer=customer,
                owner=users["sales1"],
                status=Contract.Status.APPROVED,
                signed_on=datetime.date(2026, 11, 1),
                total=Decimal("1000.00"),
                received_amount=Decimal("100.00"),
            )
            plan = PaymentPlan.objects.create(
                contract=contract,
                customer=customer,
                amount=Decimal("500.00"),
                due_on=datetime.date(2026, 1, 1),
            )
            Receivable.objects.create(
                code=f"HK-Q-{i}",
                contract=contract,
                customer=customer,
                plan=plan,
                owner=users["sales1"],
                amount=Decimal("100.00"),
                received_on=datetime.date(2026, 11, 2),
                status=Receivable.Status.APPROVED,
            )
            Invoice.objects.create(
                code=f"FP-Q-{i}",
                contract=contract,
                customer=customer,
                owner=users["sales1"],
                title=customer.name,
                amount=Decimal("100.00"),
            )
            PointsEntry.objects.create(customer=customer, kind="earn", points=5, contract=contract)

    client.force_login(users["manager"])

    def count_queries():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/customers/{customer.pk}/").status_code == 200
        return len(queries)

    add_deals(1, 0)
    one = count_queries()
    add_deals(14, 1)
    assert count_queries() == one
