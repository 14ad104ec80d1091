"""Import customers (SYS-3), with an optional first contact per row.

Every cell goes through the customer form's own fields (formats, lengths), dictionaries must name an
active item, custom fields go through `clean_custom_values` (the rule shared with the form and the
API), then the entry policy and duplicate control of the customer service apply (CUS-7/8),
including duplicates inside the file. Rows are written set-based: one bulk INSERT of customers
(codes reserved in one UPDATE of the numbering sequence), one of contacts and one of log rows per
batch, with the same search columns `customer_create` fills.
"""

from __future__ import annotations

import functools
import unicodedata
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.access import field_policy
from crm.access import policy as access_policy
from crm.audit.services import diff, log_actions_bulk
from crm.customers import services as customer_services
from crm.customers.duplicates import (
    _substrings,
    _website_variants,
    duplicates_find,
    entry_policy_check,
    normalise_company_name,
)
from crm.customers.forms import ContactForm, CustomerForm
from crm.customers.models import Contact, Customer, CustomerPolicy
from crm.customers.services import DICTIONARY_FIELDS, EDITABLE_FIELDS, NUMBER_PREFIXES
from crm.customers.text import is_valid_credit_code
from crm.customfields.services import clean_custom_values, custom_changes
from crm.imports.targets import register
from crm.imports.targets.base import Dedupe, ImportContext, ImportField, ImportTarget, RowOutcome
from crm.imports.targets.common import (
    OWNER_KEY,
    clean_with,
    custom_import_fields,
    custom_raw_values,
    dictionary_value,
    first_message,
    load_assignable_users,
    load_dictionaries,
    owner_value,
    reserve_numbers,
)

# English labels accepted as headers (the form's own Chinese label is the main one).
ENGLISH = {
    "kind": "Type",
    "name": "Name",
    "keyword": "Keyword",
    "credit_code": "Credit code",
    "status": "Status",
    "category": "Category",
    "value_level": "Value level",
    "stage": "Stage",
    "region": "Region",
    "industry": "Industry",
    "source": "Source",
    "address": "Address",
    "postcode": "Postcode",
    "phone": "Phone",
    "fax": "Fax",
    "mobile": "Mobile",
    "qq": "QQ",
    "wechat": "WeChat",
    "email": "Email",
    "website": "Website",
    "legal_representative": "Legal representative",
    "registered_capital": "Registered capital",
    "credit_limit": "Credit limit",
    "tags": "Tags",
    "next_contact_at": "Next contact",
    "remark": "Remark",
    OWNER_KEY: "Owner",
}
# The first contact: import key → (ContactForm field, English header, extra spellings).
CONTACT_COLUMNS = {
    "contact_name": ("name", "Contact name", ()),
    "contact_mobile": ("mobile", "Contact mobile", ()),
    "contact_title": ("title", "Contact title", ("联系人职位",)),
    "contact_phone": ("phone", "Contact phone", ()),
    "contact_email": ("email", "Contact email", ()),
    "contact_department": ("department", "Contact department", ()),
}
CONTACT_LABELS = {
    "contact_name": gettext_lazy("联系人姓名"),
    "contact_mobile": gettext_lazy("联系人手机"),
    "contact_title": gettext_lazy("联系人职务"),
    "contact_phone": gettext_lazy("联系人电话"),
    "contact_email": gettext_lazy("联系人邮箱"),
    "contact_department": gettext_lazy("联系人部门"),
}
HELP = {
    "kind": gettext_lazy("企业 或 个人，默认企业"),
    "next_contact_at": gettext_lazy("格式如 2026-01-31 09:30"),
    OWNER_KEY: gettext_lazy("员工姓名或用户名，默认为导入人"),
    "tags": gettext_lazy("多个标签用逗号分隔"),
}
EXAMPLES = {
    "name": "深圳市示例科技有限公司",
    "mobile": "13800138000",
    "phone": "0755-12345678",
    "email": "info@example.com",
    "contact_name": "张三",
    "contact_mobile": "13900139000",
    "contact_title": "采购经理",
}
_normalised_name = functools.lru_cache(maxsize=8192)(normalise_company_name)  # each name is probed 3 times
PROBE_CHUNK = 500  # values per IN (…) of the duplicate look-ups (SQLite allows 999 parameters)
# 客户类型 as people type it: the label (either language), its short form, or the stored value.
KIND_ALIASES = {
    "企业客户": Customer.Kind.ENTERPRISE,
    "企业": Customer.Kind.ENTERPRISE,
    "enterprise": Customer.Kind.ENTERPRISE,
    "个人客户": Customer.Kind.INDIVIDUAL,
    "个人": Customer.Kind.INDIVIDUAL,
    "individual": Customer.Kind.INDIVIDUAL,
}


