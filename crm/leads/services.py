"""Every write to leads (LEAD-1). One function per business action, atomic, permission-checked, logged.

Transfer, mark-invalid and delete are set-based: one UPDATE (or DELETE) for N leads and one INSERT of
N log rows. Conversion creates each customer through `crm.customers.services.customer_create`, so
numbering, the entry policy and the duplicate control (CUS-7/8) apply exactly as on the customer
form; the follow-ups of all converted leads then move to their customers in one UPDATE.
"""

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Case, DateTimeField, F, IntegerField, QuerySet, Value, When
from django.db.models.functions import Coalesce, Greatest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.access import policy
from crm.access.policy import PermissionRequiredError
from crm.accounts.models import User
from crm.activities.models import FollowUp
from crm.activities.services import _clean as followup_clean
from crm.audit.services import diff, log_action, log_actions_bulk
from crm.customers import services as customer_services
from crm.customers.duplicates import duplicates_find
from crm.customers.forms import MOBILE_RE, PHONE_RE
from crm.customers.models import Customer, DictionaryItem
from crm.customers.selectors import can_edit_customer, customers_visible
from crm.leads.models import Lead
from crm.leads.selectors import lead_export_rows
from crm.messaging.services import reminder_create

EDITABLE_FIELDS = (
    "company",
    "contact_name",
    "title",
    "mobile",
    "phone",
    "email",
    "wechat",
    "source",
    "industry",
    "region",
    "address",
    "remark",
    "next_contact_at",
)
DICTIONARY_FIELDS = {
    "source": DictionaryItem.Kind.SOURCE,
    "industry": DictionaryItem.Kind.INDUSTRY,
    "region": DictionaryItem.Kind.REGION,
}
MAX_LENGTHS = {"company": 200, "contact_name": 64, "title": 64, "wechat": 64, "address": 255, "remark": 5000}


def _require(actor, permission: str) -> None:
    if not policy.can(actor, permission):
        raise PermissionRequiredError(permission)


def _check_values(values: dict[str, Any], previous: dict[str, Any] | None = None) -> dict[str, Any]:
    """Formats as on the customer form (same regular expressions), dictionaries of the right kind."""
    errors: dict[str, str] = {}
    cleaned = {k: v for k, v in values.items() if k in EDITABLE_FIELDS}
    for key in (
        "company",
        "contact_name",
        "title",
        "mobile",
        "phone",
        "email",
        "wechat",
        "address",
        "remark",
    ):
        cleaned[key] = str(cleaned.get(key) or "").strip()
    if not cleaned["company"]:
        errors["company"] = _("请填写公司名称。")
    for key, limit in MAX_LENGTHS.items():
        if key not in errors and len(cleaned[key]) > limit:
            errors[key] = _("%(field)s不能超过 %(max)s 个字符。") % {
                "field": Lead._meta.get_field(key).verbose_name,
                "max": limit,
            }
    if cleaned["mobile"] and not re.match(MOBILE_RE, cleaned["mobile"]):
        errors["mobile"] = _("请输入有效的 11 位手机号码。")
    if cleaned["phone"] and not re.match(PHONE_RE, cleaned["phone"]):
        errors["phone"] = _("请输入有效的电话号码（数字、空格、+、- 和括号）。")
    if cleaned["email"]:
        try:
            validate_email(cleaned["email"])
        except ValidationError:
            errors["email"] = _("请输入有效的邮箱地址。")
    for key, kind in DICTIONARY_FIELDS.items():
        item = cleaned.get(key)
        unchanged = previous is not None and previous.get(key) == item
        if item is not None and (item.kind != kind or (not item.is_active and not unchanged)):
            errors[key] = _("“%(value)s”不是有效的%(field)s。") % {
                "value": item,
                "field": Lead._meta.get_field(key).verbose_name,
            }
    if errors:
        raise ValidationError(errors)
    return cleaned


def _snapshot(lead: Lead) -> dict[str, Any]:
    return {key: getattr(lead, key) for key in EDITABLE_FIELDS} | {"owner": lead.owner, "status": lead.status}


