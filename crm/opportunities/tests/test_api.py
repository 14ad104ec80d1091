import pytest
from rest_framework.test import APIClient

from crm.audit.models import OperationLog
from crm.opportunities.models import Opportunity, StageGroup

pytestmark = pytest.mark.django_db
URL = "/api/v1/opportunities/"


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_crud_with_lines(users, customers, contacts, group, product, stages):
    client = api(users["sales1"])
    created = client.post(
        URL,
        {
            "name": "接口商机",
            "customer": customers["mine"].pk,
            "contacts": [contacts["mine"].pk],
            "stage": stages["需求确认"].pk,
            "lines": [
                {"product": product.pk, "quantity": "3", "unit_price": "10.005", "discount_percent": "0"}
            ],
        },
        format="json",
    )
    assert created.status_code == 400  # 3 decimal places are refused by the serializer
    created = client.post(
        URL,
        {
            "name": "接口商机",
            "customer": customers["mine"].pk,
            "contacts": [contacts["mine"].pk],
            "stage": stages["需求确认"].pk,
            "lines": [
                {"product": product.pk, "quantity": "3", "unit_price": "10.01", "discount_percent": "5"}
            ],
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["code"].startswith("SJ") and body["expected_amount"] == "28.53"  # 3 × 10.01 × 95 % = 28.5285
    assert body["stage_name"] == "需求确认" and body["lines"][0]["amount"] == "28.53"
    opp_id = body["id"]
    assert [r["id"] for r in client.get(URL, {"q": "接口"}).json()["results"]] == [opp_id]
    assert client.get(URL, {"status": "bogus"}).status_code == 400
    changed = client.patch(f"{URL}{opp_id}/", {"name": "接口商机二期", "lines": []}, format="json")
    assert (
        changed.status_code == 200
        and changed.json()["name"] == "接口商机二期"
        and changed.json()["lines"] == []
    )
    assert client.patch(f"{URL}{opp_id}/", {"owner": users["sales2"].pk}, format="json").status_code == 400
    assert client.delete(f"{URL}{opp_id}/").status_code == 403  # sales has no delete
    assert api(users["admin"]).delete(f"{URL}{opp_id}/").status_code == 204
    assert not Opportunity.objects.exists()


def test_contact_of_another_customer_is_refused(users, customers, contacts, group):
    response = api(users["sales1"]).post(
        URL,
        {"name": "x", "customer": customers["mine"].pk, "contacts": [contacts["other"].pk]},
        format="json",
    )
    assert response.status_code == 400
    assert "所选联系人不属于该客户。" in str(response.json())
    assert not Opportunity.objects.exists()


def test_other_salesperson_gets_404(users, make_opp, stages):
    opp = make_opp()
    client = api(users["sales2"])
    assert client.get(f"{URL}{opp.pk}/").status_code == 404
    assert (
        client.post(f"{URL}{opp.pk}/stage/", {"stage": stages["谈判"].pk}, format="json").status_code == 404
    )
    assert client.post(f"{URL}{opp.pk}/win/").status_code == 404
    assert client.get(URL).json()["results"] == []
    assert Opportunity.objects.get(pk=opp.pk).status == "open"


def test_stage_win_lose(users, make_opp, stages, lost_reason):
    client = api(users["sales1"])
    opp = make_opp()
    moved = client.post(f"{URL}{opp.pk}/stage/", {"stage": stages["谈判"].pk}, format="json")
    assert moved.status_code == 200 and moved.json()["stage_name"] == "谈判"
    refused = client.post(f"{URL}{opp.pk}/stage/", {"stage": stages["赢单"].pk}, format="json")
    assert refused.status_code == 400 and "赢单请使用“赢单”操作。" in str(refused.json())
    missing = client.post(f"{URL}{opp.pk}/lose/", {}, format="json")
    assert missing.status_code == 400 and "请选择输单原因。" in str(missing.json())
    assert Opportunity.objects.get(pk=opp.pk).status == "open"
    lost = client.post(
        f"{URL}{opp.pk}/lose/", {"lost_reason": lost_reason.pk, "lost_note": "价格高"}, format="json"
    )
    assert lost.status_code == 200 and lost.json()["status"] == "lost"
    other = make_opp(name="另一个")
    won = client.post(f"{URL}{other.pk}/win/")
    assert won.status_code == 200 and won.json()["status"] == "won" and won.json()["stage_name"] == "赢单"


def test_transfer(users, make_opp):
    a, b = make_opp(name="甲"), make_opp(name="乙")
    theirs = make_opp(actor=users["sales2"], name="丙")
    response = api(users["sales1"]).post(
        f"{URL}transfer/", {"opportunity_ids": [a.pk, b.pk, theirs.pk, 999999], "to_user": users["sales1"].pk}
    )
    assert response.status_code == 200 and response.json() == {
        "count": 0,
        "not_found": sorted([theirs.pk, 999999]),
    }
    response = api(users["manager"]).post(
        f"{URL}transfer/", {"opportunity_ids": [a.pk, b.pk], "to_user": users["sales2"].pk}, format="json"
    )
    assert response.json() == {"count": 2, "not_found": []}
    assert OperationLog.objects.filter(action="opportunity.transferred").count() == 2
    assert (
        api(users["finance"])
        .post(f"{URL}transfer/", {"opportunity_ids": [a.pk], "to_user": users["sales1"].pk}, format="json")
        .status_code
        == 403
    )


def test_stage_groups_read_and_write(users, group):
    listed = api(users["sales1"]).get("/api/v1/stage-groups/")
    assert listed.status_code == 200
    names = [s["name"] for s in listed.json()[0]["stages"]]
    assert names == ["初步接洽", "需求确认", "方案报价", "谈判", "赢单", "输单"]
    body = {"name": "项目型", "stages": [{"name": "立项", "win_rate": 20}]}
    assert api(users["sales1"]).post("/api/v1/stage-groups/", body, format="json").status_code == 403
    assert api(users["norole"]).get("/api/v1/stage-groups/").status_code == 403
    created = api(users["admin"]).post("/api/v1/stage-groups/", body, format="json")
    assert created.status_code == 201
    assert [s["kind"] for s in created.json()["stages"]] == ["open", "won", "lost"]
    bad = api(users["admin"]).post(
        "/api/v1/stage-groups/", {"name": "坏", "stages": [{"name": "立项", "win_rate": 101}]}, format="json"
    )
    assert bad.status_code == 400
    assert StageGroup.objects.count() == 2
