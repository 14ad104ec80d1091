"""Import leads (SYS-3): the lead form's fields and the lead service's checks, owner by name.

A duplicate is a lead the importer can see with the same mobile, or the same company name when
the row has no mobile, in the database or earlier in the file.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.access import policy as access_policy
from crm.audit.services import diff, log_actions_bulk
from crm.customers.services import NUMBER_PREFIXES
from crm.imports.targets import register
from crm.imports.targets.base import Dedupe, ImportContext, ImportField, ImportTarget, RowOutcome
from crm.imports.targets.common import (
    OWNER_KEY,
    clean_with,
    dictionary_value,
    first_message,
    load_assignable_users,
    load_dictionaries,
    owner_value,
    reserve_numbers,
)
from crm.leads import services as lead_services
from crm.leads.forms import LeadForm
from crm.leads.models import Lead

ENGLISH = {
    "company": "Company",
    "contact_name": "Contact name",
    "title": "Title",
    "mobile": "Mobile",
    "phone": "Phone",
    "email": "Email",
    "wechat": "WeChat",
    "source": "Source",
    "industry": "Industry",
    "region": "Region",
    "address": "Address",
    "next_contact_at": "Next contact",
    "remark": "Remark",
    OWNER_KEY: "Owner",
}
HELP = {
    "next_contact_at": gettext_lazy("格式如 2026-01-31 09:30"),
    OWNER_KEY: gettext_lazy("员工姓名或用户名，默认为导入人"),
}


class LeadImportTarget(ImportTarget):
    key = "leads"
    label = gettext_lazy("线索")
    permission = "leads.import"
    dedupe_help = gettext_lazy(
        "您能看到的线索中手机相同（没有手机时公司名称相同）的算重复，文件中前面已出现过的也算重复。"
    )
    dedupe_modes = (Dedupe.SKIP, Dedupe.UPDATE, Dedupe.CREATE)

    def fields(self, user) -> list[ImportField]:
        form = LeadForm()
        result = [
            ImportField(
                key=name,
                label=field.label,
                required=field.required,
                aliases=(ENGLISH.get(name, name),),
                help=HELP.get(name, ""),
                example={"company": "深圳市示例科技有限公司", "mobile": "13800138000"}.get(name, ""),
            )
            for name, field in form.fields.items()
        ]
        result.append(
            ImportField(key=OWNER_KEY, label=gettext_lazy("负责人"), aliases=("Owner",), help=HELP[OWNER_KEY])
        )
        return result

    def start(self, user, options: dict[str, Any]) -> ImportContext:
        ctx = super().start(user, options)
        ctx.extra.update(
            form_fields=LeadForm().fields,
            dictionaries=load_dictionaries(lead_services.DICTIONARY_FIELDS),
            users=load_assignable_users(user),
        )
        return ctx

    def check(self, ctx: ImportContext, row_number: int, values: dict[str, str]) -> RowOutcome:
        out = RowOutcome(row_number=row_number)
        form_fields = ctx.extra["form_fields"]
        data: dict[str, Any] = {}
        for name, field in form_fields.items():
            raw = (values.get(name) or "").strip()
            if name in lead_services.DICTIONARY_FIELDS:
                data[name] = None
                if raw:
                    try:
                        data[name] = dictionary_value(ctx.extra["dictionaries"][name], raw, str(field.label))
                    except ValidationError as exc:
                        out.error(name, first_message(exc))
                continue
            try:
                data[name] = clean_with(field, raw)
            except ValidationError as exc:
                out.error(name, first_message(exc))
        owner = ctx.user
        raw_owner = (values.get(OWNER_KEY) or "").strip()
        if raw_owner:
            try:
                owner = owner_value(ctx.extra["users"], raw_owner)
            except ValidationError as exc:
                out.error(OWNER_KEY, first_message(exc))
        if out.errors:
            return out
        try:
            cleaned = lead_services._check_values(data)
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                out.error(key, messages[0])
            return out
        cleaned["next_contact_at"] = data.get("next_contact_at")
        out.data = {"values": cleaned, "owner": owner}
        # Duplicates.
        key = ("mobile", cleaned["mobile"]) if cleaned["mobile"] else ("company", cleaned["company"])
        earlier = ctx.seen.get(key)
        ctx.seen.setdefault(key, row_number)
        visible = access_policy.visible(ctx.user, Lead.objects.all())
        match = visible.filter(**{key[0]: key[1]}).order_by("pk").first()
        if match is None and earlier is None:
            return out
        if ctx.dedupe == Dedupe.CREATE:
            return out
        if ctx.dedupe == Dedupe.UPDATE and match is not None and earlier is None:
            if match.status == Lead.Status.CONVERTED:
                out.error("company", _("已转化的线索不能再修改。"))
                return out
            out.action = "update"
            out.existing_id = match.pk
            return out
        out.action = "skip"
        return out

    def create_rows(self, ctx: ImportContext, outcomes: list[RowOutcome]) -> None:
        actor = ctx.user
        codes = reserve_numbers("lead", len(outcomes), NUMBER_PREFIXES.get("lead", "LEAD"))
        leads = []
        now = timezone.now()
        for outcome, code in zip(outcomes, codes, strict=True):
            owner = outcome.data["owner"]
            lead = Lead(
                **outcome.data["values"],
                owner=owner,
                department_id=owner.department_id,
                created_by=actor,
                code=code,
                created_at=now,
            )
            leads.append(lead)
        Lead.objects.bulk_create(leads, batch_size=500)
        log_actions_bulk(
            actor=actor,
            action="lead.created",
            targets=leads,
            changes_by_target={lead.pk: diff({}, lead_services._snapshot(lead)) for lead in leads},
            message=str(_("导入")),
        )

    def update_rows(self, ctx: ImportContext, outcomes: list[RowOutcome]) -> None:
        actor = ctx.user
        by_pk = Lead.objects.select_for_update().in_bulk([o.existing_id for o in outcomes])
        changed, changes_by_target, touched = [], {}, {"updated_at"}
        for outcome in outcomes:
            lead = by_pk.get(outcome.existing_id)
            if lead is None:
                raise ValidationError(_("第 %(row)s 行要更新的线索已不存在。") % {"row": outcome.row_number})
            old = lead_services._snapshot(lead)
            for field, value in outcome.data["values"].items():
                if value not in (None, ""):
                    setattr(lead, field, value)
                    touched.add(field)
            changes = diff(old, lead_services._snapshot(lead))
            if changes:
                lead.updated_at = timezone.now()
                changed.append(lead)
                changes_by_target[lead.pk] = changes
        if changed:
            Lead.objects.bulk_update(changed, sorted(touched), batch_size=500)
            log_actions_bulk(
                actor=actor,
                action="lead.updated",
                targets=changed,
                changes_by_target=changes_by_target,
                message=str(_("导入")),
            )


register(LeadImportTarget())