def _check_owner(actor, owner: User) -> None:
    if not owner.is_active:
        raise ValidationError({"owner": _("不能把线索分配给已停用的员工。")})
    if owner.pk != actor.pk and not policy.visible_users(actor).filter(pk=owner.pk).exists():
        raise ValidationError({"owner": _("只能把线索分配给您的数据范围内的员工。")})


@transaction.atomic
def lead_create(*, actor, values: dict[str, Any], owner: User | None = None, ip: str | None = None) -> Lead:
    """A new lead owned by `owner` (default: the actor), numbered by the "lead" numbering rule."""
    _require(actor, "leads.create")
    cleaned = _check_values(values)
    owner = owner or actor
    _check_owner(actor, owner)
    lead = Lead(**cleaned, owner=owner, department_id=owner.department_id, created_by=actor)
    lead.code = customer_services.number_next(key="lead")
    lead.save()
    log_action(
        actor=actor, action="lead.created", target=lead, changes=diff({}, _snapshot(lead)), ip_address=ip
    )
    return lead


@transaction.atomic
def lead_update(*, actor, lead: Lead, values: dict[str, Any], ip: str | None = None) -> Lead:
    _require(actor, "leads.edit")
    lead = policy.get_visible_or_404(actor, Lead.objects.select_for_update(), pk=lead.pk)
    if lead.status == Lead.Status.CONVERTED:
        raise ValidationError(_("已转化的线索不能再修改。"))
    old = _snapshot(lead)
    cleaned = _check_values({k: v for k, v in old.items() if k in EDITABLE_FIELDS} | values, previous=old)
    for key, value in cleaned.items():
        setattr(lead, key, value)
    lead.save()
    changes = diff(old, _snapshot(lead))
    if changes:
        log_action(actor=actor, action="lead.updated", target=lead, changes=changes, ip_address=ip)
    return lead


def _locked(actor, leads: QuerySet[Lead]) -> list[Lead]:
    """The leads in the actor's scope, locked, in id order (one query)."""
    scoped = policy.visible(actor, leads)
    return list(scoped.select_for_update(of=("self",)).select_related("owner").order_by("pk"))


@transaction.atomic
def leads_transfer(*, actor, leads: QuerySet[Lead], to_user: User, ip: str | None = None) -> int:
    """Give leads to `to_user`: one UPDATE, one log row per lead (old → new owner)."""
    _require(actor, "leads.transfer")
    if not to_user.is_active:
        raise ValidationError(_("不能把线索转移给已停用的员工。"))
    rows = [lead for lead in _locked(actor, leads) if lead.owner_id != to_user.pk]
    if not rows:
        return 0
    Lead.objects.filter(pk__in=[lead.pk for lead in rows]).update(
        owner=to_user, department_id=to_user.department_id, updated_at=timezone.now()
    )
    log_actions_bulk(
        actor=actor,
        action="lead.transferred",
        targets=rows,
        changes_by_target={lead.pk: {"owner": [str(lead.owner), str(to_user)]} for lead in rows},
        ip_address=ip,
    )
    return len(rows)


@transaction.atomic
def leads_mark_invalid(*, actor, leads: QuerySet[Lead], reason: str = "", ip: str | None = None) -> int:
    """Mark open leads 无效 (converted ones stay converted)."""
    _require(actor, "leads.edit")
    rows = [lead for lead in _locked(actor, leads) if not lead.is_closed]
    Lead.objects.filter(pk__in=[lead.pk for lead in rows]).update(
        status=Lead.Status.INVALID, updated_at=timezone.now()
    )
    log_actions_bulk(
        actor=actor,
        action="lead.invalidated",
        targets=rows,
        changes_by_target={
            lead.pk: {"status": [lead.get_status_display(), str(Lead.Status.INVALID.label)]} for lead in rows
        },
        message=reason,
        ip_address=ip,
    )
    return len(rows)


