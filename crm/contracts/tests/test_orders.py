"""The order flow of product orders (CTR-3): confirmed → paid → shipped → done, stock taken on
shipping, never below zero without products.settings, race-free on PostgreSQL."""

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import Http404
from django.template import Context, Template
from django.test import RequestFactory
from rest_framework.test import APIClient

from crm.access.policy import PermissionRequiredError
from crm.audit.models import OperationLog
from crm.contracts import orders
from crm.contracts.models import Contract
from crm.points.tests.helpers import make_contract, make_customers, make_products
from crm.products.models import Product

pytestmark = pytest.mark.django_db
ORDER = Contract.Kind.ORDER


@pytest.fixture
def shop(users):
    return make_products(users["admin"])  # lock: stock 5, pen: stock 100


@pytest.fixture
def buyers(users):
    return make_customers(users)


@pytest.fixture
def order(users, shop, buyers):
    """An approved order of sales1: 2 + 1 locks (two lines of the same product) and 10 pens."""
    return make_contract(
        owner=users["sales1"],
        customer=buyers["mine"],
        kind=ORDER,
        lines=[(shop["lock"], 2, "1299"), (shop["pen"], 10, "33.34"), (shop["lock"], 1, "1200")],
    )


def stock(product) -> Decimal:
    return Product.objects.get(pk=product.pk).stock


def order_logs():
    return OperationLog.objects.filter(
        action__in=[
            "contract.order_paid",
            "contract.order_shipped",
            "contract.order_completed",
            "product.stock_shipped",
        ]
    ).exists()


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_flow_runs_in_order_and_is_logged(users, order, shop):
    actor = users["sales1"]
    orders.order_mark_paid(actor=actor, contract=order)
    orders.order_ship(actor=actor, contract=order)
    order.refresh_from_db()
    assert order.order_status == "shipped" and order.shipped_at is not None and order.status == "approved"
    assert stock(shop["lock"]) == Decimal("2.00") and stock(shop["pen"]) == Decimal("90.00")
    orders.order_complete(actor=actor, contract=order)
    order.refresh_from_db()
    assert (order.status, order.order_status) == ("done", "done")
    actions = list(
        OperationLog.objects.filter(action__startswith="contract.order_").values_list("action", flat=True)
    )
    assert sorted(actions) == ["contract.order_completed", "contract.order_paid", "contract.order_shipped"]
    stock_log = OperationLog.objects.filter(action="product.stock_shipped")
    assert stock_log.count() == 2 and {tuple(row.changes["stock"]) for row in stock_log} == {
        ("5.00", "2.00"),
        ("100.00", "90.00"),
    }


@pytest.mark.parametrize(
    ("status", "order_status", "step", "message"),
    [
        ("approved", "confirmed", "ship", "需要先到“已付款”"),
        ("approved", "confirmed", "complete", "需要先到“已发货”"),
        ("approved", "paid", "paid", "当前为“已付款”"),
        ("approved", "shipped", "ship", "当前为“已发货”"),
        ("approved", "paid", "complete", "需要先到“已发货”"),
        ("pending", "", "paid", "只有已审批的订单可以执行此操作"),
        ("void", "paid", "ship", "只有已审批的订单可以执行此操作"),
        ("done", "done", "complete", "只有已审批的订单可以执行此操作"),
    ],
)
def test_each_step_only_from_the_one_before(users, shop, buyers, status, order_status, step, message):
    contract = make_contract(
        owner=users["sales1"],
        customer=buyers["mine"],
        kind=ORDER,
        status=status,
        order_status=order_status,
        lines=[(shop["lock"], 1, "1299")],
    )
    with pytest.raises(ValidationError) as exc:
        orders.ACTIONS[step](actor=users["sales1"], contract=contract)
    assert message in str(exc.value)
    contract.refresh_from_db()
    assert (contract.status, contract.order_status) == (status, order_status)
    assert stock(shop["lock"]) == Decimal("5.00") and not order_logs()


