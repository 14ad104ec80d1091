"""The approval pages: flow configuration (admins), 我的审批 and the request detail (everyone)."""

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from crm.approvals import services
from crm.approvals.models import ApprovalFlow, ApprovalRequest, ApprovalTask
from crm.approvals.tests.conftest import KIND, manager_step, user_step
from crm.core.navigation import navigation_for

pytestmark = pytest.mark.django_db


def step_post(prefix_rows, **flow):
    data = {
        "name": "合同审批",
        "kind": KIND,
        "description": "",
        "priority": "0",
        "is_active": "on",
        "steps-TOTAL_FORMS": str(len(prefix_rows)),
        "steps-INITIAL_FORMS": "0",
        "steps-MIN_NUM_FORMS": "0",
        "steps-MAX_NUM_FORMS": "20",
        **flow,
    }
    for i, row in enumerate(prefix_rows):
        for key, value in row.items():
            data[f"steps-{i}-{key}"] = value
    return data


def test_admin_creates_a_flow_with_ordered_steps(client, users, docs):
    client.force_login(users["admin"])
    assert client.get(reverse("approvals:flow_create")).status_code == 200
    rows = [
        {
            "ORDER": "2",
            "name": "财务审批",
            "approver_type": "user",
            "approver_user": users["finance"].pk,
            "mode": "any",
            "min_amount": "10000",
        },
        {"ORDER": "1", "name": "经理审批", "approver_type": "manager", "mode": "any"},
        {"ORDER": "3", "name": "", "approver_type": "user", "mode": "any"},  # an empty extra row
    ]
    response = client.post(reverse("approvals:flow_create"), step_post(rows))
    assert response.status_code == 302
    flow = ApprovalFlow.objects.get()
    assert [(s.order, s.name, s.approver_type) for s in flow.steps.order_by("order")] == [
        (1, "经理审批", "manager"),
        (2, "财务审批", "user"),
    ]
    page = client.get(reverse("approvals:flows"))
    assert "合同审批" in page.content.decode() and "经理审批" in page.content.decode()
    edit = client.get(reverse("approvals:flow_edit", args=[flow.pk]))
    assert edit.status_code == 200 and "财务审批" in edit.content.decode()


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([], "审批流至少需要一个审批步骤"),
        (
            [{"ORDER": "1", "name": "财务", "approver_type": "role", "mode": "any"}],
            "步骤“财务”没有指定审批角色",
        ),
        (
            [{"ORDER": "1", "name": "经理", "approver_type": "manager", "mode": "any", "min_amount": "-10"}],
            "步骤“经理”的金额下限不能为负数",
        ),
    ],
)
def test_bad_flow_form_shows_the_message_and_saves_nothing(client, users, docs, rows, message):
    client.force_login(users["admin"])
    response = client.post(reverse("approvals:flow_create"), step_post(rows))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ApprovalFlow.objects.exists()


def test_configuration_pages_need_the_settings_permission(client, users, docs, make_flow):
    flow = make_flow([manager_step()])
    client.force_login(users["manager"])
    assert client.get(reverse("approvals:flows")).status_code == 403
    assert client.get(reverse("approvals:flow_create")).status_code == 403
    assert client.post(reverse("approvals:flow_create"), step_post([])).status_code == 403
    assert client.post(reverse("approvals:flow_toggle", args=[flow.pk])).status_code == 403
    flow.refresh_from_db()
    assert flow.is_active
    keys = [e["key"] for s in navigation_for(users["manager"]) for e in s["entries"]]
    assert "approvals" in keys and "approval_flows" not in keys
    client.force_login(users["administrator"])
    assert client.post(reverse("approvals:flow_toggle", args=[flow.pk])).status_code == 302
    flow.refresh_from_db()
    assert not flow.is_active


def test_my_approvals_tabs_and_approving_from_the_page(client, users, docs, make_flow):
    make_flow([manager_step("经理审批")])
    request = services.submit(
        actor=users["sales1"], document=docs.make("1234.50", name="甲公司合同"), kind=KIND
    )
    client.force_login(users["manager"])
    todo = client.get(reverse("approvals:mine")).content.decode()
    assert "甲公司合同" in todo and "1234.50" in todo and 'data-testid="approve"' in todo
    task = request.tasks.get()
    response = client.post(reverse("approvals:task_approve", args=[task.pk]), {"comment": "同意签约"})
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == ApprovalRequest.Status.APPROVED
    done = client.get(reverse("approvals:mine") + "?tab=done").content.decode()
    assert "甲公司合同" in done and "同意签约" in done
    client.force_login(users["sales1"])
    mine = client.get(reverse("approvals:mine") + "?tab=mine").content.decode()
    assert "甲公司合同" in mine and "已通过" in mine
    detail = client.get(reverse("approvals:request_detail", args=[request.pk])).content.decode()
    assert "经理审批" in detail and "同意签约" in detail


