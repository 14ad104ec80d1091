"""The approval API: same services, same rules, the caller's own tasks only."""

import pytest
from rest_framework.test import APIClient

from crm.approvals import services
from crm.approvals.models import ApprovalFlow, ApprovalRequest, ApprovalTask
from crm.approvals.tests.conftest import KIND, manager_step, user_step

pytestmark = pytest.mark.django_db


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


FLOW = {
    "name": "合同审批",
    "kind": KIND,
    "priority": 5,
    "steps": [{"name": "经理审批", "approver_type": "manager"}, {"name": "财务", "approver_type": "role"}],
}


def test_configure_flows_through_the_api(users, docs):
    client = api(users["administrator"])
    bad = client.post("/api/v1/approval-flows/", FLOW, format="json")
    assert bad.status_code == 400
    assert "步骤“财务”没有指定审批角色" in bad.json()["detail"][0]
    assert client.post("/api/v1/approval-flows/", {**FLOW, "steps": []}, format="json").json()["detail"] == [
        "审批流至少需要一个审批步骤。"
    ]
    negative = {**FLOW, "steps": [{"name": "经理审批", "approver_type": "manager", "min_amount": "-1"}]}
    assert "不能为负数" in client.post("/api/v1/approval-flows/", negative, format="json").json()["detail"][0]
    assert not ApprovalFlow.objects.exists()

    good = {
        **FLOW,
        "steps": [
            FLOW["steps"][0],
            {
                "name": "财务",
                "approver_type": "user",
                "approver_user": users["finance"].pk,
                "min_amount": "100.5",
            },
        ],
    }
    created = client.post("/api/v1/approval-flows/", good, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert [s["name"] for s in body["steps"]] == ["经理审批", "财务"]
    assert body["steps"][1]["min_amount"] == "100.50"
    listed = client.get("/api/v1/approval-flows/").json()["results"]
    assert [f["id"] for f in listed] == [body["id"]]
    changed = client.put(f"/api/v1/approval-flows/{body['id']}/", {**good, "name": "新名"}, format="json")
    assert changed.status_code == 200 and changed.json()["name"] == "新名"


def test_flows_api_needs_the_settings_permission(users, docs, make_flow):
    flow = make_flow([manager_step()])
    for who in ("manager", "sales1", "finance", "norole"):
        client = api(users[who])
        assert client.get("/api/v1/approval-flows/").status_code == 403
        assert client.post("/api/v1/approval-flows/", FLOW, format="json").status_code == 403
        assert client.put(f"/api/v1/approval-flows/{flow.pk}/", FLOW, format="json").status_code == 403
    assert ApprovalFlow.objects.get().name == "测试审批流"
    assert APIClient().get("/api/v1/approval-tasks/").status_code in (401, 403)


def test_tasks_approve_and_reject_through_the_api(users, docs, make_flow):
    make_flow([manager_step("经理审批"), user_step(users["finance"], "财务审批")])
    request = services.submit(actor=users["sales1"], document=docs.make("500"), kind=KIND)
    manager = api(users["manager"])
    tasks = manager.get("/api/v1/approval-tasks/?status=pending").json()["results"]
    assert [(t["step_name"], t["request_status"]) for t in tasks] == [("经理审批", "pending")]
    approved = manager.post(
        f"/api/v1/approval-tasks/{tasks[0]['id']}/approve/", {"comment": "好"}, format="json"
    )
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    again = manager.post(f"/api/v1/approval-tasks/{tasks[0]['id']}/approve/", {}, format="json")
    assert again.status_code == 400 and "该审批任务已处理" in again.json()["detail"][0]

    finance = api(users["finance"])
    finance_task = finance.get("/api/v1/approval-tasks/").json()["results"][0]
    no_comment = finance.post(f"/api/v1/approval-tasks/{finance_task['id']}/reject/", {}, format="json")
    assert no_comment.status_code == 400 and no_comment.json()["detail"] == ["驳回时请填写审批意见。"]
    rejected = finance.post(
        f"/api/v1/approval-tasks/{finance_task['id']}/reject/", {"comment": "缺附件"}, format="json"
    )
    assert rejected.status_code == 200
    applicant = api(users["sales1"])
    mine = applicant.get("/api/v1/approval-requests/").json()["results"]
    assert [(r["id"], r["status"]) for r in mine] == [(request.pk, "rejected")]
    assert [t["comment"] for t in mine[0]["tasks"]] == ["好", "缺附件"]
    resubmitted = applicant.post(f"/api/v1/approval-requests/{request.pk}/resubmit/")
    assert resubmitted.status_code == 200 and resubmitted.json()["round"] == 2
    # the approver sees the request too, an outsider does not
    assert finance.get(f"/api/v1/approval-requests/{request.pk}/").status_code == 200
    assert api(users["sales2"]).get(f"/api/v1/approval-requests/{request.pk}/").status_code == 404


def test_not_your_task_answers_404_through_the_api_and_changes_nothing(users, docs, make_flow):
    make_flow([manager_step()])
    request = services.submit(actor=users["sales1"], document=docs.make(), kind=KIND)
    task = request.tasks.get()
    for who in ("admin", "sales1", "sales2", "finance"):
        client = api(users[who])
        assert client.post(f"/api/v1/approval-tasks/{task.pk}/approve/", {}, format="json").status_code == 404
        assert (
            client.post(
                f"/api/v1/approval-tasks/{task.pk}/reject/", {"comment": "x"}, format="json"
            ).status_code
            == 404
        )
        assert client.get(f"/api/v1/approval-tasks/{task.pk}/").status_code == 404
    assert api(users["manager"]).post(f"/api/v1/approval-requests/{request.pk}/withdraw/").status_code == 403
    task.refresh_from_db()
    request.refresh_from_db()
    assert (task.status, request.status) == (ApprovalTask.Status.PENDING, ApprovalRequest.Status.PENDING)
    unknown = api(users["manager"]).post(
        f"/api/v1/approval-tasks/{task.pk}/approve/", {"note": "x"}, format="json"
    )
    assert unknown.status_code == 400  # unknown field refused
