"""Every write to customers and contacts. One function per business action, atomic, logged.

Bulk actions (transfer, share, delete, restore) are set-based: one UPDATE for N customers and one
INSERT of N log rows, whatever N is.
"""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.access import field_policy, policy
from crm.access.policy import PermissionRequiredError
from crm.accounts.models import User
from crm.audit.services import diff, log_action, log_actions_bulk
from crm.customers.duplicates import duplicates_guard, normalise_company_name
from crm.customers.models import (
    Contact,
    Customer,
    CustomerAccess,
    DictionaryItem,
    NumberingRule,
    NumberSequence,
    Pool,
)
from crm.customers.text import is_valid_credit_code, name_grams, pinyin_columns
from crm.customfields.services import clean_custom_values, custom_changes

# Fields a user edits on the customer form / API; everything else is kept by services.
EDITABLE_FIELDS = (
    "kind",
    "name",
    "keyword",
    "credit_code",
    "status",
    "category",
    "value_level",
    "stage",
    "region",
    "industry",
    "source",
    "address",
    "postcode",
    "phone",
    "fax",
    "mobile",
    "qq",
    "wechat",
    "email",
    "website",
    "legal_representative",
    "registered_capital",
    "credit_limit",
    "tags",
    "remark",
    "next_contact_at",
)
DICTIONARY_FIELDS = {
    "status": DictionaryItem.Kind.STATUS,
    "category": DictionaryItem.Kind.CATEGORY,
    "value_level": DictionaryItem.Kind.VALUE_LEVEL,
    "stage": DictionaryItem.Kind.STAGE,
    "region": DictionaryItem.Kind.REGION,
    "industry": DictionaryItem.Kind.INDUSTRY,
    "source": DictionaryItem.Kind.SOURCE,
}


# ---------------------------------------------------------------- numbering


NUMBER_PREFIXES = {
    "customer": "KH",
    "quote": "BJ",
    "contract": "HT",
    "receivable": "HK",
    "invoice": "FP",
}  # default prefixes; admins may change them


def number_next(*, key: str, now: datetime | None = None) -> str:
    """The next code for `key` under its numbering rule; race-free (the sequence row is locked)."""
    rule, _created = NumberingRule.objects.get_or_create(
        key=key, defaults={"prefix": NUMBER_PREFIXES.get(key, key[:4].upper())}
    )
    period = timezone.localtime(now or timezone.now()).strftime(rule.date_part) if rule.date_part else ""
    with transaction.atomic():
        try:
            with transaction.atomic():
                NumberSequence.objects.get_or_create(key=key, period=period)
        except IntegrityError:
            pass  # created by a concurrent caller a moment ago
        sequence = NumberSequence.objects.select_for_update().get(key=key, period=period)
        sequence.last_value = F("last_value") + 1
        sequence.save(update_fields=["last_value"])
        sequence.refresh_from_db(fields=["last_value"])
    return f"{rule.prefix}{period}{sequence.last_value:0{rule.padding}d}"


# ---------------------------------------------------------------- create / update