def test_reject_from_the_page_needs_a_comment_then_applicant_resubmits(client, users, docs, make_flow):
    make_flow([manager_step("经理审批")])
    request = services.submit(actor=users["sales1"], document=docs.make(), kind=KIND)
    task = request.tasks.get()
    client.force_login(users["manager"])
    response = client.post(reverse("approvals:task_reject", args=[task.pk]), {"comment": ""}, follow=True)
    assert "驳回时请填写审批意见" in response.content.decode()
    task.refresh_from_db()
    assert task.status == "pending"
    client.post(reverse("approvals:task_reject", args=[task.pk]), {"comment": "价格太低"})
    request.refresh_from_db()
    assert request.status == "rejected"
    client.force_login(users["sales1"])
    detail = client.get(reverse("approvals:request_detail", args=[request.pk])).content.decode()
    assert "价格太低" in detail and 'data-testid="resubmit"' in detail
    client.post(reverse("approvals:request_resubmit", args=[request.pk]))
    request.refresh_from_db()
    assert (request.status, request.round) == ("pending", 2)


def test_someone_elses_task_or_request_answers_404_and_changes_nothing(client, users, docs, make_flow):
    make_flow([manager_step()])
    request = services.submit(actor=users["sales1"], document=docs.make(), kind=KIND)
    task = request.tasks.get()
    for outsider in ("sales2", "finance", "norole"):
        client.force_login(users[outsider])
        assert client.post(reverse("approvals:task_approve", args=[task.pk])).status_code == 404
        assert (
            client.post(reverse("approvals:task_reject", args=[task.pk]), {"comment": "x"}).status_code == 404
        )
        assert client.get(reverse("approvals:request_detail", args=[request.pk])).status_code == 404
        assert client.post(reverse("approvals:request_withdraw", args=[request.pk])).status_code == 404
    client.force_login(users["manager"])  # the approver may look but not withdraw
    assert client.get(reverse("approvals:request_detail", args=[request.pk])).status_code == 200
    assert client.post(reverse("approvals:request_withdraw", args=[request.pk])).status_code == 403
    task.refresh_from_db()
    request.refresh_from_db()
    assert (task.status, request.status) == (ApprovalTask.Status.PENDING, ApprovalRequest.Status.PENDING)


def test_document_partial_shows_status_and_history(users, docs, make_flow):
    make_flow([manager_step("经理审批"), user_step(users["finance"], "财务审批")])
    document = docs.make()
    html = render_to_string("approvals/_request_status.html", {"document": document})
    assert "尚未提交审批" in html
    request = services.submit(actor=users["sales1"], document=document, kind=KIND)
    services.approve(actor=users["manager"], task=request.tasks.get(), comment="经理同意")
    html = render_to_string("approvals/_request_status.html", {"document": document})
    assert "审批中" in html and "经理同意" in html and "财务审批" in html


def test_request_detail_lists_the_steps_still_ahead(client, users, docs, make_flow):
    make_flow(
        [
            manager_step("经理审批"),
            user_step(users["finance"], "财务审批"),
            user_step(users["administrator"], "总经理审批", min_amount="100000"),
        ]
    )
    request = services.submit(actor=users["sales1"], document=docs.make("500"), kind=KIND)
    client.force_login(users["sales1"])
    html = client.get(reverse("approvals:request_detail", args=[request.pk])).content.decode()
    assert 'data-testid="approval-upcoming"' in html and "财务审批" in html
    assert "总经理审批" not in html  # its condition does not hold for 500


def test_my_approvals_page_queries_are_bounded(client, users, docs, make_flow, django_assert_max_num_queries):
    make_flow([manager_step()])
    for i in range(15):
        services.submit(actor=users["sales1"], document=docs.make(str(i)), kind=KIND)
    client.force_login(users["manager"])
    client.get(reverse("approvals:mine"))
    with django_assert_max_num_queries(15):
        assert client.get(reverse("approvals:mine")).status_code == 200


def test_rows_without_an_order_keep_their_position(client, users, docs):
    client.force_login(users["admin"])
    rows = [
        {"ORDER": "", "name": "第一步", "approver_type": "manager", "mode": "any"},
        {
            "ORDER": "",
            "name": "第二步",
            "approver_type": "user",
            "approver_user": users["finance"].pk,
            "mode": "all",
        },
    ]
    assert client.post(reverse("approvals:flow_create"), step_post(rows)).status_code == 302
    assert list(ApprovalFlow.objects.get().steps.order_by("order").values_list("name", "mode")) == [
        ("第一步", "any"),
        ("第二步", "all"),
    ]
