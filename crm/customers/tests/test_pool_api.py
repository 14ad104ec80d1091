"""The pool API (/api/v1/pool/…): same services, messages and access policy as the pages."""

import pytest
import yaml
from django.core.management import call_command

from crm.api.tests import errors_text, token_client
from crm.audit.models import OperationLog
from crm.customers import pool_services
from crm.customers.models import ClaimRequest, Customer, Pool
from crm.customers.tests.pool_factories import (
    default_pool,
    owned_customers,
    public_customer,
    public_customers,
    set_limits,
)

pytestmark = pytest.mark.django_db


def test_list_public_customers_of_visible_pools(users, org, django_assert_max_num_queries):
    hidden = Pool.objects.create(name="华东公海")
    hidden.departments.set([org["east"]])
    public_customers(users["admin"], 3)
    public_customer(users["admin"], name="华东专属", pool=hidden)
    client = token_client(users["sales1"])

    with django_assert_max_num_queries(12):
        response = client.get("/api/v1/pool/customers/")

    assert response.status_code == 200
    names = [row["name"] for row in response.json()["results"]]
    assert len(names) == 3 and "华东专属" not in names
    assert all(row["is_public"] for row in response.json()["results"])
    assert (
        token_client(users["sales2"])
        .get("/api/v1/pool/customers/", {"q": "华东"})
        .json()["results"][0]["name"]
        == "华东专属"
    )


def test_list_needs_pool_view(users):
    assert token_client(users["finance"]).get("/api/v1/pool/customers/").status_code == 403


