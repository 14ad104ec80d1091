"""Product pages: what each role sees, bad input messages, and that refused requests change nothing."""

from datetime import date
from decimal import Decimal

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from crm.products import services
from crm.products.models import PricePolicy, Product, ProductCategory, ProductRegistration, Supplier

pytestmark = pytest.mark.django_db


def _login(client, user):
    client.force_login(user)
    return client


def test_list_search_category_filter_and_paging(client, users, catalog, django_assert_max_num_queries):
    for i in range(25):
        services.product_create(
            actor=users["admin"],
            code=f"CARD-{i:02d}",
            name=f"门禁卡{i}",
            unit="张",
            list_price=8,
            category=catalog["hardware"],
        )
    _login(client, users["sales1"])

    with django_assert_max_num_queries(12):
        page = client.get(reverse("products:list")).content.decode()
    assert "门禁卡0" in page and "共 27 个产品" in page  # ordered by code: CARD-00 first
    assert "企业版软件授权" in client.get(reverse("products:list"), {"q": "sw-ent"}).content.decode()
    assert "智能门锁 X1" not in client.get(reverse("products:list"), {"q": "SW-ENT"}).content.decode()
    by_category = client.get(reverse("products:list"), {"category": catalog["hardware"].pk}).content.decode()
    assert "共 26 个产品" in by_category  # the sub-category 智能门锁 is included
    assert "企业版软件授权" not in by_category
    second = client.get(reverse("products:list"), {"page": 2}).content.decode()
    assert "2 / 2" in second and "智能门锁 X1" in second


def test_no_permission_answers_403_everywhere_and_changes_nothing(client, users, catalog):
    _login(client, users["norole"])
    lock = catalog["lock"]

    for url in [
        reverse("products:list"),
        reverse("products:detail", args=[lock.pk]),
        reverse("products:categories"),
        reverse("products:suppliers"),
        reverse("products:create"),
    ]:
        assert client.get(url).status_code == 403, url
    response = client.post(
        reverse("products:create"), {"code": "N", "name": "N", "unit": "个", "list_price": "1"}
    )
    assert response.status_code == 403
    assert Product.objects.count() == 2
    assert "产品列表" not in client.get("/").content.decode()


def test_view_only_user_cannot_write(client, users, catalog):
    _login(client, users["sales1"])
    lock = catalog["lock"]

    assert client.get(reverse("products:detail", args=[lock.pk])).status_code == 200
    assert client.post(reverse("products:edit", args=[lock.pk]), {"name": "改名"}).status_code == 403
    assert client.post(reverse("products:set_active", args=[lock.pk]), {"active": "0"}).status_code == 403
    assert client.post(reverse("products:category_create"), {"name": "新分类"}).status_code == 403
    assert client.post(reverse("products:supplier_create"), {"name": "新供应商"}).status_code == 403
    assert (
        client.post(
            reverse("products:policy_create", args=[lock.pk]),
            {"kind": "quantity", "min_quantity": 1, "price": 1},
        ).status_code
        == 403
    )
    lock.refresh_from_db()
    assert lock.name == "智能门锁 X1" and lock.is_active
    assert not PricePolicy.objects.exists() and not Supplier.objects.exists()
    assert ProductCategory.objects.count() == 3


def test_create_product_and_bad_input(client, users, catalog):
    _login(client, users["admin"])
    url = reverse("products:create")
    data = {"code": "HW-X1", "name": "重复编码", "unit": "台", "list_price": "10"}

    response = client.post(url, data)
    assert response.status_code == 400
    assert "产品编码「HW-X1」已被使用。" in response.content.decode()
    response = client.post(url, data | {"code": "HW-X9", "list_price": "-5"})
    assert response.status_code == 400
    assert Product.objects.count() == 2

    response = client.post(
        url, data | {"code": "HW-X9", "name": "智能门锁 X9", "category": catalog["locks"].pk}
    )
    product = Product.objects.get(code="HW-X9")
    assert response.status_code == 302 and response.url == reverse("products:detail", args=[product.pk])
    assert product.category == catalog["locks"] and product.list_price == Decimal("10.00")


def test_detail_shows_policies_suppliers_registrations_and_price_check(client, users, catalog, customers):
    admin = users["admin"]
    lock = catalog["lock"]
    services.price_policy_create(
        actor=admin, product=lock, kind="quantity", name="满50台", min_quantity=50, discount_percent=8
    )
    services.price_policy_create(
        actor=admin,
        product=lock,
        kind="customer",
        name="华创协议价",
        customer=customers["other"],
        price="999",
    )
    supplier = services.supplier_create(actor=admin, name="深圳安居智能科技有限公司")
    services.product_supplier_link(actor=admin, product=lock, supplier=supplier, purchase_price="620")
    for sn, customer in (("SN-MINE", customers["mine"]), ("SN-OTHER", customers["other"])):
        services.registration_create(
            actor=admin, product=lock, serial_number=sn, customer=customer, registered_on=date(2026, 1, 1)
        )
    _login(client, users["sales1"])
    url = reverse("products:detail", args=[lock.pk])

    page = client.get(url).content.decode()
    assert "满50台" in page and "深圳安居智能科技有限公司" in page
    assert "SN-MINE" in page and "SN-OTHER" not in page  # only customers sales1 may see
    assert "上海远航贸易有限公司" not in page and "（无权查看的客户）" in page
    assert "取最低价格" in page  # the rule is shown

    page = client.get(url, {"quantity": "60", "customer": customers["mine"].pk}).content.decode()
    assert "¥1195.08" in page and "满50台" in page

    response = client.get(url, {"quantity": "1", "customer": customers["other"].pk})
    assert response.status_code == 400
    assert "客户不存在或无权查看。" in response.content.decode()
    response = client.get(url, {"quantity": "-1"})
    assert response.status_code == 400
    assert "数量不能为负数。" in response.content.decode()


