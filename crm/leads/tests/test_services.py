import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from crm.access.policy import PermissionRequiredError
from crm.activities.models import FollowUp
from crm.audit.models import OperationLog
from crm.customers import services as customer_services
from crm.customers.models import Contact, Customer, CustomerPolicy
from crm.leads import services
from crm.leads.models import Lead
from crm.leads.selectors import lead_get_for_user, leads_visible

pytestmark = pytest.mark.django_db


def _policy(mode):
    policy = CustomerPolicy.load()
    policy.duplicate_mode = mode
    policy.save()


def test_create_numbers_the_lead_and_logs(users, make_lead):
    lead = make_lead()
    assert lead.code.startswith("XS")
    assert lead.owner == users["sales1"] and lead.department_id == users["sales1"].department_id
    assert lead.status == Lead.Status.NEW
    assert OperationLog.objects.filter(action="lead.created", target_id=str(lead.pk)).count() == 1
    assert make_lead(company="另一家公司").code != lead.code


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"company": "  "}, "company", "请填写公司名称。"),
        ({"mobile": "12345"}, "mobile", "请输入有效的 11 位手机号码。"),
        ({"phone": "电话abc"}, "phone", "请输入有效的电话号码（数字、空格、+、- 和括号）。"),
        ({"email": "not-an-email"}, "email", "请输入有效的邮箱地址。"),
    ],
)
def test_bad_input_is_refused_in_chinese_and_nothing_is_saved(users, values, field, message):
    with pytest.raises(ValidationError) as exc:
        services.lead_create(actor=users["sales1"], values={"company": "甲公司"} | values)
    assert exc.value.message_dict[field] == [message]
    assert not Lead.objects.exists()
    assert not OperationLog.objects.filter(action="lead.created").exists()


def test_a_dictionary_item_of_another_kind_is_refused(users):
    from crm.customers.models import DictionaryItem

    industry = DictionaryItem.objects.create(kind="industry", name="制造业测试")
    with pytest.raises(ValidationError) as exc:
        services.lead_create(actor=users["sales1"], values={"company": "甲公司", "source": industry})
    assert "不是有效的线索来源" in exc.value.message_dict["source"][0]
    assert not Lead.objects.exists()


def test_without_permission_nothing_is_created(users):
    with pytest.raises(PermissionRequiredError):
        services.lead_create(actor=users["finance"], values={"company": "甲公司"})
    assert not Lead.objects.exists()


def test_sales2_cannot_see_or_change_sales1s_lead(users, make_lead):
    lead = make_lead()
    assert not leads_visible(users["sales2"]).filter(pk=lead.pk).exists()
    assert leads_visible(users["manager"]).filter(pk=lead.pk).exists()
    with pytest.raises(Http404):
        lead_get_for_user(user=users["sales2"], lead_id=lead.pk)
    with pytest.raises(Http404):
        services.lead_update(actor=users["sales2"], lead=lead, values={"company": "改名"})
    assert Lead.objects.get(pk=lead.pk).company == "深圳市星辰科技有限公司"


def test_update_logs_a_diff(users, make_lead):
    lead = make_lead()
    services.lead_update(actor=users["sales1"], lead=lead, values={"company": "新名称有限公司"})
    log = OperationLog.objects.get(action="lead.updated")
    assert log.changes["company"] == ["深圳市星辰科技有限公司", "新名称有限公司"]


def test_transfer_is_set_based_with_one_log_per_lead(users, make_lead):
    warm = make_lead(company="预热公司")  # the access cache and content types are read once
    services.leads_transfer(
        actor=users["manager"], leads=Lead.objects.filter(pk=warm.pk), to_user=users["sales2"]
    )
    leads = [make_lead(company=f"公司{i}") for i in range(5)]
    ids = [lead.pk for lead in leads]
    with CaptureQueriesContext(connection) as five:
        services.leads_transfer(
            actor=users["manager"], leads=Lead.objects.filter(pk__in=ids), to_user=users["sales2"]
        )
    more = [make_lead(company=f"更多公司{i}") for i in range(20)]
    with CaptureQueriesContext(connection) as twenty:
        count = services.leads_transfer(
            actor=users["manager"],
            leads=Lead.objects.filter(pk__in=[m.pk for m in more]),
            to_user=users["sales2"],
        )
    assert count == 20
    assert len(five.captured_queries) == len(twenty.captured_queries)
    assert set(Lead.objects.values_list("owner_id", flat=True)) == {users["sales2"].pk}
    logs = OperationLog.objects.filter(action="lead.transferred")
    assert logs.count() == 26
    assert logs.first().changes["owner"][1] == str(users["sales2"])


