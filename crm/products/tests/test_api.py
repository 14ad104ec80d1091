"""The product endpoints: same permissions, validations and visibility as the pages."""

from datetime import date

import pytest
import yaml
from django.core.management import call_command

from crm.api.tests import errors_text, token_client
from crm.audit.models import OperationLog
from crm.products import services
from crm.products.models import PricePolicy, Product, ProductCategory, ProductRegistration, Supplier

pytestmark = pytest.mark.django_db
PRODUCT_PATHS = {
    "/api/v1/products/",
    "/api/v1/products/{id}/",
    "/api/v1/products/{id}/price/",
    "/api/v1/products/{id}/activate/",
    "/api/v1/products/{id}/deactivate/",
    "/api/v1/product-categories/",
    "/api/v1/suppliers/",
    "/api/v1/price-policies/",
    "/api/v1/price-policies/{id}/",
    "/api/v1/product-registrations/",
    "/api/v1/product-registrations/{id}/",
}


def test_schema_has_the_product_paths_without_warnings(tmp_path):
    target = tmp_path / "schema.yml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))

    paths = yaml.safe_load(target.read_text())["paths"]
    assert PRODUCT_PATHS <= set(paths)
    assert set(paths["/api/v1/products/{id}/"]) == {"get", "patch"}  # 下架 instead of DELETE


def test_list_search_and_detail(users, catalog):
    client = token_client(users["sales1"])

    rows = client.get("/api/v1/products/", {"q": "门锁"}).json()["results"]
    assert [r["code"] for r in rows] == ["HW-X1"]
    assert rows[0]["list_price"] == "1299.00" and rows[0]["category"]["name"] == "智能门锁"
    rows = client.get("/api/v1/products/", {"category": catalog["hardware"].pk}).json()["results"]
    assert [r["code"] for r in rows] == ["HW-X1"]
    assert client.get("/api/v1/products/", {"category": "x"}).status_code == 400
    assert client.get(f"/api/v1/products/{catalog['license'].pk}/").json()["name"] == "企业版软件授权"


def test_permissions(users, catalog):
    lock = catalog["lock"]
    norole = token_client(users["norole"])
    sales = token_client(users["sales1"])

    assert norole.get("/api/v1/products/").status_code == 403
    assert norole.get(f"/api/v1/products/{lock.pk}/price/").status_code == 403
    body = {"code": "N-1", "name": "新", "unit": "个", "list_price": "1.00"}
    assert sales.post("/api/v1/products/", body, format="json").status_code == 403
    assert sales.patch(f"/api/v1/products/{lock.pk}/", {"name": "x"}, format="json").status_code == 403
    assert sales.post(f"/api/v1/products/{lock.pk}/deactivate/").status_code == 403
    assert sales.post("/api/v1/product-categories/", {"name": "x"}, format="json").status_code == 403
    assert sales.post("/api/v1/suppliers/", {"name": "x"}, format="json").status_code == 403
    policy_body = {"product": lock.pk, "kind": "quantity", "min_quantity": "1", "price": "1"}
    assert sales.post("/api/v1/price-policies/", policy_body, format="json").status_code == 403
    assert Product.objects.count() == 2 and Product.objects.get(pk=lock.pk).is_active
    assert not Supplier.objects.exists() and not PricePolicy.objects.exists()
    assert ProductCategory.objects.count() == 3


def test_create_update_deactivate_and_bad_input(users, catalog):
    client = token_client(users["admin"])
    body = {"code": "HW-X1", "name": "重复", "unit": "台", "list_price": "10"}

    response = client.post("/api/v1/products/", body, format="json")
    assert response.status_code == 400 and "产品编码「HW-X1」已被使用。" in errors_text(response)
    response = client.post("/api/v1/products/", body | {"code": "Z", "colour": "red"}, format="json")
    assert response.status_code == 400 and "未知字段。" in errors_text(response)
    response = client.post("/api/v1/products/", body | {"code": "Z", "list_price": "-1"}, format="json")
    assert response.status_code == 400
    assert Product.objects.count() == 2

    response = client.post(
        "/api/v1/products/",
        body | {"code": "HW-GW", "name": "智能网关", "category": catalog["hardware"].pk},
        format="json",
    )
    assert response.status_code == 201, response.content
    product_id = response.json()["id"]
    response = client.patch(f"/api/v1/products/{product_id}/", {"list_price": "499.005"}, format="json")
    assert response.status_code == 400  # money is given to the fen
    response = client.patch(f"/api/v1/products/{product_id}/", {"list_price": "499.5"}, format="json")
    assert response.json()["list_price"] == "499.50"
    assert client.post(f"/api/v1/products/{product_id}/deactivate/").json()["is_active"] is False
    assert list(
        OperationLog.objects.filter(target_id=str(product_id), action__startswith="product.")
        .order_by("pk")
        .values_list("action", flat=True)
    ) == ["product.created", "product.updated", "product.deactivated"]


