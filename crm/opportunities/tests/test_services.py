from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from crm.access.policy import PermissionRequiredError
from crm.activities.models import FollowUp
from crm.audit.models import OperationLog
from crm.customers.models import Customer, DictionaryItem
from crm.opportunities import selectors, services
from crm.opportunities.models import Opportunity, OpportunityLine, Stage

pytestmark = pytest.mark.django_db


def test_create_numbers_and_logs(users, make_opp, stages, contacts):
    opp = services.opportunity_create(
        actor=users["sales1"],
        values={"name": "ERP 升级", "customer": contacts["mine"].customer, "expected_amount": "8800.5"},
        contacts=[contacts["mine"]],
    )
    opp.refresh_from_db()
    assert opp.code.startswith("SJ") and opp.stage == stages["初步接洽"] and opp.status == "open"
    assert opp.expected_amount == Decimal("8800.50")
    assert list(opp.contacts.all()) == [contacts["mine"]]
    assert opp.owner == users["sales1"] and opp.department_id == users["sales1"].department_id
    assert OperationLog.objects.filter(action="opportunity.created", target_id=str(opp.pk)).count() == 1


def test_contacts_must_belong_to_the_customer(users, customers, contacts, group):
    with pytest.raises(ValidationError) as exc:
        services.opportunity_create(
            actor=users["sales1"],
            values={"name": "x", "customer": customers["mine"]},
            contacts=[contacts["other"]],
        )
    assert exc.value.message_dict["contacts"] == ["所选联系人不属于该客户。"]
    assert not Opportunity.objects.exists()


def test_customer_must_be_visible(users, customers, group):
    with pytest.raises(ValidationError) as exc:
        services.opportunity_create(
            actor=users["sales1"], values={"name": "x", "customer": customers["other"]}
        )
    assert exc.value.message_dict["customer"] == ["所选客户不存在或您无权查看。"]
    assert not Opportunity.objects.exists()


def test_bad_input_has_chinese_messages(users, customers, group):
    with pytest.raises(ValidationError) as exc:
        services.opportunity_create(
            actor=users["sales1"], values={"name": " ", "customer": None, "expected_amount": "-1"}
        )
    errors = exc.value.message_dict
    assert errors["name"] == ["请填写商机名称。"]
    assert errors["customer"] == ["请选择客户。"]
    assert errors["expected_amount"] == ["预计金额须为 0 到 999999999999.99 之间的数字。"]
    assert (
        not Opportunity.objects.exists()
        and not OperationLog.objects.filter(action__startswith="opp").exists()
    )


def test_without_permission_nothing_is_created(users, customers, group):
    with pytest.raises(PermissionRequiredError):
        services.opportunity_create(
            actor=users["norole"], values={"name": "x", "customer": customers["mine"]}
        )
    assert not Opportunity.objects.exists()


def test_other_salesperson_cannot_see_or_change(users, make_opp, stages):
    opp = make_opp()
    assert not selectors.opportunities_visible(users["sales2"]).filter(pk=opp.pk).exists()
    assert selectors.opportunities_visible(users["manager"]).filter(pk=opp.pk).exists()
    with pytest.raises(Http404):
        selectors.opportunity_get_for_user(user=users["sales2"], opportunity_id=opp.pk)
    with pytest.raises(Http404):
        services.opportunity_change_stage(actor=users["sales2"], opportunity=opp, stage=stages["谈判"])
    opp.refresh_from_db()
    assert opp.stage == stages["初步接洽"]


def test_opportunity_of_an_invisible_customer_is_hidden(users, make_opp):
    """The owner is in scope but the customer was handed to someone else: hidden too."""
    opp = make_opp()
    Customer.objects.filter(pk=opp.customer_id).update(owner=users["sales2"])
    assert not selectors.opportunities_visible(users["sales1"]).filter(pk=opp.pk).exists()


def test_stage_moves_within_the_group(users, make_opp, stages):
    opp = make_opp()
    services.opportunity_change_stage(actor=users["sales1"], opportunity=opp, stage=stages["谈判"])
    opp.refresh_from_db()
    assert opp.stage == stages["谈判"]
    log = OperationLog.objects.get(action="opportunity.stage_changed")
    assert log.changes == {"stage": ["初步接洽", "谈判"]}