def _check_values(
    values: dict[str, Any], *, exclude_pk: int | None = None, previous: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Business checks the form/serializer cannot do alone; returns cleaned values.

    A dictionary value the customer already had stays acceptable after an admin deactivates it;
    only newly chosen values must be active."""
    errors: dict[str, str] = {}
    name = (values.get("name") or "").strip()
    if not name:
        errors["name"] = _("客户名称不能为空。")
    elif len(name) > 200:
        errors["name"] = _("客户名称不能超过 200 个字符。")
    values["name"] = name
    code = (values.get("credit_code") or "").strip().upper() or None
    if code is not None:
        if values.get("kind", Customer.Kind.ENTERPRISE) != Customer.Kind.ENTERPRISE:
            errors["credit_code"] = _("只有企业客户才有统一社会信用代码。")
        elif not is_valid_credit_code(code):
            errors["credit_code"] = _("统一社会信用代码“%(code)s”不正确（应为 18 位，且校验位正确）。") % {
                "code": code
            }
        elif Customer.objects.filter(credit_code=code).exclude(pk=exclude_pk).exists():
            errors["credit_code"] = _("统一社会信用代码“%(code)s”已被其他客户使用。") % {"code": code}
    values["credit_code"] = code
    for field, kind in DICTIONARY_FIELDS.items():
        item = values.get(field)
        unchanged = previous is not None and previous.get(field) == item
        if item is not None and (item.kind != kind or (not item.is_active and not unchanged)):
            errors[field] = _("“%(value)s”不是有效的%(field)s。") % {
                "value": item,
                "field": Customer._meta.get_field(field).verbose_name,
            }
    if errors:
        raise ValidationError(errors)
    return values


def _search_columns(customer: Customer) -> None:
    customer.name_pinyin, customer.name_initials = pinyin_columns(customer.name)
    customer.name_grams = name_grams(customer.name)
    customer.name_key = normalise_company_name(customer.name)  # duplicate control (CUS-7)


@transaction.atomic
def customer_create(
    *,
    actor,
    values: dict[str, Any],
    owner: User | None = None,
    pool: Pool | None = None,
    created_at: datetime | None = None,
    contacts: Iterable[dict[str, Any]] = (),
    ip: str | None = None,
    allow_duplicates: bool = False,
    custom_values: dict[str, Any] | None = None,
) -> Customer:
    """A new customer owned by `owner` (default: the actor), or public in `pool`.

    `custom_values` ({key: value}) are the custom fields (CUS-11), validated by
    `clean_custom_values`; when given (form, API), required custom fields must be in it."""
    # Field permissions (ORG-8): a hidden or read-only field is not the actor's to fill in.
    values = field_policy.check_writable(actor, "customers", values)
    field_policy.check_custom_writable(actor, "customers", custom_values, None)
    # Entry policy and duplicate control (CUS-7/8): raises, or code "duplicate_warning" unless allowed.
    contacts = list(contacts)
    duplicates_guard(values=values, contacts=contacts, actor=actor, allow_duplicates=allow_duplicates)
    values = _check_values({k: v for k, v in values.items() if k in EDITABLE_FIELDS})
    if pool is None:
        owner = owner or actor
        if not owner.is_active:
            raise ValidationError(_("不能把客户分配给已停用的员工。"))
    customer = Customer(**values)
    customer.code = number_next(key="customer")
    customer.owner = owner if pool is None else None
    customer.department_id = owner.department_id if customer.owner else None
    customer.pool = pool
    customer.created_by = actor
    customer.claimed_at = timezone.now() if customer.owner else None
    if created_at is not None:
        customer.created_at = created_at
    _search_columns(customer)
    # Custom fields (CUS-11); None (callers other than the form and the API) sets none.
    customer.custom_data = (
        clean_custom_values("customers", custom_values) if custom_values is not None else {}
    )
    customer.full_clean(exclude=["code", "name_pinyin", "name_initials", "name_grams"])
    customer.save()
    log_action(
        actor=actor,
        action="customer.created",
        target=customer,
        changes=diff({}, _snapshot(customer)) | custom_changes("customers", {}, customer.custom_data),
        ip_address=ip,
    )
    for index, contact_values in enumerate(contacts):
        contact_create(
            actor=actor, customer=customer, values=contact_values | {"is_primary": index == 0}, ip=ip
        )
    return customer


def _snapshot(customer: Customer) -> dict[str, Any]:
    return {field: getattr(customer, field) for field in EDITABLE_FIELDS} | {"owner": customer.owner}


@transaction.atomic
def customer_update(
    *,
    actor,
    customer: Customer,
    values: dict[str, Any],
    ip: str | None = None,
    allow_duplicates: bool = False,
    custom_values: dict[str, Any] | None = None,
) -> Customer:
    """Change a customer; `custom_values` (when given) replace the custom fields they name."""
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    old = _snapshot(customer)
    old_custom = dict(customer.custom_data or {})
    # Field permissions (ORG-8): hidden and read-only fields keep their values, whatever is sent.
    values = field_policy.check_writable(actor, "customers", values, old)
    field_policy.check_custom_writable(actor, "customers", custom_values, old_custom)
    # Entry policy and duplicate control (CUS-7/8) on the changed fields.
    duplicates_guard(
        values={k: v for k, v in (old | values).items() if k in EDITABLE_FIELDS},
        exclude_pk=customer.pk,
        actor=actor,
        previous=old,
        allow_duplicates=allow_duplicates,
    )
    values = _check_values(
        {k: v for k, v in (old | values).items() if k in EDITABLE_FIELDS},
        exclude_pk=customer.pk,
        previous=old,
    )
    for field, value in values.items():
        setattr(customer, field, value)
    if custom_values is not None:  # custom fields (CUS-11)
        customer.custom_data = clean_custom_values("customers", custom_values, instance_data=old_custom)
    if old["name"] != customer.name:
        _search_columns(customer)
    customer.full_clean(exclude=["name_pinyin", "name_initials", "name_grams"])
    customer.save()
    changes = diff(old, _snapshot(customer)) | custom_changes("customers", old_custom, customer.custom_data)
    if changes:
        log_action(actor=actor, action="customer.updated", target=customer, changes=changes, ip_address=ip)
    return customer


# ---------------------------------------------------------------- bulk actions


def _locked(customers: QuerySet[Customer]) -> list[Customer]:
    return list(customers.select_for_update(of=("self",)).only("pk", "name", "owner_id").order_by("pk"))


@transaction.atomic
def customers_transfer(
    *,
    actor,
    customers: QuerySet[Customer],
    to_user: User,
    keep_previous_as_team: bool = True,
    with_related: Iterable[str] = (),
    ip: str | None = None,
) -> int:
    """Give the customers to `to_user` (CUS-6); former owners may stay on the team (read-only).

    `with_related` ⊆ {"opportunities", "contracts"}: also hand over the former owner's open
    opportunities / non-void contracts of these customers (one UPDATE each; each needs its
    module's transfer permission)."""
    if not to_user.is_active:
        raise ValidationError(_("不能把客户转移给已停用的员工。"))
    with_related = set(with_related)
    for module in sorted(with_related):
        if module not in RELATED_TRANSFERS or not policy.can(actor, f"{module}.transfer"):
            raise PermissionRequiredError(f"{module}.transfer")
    rows = [c for c in _locked(customers) if c.owner_id != to_user.pk]
    if not rows:
        return 0
    ids = [c.pk for c in rows]
    Customer.objects.filter(pk__in=ids).update(
        owner=to_user,
        department_id=to_user.department_id,
        previous_owner=F("owner"),
        updated_at=timezone.now(),
    )
    CustomerAccess.objects.filter(customer_id__in=ids, user=to_user).delete()
    if keep_previous_as_team:
        CustomerAccess.objects.bulk_create(
            [
                CustomerAccess(
                    customer_id=c.pk, user_id=c.owner_id, kind=CustomerAccess.Kind.TEAM, granted_by=actor
                )
                for c in rows
                if c.owner_id
            ],
            ignore_conflicts=True,
        )
    log_actions_bulk(
        actor=actor,
        action="customer.transferred",
        targets=rows,
        changes={"owner": [None, str(to_user)]},
        ip_address=ip,
    )
    for module in sorted(with_related):
        _transfer_related(module, actor=actor, customer_ids=ids, to_user=to_user, ip=ip)
    return len(rows)


# module → (model path, the rows that move with their customer)
RELATED_TRANSFERS = {
    "opportunities": ("opportunities.Opportunity", {"status": "open"}),
    "contracts": ("contracts.Contract", {}),
}


def _transfer_related(module: str, *, actor, customer_ids: list[int], to_user: User, ip) -> None:
    """The records of `module` that the customers' former owners held move to `to_user`."""
    model_path, only = RELATED_TRANSFERS[module]
    model = apps.get_model(model_path)
    # After the customer UPDATE, previous_owner is the owner the customer had a moment ago.
    moving = model.objects.filter(
        customer_id__in=customer_ids, owner_id=F("customer__previous_owner"), **only
    )
    if module == "contracts":
        moving = moving.exclude(status="void")
    targets = list(moving.only("pk", "code"))
    if not targets:
        return
    model.objects.filter(pk__in=[t.pk for t in targets]).update(
        owner=to_user, department_id=to_user.department_id, updated_at=timezone.now()
    )
    log_actions_bulk(
        actor=actor,
        action=f"{model._meta.model_name}.transferred",
        targets=targets,
        changes={"owner": [None, str(to_user)]},
        ip_address=ip,
    )


@transaction.atomic
def customers_share(
    *,
    actor,
    customers: QuerySet[Customer],
    users: Iterable[User],
    can_edit: bool = False,
    ip: str | None = None,
) -> int:
    """Share with users (CUS-5): they then see the customers in their lists."""
    users = [u for u in users if u.is_active]
    if not users:
        raise ValidationError(_("请选择要共享给的在职员工。"))
    rows = list(customers.only("pk", "name", "owner_id"))
    grants = [
        CustomerAccess(
            customer_id=c.pk,
            user_id=u.pk,
            kind=CustomerAccess.Kind.SHARED,
            can_edit=can_edit,
            granted_by=actor,
        )
        for c in rows
        for u in users
        if u.pk != c.owner_id
    ]
    CustomerAccess.objects.bulk_create(grants, ignore_conflicts=True)
    log_actions_bulk(
        actor=actor,
        action="customer.shared",
        targets=rows,
        changes={"shared_with": [None, sorted(str(u) for u in users)]},
        ip_address=ip,
    )
    return len(rows)


@transaction.atomic
def customer_unshare(*, actor, customer: Customer, user: User, ip: str | None = None) -> None:
    deleted, _detail = CustomerAccess.objects.filter(customer=customer, user=user).delete()
    if deleted:
        log_action(
            actor=actor,
            action="customer.unshared",
            target=customer,
            changes={"shared_with": [str(user), None]},
            ip_address=ip,
        )


@transaction.atomic
def customers_delete(*, actor, customers: QuerySet[Customer], ip: str | None = None) -> int:
    """Move to the recycle bin (CUS-4)."""
    rows = _locked(customers.filter(deleted_at__isnull=True))
    Customer.objects.filter(pk__in=[c.pk for c in rows]).update(deleted_at=timezone.now(), deleted_by=actor)
    log_actions_bulk(actor=actor, action="customer.deleted", targets=rows, ip_address=ip)
    return len(rows)


@transaction.atomic
def customers_restore(*, actor, customers: QuerySet[Customer], pool: Pool, ip: str | None = None) -> int:
    """Restore from the recycle bin into a public pool (CUS-4)."""
    rows = _locked(customers.filter(deleted_at__isnull=False))
    Customer.objects.filter(pk__in=[c.pk for c in rows]).update(
        deleted_at=None,
        deleted_by=None,
        owner=None,
        department=None,
        pool=pool,
        previous_owner=F("owner"),
        released_at=timezone.now(),
        release_reason=_("从回收站恢复"),
    )
    CustomerAccess.objects.filter(customer_id__in=[c.pk for c in rows]).delete()
    log_actions_bulk(
        actor=actor,
        action="customer.restored",
        targets=rows,
        changes={"pool": [None, str(pool)]},
        ip_address=ip,
    )
    return len(rows)


@transaction.atomic
def customers_purge(*, actor, customers: QuerySet[Customer], ip: str | None = None) -> int:
    """Delete for good, only from the recycle bin."""
    rows = list(customers.filter(deleted_at__isnull=False).only("pk", "name"))
    log_actions_bulk(actor=actor, action="customer.purged", targets=rows, ip_address=ip)
    Customer.objects.filter(pk__in=[c.pk for c in rows]).delete()
    return len(rows)


def default_pool() -> Pool:
    pool = Pool.objects.filter(is_default=True).first() or Pool.objects.order_by("pk").first()
    if pool is None:
        pool = Pool.objects.create(name="公海", is_default=True)
    return pool


# ---------------------------------------------------------------- contacts

CONTACT_FIELDS = (
    "name",
    "title",
    "department",
    "mobile",
    "phone",
    "email",
    "qq",
    "wechat",
    "birthday",
    "hometown",
    "remark",
    "is_primary",
)


@transaction.atomic
def contact_create(*, actor, customer: Customer, values: dict[str, Any], ip: str | None = None) -> Contact:
    values = {k: v for k, v in values.items() if k in CONTACT_FIELDS}
    values = field_policy.check_writable(actor, "contacts", values)  # ORG-8
    contact = Contact(customer=customer, created_by=actor, **values)
    if not customer.contacts.exists():
        contact.is_primary = True
    if contact.is_primary:
        customer.contacts.filter(is_primary=True).update(is_primary=False)
    contact.full_clean()
    contact.save()
    log_action(
        actor=actor,
        action="contact.created",
        target=contact,
        changes=diff({}, {"customer": customer, **values}),
        ip_address=ip,
    )
    return contact


@transaction.atomic
def contact_update(*, actor, contact: Contact, values: dict[str, Any], ip: str | None = None) -> Contact:
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    old = {f: getattr(contact, f) for f in CONTACT_FIELDS}
    values = field_policy.check_writable(actor, "contacts", values, old)  # ORG-8
    for field, value in values.items():
        if field in CONTACT_FIELDS:
            setattr(contact, field, value)
    if old["is_primary"] and not contact.is_primary:
        raise ValidationError(_("每个客户要有一位首要联系人：请把另一位联系人设为首要联系人。"))
    if contact.is_primary and not old["is_primary"]:
        Contact.objects.filter(customer_id=contact.customer_id, is_primary=True).update(is_primary=False)
    contact.full_clean()
    contact.save()
    changes = diff(old, {f: getattr(contact, f) for f in CONTACT_FIELDS})
    if changes:
        log_action(actor=actor, action="contact.updated", target=contact, changes=changes, ip_address=ip)
    return contact


@transaction.atomic
def contact_delete(*, actor, contact: Contact, ip: str | None = None) -> None:
    was_primary = contact.is_primary
    customer_id = contact.customer_id
    log_action(
        actor=actor,
        action="contact.deleted",
        target=contact,
        changes={"name": [contact.name, None]},
        ip_address=ip,
    )
    contact.delete()
    if was_primary:
        successor = Contact.objects.filter(customer_id=customer_id).order_by("pk").first()
        if successor:
            Contact.objects.filter(pk=successor.pk).update(is_primary=True)


@transaction.atomic
def customers_release(
    *, actor, customers: QuerySet[Customer], pool: Pool, reason: str, ip: str | None = None
) -> int:
    """Put owned customers back into a public pool (公海), set-based; the former owner is kept in
    previous_owner with the time and reason, and the customers' shares and team are cleared."""
    rows = _locked(customers.filter(owner__isnull=False, deleted_at__isnull=True))
    ids = [c.pk for c in rows]
    Customer.objects.filter(pk__in=ids).update(
        owner=None,
        department=None,
        pool=pool,
        previous_owner=F("owner"),
        claimed_at=None,
        released_at=timezone.now(),
        release_reason=reason[:200],
        updated_at=timezone.now(),
    )
    CustomerAccess.objects.filter(customer_id__in=ids).delete()
    log_actions_bulk(
        actor=actor,
        action="customer.released",
        targets=rows,
        changes={"pool": [None, str(pool)]},
        message=reason,
        ip_address=ip,
    )
    return len(rows)


@transaction.atomic
def user_disable_with_hand_over(
    *, actor, user: User, to_user: User | None = None, pool: Pool | None = None, ip: str | None = None
) -> int:
    """Disable an account (ORG-2) and hand its customers to a colleague or to a pool."""
    from crm.accounts.services import user_set_active

    owned = Customer.objects.filter(owner=user, deleted_at__isnull=True)
    count = owned.count()
    if count and (to_user is None) == (pool is None):
        raise ValidationError(
            _("%(name)s 还负责 %(count)d 个客户，请选择接手的同事或退回的公海（二选一）。")
            % {"name": user.display_name, "count": count}
        )
    if to_user is not None and (to_user.pk == user.pk or not to_user.is_active):
        raise ValidationError(_("接手的同事必须是另一位在职员工。"))
    user_set_active(actor=actor, user=user, active=False, ip=ip)
    if count and to_user is not None:
        customers_transfer(actor=actor, customers=owned, to_user=to_user, keep_previous_as_team=False, ip=ip)
    elif count:
        customers_release(actor=actor, customers=owned, pool=pool, reason=_("负责人已停用"), ip=ip)
    return count