def test_transfer_out_of_scope_leads_are_untouched(users, make_lead):
    theirs = make_lead(actor=users["sales2"], company="别人的公司")
    services.leads_transfer(
        actor=users["sales1"], leads=Lead.objects.filter(pk=theirs.pk), to_user=users["sales1"]
    )
    assert Lead.objects.get(pk=theirs.pk).owner == users["sales2"]
    assert not OperationLog.objects.filter(action="lead.transferred").exists()


def test_transfer_to_a_disabled_user_is_refused(users, make_lead):
    lead = make_lead()
    users["sales2"].is_active = False
    users["sales2"].save()
    with pytest.raises(ValidationError, match="不能把线索转移给已停用的员工"):
        services.leads_transfer(
            actor=users["sales1"], leads=Lead.objects.filter(pk=lead.pk), to_user=users["sales2"]
        )
    assert Lead.objects.get(pk=lead.pk).owner == users["sales1"]


def test_followup_on_a_lead_updates_it(users, make_lead, phone):
    lead = make_lead()
    followup = services.lead_followup_create(
        actor=users["sales1"], lead=lead, type=phone, content="电话沟通需求"
    )
    lead.refresh_from_db()
    assert followup.lead == lead and followup.customer is None
    assert lead.status == Lead.Status.FOLLOWING
    assert lead.last_followup_at == followup.followed_at


def test_followup_bad_input(users, make_lead, phone):
    lead = make_lead()
    with pytest.raises(ValidationError) as exc:
        services.lead_followup_create(actor=users["sales1"], lead=lead, type=phone, content="  ")
    assert exc.value.message_dict["content"] == ["请填写跟进内容。"]
    assert not FollowUp.objects.exists()


def test_convert_creates_customer_and_contact_and_moves_followups(users, make_lead, phone):
    lead = make_lead()
    services.lead_followup_create(actor=users["sales1"], lead=lead, type=phone, content="第一次")
    services.lead_followup_create(actor=users["sales1"], lead=lead, type=phone, content="第二次")
    [result] = services.leads_convert(actor=users["sales1"], leads=Lead.objects.filter(pk=lead.pk))
    assert result.outcome == "created"
    customer = Customer.objects.get(pk=result.customer_id)
    assert customer.name == "深圳市星辰科技有限公司"
    assert customer.owner == users["sales1"] and customer.source == lead.source
    contact = Contact.objects.get(customer=customer)
    assert (contact.name, contact.mobile, contact.title, contact.email, contact.is_primary) == (
        "王伟",
        "13800138000",
        "采购经理",
        "wang@example.com",
        True,
    )
    assert set(FollowUp.objects.values_list("customer_id", flat=True)) == {customer.pk}
    assert FollowUp.objects.filter(lead=lead).count() == 2  # the lead keeps its history link
    lead.refresh_from_db()
    assert lead.status == Lead.Status.CONVERTED
    assert lead.converted_customer == customer and lead.converted_by == users["sales1"]
    assert customer_services  # the customer create service made the customer (numbered)
    assert customer.code.startswith("KH")
    assert OperationLog.objects.filter(action="lead.converted", target_id=str(lead.pk)).count() == 1
    # converting again does nothing
    [again] = services.leads_convert(actor=users["sales1"], leads=Lead.objects.filter(pk=lead.pk))
    assert again.outcome == "skipped" and Customer.objects.count() == 1