@pytest.mark.parametrize(
    ("target", "message"),
    [("赢单", "赢单请使用“赢单”操作。"), ("输单", "输单请使用“输单”操作，并填写输单原因。")],
)
def test_moving_to_a_terminal_stage_needs_win_or_lose(users, make_opp, stages, target, message):
    opp = make_opp()
    with pytest.raises(ValidationError) as exc:
        services.opportunity_change_stage(actor=users["sales1"], opportunity=opp, stage=stages[target])
    assert exc.value.message_dict["stage"] == [message]
    opp.refresh_from_db()
    assert opp.stage == stages["初步接洽"] and opp.status == "open"


def test_stage_of_another_group_is_refused(users, make_opp):
    other = services.stage_group_create(actor=users["admin"], name="项目型销售", stages=[("立项", 20)])
    opp = make_opp()
    with pytest.raises(ValidationError) as exc:
        services.opportunity_change_stage(
            actor=users["sales1"], opportunity=opp, stage=other.stages.get(name="立项")
        )
    assert exc.value.message_dict["stage"] == ["只能移动到同一阶段组内的阶段。"]


def test_win_lose_and_reopen(users, make_opp, stages, lost_reason):
    opp = make_opp()
    services.opportunity_win(actor=users["sales1"], opportunity=opp)
    opp.refresh_from_db()
    assert opp.status == "won" and opp.stage == stages["赢单"] and opp.won_at is not None
    with pytest.raises(ValidationError) as exc:
        services.opportunity_change_stage(actor=users["sales1"], opportunity=opp, stage=stages["谈判"])
    assert "商机已结束" in exc.value.messages[0]
    with pytest.raises(ValidationError):
        services.opportunity_lose(actor=users["sales1"], opportunity=opp, reason=lost_reason)
    services.opportunity_reopen(actor=users["sales1"], opportunity=opp)
    opp.refresh_from_db()
    assert opp.status == "open" and opp.stage == stages["谈判"] and opp.won_at is None
    services.opportunity_lose(actor=users["sales1"], opportunity=opp, reason=lost_reason, note="对方选了竞品")
    opp.refresh_from_db()
    assert (opp.status, opp.stage, opp.lost_reason, opp.lost_note) == (
        "lost",
        stages["输单"],
        lost_reason,
        "对方选了竞品",
    )
    actions = list(
        OperationLog.objects.filter(target_id=str(opp.pk), action__startswith="opportunity.").values_list(
            "action", flat=True
        )
    )
    assert sorted(actions) == sorted(
        ["opportunity.created", "opportunity.won", "opportunity.reopened", "opportunity.lost"]
    )


def test_lose_without_a_reason_changes_nothing(users, make_opp, stages):
    opp = make_opp()
    with pytest.raises(ValidationError) as exc:
        services.opportunity_lose(actor=users["sales1"], opportunity=opp, reason=None)
    assert exc.value.message_dict["lost_reason"] == ["请选择输单原因。"]
    wrong_kind = DictionaryItem.objects.create(kind="source", name="展会X")
    with pytest.raises(ValidationError) as exc:
        services.opportunity_lose(actor=users["sales1"], opportunity=opp, reason=wrong_kind)
    assert "输单原因无效" in exc.value.messages[0]
    opp.refresh_from_db()
    assert opp.status == "open" and opp.stage == stages["初步接洽"] and opp.lost_at is None


def test_lines_set_the_expected_amount(users, make_opp, product):
    opp = make_opp()
    services.opportunity_update(
        actor=users["sales1"],
        opportunity=opp,
        values={},
        lines=[
            services.LineInput(product=product, quantity=3, unit_price="33.335", discount_percent="10"),
            services.LineInput(product=product, quantity=1),  # the list price
        ],
    )
    opp.refresh_from_db()
    # 3 × 33.34 × 0.9 = 90.018 → 90.02; 1 × 1299.00 → 1299.00
    assert sorted(OpportunityLine.objects.values_list("amount", flat=True)) == [
        Decimal("90.02"),
        Decimal("1299.00"),
    ]
    assert opp.expected_amount == Decimal("1389.02")
    # With lines, a typed amount does not override the lines' total.
    services.opportunity_update(actor=users["sales1"], opportunity=opp, values={"expected_amount": "1"})
    opp.refresh_from_db()
    assert opp.expected_amount == Decimal("1389.02")


def test_bad_line_changes_nothing(users, make_opp, product):
    opp = make_opp()
    with pytest.raises(ValidationError) as exc:
        services.opportunity_update(
            actor=users["sales1"],
            opportunity=opp,
            values={"name": "改名"},
            lines=[services.LineInput(product=product, quantity=1, unit_price="10", discount_percent="120")],
        )
    assert exc.value.message_dict["lines"] == [
        "第 1 行产品的数量、单价或折扣无效（数量须大于 0，折扣 0–100）。"
    ]
    opp.refresh_from_db()
    assert opp.name == "门店收银系统" and not OpportunityLine.objects.exists()