def test_sales_contracts_have_no_order_flow(users, shop, buyers):
    contract = make_contract(owner=users["sales1"], customer=buyers["mine"], lines=[(shop["lock"], 1, "1")])
    with pytest.raises(ValidationError, match="不是产品订单"):
        orders.order_mark_paid(actor=users["sales1"], contract=contract)


def test_shipping_below_zero_is_refused_naming_the_products(users, order, shop):
    Product.objects.filter(pk=shop["lock"].pk).update(stock=Decimal("2.5"))
    Product.objects.filter(pk=shop["pen"].pk).update(stock=Decimal("100"))
    Contract.objects.filter(pk=order.pk).update(order_status="paid")
    with pytest.raises(ValidationError) as exc:
        orders.order_ship(actor=users["sales1"], contract=order)
    assert "库存不足，不能发货：智能门锁 X1（库存 2.5，需要 3）" in str(exc.value)
    assert "签字笔" not in str(exc.value)
    # asking for negative stock without products.settings (the sales manager) changes nothing either
    with pytest.raises(ValidationError, match="负库存发货需要产品设置权限"):
        orders.order_ship(actor=users["manager"], contract=order, allow_negative=True)
    order.refresh_from_db()
    assert order.order_status == "paid" and order.shipped_at is None
    assert stock(shop["lock"]) == Decimal("2.50") and stock(shop["pen"]) == Decimal("100.00")
    assert not order_logs()
    # products.settings + allow_negative: shipped, the stock goes below zero, the log says so
    orders.order_ship(actor=users["administrator"], contract=order, allow_negative=True)
    assert stock(shop["lock"]) == Decimal("-0.50") and stock(shop["pen"]) == Decimal("90.00")
    log = OperationLog.objects.get(action="contract.order_shipped")
    assert log.changes["negative_stock"] == [None, ["HW-X1"]]


def test_steps_need_contracts_edit_on_a_visible_contract(users, order):
    with pytest.raises(PermissionRequiredError):
        orders.order_mark_paid(actor=users["finance"], contract=order)  # sees contracts, cannot edit
    with pytest.raises(Http404):
        orders.order_mark_paid(actor=users["sales2"], contract=order)
    order.refresh_from_db()
    assert order.order_status == "confirmed"


# ---------------------------------------------------------------- page


def test_order_section_shows_the_steps_and_the_next_action(users, order, shop, buyers):
    request = RequestFactory().get("/")
    request.user = users["sales1"]
    template = Template('{% include "contracts/_order_section.html" with contract=contract %}')
    html = template.render(Context({"request": request, "contract": order}))
    assert 'data-testid="order-flow"' in html and "已确认" in html and "标记为已付款" in html
    assert f"/contracts/{order.pk}/order/paid/" in html and "负库存" not in html
    request.user = users["finance"]  # may see, may not edit: no button
    html = template.render(Context({"request": request, "contract": order}))
    assert 'data-testid="order-steps"' in html and 'data-testid="order-next"' not in html
    sale = make_contract(owner=users["sales1"], customer=buyers["mine"], lines=[(shop["lock"], 1, "1")])
    assert template.render(Context({"request": request, "contract": sale})).strip() == ""
    Contract.objects.filter(pk=order.pk).update(order_status="paid")
    order.refresh_from_db()
    request.user = users["administrator"]
    html = template.render(Context({"request": request, "contract": order}))
    assert "发货" in html and 'name="allow_negative"' in html


