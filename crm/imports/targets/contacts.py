"""Import contacts (SYS-3), each linked by 客户名称 to a customer the importer may edit.

Cells go through the contact form's own fields; a duplicate is a contact of the same customer with
the same mobile (or, without a mobile, the same name), in the database or earlier in the file.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.access import field_policy
from crm.access import policy as access_policy
from crm.audit.services import diff, log_actions_bulk
from crm.customers.duplicates import normalise_company_name
from crm.customers.forms import ContactForm
from crm.customers.models import Contact, Customer
from crm.customers.selectors import can_edit_customer, customers_visible
from crm.customers.services import CONTACT_FIELDS
from crm.imports.targets import register
from crm.imports.targets.base import Dedupe, ImportContext, ImportField, ImportTarget, RowOutcome
from crm.imports.targets.common import clean_with, first_message

CUSTOMER_KEY = "customer"
ENGLISH = {
    "name": "Name",
    "title": "Title",
    "department": "Department",
    "mobile": "Mobile",
    "phone": "Phone",
    "email": "Email",
    "qq": "QQ",
    "wechat": "WeChat",
    "birthday": "Birthday",
    "hometown": "Hometown",
    "is_primary": "Primary",
    "remark": "Remark",
}
HELP = {
    "birthday": gettext_lazy("格式如 1990-01-31"),
    "is_primary": gettext_lazy("填“是”设为该客户的首要联系人"),
}
EXTRA_ALIASES = {"is_primary": ("首要联系人",), "name": ("联系人",)}
TRUE_TEXTS = {"是", "true", "1", "yes", "y", "√"}
FALSE_TEXTS = {"否", "false", "0", "no", "n", ""}


class ContactImportTarget(ImportTarget):
    key = "contacts"
    label = gettext_lazy("联系人")
    permission = "contacts.import"
    dedupe_help = gettext_lazy(
        "同一客户下手机相同（没有手机时姓名相同）的联系人算重复，文件中前面已出现过的也算重复。"
    )
    dedupe_modes = (Dedupe.SKIP, Dedupe.UPDATE, Dedupe.CREATE)

    def fields(self, user) -> list[ImportField]:
        form = ContactForm(user=user)
        result = [
            ImportField(
                key=CUSTOMER_KEY,
                label=gettext_lazy("客户名称"),
                required=True,
                aliases=("Customer", "客户"),
                help=gettext_lazy("已有客户的名称（您能修改的客户）"),
                example="深圳市示例科技有限公司",
            )
        ]
        for name, field in form.fields.items():
            result.append(
                ImportField(
                    key=name,
                    label=field.label,
                    required=field.required,
                    aliases=(ENGLISH.get(name, name), f"联系人{field.label}", *EXTRA_ALIASES.get(name, ())),
                    help=HELP.get(name, ""),
                    example={"name": "张三", "mobile": "13800138000"}.get(name, ""),
                )
            )
        return result

    def start(self, user, options: dict[str, Any]) -> ImportContext:
        ctx = super().start(user, options)
        ctx.extra.update(
            form_fields=ContactForm(user=user).fields,
            customers={},  # name → (customer or None, error)
            can_edit=access_policy.can(user, "contacts.edit"),
        )
        return ctx

    def _customer(self, ctx: ImportContext, name: str) -> tuple[Customer | None, str]:
        cache = ctx.extra["customers"]
        if name in cache:
            return cache[name]
        visible = customers_visible(ctx.user)
        found = list(visible.filter(name=name)[:2])
        if not found:
            key = normalise_company_name(name)
            found = list(visible.filter(name_key=key)[:2]) if key else []
        if not found:
            answer = (None, _("找不到客户“%(name)s”（或您看不到它）。") % {"name": name})
        elif len(found) > 1:
            answer = (None, _("有多个名为“%(name)s”的客户，请写完整的客户名称。") % {"name": name})
        elif not can_edit_customer(ctx.user, found[0]):
            answer = (None, _("您不能给客户“%(name)s”添加联系人。") % {"name": name})
        else:
            answer = (found[0], "")
        cache[name] = answer
        return answer

    def check(self, ctx: ImportContext, row_number: int, values: dict[str, str]) -> RowOutcome:
        out = RowOutcome(row_number=row_number)
        form_fields = ctx.extra["form_fields"]
        data: dict[str, Any] = {}
        customer = None
        raw_customer = (values.get(CUSTOMER_KEY) or "").strip()
        if not raw_customer:
            out.error(CUSTOMER_KEY, _("请填写客户名称。"))
        else:
            customer, message = self._customer(ctx, raw_customer)
            if customer is None:
                out.error(CUSTOMER_KEY, message)
        for name in CONTACT_FIELDS:
            raw = (values.get(name) or "").strip()
            if name not in form_fields:
                if raw:
                    out.error(name, field_policy.refused_message("contacts", name))
                continue
            if name == "is_primary":
                if raw.lower() not in TRUE_TEXTS | FALSE_TEXTS:
                    out.error(name, _("请填写“是”或“否”。"))
                data[name] = raw.lower() in TRUE_TEXTS
                continue
            try:
                value = clean_with(form_fields[name], raw)
            except ValidationError as exc:
                out.error(name, first_message(exc))
                continue
            data[name] = "" if value is None and name != "birthday" else value
        try:  # field permissions (ORG-8): read-only fields may not be filled in
            field_policy.check_writable(
                ctx.user, "contacts", {k: v for k, v in data.items() if v not in (None, "", False)}
            )
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                out.error(field, messages[0])
        if out.errors:
            return out
        out.data = {"values": data, "customer": customer}
        # Duplicates: same customer and same mobile (or name without a mobile).
        key = (
            (customer.pk, "mobile", data["mobile"])
            if data.get("mobile")
            else (customer.pk, "name", data["name"])
        )
        earlier = ctx.seen.get(key)
        ctx.seen.setdefault(key, row_number)
        existing = Contact.objects.filter(customer=customer)
        existing = existing.filter(Q(mobile=data["mobile"]) if data.get("mobile") else Q(name=data["name"]))
        match = existing.order_by("pk").first()
        if match is None and earlier is None:
            return out
        if ctx.dedupe == Dedupe.CREATE:
            return out
        if ctx.dedupe == Dedupe.UPDATE and match is not None and earlier is None:
            out.action = "update"
            out.existing_id = match.pk
            return out
        out.action = "skip"
        return out

    def create_rows(self, ctx: ImportContext, outcomes: list[RowOutcome]) -> None:
        actor = ctx.user
        customer_ids = {o.data["customer"].pk for o in outcomes}
        with_contacts = set(
            Contact.objects.filter(customer_id__in=customer_ids)
            .values_list("customer_id", flat=True)
            .distinct()
        )
        # The primary contact per customer: the last row marked 首要联系人, else the first row of a
        # customer that has no contact yet (as contact_create does).
        primary_row: dict[int, int] = {}
        for index, outcome in enumerate(outcomes):
            if outcome.data["values"].get("is_primary"):
                primary_row[outcome.data["customer"].pk] = index
        for index, outcome in enumerate(outcomes):
            customer_id = outcome.data["customer"].pk
            if customer_id not in with_contacts and customer_id not in primary_row:
                primary_row[customer_id] = index
        demoted = [cid for cid in primary_row if cid in with_contacts]
        if demoted:
            Contact.objects.filter(customer_id__in=demoted, is_primary=True).update(is_primary=False)
        contacts = []
        for index, outcome in enumerate(outcomes):
            values = dict(outcome.data["values"])
            values["is_primary"] = primary_row.get(outcome.data["customer"].pk) == index
            contacts.append(Contact(customer=outcome.data["customer"], created_by=actor, **values))
        Contact.objects.bulk_create(contacts, batch_size=500)
        log_actions_bulk(
            actor=actor,
            action="contact.created",
            targets=contacts,
            changes_by_target={
                c.pk: diff({}, {"customer": c.customer} | {f: getattr(c, f) for f in CONTACT_FIELDS})
                for c in contacts
            },
            message=str(_("导入")),
        )

    def update_rows(self, ctx: ImportContext, outcomes: list[RowOutcome]) -> None:
        by_pk = Contact.objects.select_for_update().in_bulk([o.existing_id for o in outcomes])
        changed, changes_by_target, touched = [], {}, {"updated_at"}
        for outcome in outcomes:
            contact = by_pk.get(outcome.existing_id)
            if contact is None:
                raise ValidationError(
                    _("第 %(row)s 行要更新的联系人已不存在。") % {"row": outcome.row_number}
                )
            old = {f: getattr(contact, f) for f in CONTACT_FIELDS}
            for field, value in outcome.data["values"].items():
                if field != "is_primary" and value not in (None, ""):
                    setattr(contact, field, value)
                    touched.add(field)
            changes = diff(old, {f: getattr(contact, f) for f in CONTACT_FIELDS})
            if changes:
                changed.append(contact)
                changes_by_target[contact.pk] = changes
        if changed:
            from django.utils import timezone

            for contact in changed:
                contact.updated_at = timezone.now()
            Contact.objects.bulk_update(changed, sorted(touched), batch_size=500)
            log_actions_bulk(
                actor=ctx.user,
                action="contact.updated",
                targets=changed,
                changes_by_target=changes_by_target,
                message=str(_("导入")),
            )


register(ContactImportTarget())
