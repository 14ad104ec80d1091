"""Pages: lists, the receivable form and detail, the contract and customer sections; who sees what
(404 outside the scope, 403 without the permission) and bounded query counts."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from crm.contracts.models import Contract
from crm.receivables import services
from crm.receivables.models import PaymentPlan, Receivable

TODAY = timezone.localdate


@pytest.fixture
def sales1_client(client, users):
    client.force_login(users["sales1"])
    return client


def login(client, user):
    client.force_login(user)
    return client


def make_plan(actor, contract, amount, days=10):
    return services.plan_create(
        actor=actor, contract=contract, values={"amount": amount, "due_on": TODAY() + timedelta(days=days)}
    )


def register(actor, contract, amount, **values):
    return services.receivable_create(actor=actor, contract=contract, values={"amount": amount, **values})


# ---------------------------------------------------------------- lists


def test_receivable_list_shows_only_visible_receivables_with_search_and_filter(
    client, users, make_contract, customers
):
    mine = make_contract(name="深圳门锁项目")
    theirs = make_contract(owner=users["sales2"], customer=customers["other"], name="上海仓储项目")
    own = register(users["sales1"], mine, "100")
    other = register(users["sales2"], theirs, "200")

    page = login(client, users["sales1"]).get(reverse("receivables:list")).content.decode()
    assert own.code in page and other.code not in page
    page = login(client, users["manager"]).get(reverse("receivables:list")).content.decode()
    assert own.code in page and other.code in page
    page = client.get(reverse("receivables:list"), {"q": "上海远航"}).content.decode()
    assert own.code not in page and other.code in page
    page = client.get(reverse("receivables:list"), {"q": own.code}).content.decode()
    assert own.code in page and other.code not in page
    page = client.get(reverse("receivables:list"), {"status": "approved"}).content.decode()
    assert "暂无回款" in page


def test_lists_need_the_view_permission(client, users):
    login(client, users["norole"])
    assert client.get(reverse("receivables:list")).status_code == 403
    assert client.get(reverse("receivables:plans")).status_code == 403


def test_receivable_list_pages_with_bounded_queries(
    client, users, make_contract, django_assert_max_num_queries
):
    contracts = [make_contract(total="100000") for _ in range(5)]
    for index in range(25):
        register(users["sales1"], contracts[index % 5], "10")
    login(client, users["sales1"])
    with django_assert_max_num_queries(12):
        response = client.get(reverse("receivables:list"))
    page = response.content.decode()
    assert page.count('data-testid="receivable-row"') == 20
    assert 'data-testid="receivable-next"' in page
    cursor = response.context["page"].next_cursor
    second = client.get(reverse("receivables:list"), {"cursor": cursor}).content.decode()
    assert second.count('data-testid="receivable-row"') == 5


def test_plan_list_filters_upcoming_and_overdue(client, users, make_contract, django_assert_max_num_queries):
    contract = make_contract(name="华创年度合同")
    soon = make_plan(users["sales1"], contract, "1000", days=5)
    later = make_plan(users["sales1"], contract, "1000", days=90)
    late = make_plan(users["sales1"], contract, "1000", days=-3)
    login(client, users["sales1"])

    def rows(**params):
        response = client.get(reverse("receivables:plans"), params)
        return [plan.pk for plan in response.context["page"].items], response.content.decode()

    with django_assert_max_num_queries(12):
        everything, html = rows()
    assert everything == [late.pk, soon.pk, later.pk]  # by due date
    assert html.count('data-testid="plan-overdue"') == 1
    assert rows(due="upcoming")[0] == [soon.pk]
    assert rows(due="overdue")[0] == [late.pk]
    assert rows(q="华创")[0] == everything
    login(client, users["sales2"])
    assert rows()[0] == []


# ---------------------------------------------------------------- form and detail


def test_register_form_offers_only_the_contracts_plans(sales1_client, users, make_contract):
    contract = make_contract()
    own = make_plan(users["sales1"], contract, "3000")
    foreign = make_plan(users["sales1"], make_contract(), "3000")
    response = sales1_client.get(reverse("receivables:create"), {"contract": contract.pk})
    assert response.status_code == 200
    choices = [value for value, _label in response.context["form"].fields["plan"].choices if value]
    assert [int(str(value)) for value in choices] == [own.pk]
    response = sales1_client.post(
        reverse("receivables:create"),
        {
            "contract": contract.pk,
            "plan": foreign.pk,
            "amount": "100",
            "received_on": TODAY(),
            "method": "bank",
        },
    )
    assert response.status_code == 400
    assert "请选择该合同的回款计划" in response.content.decode()
    assert not Receivable.objects.exists()


def test_register_and_see_the_receivable(sales1_client, users, make_contract):
    contract = make_contract()
    plan = make_plan(users["sales1"], contract, "3000")
    response = sales1_client.post(
        reverse("receivables:create"),
        {
            "contract": contract.pk,
            "plan": plan.pk,
            "amount": "1500.50",
            "received_on": TODAY(),
            "method": "bank",
        },
    )
    receivable = Receivable.objects.get()
    assert response.status_code == 302 and response.url == reverse("receivables:detail", args=[receivable.pk])
    assert receivable.amount == Decimal("1500.50") and receivable.plan_id == plan.pk
    page = sales1_client.get(response.url).content.decode()
    assert receivable.code in page and "¥1500.50" in page
    assert 'data-testid="approval-status-card"' in page and "尚未提交审批" in page
    assert 'data-testid="receivable-submit"' in page
    assert 'data-testid="receivable-confirm"' not in page  # sales has no receivables.approve


def test_register_too_much_shows_the_figures_and_changes_nothing(sales1_client, users, make_contract):
    contract = make_contract(total="1000")
    response = sales1_client.post(
        reverse("receivables:create"),
        {"contract": contract.pk, "amount": "1000.01", "received_on": TODAY(), "method": "bank"},
    )
    assert response.status_code == 400
    assert "超过合同未回款金额 ¥1000.00" in response.content.decode()
    assert not Receivable.objects.exists()


def test_register_on_a_contract_not_approved_is_refused(sales1_client, make_contract):
    contract = make_contract(status=Contract.Status.PENDING)
    response = sales1_client.post(
        reverse("receivables:create"),
        {"contract": contract.pk, "amount": "10", "received_on": TODAY(), "method": "bank"},
    )
    assert response.status_code == 400
    assert "合同尚未审批通过，不能登记回款。" in response.content.decode()
    assert not Receivable.objects.exists()


def test_someone_else_s_contract_and_receivable_answer_404(client, users, make_contract, customers):
    theirs = make_contract(owner=users["sales2"], customer=customers["other"])
    receivable = register(users["sales2"], theirs, "100")
    login(client, users["sales1"])
    assert client.get(reverse("receivables:create"), {"contract": theirs.pk}).status_code == 404
    assert client.get(reverse("receivables:detail", args=[receivable.pk])).status_code == 404
    assert (
        client.post(reverse("receivables:action", args=[receivable.pk]), {"action": "delete"}).status_code
        == 404
    )
    assert (
        client.post(reverse("receivables:plan_create", args=[theirs.pk]), {"amount": "1", "due_on": TODAY()})
    ).status_code == 404
    assert Receivable.objects.filter(pk=receivable.pk).exists()
    assert not PaymentPlan.objects.exists()


def test_without_permission_pages_answer_403(client, users, make_contract):
    contract = make_contract()
    receivable = register(users["sales1"], contract, "100")
    login(client, users["norole"])
    assert client.get(reverse("receivables:detail", args=[receivable.pk])).status_code == 403
    assert client.get(reverse("receivables:create"), {"contract": contract.pk}).status_code == 403
    login(client, users["sales1"])  # sales may not edit or delete
    assert client.get(reverse("receivables:edit", args=[receivable.pk])).status_code == 403
    assert (
        client.post(reverse("receivables:action", args=[receivable.pk]), {"action": "delete"}).status_code
        == 403
    )
    assert Receivable.objects.filter(pk=receivable.pk).exists()


def test_detail_page_queries_are_bounded(client, users, make_contract, django_assert_max_num_queries):
    receivable = register(users["sales1"], make_contract(), "100")
    login(client, users["finance"])
    with django_assert_max_num_queries(20):
        response = client.get(reverse("receivables:detail", args=[receivable.pk]))
    assert response.status_code == 200
    assert 'data-testid="receivable-confirm"' in response.content.decode()


def test_submit_without_flow_shows_the_engine_message_then_finance_confirms(client, users, make_contract):
    contract = make_contract()
    receivable = register(users["sales1"], contract, "300")
    url = reverse("receivables:action", args=[receivable.pk])
    login(client, users["sales1"])
    response = client.post(url, {"action": "submit"}, follow=True)
    assert "没有适用于该回款的审批流" in response.content.decode()
    receivable.refresh_from_db()
    assert receivable.status == Receivable.Status.DRAFT
    login(client, users["finance"])
    response = client.post(url, {"action": "confirm"}, follow=True)
    assert "回款已确认" in response.content.decode()
    receivable.refresh_from_db()
    contract.refresh_from_db()
    assert receivable.status == Receivable.Status.APPROVED and contract.received_amount == Decimal("300.00")


def test_submit_with_a_flow_shows_the_approval_on_the_detail(client, users, make_contract, flow):
    receivable = register(users["sales1"], make_contract(), "300")
    login(client, users["sales1"])
    response = client.post(
        reverse("receivables:action", args=[receivable.pk]), {"action": "submit"}, follow=True
    )
    page = response.content.decode()
    assert "回款已提交审批" in page and 'data-testid="approval-status"' in page and "财务确认" in page
    receivable.refresh_from_db()
    assert receivable.status == Receivable.Status.PENDING


# ---------------------------------------------------------------- plans from the contract section


def test_add_plan_through_htmx_returns_the_section(client, users, make_contract):
    contract = make_contract(total="5000")
    url = reverse("receivables:plan_create", args=[contract.pk])
    login(client, users["sales1"])
    response = client.post(
        url,
        {"amount": "2000", "due_on": TODAY() + timedelta(days=30), "remind_days_before": 3},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('data-testid="contract-plan-row"') == 1 and "¥2000.00" in page
    response = client.post(
        url, {"amount": "3000.01", "due_on": TODAY(), "remind_days_before": 3}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200  # htmx swaps the section with the error
    assert "超过合同金额 ¥5000.00" in response.content.decode()
    assert PaymentPlan.objects.count() == 1
    response = client.post(url, {"amount": "3000.01", "due_on": TODAY(), "remind_days_before": 3})
    assert response.status_code == 400
    assert PaymentPlan.objects.count() == 1


def test_edit_and_delete_a_plan(client, users, make_contract):
    contract = make_contract()
    plan = make_plan(users["sales1"], contract, "1000")
    login(client, users["finance"])
    url = reverse("receivables:plan_edit", args=[plan.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"amount": "20000", "due_on": TODAY(), "remind_days_before": 3})
    assert response.status_code == 400 and "超过合同金额" in response.content.decode()
    response = client.post(url, {"amount": "1200", "due_on": TODAY(), "remind_days_before": 5})
    assert response.status_code == 302
    plan.refresh_from_db()
    assert (plan.amount, plan.remind_days_before) == (Decimal("1200.00"), 5)
    client.post(reverse("receivables:plan_delete", args=[plan.pk]))
    assert not PaymentPlan.objects.exists()
    login(client, users["sales2"])
    assert client.get(url).status_code == 403  # the sales role may not edit plans at all


def test_contract_section_shows_money_with_fixed_queries(
    client, users, make_contract, django_assert_max_num_queries
):
    contract = make_contract(total="10000")
    late = make_plan(users["sales1"], contract, "4000", days=-2)
    make_plan(users["sales1"], contract, "6000", days=20)
    services.receivable_confirm(
        actor=users["finance"], receivable=register(users["sales1"], contract, "1500", plan=late)
    )
    register(users["sales1"], contract, "500")
    for _ in range(5):
        register(users["sales1"], contract, "1")
    login(client, users["sales1"])
    with django_assert_max_num_queries(12):
        response = client.get(reverse("receivables:contract_section", args=[contract.pk]))
    page = response.content.decode()
    assert 'data-testid="contract-received">¥1500.00' in page
    assert 'data-testid="contract-outstanding">¥8500.00' in page
    assert "¥2500.00</div>" in page  # overdue: 4000 − 1500 of the late plan
    assert page.count('data-testid="plan-overdue"') == 1
    assert page.count('data-testid="contract-receivable-row"') == 7
    assert 'data-testid="receivable-register"' in page


def test_contract_section_renders_nothing_without_the_permission(users, make_contract):
    request = RequestFactory().get("/")
    request.user = users["service"]
    html = render_to_string(
        "receivables/_contract_section.html", {"contract": make_contract()}, request=request
    )
    assert "contract-receivables" not in html


def test_customer_section_totals_effective_visible_contracts(users, make_contract, customers):
    effective = make_contract(total="10000")
    make_contract(total="99999", status=Contract.Status.DRAFT)
    late = make_plan(users["sales1"], effective, "3000", days=-1)
    make_plan(users["sales1"], effective, "2000", days=15)
    services.receivable_confirm(
        actor=users["finance"], receivable=register(users["sales1"], effective, "1000", plan=late)
    )
    request = RequestFactory().get("/")
    request.user = users["sales1"]
    html = render_to_string(
        "receivables/_customer_section.html", {"customer": customers["mine"]}, request=request
    )
    assert 'data-testid="customer-received">¥1000.00' in html
    assert 'data-testid="customer-outstanding">¥9000.00' in html
    assert 'data-testid="customer-overdue">¥2000.00' in html
    assert html.count('data-testid="customer-receivable-row"') == 1
    assert html.count('data-testid="customer-plan-row"') == 2
    request.user = users["sales2"]
    html = render_to_string(
        "receivables/_customer_section.html", {"customer": customers["mine"]}, request=request
    )
    assert 'data-testid="customer-received">¥0.00' in html  # sales2 sees none of these contracts


def test_customer_page_includes_the_section(client, users, make_contract, customers):
    contract = make_contract()
    register(users["sales1"], contract, "100")
    login(client, users["sales1"])
    page = client.get(reverse("customers:detail", args=[customers["mine"].pk])).content.decode()
    assert 'data-testid="customer-receivables"' in page


def test_navigation_shows_the_entries(client, users):
    page = login(client, users["sales1"]).get(reverse("receivables:list")).content.decode()
    assert reverse("receivables:plans") in page and "回款计划" in page


def test_contract_page_includes_the_section(client, users, make_contract):
    contract = make_contract(total="3000")
    make_plan(users["sales1"], contract, "1000", days=-1)
    login(client, users["sales1"])
    response = client.get(reverse("contracts:detail", args=[contract.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="contract-receivables"' in page and 'data-testid="plan-overdue"' in page
    assert 'data-testid="plan-add-form"' in page and 'data-testid="receivable-register"' in page