@transaction.atomic
def leads_delete(*, actor, leads: QuerySet[Lead], ip: str | None = None) -> int:
    """Delete leads for good with their own follow-ups; follow-ups already moved to a customer stay."""
    _require(actor, "leads.delete")
    rows = _locked(actor, leads)
    ids = [lead.pk for lead in rows]
    log_actions_bulk(actor=actor, action="lead.deleted", targets=rows, ip_address=ip)
    FollowUp.objects.filter(lead_id__in=ids, customer__isnull=True).delete()
    Lead.objects.filter(pk__in=ids).delete()
    return len(rows)


# ---------------------------------------------------------------- follow-ups on a lead


@transaction.atomic
def lead_followup_create(
    *,
    actor,
    lead: Lead,
    type: DictionaryItem | None,
    content: str,
    followed_at: datetime | None = None,
    next_contact_at: datetime | None = None,
    next_action: str = "",
    ip: str | None = None,
) -> FollowUp:
    """A follow-up (the same FollowUp as customers', same rules) on a lead the actor may see; the
    lead's latest follow-up and next contact times move with it, and a new lead becomes 跟进中."""
    _require(actor, "activities.create")
    lead = policy.get_visible_or_404(actor, Lead.objects.select_for_update(), pk=lead.pk)
    if lead.status == Lead.Status.CONVERTED:
        raise ValidationError(_("线索已转化，请在客户上记录跟进。"))
    now = timezone.now()
    followed_at = followed_at or now
    content = followup_clean(
        customer=None,
        contact=None,
        type=type,
        content=content,
        followed_at=followed_at,
        next_contact_at=next_contact_at,
        next_action=next_action or "",
        now=now,
    )
    followup = FollowUp.objects.create(
        lead=lead,
        author=actor,
        type=type,
        content=content,
        followed_at=followed_at,
        next_contact_at=next_contact_at,
        next_action=next_action or "",
        created_at=now,
    )
    if next_contact_at is not None:
        followup.reminder = reminder_create(
            owner=actor,
            title=(_("联系线索：%(lead)s") % {"lead": lead.company})[:200],
            remind_at=next_contact_at,
            note=content[:200],
            url=reverse("leads:detail", args=[lead.pk]),
        )
        followup.save(update_fields=["reminder"])
    updates: dict[str, Any] = {
        "last_followup_at": Greatest(Coalesce(F("last_followup_at"), Value(followed_at)), Value(followed_at)),
        "updated_at": now,
    }
    if next_contact_at is not None:
        updates["next_contact_at"] = next_contact_at
    if lead.status == Lead.Status.NEW:
        updates["status"] = Lead.Status.FOLLOWING
    Lead.objects.filter(pk=lead.pk).update(**updates)
    log_action(
        actor=actor,
        action="followup.created",
        target=followup,
        changes={
            "lead": lead.company,
            "type": type,
            "content": content[:200],
            "next_contact_at": next_contact_at,
        },
        ip_address=ip,
    )
    return followup


# ---------------------------------------------------------------- conversion


class Outcome:
    CREATED = "created"  # a new customer and its primary contact
    LINKED = "linked"  # linked to an existing customer the user chose
    DUPLICATE_WARNING = "duplicate_warning"  # 重名提示: confirm (allow_duplicates) or link
    REFUSED = "refused"  # 重名禁止录入, or another rule of the customer entry policy
    SKIPPED = "skipped"  # already converted, invalid, or not found


@dataclass
class ConversionResult:
    lead_id: int
    outcome: str
    message: str = ""
    customer_id: int | None = None
    opportunity_id: int | None = None
    # Similar customers (name and owner only; the id only when the user may see the customer).
    matches: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.outcome in (Outcome.CREATED, Outcome.LINKED)


def _messages(exc: ValidationError) -> str:
    return " ".join(str(m) for m in exc.messages)


def _matches(actor, lead: Lead) -> list[dict[str, Any]]:
    found, protected = duplicates_find(values={"name": lead.company}, contacts=_contacts(lead))
    ids = [m.customer_id for m in found + protected]
    seen = set(customers_visible(actor, include_pool=True).filter(pk__in=ids).values_list("pk", flat=True))
    return [
        {
            "customer_id": m.customer_id if m.customer_id in seen else None,
            "name": m.name,
            "owner": m.owner_name,
        }
        for m in found + protected
    ]