def test_convert_under_forbid_is_refused_with_name_and_owner_only(users, make_lead):
    _policy(CustomerPolicy.DuplicateMode.FORBID)
    existing = customer_services.customer_create(
        actor=users["sales2"], values={"name": "深圳市星辰科技有限公司", "phone": "0755-12345678"}
    )
    lead = make_lead()
    [result] = services.leads_convert(actor=users["sales1"], leads=Lead.objects.filter(pk=lead.pk))
    assert result.outcome == "refused"
    assert "深圳市星辰科技有限公司" in result.message and str(users["sales2"].display_name) in result.message
    assert "0755-12345678" not in result.message
    assert Customer.objects.count() == 1 and Customer.objects.get() == existing
    assert Lead.objects.get(pk=lead.pk).status == Lead.Status.NEW


def test_convert_under_warn_needs_confirmation_or_link(users, make_lead, phone):
    _policy(CustomerPolicy.DuplicateMode.WARN)
    mine = customer_services.customer_create(actor=users["sales1"], values={"name": "深圳市星辰科技有限公司"})
    lead = make_lead()
    services.lead_followup_create(actor=users["sales1"], lead=lead, type=phone, content="沟通")
    [warned] = services.leads_convert(actor=users["sales1"], leads=Lead.objects.filter(pk=lead.pk))
    assert warned.outcome == "duplicate_warning"
    assert warned.matches == [
        {"customer_id": mine.pk, "name": mine.name, "owner": users["sales1"].display_name}
    ]
    assert Customer.objects.count() == 1 and Lead.objects.get(pk=lead.pk).status == Lead.Status.FOLLOWING

    [linked] = services.leads_convert(
        actor=users["sales1"], leads=Lead.objects.filter(pk=lead.pk), link={lead.pk: mine.pk}
    )
    assert linked.outcome == "linked" and linked.customer_id == mine.pk
    assert Customer.objects.count() == 1
    assert Contact.objects.filter(customer=mine, name="王伟").exists()
    assert FollowUp.objects.get().customer == mine
    assert Lead.objects.get(pk=lead.pk).converted_customer == mine


def test_convert_under_warn_with_confirmation_creates_a_second_customer(users, make_lead):
    customer_services.customer_create(actor=users["sales2"], values={"name": "深圳市星辰科技有限公司"})
    lead = make_lead()
    [result] = services.leads_convert(
        actor=users["sales1"], leads=Lead.objects.filter(pk=lead.pk), allow_duplicates=True
    )
    assert result.outcome == "created" and Customer.objects.count() == 2


def test_warn_hides_the_id_of_a_customer_the_user_may_not_see(users, make_lead):
    theirs = customer_services.customer_create(
        actor=users["sales2"], values={"name": "深圳市星辰科技有限公司"}
    )
    lead = make_lead()
    [warned] = services.leads_convert(actor=users["sales1"], leads=Lead.objects.filter(pk=lead.pk))
    assert warned.matches == [
        {"customer_id": None, "name": theirs.name, "owner": users["sales2"].display_name}
    ]
    [refused] = services.leads_convert(
        actor=users["sales1"], leads=Lead.objects.filter(pk=lead.pk), link={lead.pk: theirs.pk}
    )
    assert refused.outcome == "refused" and Lead.objects.get(pk=lead.pk).status == Lead.Status.NEW


def test_bulk_conversion_reports_per_lead(users, make_lead, phone):
    customer_services.customer_create(actor=users["sales1"], values={"name": "重复公司有限公司"})
    good = [make_lead(company=f"好公司{i}有限公司", mobile=f"1380013800{i}") for i in range(3)]
    dup = make_lead(company="重复公司有限公司", mobile="13900000000")
    invalid = make_lead(company="无效公司", mobile="13900000001")
    services.leads_mark_invalid(actor=users["sales1"], leads=Lead.objects.filter(pk=invalid.pk))
    for lead in good:
        services.lead_followup_create(actor=users["sales1"], lead=lead, type=phone, content="跟进")
    ids = [lead.pk for lead in [*good, dup, invalid]]
    results = services.leads_convert(actor=users["sales1"], leads=Lead.objects.filter(pk__in=ids))
    outcomes = {r.lead_id: r.outcome for r in results}
    assert [outcomes[g.pk] for g in good] == ["created"] * 3
    assert outcomes[dup.pk] == "duplicate_warning" and outcomes[invalid.pk] == "skipped"
    for lead in good:
        lead.refresh_from_db()
        assert lead.status == Lead.Status.CONVERTED
        assert FollowUp.objects.get(lead=lead).customer_id == lead.converted_customer_id
    assert OperationLog.objects.filter(action="lead.converted").count() == 3