def _kind_value(raw: str) -> str:
    text = raw.strip().lower()
    return (
        KIND_ALIASES.get(text)
        or KIND_ALIASES.get(text.removesuffix(" customer"), raw)
        or Customer.Kind.ENTERPRISE
    )


def _refuse_read_only(out: RowOutcome, user, module: str, values: dict, keys: dict[str, str]) -> None:
    filled = {k: v for k, v in values.items() if v not in (None, "", False)}
    try:
        field_policy.check_writable(user, module, filled)
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            out.error(keys.get(field, field), messages[0])


class CustomerImportTarget(ImportTarget):
    key = "customers"
    label = gettext_lazy("客户")
    permission = "customers.import"
    dedupe_help = gettext_lazy(
        "重复按客户设置中的查重规则判断（与新建表单相同），文件中前面已出现过的记录也算重复。"
    )
    dedupe_modes = (Dedupe.SKIP, Dedupe.UPDATE, Dedupe.CREATE)
    batch_size = 500

    def allowed_dedupe_modes(self, user) -> list[str]:
        modes = super().allowed_dedupe_modes(user)
        if CustomerPolicy.load().duplicate_mode == CustomerPolicy.DuplicateMode.FORBID:
            modes.remove(Dedupe.CREATE)  # 重名禁止录入: the form never lets a duplicate in either
        return modes

    # ------------------------------------------------------------ fields

    def _forms(self, user) -> tuple[CustomerForm, ContactForm]:
        return CustomerForm(user=user), ContactForm(user=user)

    def fields(self, user) -> list[ImportField]:
        form, contact_form = self._forms(user)
        policy = CustomerPolicy.load()
        required_by_policy = set(policy.required_fields or ())
        result = []
        for name in EDITABLE_FIELDS:
            if name not in form.fields:  # hidden from this user by field permissions (ORG-8)
                continue
            field = form.fields[name]
            result.append(
                ImportField(
                    key=name,
                    label=field.label,
                    required=bool(field.required and name != "kind") or name in required_by_policy,
                    aliases=(ENGLISH.get(name, name),),
                    help=HELP.get(name, field.help_text or ""),
                    example=EXAMPLES.get(name, ""),
                )
            )
        result.append(
            ImportField(
                key=OWNER_KEY,
                label=gettext_lazy("负责人"),
                aliases=(ENGLISH[OWNER_KEY],),
                help=HELP[OWNER_KEY],
            )
        )
        for key, (contact_field, english, extra) in CONTACT_COLUMNS.items():
            if contact_field not in contact_form.fields:
                continue
            result.append(
                ImportField(
                    key=key,
                    label=CONTACT_LABELS[key],
                    required=key == "contact_name" and "contact_name" in required_by_policy,
                    aliases=(english, *extra),
                    example=EXAMPLES.get(key, ""),
                )
            )
        result += custom_import_fields("customers")
        return result

    # ------------------------------------------------------------ per run

    def start(self, user, options: dict[str, Any]) -> ImportContext:
        ctx = super().start(user, options)
        form, contact_form = self._forms(user)
        ctx.extra.update(
            form_fields=form.fields,
            contact_fields=contact_form.fields,
            dictionaries=load_dictionaries(DICTIONARY_FIELDS),
            users=load_assignable_users(user),
            policy=CustomerPolicy.load(),
            can_edit=access_policy.can(user, "customers.edit"),
        )
        return ctx

    def check(self, ctx: ImportContext, row_number: int, values: dict[str, str]) -> RowOutcome:
        out = RowOutcome(row_number=row_number)
        form_fields = ctx.extra["form_fields"]
        contact_fields = ctx.extra["contact_fields"]
        policy: CustomerPolicy = ctx.extra["policy"]
        data: dict[str, Any] = {}
        # 1. The form's fields: formats, lengths, required.
        for name in EDITABLE_FIELDS:
            raw = (values.get(name) or "").strip()
            if name not in form_fields:
                if raw:
                    out.error(name, field_policy.refused_message("customers", name))
                continue
            if name in DICTIONARY_FIELDS:
                if raw:
                    try:
                        data[name] = dictionary_value(
                            ctx.extra["dictionaries"][name], raw, str(form_fields[name].label)
                        )
                    except ValidationError as exc:
                        out.error(name, first_message(exc))
                else:
                    data[name] = None
                continue
            if name == "kind":
                raw = _kind_value(raw)
            try:
                data[name] = clean_with(form_fields[name], raw)
            except ValidationError as exc:
                out.error(name, first_message(exc))
        if data.get("kind") == Customer.Kind.INDIVIDUAL and data.get("credit_code"):
            out.error("credit_code", _("只有企业客户才有统一社会信用代码。"))
        # 2. The first contact.
        contact: dict[str, Any] = {}
        for key, (contact_field, _english, _extra) in CONTACT_COLUMNS.items():
            raw = (values.get(key) or "").strip()
            if contact_field not in contact_fields:
                if raw:
                    out.error(key, field_policy.refused_message("contacts", contact_field))
                continue
            if not raw:
                continue
            try:
                contact[contact_field] = clean_with(contact_fields[contact_field], raw)
            except ValidationError as exc:
                out.error(key, first_message(exc))
        if contact and not contact.get("name") and not any(k == "contact_name" for k, _m in out.errors):
            out.error("contact_name", _("填写了联系人手机或职务时，请同时填写联系人姓名。"))
        contacts = [contact] if contact.get("name") else []
        # Field permissions (ORG-8): a read-only field may not be filled in (as the service refuses).
        _refuse_read_only(out, ctx.user, "customers", data, {})
        _refuse_read_only(out, ctx.user, "contacts", contact, {v[0]: k for k, v in CONTACT_COLUMNS.items()})
        # 3. Owner: a user the importer may assign to; default the importer.
        owner = ctx.user
        raw_owner = (values.get(OWNER_KEY) or "").strip()
        if raw_owner:
            try:
                owner = owner_value(ctx.extra["users"], raw_owner)
            except ValidationError as exc:
                out.error(OWNER_KEY, first_message(exc))
        # 4. Custom fields (required ones, choices, formats).
        custom: dict[str, Any] = {}
        try:
            custom = clean_custom_values(
                "customers", custom_raw_values("customers", values, ctx.extra["users"])
            )
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                out.error(key, messages[0])
        if out.errors:
            return out
        # 5. Entry policy (required fields and formats of the customer settings) and service checks.
        try:
            entry_policy_check(values=data, contacts=contacts, policy=policy)
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                out.error("contact_name" if key == "contacts" else key, messages[0])
        if out.errors:
            return out
        data["name"] = data["name"].strip()
        data["credit_code"] = (data.get("credit_code") or "").strip().upper() or None
        if data["credit_code"] and not is_valid_credit_code(data["credit_code"]):  # as the service checks
            out.error(
                "credit_code",
                _("统一社会信用代码“%(code)s”不正确（应为 18 位，且校验位正确）。")
                % {"code": data["credit_code"]},
            )
            return out
        out.data = {"values": data, "owner": owner, "contacts": contacts, "custom": custom}
        # 6. Duplicates: in the database (the policy's fields) and earlier in this file.
        self._duplicates(ctx, out, values, data, contacts, policy)
        # 7. The service's own checks (credit code checksum and uniqueness, dictionaries) on the row
        #    that will be written; an update may keep the record's own credit code.
        if out.ok and out.action in ("create", "update"):
            try:
                out.data["values"] = customer_services._check_values(dict(data), exclude_pk=out.existing_id)
            except ValidationError as exc:
                for key, messages in exc.message_dict.items():
                    out.error(key, messages[0])
        return out

    def _file_keys(
        self, data: dict[str, Any], contacts: list[dict], fields: set[str]
    ) -> list[tuple[str, str]]:
        keys = []
        if data.get("credit_code"):
            keys.append(("credit_code", data["credit_code"]))
        for field in fields:
            if field == "name" and data.get("name"):
                keys.append(("name", _normalised_name(data["name"]) or data["name"]))
            elif field in ("contact_name", "contact_mobile"):
                attr = field.removeprefix("contact_")
                keys += [(field, str(c.get(attr))) for c in contacts if c.get(attr)]
            elif data.get(field) not in (None, ""):
                keys.append((field, str(data[field]).strip().lower()))
        return keys

    # ------------------------------------------------------------ duplicates, set-based per chunk

    @staticmethod
    def _dup_fields(policy: CustomerPolicy) -> set[str]:
        if policy.duplicate_mode == CustomerPolicy.DuplicateMode.OFF:
            return set()
        return set(policy.duplicate_fields or ())

    @staticmethod
    def _probes(values: dict[str, str], fields: set[str]) -> set[tuple[str, str]]:
        """Every value by which this row could match an existing customer under duplicates_find
        (a superset: a row with no probe in the database cannot have a match)."""
        get = lambda key: (values.get(key) or "").strip()  # noqa: E731
        probes: set[tuple[str, str]] = set()
        name = get("name")
        if name:
            probes.add(("name", _normalised_name(name)))  # also the protected-name check
        if "keyword" in fields:
            if get("keyword"):
                probes.add(("keyword", get("keyword").lower()))
            if name:
                probes |= {
                    ("keyword", sub) for sub in _substrings(unicodedata.normalize("NFKC", name).lower())
                }
        for field in ("phone", "mobile", "fax", "qq"):
            if field in fields and get(field):
                probes.add((field, get(field)))
        if "email" in fields and get("email"):
            probes.add(("email", get("email").lower()))
        if "website" in fields and get("website"):
            probes |= {("website", v) for v in _website_variants(get("website"))}
        for field in ("contact_name", "contact_mobile"):
            if field in fields and get(field):
                probes.add((field, get(field)))
        return probes

    def prepare(self, ctx: ImportContext, rows: list[tuple[int, dict[str, str]]]) -> None:
        """Which probe values of this chunk exist in the database: a few IN queries per chunk, so
        that duplicates_find (the form's own duplicate control) runs only for rows that can match."""
        fields = self._dup_fields(ctx.extra["policy"])
        wanted: dict[str, set[str]] = {}
        for _number, values in rows:
            for kind, value in self._probes(values, fields):
                wanted.setdefault(kind, set()).add(value)
        live = Customer.objects.filter(deleted_at__isnull=True)
        lookups = {
            "name": lambda part: live.filter(name_key__in=part).values_list("name_key", flat=True),
            "keyword": lambda part: (
                live.annotate(k=Lower("keyword")).filter(k__in=part).values_list("k", flat=True)
            ),
            "email": lambda part: (
                live.annotate(e=Lower("email")).filter(e__in=part).values_list("e", flat=True)
            ),
            "website": lambda part: live.filter(website__in=part).values_list("website", flat=True),
            "contact_name": lambda part: Contact.objects.filter(name__in=part).values_list("name", flat=True),
            "contact_mobile": lambda part: Contact.objects.filter(mobile__in=part).values_list(
                "mobile", flat=True
            ),
        }
        hits: set[tuple[str, str]] = set()
        for kind, values in wanted.items():
            lookup = lookups.get(kind) or (
                lambda part, kind=kind: live.filter(**{f"{kind}__in": part}).values_list(kind, flat=True)
            )
            ordered = sorted(values)
            for start in range(0, len(ordered), PROBE_CHUNK):
                hits |= {(kind, str(v)) for v in lookup(ordered[start : start + PROBE_CHUNK])}
        ctx.extra["dup_hits"] = hits

    def _find(self, ctx, values, data, contacts, policy, fields):
        hits = ctx.extra.get("dup_hits")
        only = None
        if hits is not None:
            matched = self._probes(values, fields) & hits
            if not matched:
                return [], []
            # Only the fields that can match are asked (the protected-name check always runs).
            only = {kind for kind, _value in matched} & fields
        found, protected = duplicates_find(values=data, contacts=contacts, policy=policy, fields=only)
        # Customers this import created (earlier chunks of the run) are rows of the file: they
        # count as duplicates inside the file, exactly as in the dry run.
        created = ctx.extra.get("created_ids", set())
        return [m for m in found if m.customer_id not in created], [
            m for m in protected if m.customer_id not in created
        ]

    def _file_earlier(self, ctx, out, data, contacts, fields):
        """The first earlier row of the file this row duplicates: (row, field) or None."""
        seen = ctx.seen
        keys = self._file_keys(data, contacts, fields)
        earlier = next((seen[key] for key in keys if key in seen), None)
        keywords = ctx.extra.setdefault("file_keywords", {})
        if earlier is None and "keyword" in fields and data.get("name"):
            for sub in _substrings(unicodedata.normalize("NFKC", data["name"]).lower()):
                if sub in keywords:
                    earlier = (keywords[sub], "keyword")
                    break
        if earlier is None or earlier[1] != "credit_code":
            for key in keys:
                seen.setdefault(key, (out.row_number, key[0]))
            if "keyword" in fields and data.get("keyword"):
                keywords.setdefault(data["keyword"].strip().lower(), out.row_number)
        return earlier

    def _duplicates(self, ctx, out: RowOutcome, values, data, contacts, policy: CustomerPolicy) -> None:
        fields = self._dup_fields(policy)
        earlier = self._file_earlier(ctx, out, data, contacts, fields)
        if earlier is not None and earlier[1] == "credit_code":
            out.error("credit_code", _("统一社会信用代码与第 %(row)s 行相同。") % {"row": earlier[0]})
            return
        found, protected = self._find(ctx, values, data, contacts, policy, fields)
        matches = found + protected
        if not matches and earlier is None:
            out.action = "create"
            return
        mode = ctx.dedupe
        forbid = policy.duplicate_mode == CustomerPolicy.DuplicateMode.FORBID
        if matches:
            description = " ".join(m.message() for m in matches)
        else:
            description = _("与文件中第 %(row)s 行重复。") % {"row": earlier[0]}
        if mode == Dedupe.SKIP:
            out.action = "skip"
            out.data["reason"] = description
            return
        if mode == Dedupe.UPDATE:
            if earlier is not None and not matches:
                out.action = "skip"
                out.data["reason"] = description
                return
            if earlier is not None:  # the record was already updated by an earlier row of the file
                out.action = "skip"
                out.data["reason"] = _("与文件中第 %(row)s 行重复。") % {"row": earlier[0]}
                return
            if len({m.customer_id for m in matches}) > 1:
                out.error("name", _("有多个相似客户，无法确定要更新哪一个：%(m)s") % {"m": description})
                return
            updated = ctx.extra.setdefault("update_rows", {})
            if matches[0].customer_id in updated:  # one record is updated by one row of a file
                out.action = "skip"
                out.data["reason"] = _("与文件中第 %(row)s 行重复。") % {
                    "row": updated[matches[0].customer_id]
                }
                return
            updated[matches[0].customer_id] = out.row_number
            self._prepare_update(ctx, out, matches[0].customer_id)
            return
        # Dedupe.CREATE
        if forbid:
            out.error("name", _("已存在相同的客户，不能重复录入：%(matches)s") % {"matches": description})
            return
        out.action = "create"

    def _prepare_update(self, ctx, out: RowOutcome, customer_id: int) -> None:
        from crm.customers.selectors import customer_get_for_user

        try:
            customer = customer_get_for_user(user=ctx.user, customer_id=customer_id, write=True)
        except Exception:  # noqa: BLE001 - Http404 / PermissionDenied alike
            customer = None
        if customer is None or not ctx.extra["can_edit"]:
            out.error("name", _("已存在相同的客户，但您没有修改它的权限。"))
            return
        out.action = "update"
        out.existing_id = customer_id

    # ------------------------------------------------------------ write

    def create_rows(self, ctx: ImportContext, outcomes: list[RowOutcome]) -> None:
        actor = ctx.user
        now = timezone.now()
        codes = reserve_numbers("customer", len(outcomes), NUMBER_PREFIXES["customer"])
        customers = []
        for outcome, code in zip(outcomes, codes, strict=True):
            values = {k: v for k, v in outcome.data["values"].items() if k in EDITABLE_FIELDS}
            owner = outcome.data["owner"]
            customer = Customer(**values)
            customer.code = code
            customer.owner = owner
            customer.department_id = owner.department_id
            customer.created_by = actor
            customer.claimed_at = now
            customer.created_at = now
            customer_services._search_columns(customer)
            customer.custom_data = outcome.data["custom"]
            customers.append(customer)
        Customer.objects.bulk_create(customers, batch_size=500)
        ctx.extra.setdefault("created_ids", set()).update(c.pk for c in customers)
        log_actions_bulk(
            actor=actor,
            action="customer.created",
            targets=customers,
            changes_by_target={
                c.pk: diff({}, customer_services._snapshot(c))
                | custom_changes("customers", {}, c.custom_data)
                for c in customers
            },
            message=str(_("导入")),
        )
        contacts = []
        for outcome, customer in zip(outcomes, customers, strict=True):
            for index, values in enumerate(outcome.data["contacts"]):
                contacts.append(Contact(customer=customer, created_by=actor, is_primary=index == 0, **values))
        if contacts:
            Contact.objects.bulk_create(contacts, batch_size=500)
            log_actions_bulk(
                actor=actor,
                action="contact.created",
                targets=contacts,
                changes_by_target={
                    c.pk: diff(
                        {},
                        {"customer": c.customer}
                        | {
                            k: getattr(c, k)
                            for k in ("name", "mobile", "title", "phone", "email", "department")
                        },
                    )
                    for c in contacts
                },
                message=str(_("导入")),
            )

    def update_rows(self, ctx: ImportContext, outcomes: list[RowOutcome]) -> None:
        actor = ctx.user
        by_pk = {
            c.pk: c
            for c in Customer.objects.select_for_update().filter(pk__in=[o.existing_id for o in outcomes])
        }
        changed: list[Customer] = []
        changes_by_target: dict[int, dict] = {}
        touched: set[str] = {"updated_at"}
        for outcome in outcomes:
            customer = by_pk.get(outcome.existing_id)
            if customer is None:
                raise ValidationError(_("第 %(row)s 行要更新的客户已不存在。") % {"row": outcome.row_number})
            old = customer_services._snapshot(customer)
            old_custom = dict(customer.custom_data or {})
            # Only the cells the file fills change the customer; empty cells keep what it has.
            for field, value in outcome.data["values"].items():
                if value not in (None, "") and field in EDITABLE_FIELDS and field != "kind":
                    setattr(customer, field, value)
                    touched.add(field)
            if outcome.data["custom"]:
                customer.custom_data = old_custom | outcome.data["custom"]
                touched.add("custom_data")
            if old["name"] != customer.name:
                customer_services._search_columns(customer)
                touched |= {"name_pinyin", "name_initials", "name_grams", "name_key"}
            changes = diff(old, customer_services._snapshot(customer)) | custom_changes(
                "customers", old_custom, customer.custom_data
            )
            if changes:
                customer.updated_at = timezone.now()
                changed.append(customer)
                changes_by_target[customer.pk] = changes
        if changed:
            Customer.objects.bulk_update(changed, sorted(touched), batch_size=500)
            log_actions_bulk(
                actor=actor,
                action="customer.updated",
                targets=changed,
                changes_by_target=changes_by_target,
                message=str(_("导入")),
            )


register(CustomerImportTarget())
