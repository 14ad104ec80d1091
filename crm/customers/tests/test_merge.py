"""Merging two customers: contacts, team and follow-ups move; both sides are logged."""

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.urls import reverse

from crm.access.policy import PermissionRequiredError
from crm.audit.models import OperationLog
from crm.customers import services
from crm.customers.merge import customer_merge
from crm.customers.models import Contact, Customer, CustomerAccess, DictionaryItem
from crm.customers.tests.test_duplicates import make


@pytest.fixture
def pair(users):
    """A (sales1's, two contacts) and B (sales2's, one contact, shared with finance)."""
    a = make(users["sales1"], "深圳市中兴通讯股份有限公司", phone="0755-1111111", address="南山")
    services.contact_create(actor=users["sales1"], customer=a, values={"name": "张三", "is_primary": True})
    services.contact_create(actor=users["sales1"], customer=a, values={"name": "李四"})
    b = make(users["sales2"], "中兴通讯有限公司", phone="0755-2222222", mobile="13800138000")
    services.contact_create(actor=users["sales2"], customer=b, values={"name": "王五", "is_primary": True})
    services.customers_share(
        actor=users["sales2"], customers=Customer.objects.filter(pk=b.pk), users=[users["finance"]]
    )
    return a, b


def test_merge_moves_contacts_keeps_the_survivors_primary_and_takes_chosen_fields(users, pair):
    a, b = pair

    merged = customer_merge(actor=users["admin"], target=a, source=b, take_from_source=["phone", "mobile"])

    merged.refresh_from_db()
    assert (merged.phone, merged.mobile, merged.address) == ("0755-2222222", "13800138000", "南山")
    assert sorted(Contact.objects.filter(customer=a).values_list("name", flat=True)) == [
        "张三",
        "李四",
        "王五",
    ]
    assert list(Contact.objects.filter(customer=a, is_primary=True).values_list("name", flat=True)) == [
        "张三"
    ]
    loser = Customer.objects.get(pk=b.pk)
    assert loser.deleted_at is not None and loser.deleted_by == users["admin"]


def test_merge_moves_shares_and_puts_the_former_owner_on_the_team(users, pair):
    a, b = pair

    customer_merge(actor=users["admin"], target=a, source=b)

    grants = dict(CustomerAccess.objects.filter(customer=a).values_list("user__username", "kind"))
    assert grants == {"finance": "shared", "sales2": "team"}
    assert not CustomerAccess.objects.filter(customer=b).exists()


def test_merge_logs_both_sides(users, pair):
    a, b = pair

    customer_merge(actor=users["admin"], target=a, source=b, take_from_source=["phone"])

    winner_log = OperationLog.objects.get(action="customer.merged", target_id=str(a.pk))
    loser_log = OperationLog.objects.get(action="customer.merged_into", target_id=str(b.pk))
    assert winner_log.changes["merged_from"] == [None, b.code]
    assert winner_log.changes["phone"] == ["0755-1111111", "0755-2222222"]
    assert loser_log.changes["merged_into"] == [None, a.code]
    # History stays with each record: the loser's creation log is still on the loser.
    assert OperationLog.objects.filter(action="customer.created", target_id=str(b.pk)).exists()


def test_taking_the_name_recomputes_search_columns(users, pair):
    a, b = pair

    customer_merge(actor=users["admin"], target=a, source=b, take_from_source=["name"])

    a.refresh_from_db()
    assert a.name == "中兴通讯有限公司" and a.name_key == "中兴通讯"
    assert "zhongxing" in a.name_pinyin


def test_taking_the_credit_code_frees_it_on_the_loser(users):
    from crm.customers.text import credit_code_check_char

    body = "91440300279583285"
    a = make(users["sales1"], "甲公司")
    b = make(users["sales2"], "甲有限公司", credit_code=body + credit_code_check_char(body))

    customer_merge(actor=users["admin"], target=a, source=b, take_from_source=["credit_code"])

    assert Customer.objects.get(pk=a.pk).credit_code == body + credit_code_check_char(body)
    assert Customer.objects.get(pk=b.pk).credit_code is None


