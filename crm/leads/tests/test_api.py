import pytest
from rest_framework.test import APIClient

from crm.customers import services as customer_services
from crm.customers.models import Customer, CustomerPolicy
from crm.leads.models import Lead

pytestmark = pytest.mark.django_db
URL = "/api/v1/leads/"


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_crud(users, source):
    client = api(users["sales1"])
    created = client.post(
        URL,
        {"company": "接口公司", "contact_name": "赵强", "mobile": "13600000000", "source": source.pk},
        format="json",
    )
    assert created.status_code == 201, created.json()
    lead_id = created.json()["id"]
    assert created.json()["code"].startswith("XS")
    listed = client.get(URL, {"q": "接口"}).json()
    assert [row["id"] for row in listed["results"]] == [lead_id]
    changed = client.patch(f"{URL}{lead_id}/", {"title": "总经理"}, format="json")
    assert changed.status_code == 200 and changed.json()["title"] == "总经理"
    assert client.delete(f"{URL}{lead_id}/").status_code == 403  # sales may not delete
    assert api(users["manager"]).delete(f"{URL}{lead_id}/").status_code == 204
    assert not Lead.objects.exists()


def test_bad_input_is_400_in_chinese(users):
    client = api(users["sales1"])
    response = client.post(URL, {"company": "甲", "mobile": "123"}, format="json")
    assert response.status_code == 400
    assert response.json()["mobile"] == ["请输入有效的 11 位手机号码。"]
    unknown = client.post(URL, {"company": "甲", "extra": 1}, format="json")
    assert unknown.status_code == 400 and unknown.json()["extra"] == ["未知字段。"]
    assert not Lead.objects.exists()


def test_other_salespersons_lead_is_404(users, make_lead):
    lead = make_lead()
    client = api(users["sales2"])
    assert client.get(f"{URL}{lead.pk}/").status_code == 404
    assert client.patch(f"{URL}{lead.pk}/", {"company": "改"}, format="json").status_code == 404
    assert client.get(URL).json()["results"] == []
    assert api(users["finance"]).get(URL).status_code == 403


def test_transfer_reports_not_found(users, make_lead):
    mine = make_lead()
    theirs = make_lead(actor=users["sales2"], company="别人的")
    response = api(users["sales1"]).post(
        f"{URL}transfer/", {"lead_ids": [mine.pk, theirs.pk], "to_user": users["sales1"].pk}, format="json"
    )
    assert response.status_code == 200
    assert response.json() == {"count": 0, "not_found": [theirs.pk]}
    response = api(users["manager"]).post(
        f"{URL}transfer/", {"lead_ids": [mine.pk, theirs.pk], "to_user": users["sales2"].pk}, format="json"
    )
    assert response.json() == {"count": 1, "not_found": []}
    assert Lead.objects.get(pk=mine.pk).owner == users["sales2"]


def test_convert_bulk_with_per_lead_results(users, make_lead):
    policy = CustomerPolicy.load()
    policy.duplicate_mode = CustomerPolicy.DuplicateMode.FORBID
    policy.save()
    customer_services.customer_create(actor=users["sales2"], values={"name": "重名公司有限公司"})
    ok = make_lead(company="新公司有限公司")
    dup = make_lead(company="重名公司有限公司", mobile="13900000000")
    response = api(users["sales1"]).post(
        f"{URL}convert/", {"lead_ids": [ok.pk, dup.pk, 999999]}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1 and body["not_found"] == [999999]
    outcomes = {r["lead_id"]: r for r in body["results"]}
    assert outcomes[ok.pk]["outcome"] == "created"
    assert outcomes[dup.pk]["outcome"] == "refused" and "重名公司有限公司" in outcomes[dup.pk]["message"]
    assert Customer.objects.count() == 2
    assert Lead.objects.get(pk=dup.pk).status == Lead.Status.NEW


def test_convert_without_customer_create_is_403(users, make_lead):
    lead = make_lead()
    response = api(users["finance"]).post(f"{URL}convert/", {"lead_ids": [lead.pk]}, format="json")
    assert response.status_code == 403
    assert Lead.objects.get(pk=lead.pk).status == Lead.Status.NEW