def _contacts(lead: Lead) -> list[dict[str, Any]]:
    if not lead.contact_name:
        return []
    return [
        {
            "name": lead.contact_name,
            "mobile": lead.mobile,
            "phone": lead.phone,
            "email": lead.email,
            "title": lead.title,
            "wechat": lead.wechat,
        }
    ]


def _convert_one(
    *, actor, lead: Lead, allow_duplicates: bool, link_customer_id: int | None, ip: str | None
) -> ConversionResult:
    if lead.status == Lead.Status.CONVERTED:
        return ConversionResult(lead.pk, Outcome.SKIPPED, _("线索已转化。"), lead.converted_customer_id)
    if lead.status == Lead.Status.INVALID:
        return ConversionResult(lead.pk, Outcome.SKIPPED, _("无效线索不能转化。"))
    if link_customer_id is not None:
        customer = customers_visible(actor, include_pool=True).filter(pk=link_customer_id).first()
        if customer is None:
            return ConversionResult(lead.pk, Outcome.REFUSED, _("要关联的客户不存在或您无权查看。"))
        if lead.contact_name and can_edit_customer(actor, customer):
            customer_services.contact_create(actor=actor, customer=customer, values=_contacts(lead)[0], ip=ip)
        return ConversionResult(
            lead.pk, Outcome.LINKED, _("已关联到现有客户“%(name)s”。") % {"name": customer.name}, customer.pk
        )
    values = {
        "name": lead.company,
        "source": lead.source,
        "industry": lead.industry,
        "region": lead.region,
        "address": lead.address,
        "remark": lead.remark,
        "next_contact_at": lead.next_contact_at,
    }
    try:
        with transaction.atomic():
            customer = customer_services.customer_create(
                actor=actor,
                values=values,
                owner=lead.owner if lead.owner.is_active else actor,
                contacts=_contacts(lead),
                allow_duplicates=allow_duplicates,
                ip=ip,
            )
    except ValidationError as exc:
        if getattr(exc, "code", None) == "duplicate_warning":
            return ConversionResult(
                lead.pk, Outcome.DUPLICATE_WARNING, _messages(exc), matches=_matches(actor, lead)
            )
        if getattr(exc, "code", None) == "duplicate":
            return ConversionResult(lead.pk, Outcome.REFUSED, _messages(exc))
        return ConversionResult(lead.pk, Outcome.REFUSED, _messages(exc))
    return ConversionResult(
        lead.pk, Outcome.CREATED, _("已转化为客户“%(name)s”。") % {"name": customer.name}, customer.pk
    )


@transaction.atomic
def leads_convert(
    *,
    actor,
    leads: QuerySet[Lead],
    allow_duplicates: bool = False,
    link: dict[int, int] | None = None,
    opportunity: dict[str, Any] | None = None,
    ip: str | None = None,
) -> list[ConversionResult]:
    """Convert leads into customers (each with its contact as the primary contact), one result per
    lead in id order. Leads out of the actor's scope are not touched (the caller reports them).

    `allow_duplicates`: the user confirmed the 重名提示 warning. `link` ({lead id: customer id}):
    link those leads to an existing customer the user may see, instead of creating one.
    `opportunity` ({"name": …, "expected_amount": …}): also open an opportunity (default stage
    group, first stage, the actor as owner) on each converted lead's customer; an empty name takes
    the lead's company name. Refused up front without opportunities.create.

    Set-based where the work is per set: every converted lead is marked in one UPDATE, their
    follow-ups move to their customers in one UPDATE, and one INSERT writes a log row per lead.
    Each customer is created by customer_create (numbering and duplicate control per customer)."""
    _require(actor, "leads.edit")
    _require(actor, "customers.create")
    if opportunity is not None:
        _require(actor, "opportunities.create")
    link = link or {}
    results = [
        _convert_one(
            actor=actor,
            lead=lead,
            allow_duplicates=allow_duplicates,
            link_customer_id=link.get(lead.pk),
            ip=ip,
        )
        for lead in _locked(actor, leads)
    ]
    done = {r.lead_id: r.customer_id for r in results if r.ok}
    if done:
        _mark_converted(actor=actor, customer_of=done, ip=ip)
        if opportunity is not None:
            _open_opportunities(actor=actor, results=results, values=opportunity, ip=ip)
    return results