@pytest.mark.skipif(not apps.is_installed("crm.activities"), reason="activities app not installed")
def test_merge_moves_follow_ups(users, pair):
    from crm.activities.models import FollowUp

    a, b = pair
    kind = DictionaryItem.objects.create(kind=DictionaryItem.Kind.FOLLOWUP_TYPE, name="电话测试")
    FollowUp.objects.create(customer=b, author=users["sales2"], type=kind, content="第一次电话")
    FollowUp.objects.create(customer=b, author=users["sales2"], type=kind, content="第二次电话")

    customer_merge(actor=users["admin"], target=a, source=b)

    assert FollowUp.objects.filter(customer=a).count() == 2
    assert not FollowUp.objects.filter(customer=b).exists()


def test_merge_needs_the_settings_permission(users, pair):
    a, b = pair

    with pytest.raises(PermissionRequiredError):
        customer_merge(actor=users["manager"], target=a, source=b)

    assert Customer.objects.filter(deleted_at__isnull=True).count() == 2


def test_merge_needs_both_customers_visible(users, pair, org):
    from crm.accounts.models import Role
    from crm.accounts.tests.factories import RoleFactory, UserFactory

    a, b = pair
    role = RoleFactory(permissions=["customers.view", "customers.settings"], data_scope=Role.DataScope.SELF)
    settings_only = UserFactory(department=org["south"])
    settings_only.roles.add(role)
    services.customers_transfer(
        actor=users["admin"], customers=Customer.objects.filter(pk=a.pk), to_user=settings_only
    )

    with pytest.raises(ValidationError, match="只能合并您可以查看的两个客户"):
        customer_merge(actor=settings_only, target=a, source=b)

    assert Customer.objects.filter(deleted_at__isnull=True).count() == 2
    assert not OperationLog.objects.filter(action__startswith="customer.merged").exists()


def test_a_customer_cannot_be_merged_with_itself(users, pair):
    a, _b = pair

    with pytest.raises(ValidationError):
        customer_merge(actor=users["admin"], target=a, source=a)


def test_merge_page_shows_both_side_by_side_and_merges(admin_client, pair):
    a, b = pair
    url = reverse("customer_duplicates:merge")

    page = admin_client.get(url, {"a": a.pk, "b": b.pk})
    response = admin_client.post(url, {"a": a.pk, "b": b.pk, "keep": "b", "f_name": "a", "f_phone": "b"})

    body = page.content.decode()
    assert page.status_code == 200
    assert a.code in body and b.code in body and 'data-testid="merge-row-phone"' in body
    assert response.status_code == 302
    survivor = Customer.objects.get(pk=b.pk)
    assert survivor.deleted_at is None
    assert (survivor.name, survivor.phone) == ("深圳市中兴通讯股份有限公司", "0755-2222222")
    assert Customer.objects.get(pk=a.pk).deleted_at is not None


def test_merge_page_is_404_for_a_customer_out_of_scope(client, users, pair):
    a, b = pair
    client.force_login(users["sales1"])  # sales1 sees only a, and lacks customers.settings anyway

    assert client.get(reverse("customer_duplicates:merge"), {"a": a.pk, "b": b.pk}).status_code == 403
    client.force_login(users["administrator"])
    assert client.get(reverse("customer_duplicates:merge"), {"a": a.pk, "b": 999999}).status_code == 404


def test_merge_keeps_the_survivors_custom_values_and_fills_its_gaps(users, pair):
    target, source = pair
    Customer.objects.filter(pk=target.pk).update(custom_data={"intent": "强烈", "budget": ""})
    Customer.objects.filter(pk=source.pk).update(
        custom_data={"intent": "观望", "budget": "120000.00", "listed": True}
    )
    target.refresh_from_db()
    source.refresh_from_db()

    merged = customer_merge(actor=users["admin"], target=target, source=source)

    merged.refresh_from_db()
    assert merged.custom_data == {"intent": "强烈", "budget": "120000.00", "listed": True}
    log = OperationLog.objects.get(action="customer.merged", target_id=str(merged.pk))
    assert log.changes["custom.budget"] == [None, "120000.00"]
    assert "custom.intent" not in log.changes
