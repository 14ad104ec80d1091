import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.template import Context, Template
from django.test import RequestFactory
from rest_framework.test import APIClient

from crm.access.policy import PermissionRequiredError
from crm.accounts.tests.factories import RoleFactory, UserFactory
from crm.audit.models import OperationLog
from crm.contracts.models import Contract, ContractSettings
from crm.contracts.signals import contract_approved, contract_voided
from crm.points import demo, selectors, services
from crm.points.models import PointsEntry
from crm.points.tests.helpers import make_contract, make_customers, make_products

pytestmark = pytest.mark.django_db
API = "/api/v1/points/"


@pytest.fixture
def shop(users):
    return make_products(users["admin"])


@pytest.fixture
def buyers(users):
    return make_customers(users)


@pytest.fixture
def order(users, shop, buyers):
    """An approved contract of sales1's customer: 3 locks (7 points each) and 2 pens (0 points)."""
    return make_contract(
        owner=users["sales1"],
        customer=buyers["mine"],
        lines=[(shop["lock"], 3, "1299"), (shop["pen"], 2, "33.34")],
    )


def approve(contract, actor):
    contract_approved.send(sender=Contract, contract=contract, actor=actor)


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def give(customer, points):
    return PointsEntry.objects.create(
        customer=customer, kind=PointsEntry.Kind.ADJUST, points=points, note="初始"
    )


# ---------------------------------------------------------------- earning and reversal


def test_approval_earns_the_lines_points_exactly_once(users, order, buyers):
    approve(order, users["manager"])
    approve(order, users["manager"])  # a repeated signal changes nothing
    entries = list(PointsEntry.objects.filter(customer=buyers["mine"]))
    assert [(e.kind, e.points, e.contract_id) for e in entries] == [("earn", 21, order.pk)]
    assert entries[0].created_by == users["manager"] and order.code in entries[0].note
    assert selectors.points_balance(buyers["mine"]) == 21
    assert OperationLog.objects.filter(action="points.earned").count() == 1


def test_a_contract_that_already_earned_earns_nothing_more(users, order, buyers):
    PointsEntry.objects.create(customer=buyers["mine"], kind="earn", points=5, contract=order)
    assert services.points_earn_for_contract(contract=order, actor=None) is None
    assert PointsEntry.objects.count() == 1 and selectors.points_balance(buyers["mine"]) == 5


def test_a_concurrent_duplicate_earning_fails_alone_in_its_savepoint(users, order, buyers, monkeypatch):
    from django.db import transaction

    PointsEntry.objects.create(customer=buyers["mine"], kind="earn", points=5, contract=order)
    real_filter = PointsEntry.objects.filter

    class Stale:  # the other transaction's earning is not visible yet to the existence check
        def exists(self):
            return False

        def first(self):
            return None

    monkeypatch.setattr(PointsEntry.objects, "filter", lambda *a, **k: Stale())
    with transaction.atomic():
        assert services.points_earn_for_contract(contract=order, actor=None) is None
        monkeypatch.setattr(PointsEntry.objects, "filter", real_filter)
        assert PointsEntry.objects.count() == 1  # the outer transaction is still usable


def test_no_entry_when_earning_is_off_or_lines_have_no_points(users, shop, buyers, order):
    settings_row = ContractSettings.load()
    settings_row.earn_points = False
    settings_row.save()
    approve(order, users["manager"])
    assert not PointsEntry.objects.exists()
    settings_row.earn_points = True
    settings_row.save()
    pens = make_contract(owner=users["sales1"], customer=buyers["mine"], lines=[(shop["pen"], 5, "33.34")])
    approve(pens, users["manager"])
    assert not PointsEntry.objects.exists()


def test_voiding_reverses_the_earning_once(users, order, buyers):
    approve(order, users["manager"])
    contract_voided.send(sender=Contract, contract=order, actor=users["manager"])
    contract_voided.send(sender=Contract, contract=order, actor=users["manager"])
    kinds = sorted(PointsEntry.objects.filter(contract=order).values_list("kind", "points"))
    assert kinds == [("earn", 21), ("reverse", -21)]
    assert selectors.points_balance(buyers["mine"]) == 0
    # a contract that earned nothing reverses nothing
    other = make_contract(owner=users["sales1"], customer=buyers["mine"], lines=[])
    contract_voided.send(sender=Contract, contract=other, actor=users["manager"])
    assert PointsEntry.objects.count() == 2


# ---------------------------------------------------------------- redeem and adjust