def _open_opportunities(*, actor, results: list[ConversionResult], values: dict[str, Any], ip) -> None:
    from crm.opportunities.services import opportunity_create

    companies = dict(Lead.objects.filter(pk__in=[r.lead_id for r in results]).values_list("pk", "company"))
    customers = Customer.objects.in_bulk([r.customer_id for r in results if r.ok])
    for result in results:
        if not result.ok:
            continue
        opp = opportunity_create(
            actor=actor,
            values={
                "name": (values.get("name") or "").strip() or companies[result.lead_id],
                "customer": customers[result.customer_id],
                "expected_amount": values.get("expected_amount") or 0,
            },
            ip=ip,
        )
        result.opportunity_id = opp.pk


def _mark_converted(*, actor, customer_of: dict[int, int], ip: str | None) -> None:
    now = timezone.now()
    ids = sorted(customer_of)
    customer_case = Case(
        *[When(lead_id=lead_id, then=Value(cid)) for lead_id, cid in customer_of.items()],
        output_field=IntegerField(),
    )
    # The history moves with the lead: one UPDATE for every follow-up of every converted lead.
    FollowUp.objects.filter(lead_id__in=ids, customer__isnull=True).update(customer_id=customer_case)
    Lead.objects.filter(pk__in=ids).update(
        status=Lead.Status.CONVERTED,
        converted_at=now,
        converted_by=actor,
        converted_customer_id=Case(
            *[When(pk=lead_id, then=Value(cid)) for lead_id, cid in customer_of.items()],
            output_field=IntegerField(),
        ),
        updated_at=now,
    )
    rows = list(Lead.objects.filter(pk__in=ids).select_related("converted_customer").order_by("pk"))
    # The customers' latest follow-up time moves forward to the lead's (one UPDATE).
    latest = {lead.converted_customer_id: lead.last_followup_at for lead in rows if lead.last_followup_at}
    if latest:
        lead_time = Case(
            *[When(pk=cid, then=Value(when)) for cid, when in latest.items()], output_field=DateTimeField()
        )
        Customer.objects.filter(pk__in=list(latest)).update(
            last_followup_at=Greatest(Coalesce(F("last_followup_at"), lead_time), lead_time)
        )
    log_actions_bulk(
        actor=actor,
        action="lead.converted",
        targets=rows,
        changes_by_target={
            lead.pk: {
                "status": [None, str(Lead.Status.CONVERTED.label)],
                "customer": [None, str(lead.converted_customer)],
            }
            for lead in rows
        },
        ip_address=ip,
    )


def lead_convert(
    *,
    actor,
    lead: Lead,
    allow_duplicates: bool = False,
    link_customer_id: int | None = None,
    opportunity: dict[str, Any] | None = None,
    ip: str | None = None,
) -> ConversionResult:
    """Convert one lead (the detail page); 404 when the actor may not see it."""
    lead = policy.get_visible_or_404(actor, Lead.objects.all(), pk=lead.pk)
    link = {lead.pk: link_customer_id} if link_customer_id is not None else None
    return leads_convert(
        actor=actor,
        leads=Lead.objects.filter(pk=lead.pk),
        allow_duplicates=allow_duplicates,
        link=link,
        opportunity=opportunity,
        ip=ip,
    )[0]


def leads_export(*, actor, leads: QuerySet[Lead], ip: str | None = None):
    """Headers and rows of the given leads (callers pass only leads the actor may see); logged
    with the count. The spreadsheet writer neutralises formula-like cells."""
    _require(actor, "leads.export")
    log_action(actor=actor, action="lead.exported", changes={"count": [None, leads.count()]}, ip_address=ip)
    return lead_export_rows(leads)