def test_page_posts_steps_with_htmx_and_without(client, users, order, shop):
    client.force_login(users["sales1"])
    base = f"/contracts/{order.pk}/order/"
    refused = client.post(f"{base}ship/", HTTP_HX_REQUEST="true")
    html = refused.content.decode()
    assert refused.status_code == 200 and 'data-testid="order-error"' in html and "需要先到“已付款”" in html
    done = client.post(f"{base}paid/", HTTP_HX_REQUEST="true").content.decode()
    assert "已标记为已付款" in done and f"{base}ship/" in done
    plain = client.post(f"{base}ship/")
    assert plain.status_code == 302 and plain["Location"] == f"/contracts/{order.pk}/"
    assert Contract.objects.get(pk=order.pk).order_status == "shipped"
    assert client.post(f"{base}nonsense/").status_code == 404
    client.force_login(users["finance"])
    assert client.post(f"{base}complete/").status_code == 403
    client.force_login(users["sales2"])
    assert client.post(f"{base}complete/").status_code == 404
    assert Contract.objects.get(pk=order.pk).order_status == "shipped"


# ---------------------------------------------------------------- API


def test_api_steps(users, order, shop):
    url = f"/api/v1/contracts/{order.pk}/order/"
    sales = api(users["sales1"])
    refused = sales.post(f"{url}ship/", {}, format="json")
    assert refused.status_code == 400 and "需要先到“已付款”" in str(refused.json())
    paid = sales.post(f"{url}paid/", {}, format="json")
    assert paid.status_code == 200 and paid.json()["order_status"] == "paid"
    Product.objects.filter(pk=shop["lock"].pk).update(stock=1)
    short = sales.post(f"{url}ship/", {"allow_negative": True}, format="json")
    assert short.status_code == 400 and "智能门锁 X1（库存 1，需要 3）" in str(short.json())
    assert api(users["finance"]).post(f"{url}ship/", {}, format="json").status_code == 403
    assert api(users["sales2"]).post(f"{url}ship/", {}, format="json").status_code == 404
    assert sales.post(f"{url}fly/", {}, format="json").status_code == 404
    assert sales.post(f"{url}ship/", {"nope": 1}, format="json").status_code == 400
    shipped = api(users["administrator"]).post(f"{url}ship/", {"allow_negative": True}, format="json")
    assert shipped.status_code == 200 and shipped.json()["order_status"] == "shipped"
    assert stock(shop["lock"]) == Decimal("-2.00")
    done = sales.post(f"{url}complete/", format="json").json()
    assert done["status"] == "done" and done["order_status_label"] == "已完成"


# ---------------------------------------------------------------- concurrency (PostgreSQL)


def _race(*calls):
    barrier = threading.Barrier(len(calls))
    results = []

    def run(call):
        from django.db import connection as thread_connection

        try:
            barrier.wait()
            call()
            results.append("ok")
        except ValidationError:
            results.append("refused")
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(results)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_concurrent_shipments_never_take_stock_below_zero(users, shop, buyers):
    first, second = (
        make_contract(
            owner=users["sales1"],
            customer=buyers["mine"],
            kind=ORDER,
            order_status="paid",
            lines=[(shop["pen"], 1, "33.34"), (shop["lock"], 4, "1299")],
        )
        for _ in range(2)
    )
    actor = users["sales1"]
    results = _race(
        lambda: orders.order_ship(actor=actor, contract=first),
        lambda: orders.order_ship(actor=actor, contract=second),
    )
    assert results == ["ok", "refused"]
    assert stock(shop["lock"]) == Decimal("1.00") and stock(shop["pen"]) == Decimal("99.00")
    assert sorted(Contract.objects.values_list("order_status", flat=True)) == ["paid", "shipped"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_the_same_order_shipped_twice_at_once_ships_once(users, shop, buyers):
    contract = make_contract(
        owner=users["sales1"],
        customer=buyers["mine"],
        kind=ORDER,
        order_status="paid",
        lines=[(shop["lock"], 2, "1")],
    )
    actor = users["sales1"]
    results = _race(*[lambda: orders.order_ship(actor=actor, contract=contract)] * 2)
    assert results == ["ok", "refused"] and stock(shop["lock"]) == Decimal("3.00")