def test_redeem_and_adjust_write_the_ledger_and_the_log(users, buyers):
    give(buyers["mine"], 100)
    admin = users["administrator"]
    entry = services.points_redeem(actor=admin, customer=buyers["mine"], points="30", note="兑换礼品")
    assert (entry.kind, entry.points, entry.created_by) == ("redeem", -30, admin)
    services.points_adjust(actor=admin, customer=buyers["mine"], points=-20, note="录入错误更正")
    assert selectors.points_balance(buyers["mine"]) == 50
    log = OperationLog.objects.get(action="points.redeemed")
    assert log.changes == {"points": [100, 70]}
    assert OperationLog.objects.filter(action="points.adjusted").count() == 1


def test_redeem_beyond_the_balance_is_refused_and_changes_nothing(users, buyers):
    give(buyers["mine"], 10)
    with pytest.raises(ValidationError) as exc:
        services.points_redeem(actor=users["administrator"], customer=buyers["mine"], points=11)
    assert "当前积分 10，不足以兑换 11 积分" in str(exc.value)
    with pytest.raises(ValidationError) as exc:
        services.points_adjust(actor=users["administrator"], customer=buyers["mine"], points=-11, note="扣减")
    assert "将小于 0" in str(exc.value)
    assert PointsEntry.objects.count() == 1 and selectors.points_balance(buyers["mine"]) == 10
    assert not OperationLog.objects.filter(action__startswith="points.").exists()


@pytest.mark.parametrize(
    ("function", "points", "note", "message"),
    [
        ("points_redeem", "abc", "", "积分必须是整数"),
        ("points_redeem", "0", "", "兑换积分必须大于 0"),
        ("points_redeem", "-5", "", "兑换积分必须大于 0"),
        ("points_adjust", "0", "原因", "调整积分不能为 0"),
        ("points_adjust", "5", "", "请填写调整原因"),
        ("points_adjust", "5", "长" * 201, "说明不能超过 200 个字符"),
        ("points_adjust", str(10**10), "原因", "积分数值过大"),
    ],
)
def test_bad_input_gets_a_clear_message(users, buyers, function, points, note, message):
    give(buyers["mine"], 10)
    with pytest.raises(ValidationError) as exc:
        getattr(services, function)(
            actor=users["administrator"], customer=buyers["mine"], points=points, note=note
        )
    assert message in str(exc.value)
    assert PointsEntry.objects.count() == 1


def test_redeem_and_adjust_need_the_settings_permission_and_a_visible_customer(users, buyers):
    give(buyers["mine"], 10)
    for function in (services.points_redeem, services.points_adjust):
        with pytest.raises(PermissionRequiredError):
            function(actor=users["sales1"], customer=buyers["mine"], points=1, note="x")
    role = RoleFactory(permissions=["customers.view", "customers.settings"])
    keeper = UserFactory(username="keeper", roles=[role])
    from django.http import Http404

    with pytest.raises(Http404):  # holds the permission, but the customer is sales1's
        services.points_redeem(actor=keeper, customer=buyers["mine"], points=1)
    assert PointsEntry.objects.count() == 1


# ---------------------------------------------------------------- pages


def test_customer_page_shows_the_card_and_the_form_only_to_settings_users(client, users, buyers, order):
    approve(order, users["manager"])
    client.force_login(users["sales1"])
    html = client.get(f"/customers/{buyers['mine'].pk}/").content.decode()
    assert 'data-testid="customer-points"' in html and 'data-testid="points-balance">21<' in html
    assert "合同累计" in html and 'data-testid="points-form"' not in html
    client.force_login(users["administrator"])
    html = client.get(f"/customers/{buyers['mine'].pk}/").content.decode()
    assert 'data-testid="points-form"' in html


def test_page_post_needs_the_settings_permission(client, users, buyers):
    give(buyers["mine"], 10)
    url = f"/points/customers/{buyers['mine'].pk}/"
    client.force_login(users["sales1"])
    assert client.post(url, {"action": "redeem", "points": "1"}).status_code == 403
    client.force_login(users["manager"])
    assert client.post(url, {"action": "adjust", "points": "1", "note": "x"}).status_code == 403
    assert PointsEntry.objects.count() == 1


def test_page_post_with_htmx_answers_the_card(client, users, buyers):
    give(buyers["mine"], 10)
    url = f"/points/customers/{buyers['mine'].pk}/"
    client.force_login(users["administrator"])
    refused = client.post(url, {"action": "redeem", "points": "11"}, HTTP_HX_REQUEST="true")
    html = refused.content.decode()
    assert refused.status_code == 200 and "不足以兑换 11 积分" in html and ">10<" in html
    done = client.post(url, {"action": "redeem", "points": "4", "note": "礼品"}, HTTP_HX_REQUEST="true")
    html = done.content.decode()
    assert "已兑换 4 积分" in html and 'data-testid="points-balance">6<' in html and "礼品" in html
    plain = client.post(url, {"action": "adjust", "points": "5", "note": "补录"})
    assert plain.status_code == 302 and plain["Location"] == f"/customers/{buyers['mine'].pk}/"
    assert selectors.points_balance(buyers["mine"]) == 11
    assert (
        client.post(f"/points/customers/{buyers['other'].pk + 1000}/", {"action": "redeem"}).status_code
        == 404
    )