def test_policy_form_bad_input_changes_nothing(client, users, catalog):
    _login(client, users["admin"])
    url = reverse("products:policy_create", args=[catalog["lock"].pk])

    response = client.post(
        url, {"kind": "seasonal", "price": "1", "starts_on": "2026-02-01", "ends_on": "2026-01-01"}
    )
    assert response.status_code == 400
    assert "结束日期不能早于开始日期。" in response.content.decode()
    response = client.post(url, {"kind": "quantity", "min_quantity": "5"})
    assert "特价和折扣请填写且只填写一项。" in response.content.decode()
    assert not PricePolicy.objects.exists()

    response = client.post(url, {"kind": "quantity", "min_quantity": "5", "discount_percent": "5"})
    assert response.status_code == 302
    assert PricePolicy.objects.get().discount_percent == Decimal("5.00")


def test_registration_form_refuses_customer_outside_scope(client, users, catalog, customers):
    from crm.accounts.models import Role

    role = Role.objects.get(code="sales")
    role.permissions = [*role.permissions, "products.edit"]
    role.save()
    _login(client, users["sales1"])
    url = reverse("products:registration_create", args=[catalog["lock"].pk])

    response = client.post(
        url, {"serial_number": "SN-1", "customer": customers["other"].pk, "registered_on": "2026-01-01"}
    )
    assert response.status_code == 400
    assert "客户不存在或无权查看。" in response.content.decode()
    assert not ProductRegistration.objects.exists()
    response = client.post(
        url, {"serial_number": "SN-1", "customer": customers["mine"].pk, "registered_on": "2026-01-01"}
    )
    assert response.status_code == 302
    assert ProductRegistration.objects.get().customer == customers["mine"]


def test_categories_and_suppliers_pages(client, users, catalog):
    _login(client, users["admin"])

    page = client.get(reverse("products:categories")).content.decode()
    assert "智能门锁" in page and "添加下级" in page
    response = client.post(
        reverse("products:category_create"), {"name": "配件", "parent": catalog["hardware"].pk}
    )
    assert response.status_code == 302
    assert ProductCategory.objects.get(name="配件").parent == catalog["hardware"]
    response = client.post(
        reverse("products:category_set_active", args=[catalog["hardware"].pk]), {"active": "0"}
    )
    assert ProductCategory.objects.get(pk=catalog["hardware"].pk).is_active  # has active children
    assert "请先停用它的下级分类。" in client.get(response.url).content.decode()

    response = client.post(reverse("products:supplier_create"), {"name": "上海云启", "email": "not-an-email"})
    assert response.status_code == 400
    response = client.post(reverse("products:supplier_create"), {"name": "上海云启", "phone": "021-1234"})
    assert response.status_code == 302
    assert "上海云启" in client.get(reverse("products:suppliers")).content.decode()


def test_customer_picker_offers_only_visible_customers(client, users, customers):
    _login(client, users["sales1"])

    options = client.get(reverse("products:customer_picker"), {"q": "有限公司"}).json()

    assert [o["value"] for o in options] == [customers["mine"].pk]
    _login(client, users["norole"])
    assert client.get(reverse("products:customer_picker")).status_code == 404


def test_customer_registrations_partial(users, catalog, customers):
    services.registration_create(
        actor=users["admin"],
        product=catalog["lock"],
        serial_number="SN-77",
        customer=customers["mine"],
        registered_on=date(2020, 1, 1),
        warranty_ends_on=date(2021, 1, 1),
    )
    request = RequestFactory().get("/")
    request.user = users["sales1"]

    html = render_to_string("products/_customer_registrations.html", {"customer": customers["mine"]}, request)
    assert "SN-77" in html and "已过保" in html
    request.user = users["norole"]
    html = render_to_string("products/_customer_registrations.html", {"customer": customers["mine"]}, request)
    assert "SN-77" not in html


def test_navigation_and_bounded_queries_on_the_detail_page(
    client, users, catalog, customers, django_assert_max_num_queries
):
    admin = users["admin"]
    lock = catalog["lock"]
    for i in range(5):
        services.price_policy_create(
            actor=admin, product=lock, kind="customer", customer=customers["mine"], price=str(1000 + i)
        )
        services.registration_create(
            actor=admin,
            product=lock,
            serial_number=f"SN-{i}",
            customer=customers["mine"],
            registered_on=date(2026, 1, 1),
        )
        supplier = services.supplier_create(actor=admin, name=f"供应商{i}")
        services.product_supplier_link(actor=admin, product=lock, supplier=supplier)
    _login(client, users["sales1"])

    assert reverse("products:list") in client.get("/").content.decode()
    with django_assert_max_num_queries(16):
        response = client.get(reverse("products:detail", args=[lock.pk]), {"customer": customers["mine"].pk})
    assert response.status_code == 200
    assert response.content.decode().count("SN-") == 5


def test_customer_detail_page_shows_the_customers_registrations(client, users, catalog, customers):
    services.registration_create(
        actor=users["admin"],
        product=catalog["lock"],
        serial_number="SN-DETAIL-1",
        customer=customers["mine"],
        registered_on=date(2026, 1, 1),
    )
    client.force_login(users["sales1"])
    page = client.get(f"/customers/{customers['mine'].pk}/").content.decode()
    assert 'data-testid="customer-registrations"' in page and "SN-DETAIL-1" in page