def test_conversion_needs_customer_create(users, make_lead):
    lead = make_lead()
    from crm.accounts.models import Role

    role = Role.objects.create(
        code="leads_only", name="只管线索", data_scope="all", permissions=["leads.view", "leads.edit"]
    )
    users["norole"].roles.set([role])
    with pytest.raises(PermissionRequiredError):
        services.leads_convert(actor=users["norole"], leads=Lead.objects.filter(pk=lead.pk))
    assert not Customer.objects.exists()


def test_conversion_can_open_an_opportunity_on_each_customer(users, make_lead):
    from decimal import Decimal

    from crm.opportunities.demo import ensure_default_group
    from crm.opportunities.models import Opportunity

    ensure_default_group()
    first, second = make_lead(company="深圳星辰科技"), make_lead(company="广州博雅贸易")
    results = services.leads_convert(
        actor=users["sales1"],
        leads=Lead.objects.filter(pk__in=[first.pk, second.pk]),
        opportunity={"name": "", "expected_amount": Decimal("5000.00")},
    )
    assert all(r.ok and r.opportunity_id for r in results)
    opps = {o.customer.name: o for o in Opportunity.objects.select_related("customer", "stage")}
    assert set(opps) == {"深圳星辰科技", "广州博雅贸易"}
    assert opps["深圳星辰科技"].name == "深圳星辰科技"  # an empty name takes the company's
    assert opps["深圳星辰科技"].expected_amount == Decimal("5000.00")
    assert opps["深圳星辰科技"].stage.name == "初步接洽" and opps["深圳星辰科技"].owner == users["sales1"]


def test_conversion_with_an_opportunity_needs_its_permission_and_changes_nothing(users, make_lead):
    from crm.accounts.models import Role

    lead = make_lead()
    role = Role.objects.create(
        code="no_opps",
        name="无商机权限",
        data_scope="all",
        permissions=["leads.view", "leads.edit", "customers.view", "customers.create"],
    )
    users["norole"].roles.set([role])
    with pytest.raises(PermissionRequiredError):
        services.leads_convert(
            actor=users["norole"], leads=Lead.objects.filter(pk=lead.pk), opportunity={"name": "x"}
        )
    assert Lead.objects.get(pk=lead.pk).status == Lead.Status.NEW
    assert not Customer.objects.exists()


def test_conversion_without_a_stage_group_rolls_back(users, make_lead):
    lead = make_lead()
    with pytest.raises(ValidationError, match="阶段组"):
        services.leads_convert(
            actor=users["sales1"], leads=Lead.objects.filter(pk=lead.pk), opportunity={"name": "x"}
        )
    assert Lead.objects.get(pk=lead.pk).status == Lead.Status.NEW
    assert not Customer.objects.exists()


def test_delete_needs_permission_and_keeps_moved_followups(users, make_lead, phone):
    lead = make_lead()
    with pytest.raises(PermissionRequiredError):
        services.leads_delete(actor=users["sales1"], leads=Lead.objects.filter(pk=lead.pk))
    services.lead_followup_create(actor=users["sales1"], lead=lead, type=phone, content="跟进")
    services.leads_convert(actor=users["sales1"], leads=Lead.objects.filter(pk=lead.pk))
    other = make_lead(company="另一家")
    services.lead_followup_create(actor=users["sales1"], lead=other, type=phone, content="跟进")
    assert services.leads_delete(actor=users["manager"], leads=Lead.objects.all()) == 2
    assert not Lead.objects.exists()
    kept = FollowUp.objects.get()
    assert kept.customer_id is not None and kept.lead_id is None