def test_price_endpoint(users, catalog, customers):
    lock = catalog["lock"]
    admin = users["admin"]
    services.price_policy_create(
        actor=admin, product=lock, kind="quantity", name="满50台", min_quantity=50, discount_percent=8
    )
    services.price_policy_create(
        actor=admin,
        product=lock,
        kind="payment_term",
        name="预付",
        payment_term="prepaid",
        discount_percent=20,
    )
    client = token_client(users["sales1"])

    data = client.get(f"/api/v1/products/{lock.pk}/price/").json()
    assert data["unit_price"] == "1299.00" and data["policy"] is None
    data = client.get(
        f"/api/v1/products/{lock.pk}/price/", {"quantity": "50", "customer": customers["mine"].pk}
    ).json()
    assert data["unit_price"] == "1195.08" and data["policy"]["name"] == "满50台"
    data = client.get(f"/api/v1/products/{lock.pk}/price/", {"quantity": "50", "term": "prepaid"}).json()
    assert data["unit_price"] == "1039.20" and "预付" in data["explanation"]

    response = client.get(f"/api/v1/products/{lock.pk}/price/", {"customer": customers["other"].pk})
    assert response.status_code == 400 and "客户不存在或无权查看。" in errors_text(response)
    assert client.get(f"/api/v1/products/{lock.pk}/price/", {"quantity": "-1"}).status_code == 400
    assert client.get(f"/api/v1/products/{lock.pk}/price/", {"term": "never"}).status_code == 400
    assert client.get("/api/v1/products/999999/price/").status_code == 404


def test_price_policies_and_categories_and_suppliers(users, catalog):
    client = token_client(users["admin"])
    lock = catalog["lock"]

    response = client.post(
        "/api/v1/price-policies/",
        {
            "product": lock.pk,
            "kind": "seasonal",
            "price": "999",
            "starts_on": "2026-12-01",
            "ends_on": "2026-11-01",
        },
        format="json",
    )
    assert response.status_code == 400 and "结束日期不能早于开始日期。" in errors_text(response)
    response = client.post(
        "/api/v1/price-policies/",
        {
            "product": lock.pk,
            "kind": "seasonal",
            "price": "999",
            "starts_on": "2026-11-01",
            "ends_on": "2026-11-30",
        },
        format="json",
    )
    assert response.status_code == 201
    policy_id = response.json()["id"]
    assert client.post(f"/api/v1/price-policies/{policy_id}/deactivate/").json()["is_active"] is False
    assert [
        p["id"] for p in client.get("/api/v1/price-policies/", {"product": lock.pk}).json()["results"]
    ] == [policy_id]

    response = client.post(
        "/api/v1/product-categories/", {"name": "配件", "parent": catalog["hardware"].pk}, format="json"
    )
    assert response.status_code == 201 and response.json()["parent"] == catalog["hardware"].pk
    response = client.post("/api/v1/product-categories/", {"name": "硬件"}, format="json")
    assert response.status_code == 400
    response = client.post("/api/v1/suppliers/", {"name": "上海云启", "email": "bad"}, format="json")
    assert response.status_code == 400
    response = client.post("/api/v1/suppliers/", {"name": "上海云启"}, format="json")
    assert response.status_code == 201
    assert (
        client.patch(f"/api/v1/suppliers/{response.json()['id']}/", {"phone": "021-1"}, format="json").json()[
            "phone"
        ]
        == "021-1"
    )


def test_registrations_follow_customer_visibility(users, catalog, customers):
    admin = users["admin"]
    for sn, customer in (("SN-MINE", customers["mine"]), ("SN-OTHER", customers["other"])):
        services.registration_create(
            actor=admin,
            product=catalog["lock"],
            serial_number=sn,
            customer=customer,
            registered_on=date(2026, 1, 1),
        )
    other = ProductRegistration.objects.get(serial_number="SN-OTHER")
    sales = token_client(users["sales1"])

    rows = sales.get("/api/v1/product-registrations/").json()["results"]
    assert [r["serial_number"] for r in rows] == ["SN-MINE"]
    assert sales.get(f"/api/v1/product-registrations/{other.pk}/").status_code == 404
    assert sales.delete(f"/api/v1/product-registrations/{other.pk}/").status_code == 403  # no products.delete

    client = token_client(admin)
    body = {
        "product": catalog["lock"].pk,
        "serial_number": "SN-MINE",
        "customer": customers["mine"].pk,
        "registered_on": "2026-02-01",
    }
    response = client.post("/api/v1/product-registrations/", body, format="json")
    assert response.status_code == 400 and "已注册过这个产品" in errors_text(response)
    response = client.post("/api/v1/product-registrations/", body | {"serial_number": "SN-3"}, format="json")
    assert response.status_code == 201
    assert client.delete(f"/api/v1/product-registrations/{other.pk}/").status_code == 204
    assert ProductRegistration.objects.count() == 2