def test_transfer_is_set_based_with_one_log_per_record(users, make_opp):
    mine = [make_opp(name=f"商机{i}") for i in range(3)]
    theirs = make_opp(actor=users["sales2"], name="别人的商机")

    def run(ids):
        with CaptureQueriesContext(connection) as ctx:
            count = services.opportunities_transfer(
                actor=users["manager"],
                opportunities=Opportunity.objects.filter(pk__in=ids),
                to_user=users["sales2"],
            )
        return count, len(ctx.captured_queries)

    run([theirs.pk])  # warms the per-request caches (access, content types); changes nothing
    count_small, queries_small = run([mine[0].pk])
    count_big, queries_big = run([o.pk for o in mine[1:]] + [theirs.pk])  # theirs already belongs to sales2
    assert (count_small, count_big) == (1, 2)
    assert queries_small == queries_big
    assert set(Opportunity.objects.values_list("owner__username", flat=True)) == {"sales2"}
    logs = OperationLog.objects.filter(action="opportunity.transferred")
    assert logs.count() == 3
    assert sorted(logs.values_list("target_id", flat=True)) == sorted(str(o.pk) for o in mine)


def test_transfer_refused_to_a_disabled_user(users, make_opp):
    opp = make_opp()
    users["sales2"].is_active = False
    users["sales2"].save()
    with pytest.raises(ValidationError) as exc:
        services.opportunities_transfer(
            actor=users["manager"], opportunities=Opportunity.objects.all(), to_user=users["sales2"]
        )
    assert exc.value.messages == ["不能把商机转移给已停用的员工。"]
    opp.refresh_from_db()
    assert opp.owner == users["sales1"]


def test_transfer_needs_permission(users, make_opp):
    make_opp()
    with pytest.raises(PermissionRequiredError):
        services.opportunities_transfer(
            actor=users["finance"], opportunities=Opportunity.objects.all(), to_user=users["sales2"]
        )


def test_followup_on_an_opportunity_carries_its_customer(users, make_opp):
    opp = make_opp()
    phone, _c = DictionaryItem.objects.get_or_create(kind="followup_type", name="电话", parent=None)
    followup = services.opportunity_followup_create(
        actor=users["sales1"], opportunity=opp, type=phone, content="约了下周演示"
    )
    stored = FollowUp.objects.get(pk=followup.pk)
    assert stored.opportunity_id == opp.pk and stored.customer_id == opp.customer_id
    assert [f.pk for f in selectors.followups_for_opportunity(users["sales1"], opp)] == [followup.pk]


def test_delete_keeps_the_customers_followups(users, make_opp):
    opp = make_opp()
    phone, _c = DictionaryItem.objects.get_or_create(kind="followup_type", name="电话", parent=None)
    followup = services.opportunity_followup_create(
        actor=users["sales1"], opportunity=opp, type=phone, content="a"
    )
    with pytest.raises(PermissionRequiredError):
        services.opportunity_delete(actor=users["sales1"], opportunity=opp)  # sales has no delete
    services.opportunity_delete(actor=users["admin"], opportunity=opp)
    assert not Opportunity.objects.exists()
    assert FollowUp.objects.get(pk=followup.pk).opportunity_id is None
    assert OperationLog.objects.filter(action="opportunity.deleted").count() == 1


def test_stage_group_creation_adds_won_and_lost(users):
    group = services.stage_group_create(
        actor=users["admin"], name="项目型销售", stages=[("立项", 20), ("投标", 50)]
    )
    kinds = list(group.stages.order_by("order").values_list("name", "win_rate", "kind"))
    assert kinds == [("立项", 20, "open"), ("投标", 50, "open"), ("赢单", 100, "won"), ("输单", 0, "lost")]
    with pytest.raises(ValidationError) as exc:
        services.stage_group_create(actor=users["admin"], name="坏的", stages=[("立项", 120)])
    assert exc.value.message_dict["win_rate"] == ["赢率须为 0 到 100 之间的整数。"]
    with pytest.raises(PermissionRequiredError):
        services.stage_group_create(actor=users["sales1"], name="销售自建", stages=[("立项", 20)])
    assert list(Stage.objects.filter(group__name__in=["坏的", "销售自建"])) == []
