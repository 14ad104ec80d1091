"""The follow-up API: same rules as the pages, 404 out of scope, clear 400s."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from crm.activities import services
from crm.activities.models import FollowUp, FollowUpComment, FollowUpTemplate
from crm.activities.tests.conftest import later
from crm.customers.models import Contact, DictionaryItem
from crm.messaging.models import Notification, Reminder


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_create_list_retrieve_and_filter_by_customer(users, customer, other_customer, phone):
    client = api(users["sales1"])
    when = later(days=1)
    response = client.post(
        "/api/v1/followups/",
        {
            "customer": customer.pk,
            "type": phone.pk,
            "content": "电话确认需求",
            "next_contact_at": when.isoformat(),
            "next_action": "email",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["customer_name"] == "深圳甲科技有限公司" and body["type_name"] == "电话"
    assert Reminder.objects.filter(owner=users["sales1"]).count() == 1
    services.followup_create(actor=users["sales2"], customer_id=other_customer.pk, type=phone, content="乙")

    manager = api(users["manager"])
    assert len(manager.get("/api/v1/followups/").json()["results"]) == 2
    only = manager.get("/api/v1/followups/", {"customer": customer.pk}).json()["results"]
    assert [f["content"] for f in only] == ["电话确认需求"]
    assert manager.get(f"/api/v1/followups/{body['id']}/").status_code == 200


def test_out_of_scope_answers_404(users, customer, make_followup, phone):
    followup = make_followup()
    client = api(users["sales2"])
    assert client.get(f"/api/v1/followups/{followup.pk}/").status_code == 404
    assert client.get(f"/api/v1/followups/{followup.pk}/comments/").status_code == 404
    assert (
        client.patch(f"/api/v1/followups/{followup.pk}/", {"content": "x"}, format="json").status_code == 404
    )
    response = client.post(
        "/api/v1/followups/", {"customer": customer.pk, "type": phone.pk, "content": "撞单"}, format="json"
    )
    assert response.status_code == 404
    assert client.get("/api/v1/followups/", {"customer": customer.pk}).json()["results"] == []
    assert FollowUp.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"content": ""}, "content", "请填写跟进内容"),
        ({"content": "字" * 5001}, "content", "不能超过 5000 个字"),
        ({"followed_at": "2099-01-01T00:00:00+08:00"}, "followed_at", "不能晚于当前时间"),
        ({"next_contact_at": "2020-01-01T00:00:00+08:00"}, "next_contact_at", "必须是将来的时间"),
        ({"surprise": 1}, "surprise", "未知字段"),
    ],
)
def test_bad_input_answers_400_with_the_message(users, customer, phone, change, field, message):
    payload = {"customer": customer.pk, "type": phone.pk, "content": "正常"} | change
    response = api(users["sales1"]).post("/api/v1/followups/", payload, format="json")
    assert response.status_code == 400
    assert message in str(response.json()[field])
    assert not FollowUp.objects.exists()


def test_wrong_dictionary_and_foreign_contact_answer_400(users, customer, other_customer, phone):
    industry = DictionaryItem.objects.create(kind="industry", name="行业测试")
    stranger = Contact.objects.create(customer=other_customer, name="李四")
    client = api(users["sales1"])
    response = client.post(
        "/api/v1/followups/", {"customer": customer.pk, "type": industry.pk, "content": "x"}, format="json"
    )
    assert response.status_code == 400 and "跟进方式无效" in str(response.json()["type"])
    response = client.post(
        "/api/v1/followups/",
        {"customer": customer.pk, "type": phone.pk, "content": "x", "contact": stranger.pk},
        format="json",
    )
    assert response.status_code == 400 and "不属于该客户" in str(response.json()["contact"])
    assert not FollowUp.objects.exists()


def test_patch_and_delete_follow_the_24_hour_rule(users, make_followup):
    followup = make_followup()
    client = api(users["sales1"])
    response = client.patch(f"/api/v1/followups/{followup.pk}/", {"content": "补充说明"}, format="json")
    assert response.status_code == 200 and response.json()["content"] == "补充说明"
    FollowUp.objects.filter(pk=followup.pk).update(created_at=timezone.now() - timedelta(days=2))
    response = client.delete(f"/api/v1/followups/{followup.pk}/")
    assert response.status_code == 400 and "24 小时" in str(response.json())
    assert api(users["admin"]).delete(f"/api/v1/followups/{followup.pk}/").status_code == 204
    assert not FollowUp.objects.exists()


def test_comments_endpoint(users, make_followup):
    followup = make_followup()
    response = api(users["manager"]).post(
        f"/api/v1/followups/{followup.pk}/comments/", {"content": "跟紧"}, format="json"
    )
    assert response.status_code == 201
    assert Notification.objects.filter(recipient=users["sales1"]).count() == 1
    listed = api(users["sales1"]).get(f"/api/v1/followups/{followup.pk}/comments/").json()
    assert [c["content"] for c in listed] == ["跟紧"]
    response = api(users["finance"]).post(
        f"/api/v1/followups/{followup.pk}/comments/", {"content": "x"}, format="json"
    )
    assert response.status_code in (403, 404)
    assert FollowUpComment.objects.count() == 1


def test_templates_endpoint(users, phone):
    client = api(users["sales1"])
    response = client.post(
        "/api/v1/followup-templates/",
        {"title": "首次电话", "content": "您好", "type": phone.pk},
        format="json",
    )
    assert response.status_code == 201
    template_id = response.json()["id"]
    assert client.patch(
        f"/api/v1/followup-templates/{template_id}/", {"is_shared": True}, format="json"
    ).json()["is_shared"]
    other = api(users["sales2"])
    assert [t["title"] for t in other.get("/api/v1/followup-templates/").json()["results"]] == ["首次电话"]
    assert other.delete(f"/api/v1/followup-templates/{template_id}/").status_code == 400
    assert client.delete(f"/api/v1/followup-templates/{template_id}/").status_code == 204
    assert not FollowUpTemplate.objects.exists()


def test_finance_without_activities_permission_gets_403(users):
    assert api(users["finance"]).get("/api/v1/followups/").status_code == 403


def test_list_queries_are_bounded(users, make_followup, django_assert_max_num_queries):
    for i in range(30):
        make_followup(content=f"第{i}条")
    client = api(users["manager"])
    with django_assert_max_num_queries(12):
        response = client.get("/api/v1/followups/", {"page_size": 25})
    assert len(response.json()["results"]) == 25


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("admin", 200),
        ("administrator", 200),
        ("manager", 200),
        ("sales1", 200),
        ("service", 200),
        ("finance", 403),
        ("norole", 403),
    ],
)
@pytest.mark.parametrize("url", ["/api/v1/followups/", "/api/v1/followup-templates/"])
def test_api_endpoints_per_role(users, role, expected, url):
    assert api(users[role]).get(url).status_code == expected
    assert APIClient().get(url).status_code == 401


def test_schema_documents_the_followup_endpoints(tmp_path, db):
    import yaml
    from django.core.management import call_command

    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    paths = yaml.safe_load(target.read_text())["paths"]
    assert set(paths["/api/v1/followups/"]) == {"get", "post"}
    assert set(paths["/api/v1/followups/{id}/"]) == {"get", "patch", "delete"}
    assert set(paths["/api/v1/followups/{id}/comments/"]) == {"get", "post"}
    assert set(paths["/api/v1/followup-templates/{id}/"]) == {"get", "patch", "delete"}
    list_parameters = {p["name"] for p in paths["/api/v1/followups/"]["get"]["parameters"]}
    assert "customer" in list_parameters