def test_customer_section_issues_a_bounded_number_of_queries(
    users, buyers, shop, django_assert_max_num_queries
):
    for _ in range(12):
        make_contract(owner=users["sales1"], customer=buyers["mine"], lines=[(shop["lock"], 1, "1299")])
    for contract in Contract.objects.all():
        approve(contract, users["sales1"])
    request = RequestFactory().get("/")
    request.user = users["sales1"]
    template = Template(
        '{% include "points/_customer_section.html" %}{% include "points/_customer_purchases.html" %}'
    )
    with django_assert_max_num_queries(7):
        html = template.render(Context({"request": request, "customer": buyers["mine"]}))
    assert html.count('data-testid="points-entry"') == 10 and html.count('data-testid="purchase-row"') == 12
    request.user = users["norole"]  # neither customers.view nor contracts.view: nothing
    assert template.render(Context({"request": request, "customer": buyers["mine"]})).strip() == ""


# ---------------------------------------------------------------- API


def test_api_lists_entries_of_visible_customers_only(users, buyers):
    give(buyers["mine"], 10)
    give(buyers["other"], 20)
    rows = api(users["sales1"]).get(API).json()["results"]
    assert [(r["customer"], r["points"], r["kind"], r["kind_label"]) for r in rows] == [
        (buyers["mine"].pk, 10, "adjust", "手工调整")
    ]
    assert api(users["sales1"]).get(API, {"customer": buyers["other"].pk}).status_code == 404
    assert api(users["sales1"]).get(API, {"customer": "x"}).status_code == 400
    assert len(api(users["manager"]).get(API).json()["results"]) == 2
    mine = api(users["manager"]).get(API, {"customer": buyers["mine"].pk}).json()["results"]
    assert [r["points"] for r in mine] == [10]


def test_api_redeem_and_adjust(users, buyers):
    give(buyers["mine"], 10)
    admin = api(users["administrator"])
    done = admin.post(
        f"{API}redeem/", {"customer": buyers["mine"].pk, "points": 4, "note": "礼品"}, format="json"
    )
    assert done.status_code == 201 and done.json()["balance"] == 6 and done.json()["entry"]["points"] == -4
    refused = admin.post(f"{API}redeem/", {"customer": buyers["mine"].pk, "points": 7}, format="json")
    assert refused.status_code == 400 and "不足以兑换 7 积分" in str(refused.json())
    adjusted = admin.post(
        f"{API}adjust/", {"customer": buyers["mine"].pk, "points": -1, "note": "更正"}, format="json"
    )
    assert adjusted.status_code == 201 and adjusted.json()["balance"] == 5
    for user in ("sales1", "manager"):
        for path in ("redeem", "adjust"):
            body = {"customer": buyers["mine"].pk, "points": 1, "note": "x"}
            assert api(users[user]).post(f"{API}{path}/", body, format="json").status_code == 403
    missing = admin.post(f"{API}redeem/", {"customer": 999999, "points": 1}, format="json")
    assert missing.status_code == 404
    unknown = admin.post(f"{API}redeem/", {"customer": buyers["mine"].pk, "points": 1, "x": 1}, format="json")
    assert unknown.status_code == 400
    assert selectors.points_balance(buyers["mine"]) == 5


# ---------------------------------------------------------------- demo and concurrency


def test_demo_redeems_once(users, order, buyers):
    approve(order, users["sales1"])
    assert demo.seed() == 1 and demo.seed() == 0
    assert selectors.points_balance(buyers["mine"]) == 11


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_concurrent_redemptions_never_go_below_zero(users, buyers):
    give(buyers["mine"], 100)
    barrier = threading.Barrier(2)
    results = []

    def redeem():
        from django.db import connection as thread_connection

        try:
            barrier.wait()
            services.points_redeem(actor=users["administrator"], customer=buyers["mine"], points=60)
            results.append("ok")
        except ValidationError:
            results.append("refused")
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=redeem) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["ok", "refused"]
    assert selectors.points_balance(buyers["mine"]) == 40
    assert Decimal(selectors.points_balance(buyers["mine"])) >= 0