def test_claim_through_the_api(users):
    customer = public_customer(users["admin"])
    client = token_client(users["sales1"])

    response = client.post("/api/v1/pool/claim/", {"customer_id": customer.pk}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert body["result"] == "claimed" and body["customer"]["owner"] == users["sales1"].pk
    again = token_client(users["sales2"]).post(
        "/api/v1/pool/claim/", {"customer_id": customer.pk}, format="json"
    )
    assert again.status_code == 400 and "该客户已被其他人领取" in errors_text(again)
    never_public = owned_customers(users["sales1"], 1)[0]
    response = token_client(users["sales2"]).post(
        "/api/v1/pool/claim/", {"customer_id": never_public.pk}, format="json"
    )
    assert response.status_code == 404


def test_claim_refusals_carry_the_same_message(users):
    set_limits(max_claims_per_day=1)
    first, second = public_customers(users["admin"], 2)
    client = token_client(users["sales1"])
    client.post("/api/v1/pool/claim/", {"customer_id": first.pk}, format="json")

    response = client.post("/api/v1/pool/claim/", {"customer_id": second.pk}, format="json")

    assert response.status_code == 400
    assert "已达到每天最多 1 个的上限" in errors_text(response)


def test_unknown_fields_are_rejected(users):
    customer = public_customer(users["admin"])
    response = token_client(users["sales1"]).post(
        "/api/v1/pool/claim/", {"customer_id": customer.pk, "owner": 1}, format="json"
    )
    assert response.status_code == 400 and "未知字段" in errors_text(response)
    customer.refresh_from_db()
    assert customer.owner is None


def test_apply_approve_and_reject_through_the_api(users):
    pool = Pool.objects.create(name="审批公海", claim_needs_approval=True)
    first, second = public_customers(users["admin"], 2, pool=pool)
    sales = token_client(users["sales1"])

    applied = sales.post("/api/v1/pool/claim/", {"customer_id": first.pk, "reason": "熟客"}, format="json")
    assert applied.status_code == 201 and applied.json()["result"] == "applied"
    other = sales.post("/api/v1/pool/apply/", {"customer_id": second.pk}, format="json")
    assert other.status_code == 201

    manager = token_client(users["manager"])
    listed = manager.get("/api/v1/pool/applications/").json()["results"]
    assert {row["customer"] for row in listed} == {first.pk, second.pk}
    approve_id = applied.json()["application"]["id"]
    approved = manager.post(
        f"/api/v1/pool/applications/{approve_id}/approve/", {"note": "同意"}, format="json"
    )
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    reject_id = other.json()["application"]["id"]
    rejected = manager.post(f"/api/v1/pool/applications/{reject_id}/reject/", {}, format="json")
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    first.refresh_from_db()
    assert first.owner == users["sales1"]
    # Decided applications are gone from the to-do list; deciding again answers 404.
    assert (
        manager.post(f"/api/v1/pool/applications/{approve_id}/approve/", {}, format="json").status_code == 404
    )
    assert sales.get("/api/v1/pool/applications/").status_code == 403


def test_assign_through_the_api(users):
    customers = public_customers(users["admin"], 3)
    response = token_client(users["manager"]).post(
        "/api/v1/pool/assign/",
        {"customer_ids": [c.pk for c in customers], "to_user": users["sales2"].pk},
        format="json",
    )
    assert response.status_code == 200 and response.json() == {"count": 3}
    assert Customer.objects.filter(owner=users["sales2"]).count() == 3
    assert OperationLog.objects.filter(action="pool.assigned").count() == 3


def test_assign_to_a_disabled_user_is_refused(users):
    customers = public_customers(users["admin"], 1)
    users["sales2"].is_active = False
    users["sales2"].save()
    response = token_client(users["manager"]).post(
        "/api/v1/pool/assign/",
        {"customer_ids": [customers[0].pk], "to_user": users["sales2"].pk},
        format="json",
    )
    assert response.status_code == 400 and "已停用" in errors_text(response)


def test_assign_needs_pool_transfer(users):
    customers = public_customers(users["admin"], 1)
    response = token_client(users["sales1"]).post(
        "/api/v1/pool/assign/",
        {"customer_ids": [customers[0].pk], "to_user": users["sales1"].pk},
        format="json",
    )
    assert response.status_code == 403


def test_recall_through_the_api(users):
    customers = owned_customers(users["sales1"], 2)
    response = token_client(users["manager"]).post(
        "/api/v1/pool/recall/",
        {"customer_ids": [c.pk for c in customers], "pool": default_pool().pk, "reason": "长期未跟进"},
        format="json",
    )
    assert response.status_code == 200 and response.json() == {"count": 2}
    assert not Customer.objects.filter(owner__isnull=False).exists()


def test_recall_outside_the_scope_changes_nothing(users):
    outside = owned_customers(users["finance"], 1)
    response = token_client(users["manager"]).post(
        "/api/v1/pool/recall/",
        {"customer_ids": [outside[0].pk], "pool": default_pool().pk, "reason": "整理"},
        format="json",
    )
    assert response.status_code == 400 and "不能收回" in errors_text(response)
    outside[0].refresh_from_db()
    assert outside[0].owner == users["finance"]


def test_recall_needs_a_reason(users):
    customers = owned_customers(users["sales1"], 1)
    response = token_client(users["manager"]).post(
        "/api/v1/pool/recall/",
        {"customer_ids": [customers[0].pk], "pool": default_pool().pk},
        format="json",
    )
    assert response.status_code == 400 and "reason" in response.json()


def test_owner_releases_through_the_api(users):
    customer = public_customer(users["admin"])
    pool_services.pool_claim(actor=users["sales1"], customer=customer)
    assert (
        token_client(users["sales2"])
        .post("/api/v1/pool/release/", {"customer_id": customer.pk, "reason": "x"}, format="json")
        .status_code
        == 404
    )
    response = token_client(users["sales1"]).post(
        "/api/v1/pool/release/", {"customer_id": customer.pk, "reason": "不再跟进"}, format="json"
    )
    assert response.status_code == 200 and response.json()["owner"] is None
    assert response.json()["previous_owner"] == users["sales1"].pk
    assert not ClaimRequest.objects.exists()


POOL_PATHS = {
    "/api/v1/pool/customers/": {"get"},
    "/api/v1/pool/claim/": {"post"},
    "/api/v1/pool/apply/": {"post"},
    "/api/v1/pool/assign/": {"post"},
    "/api/v1/pool/recall/": {"post"},
    "/api/v1/pool/release/": {"post"},
    "/api/v1/pool/applications/": {"get"},
    "/api/v1/pool/applications/{id}/approve/": {"post"},
    "/api/v1/pool/applications/{id}/reject/": {"post"},
}


def test_pool_paths_are_in_the_schema_which_validates_without_warnings(tmp_path):
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))

    paths = yaml.safe_load(target.read_text())["paths"]
    for path, methods in POOL_PATHS.items():
        assert set(paths[path]) == methods, path
    assert paths["/api/v1/pool/claim/"]["post"]["security"] == [{"tokenAuth": []}, {"cookieAuth": []}]
