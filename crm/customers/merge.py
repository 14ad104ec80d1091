"""Merging two customers (合并, CUS-7): one survives, the other goes to the recycle bin.

The survivor keeps its own values except for the fields the user chose from the other record. The
other record's contacts, shares/team and (when the activities app is installed) follow-ups move to
the survivor, set-based. History stays where it was: the survivor's log says "customer.merged"
(with the other record's code and the chosen fields), the other's says "customer.merged_into".
"""

from collections.abc import Iterable

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.access import policy
from crm.access.policy import PermissionRequiredError
from crm.audit.services import diff, log_action
from crm.customers.models import Contact, Customer, CustomerAccess
from crm.customers.selectors import customers_visible

# The fields a user may take from the merged-away record (the form shows one row per field).
MERGE_FIELDS = (
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


@transaction.atomic
def customer_merge(
    *,
    actor,
    target: Customer,
    source: Customer,
    take_from_source: Iterable[str] = (),
    ip: str | None = None,
) -> Customer:
    """Merge `source` into `target` (customers.settings; both visible to the actor)."""
    from crm.customers.services import _search_columns

    if not policy.can(actor, "customers.settings"):
        raise PermissionRequiredError("customers.settings")
    if target.pk == source.pk:
        raise ValidationError(_("请选择两个不同的客户进行合并。"))
    ids = sorted([target.pk, source.pk])
    if customers_visible(actor, include_pool=True).filter(pk__in=ids).count() != 2:
        raise ValidationError(_("只能合并您可以查看的两个客户。"))
    locked = {c.pk: c for c in Customer.objects.select_for_update().filter(pk__in=ids).order_by("pk")}
    target, source = locked[target.pk], locked[source.pk]
    if target.deleted_at is not None or source.deleted_at is not None:
        raise ValidationError(_("回收站中的客户不能合并。"))
    fields = [field for field in dict.fromkeys(take_from_source) if field in MERGE_FIELDS]
    unknown = set(take_from_source) - set(MERGE_FIELDS)
    if unknown:
        raise ValidationError(_("不能合并这些字段：%(fields)s") % {"fields": ", ".join(sorted(unknown))})

    before = {field: getattr(target, field) for field in fields}
    chosen = {field: getattr(source, field) for field in fields}
    changes = diff(before, chosen)
    for field in changes:
        setattr(target, field, chosen[field])
    if "credit_code" in changes and source.credit_code:
        # The code is unique: free it on the record that goes away before the survivor takes it.
        Customer.objects.filter(pk=source.pk).update(credit_code=None)
    # Custom fields (CUS-11): the survivor keeps its values and gains those it lacks.
    custom = dict(target.custom_data or {})
    for key, value in (source.custom_data or {}).items():
        if custom.get(key) in (None, "", []) and value not in (None, "", []):
            custom[key] = value
            changes[f"custom.{key}"] = [None, value]
    target.custom_data = custom
    if "name" in changes:
        _search_columns(target)
    target.full_clean(exclude=["code", "name_pinyin", "name_initials", "name_grams", "name_key"])
    target.save()

    # Contacts: all move; the survivor's primary contact stays primary.
    target_has_primary = Contact.objects.filter(customer=target, is_primary=True).exists()
    moved_contacts = Contact.objects.filter(customer=source)
    if target_has_primary:
        moved_contacts_count = moved_contacts.update(customer=target, is_primary=False)
    else:
        moved_contacts_count = moved_contacts.update(customer=target)

    # Shares and team: the source's grants move (the survivor's own grants win), and the source's
    # owner joins the survivor's team so that nobody loses sight of a customer they worked on.
    grants = list(CustomerAccess.objects.filter(customer=source).exclude(user_id=target.owner_id))
    if source.owner_id and source.owner_id != target.owner_id:
        grants.append(CustomerAccess(user_id=source.owner_id, kind=CustomerAccess.Kind.TEAM, can_edit=True))
    CustomerAccess.objects.bulk_create(
        [
            CustomerAccess(
                customer=target, user_id=g.user_id, kind=g.kind, can_edit=g.can_edit, granted_by=actor
            )
            for g in grants
        ],
        ignore_conflicts=True,
    )
    CustomerAccess.objects.filter(customer=source).delete()

    moved_followups = 0
    if apps.is_installed("crm.activities"):
        followup = apps.get_model("activities", "FollowUp")
        moved_followups = followup.objects.filter(customer=source).update(customer=target)

    now = timezone.now()
    Customer.objects.filter(pk=source.pk).update(deleted_at=now, deleted_by=actor, protected_until=None)
    log_action(
        actor=actor,
        action="customer.merged",
        target=target,
        changes={"merged_from": [None, source.code], **changes},
        message=_("合并了客户 %(code)s（%(name)s）：联系人 %(contacts)d 位，跟进记录 %(followups)d 条。")
        % {
            "code": source.code,
            "name": source.name,
            "contacts": moved_contacts_count,
            "followups": moved_followups,
        },
        ip_address=ip,
    )
    log_action(
        actor=actor,
        action="customer.merged_into",
        target=source,
        changes={"merged_into": [None, target.code]},
        message=_("已合并到客户 %(code)s（%(name)s），移入回收站。")
        % {"code": target.code, "name": target.name},
        ip_address=ip,
    )
    return target
