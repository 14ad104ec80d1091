"""Customer protection (客户保护, CUS-9).

An owner protects a customer for a number of days: it is exempt from recycling, and anyone who
enters its name is warned (crm/customers/duplicates.py). Limits come from CustomerPolicy: how many
customers one owner may protect at once and for how many days; the owner is reminded N days before
protection lapses. Cancelling protection returns the customer to the default pool.
"""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.access import policy
from crm.accounts.models import User
from crm.audit.services import log_action
from crm.customers.models import Customer, CustomerAccess, CustomerPolicy, ProtectionReminder
from crm.messaging.models import Notification

REMINDER_BATCH = 500


def _may_manage_protection(actor, customer: Customer) -> bool:
    """The owner, or whoever holds the customers settings permission (管理员)."""
    if customer.owner_id is not None and customer.owner_id == actor.pk:
        return True
    return policy.can(actor, "customers.settings")


def protection_count(*, owner: User, exclude_pk: int | None = None) -> int:
    return (
        Customer.objects.filter(owner=owner, deleted_at__isnull=True, protected_until__gt=timezone.now())
        .exclude(pk=exclude_pk)
        .count()
    )


@transaction.atomic
def customer_protect(*, actor, customer: Customer, days: int, ip: str | None = None) -> Customer:
    """Protect the customer for `days` days from now (re-protecting sets a new end date)."""
    settings = CustomerPolicy.load()
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.deleted_at is not None or customer.owner_id is None:
        raise ValidationError(_("只能保护有负责人的客户。"))
    if not _may_manage_protection(actor, customer):
        raise ValidationError(_("只有负责人或管理员可以保护该客户。"))
    try:
        days = int(days)
    except (TypeError, ValueError):
        days = 0
    if days < 1 or days > settings.protect_max_days:
        raise ValidationError(
            _("保护天数应在 1 到 %(max)d 天之间。") % {"max": settings.protect_max_days}, code="days"
        )
    # One owner's protections are counted under a lock on the owner, so that two concurrent
    # requests cannot both take the last free place.
    owner = User.objects.select_for_update().get(pk=customer.owner_id)
    if settings.protect_max_count and (
        protection_count(owner=owner, exclude_pk=customer.pk) >= settings.protect_max_count
    ):
        raise ValidationError(
            _("%(name)s 已保护 %(count)d 个客户，达到上限，不能再保护更多客户。")
            % {"name": owner.display_name, "count": settings.protect_max_count},
            code="limit",
        )
    before = customer.protected_until
    customer.protected_until = timezone.now() + timedelta(days=days)
    Customer.objects.filter(pk=customer.pk).update(
        protected_until=customer.protected_until, updated_at=timezone.now()
    )
    log_action(
        actor=actor,
        action="customer.protected",
        target=customer,
        changes={"protected_until": [_local(before), _local(customer.protected_until)]},
        ip_address=ip,
    )
    return customer


@transaction.atomic
def customer_unprotect(*, actor, customer: Customer, ip: str | None = None) -> Customer:
    """Cancel protection (取消保护): the customer goes back to the default pool for reassignment."""
    from crm.customers.services import default_pool

    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if not customer.is_protected or customer.owner_id is None or customer.deleted_at is not None:
        raise ValidationError(_("该客户未处于保护状态。"))
    if not _may_manage_protection(actor, customer):
        raise ValidationError(_("只有负责人或管理员可以取消保护。"))
    pool = default_pool()
    now = timezone.now()
    before = customer.protected_until
    owner = customer.owner
    Customer.objects.filter(pk=customer.pk).update(
        protected_until=None,
        owner=None,
        department=None,
        pool=pool,
        previous_owner=owner,
        claimed_at=None,
        released_at=now,
        release_reason=_("取消保护"),
        updated_at=now,
    )
    CustomerAccess.objects.filter(customer=customer).delete()
    customer.refresh_from_db()
    log_action(
        actor=actor,
        action="customer.unprotected",
        target=customer,
        changes={
            "protected_until": [_local(before), None],
            "owner": [str(owner), None],
            "pool": [None, str(pool)],
        },
        message=_("取消保护"),
        ip_address=ip,
    )
    return customer


def _local(moment: datetime | None) -> str | None:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else None


def protection_reminders_send(*, now: datetime | None = None) -> int:
    """Tell owners whose protection lapses within the policy's N days; once per lapse (a marker
    row per customer and end date), in batches, so a re-run or a second worker sends nothing."""
    from crm.messaging.services import notification_send

    settings = CustomerPolicy.load()
    if not settings.protect_remind_days:
        return 0
    now = now or timezone.now()
    reminded = ProtectionReminder.objects.filter(
        customer_id=OuterRef("pk"), protected_until=OuterRef("protected_until")
    )
    due = (
        Customer.objects.filter(
            deleted_at__isnull=True,
            owner__isnull=False,
            owner__is_active=True,
            protected_until__gt=now,
            protected_until__lte=now + timedelta(days=settings.protect_remind_days),
        )
        .filter(~Exists(reminded))
        .select_related("owner")
        .only("pk", "name", "protected_until", "owner")
        .order_by("pk")
    )
    sent = 0
    last_pk = 0
    while True:
        with transaction.atomic():
            batch = list(due.filter(pk__gt=last_pk)[:REMINDER_BATCH])
            if not batch:
                return sent
            last_pk = batch[-1].pk
            created = ProtectionReminder.objects.bulk_create(
                [ProtectionReminder(customer=c, protected_until=c.protected_until) for c in batch],
                ignore_conflicts=True,
            )
            for customer in batch:
                notification_send(
                    recipient=customer.owner,
                    title=_("客户“%(name)s”的保护将于 %(date)s 到期")
                    % {"name": customer.name, "date": _local(customer.protected_until)},
                    body=_("到期后该客户不再受保护，可能被回收到公海。如需继续保护，请重新设置保护。"),
                    url=f"/customers/{customer.pk}/",
                    kind=Notification.Kind.REMINDER,
                )
            sent += len(created)  # ignore_conflicts: rows a concurrent run already wrote are skipped
