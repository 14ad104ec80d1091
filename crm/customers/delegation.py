"""Temporary delegation (授权, ORG-4): create and revoke. Visibility lives in selectors."""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.access import policy
from crm.accounts.models import User
from crm.audit.services import log_action
from crm.customers.models import Customer, Delegation
from crm.messaging.services import notification_send

MAX_DAYS = 180


def _period(starts_at: datetime, ends_at: datetime) -> str:
    return f"{timezone.localtime(starts_at):%Y-%m-%d %H:%M} – {timezone.localtime(ends_at):%Y-%m-%d %H:%M}"


def _may_manage(actor, from_user: User) -> bool:
    """The owner delegates their own customers; a manager may for someone in their scope."""
    if actor.pk == from_user.pk:
        return True
    return (
        policy.can(actor, "customers.transfer")
        and policy.visible_users(actor).filter(pk=from_user.pk).exists()
    )


@transaction.atomic
def delegation_create(
    *,
    actor,
    from_user: User,
    to_user: User,
    customers: QuerySet[Customer],
    starts_at: datetime,
    ends_at: datetime,
    note: str = "",
    ip: str | None = None,
) -> Delegation:
    if not _may_manage(actor, from_user):
        raise ValidationError(_("只能授权自己或下属负责的客户。"))
    if to_user.pk == from_user.pk or not to_user.is_active:
        raise ValidationError(_("被授权人必须是另一位在职员工。"))
    if ends_at <= starts_at:
        raise ValidationError(_("结束时间必须晚于开始时间。"))
    if ends_at <= timezone.now():
        raise ValidationError(_("结束时间必须晚于现在。"))
    if ends_at - starts_at > timedelta(days=MAX_DAYS):
        raise ValidationError(_("一次授权最长 %(days)d 天。") % {"days": MAX_DAYS})
    chosen = list(customers.filter(owner=from_user, deleted_at__isnull=True).values_list("pk", flat=True))
    if not chosen:
        raise ValidationError(_("请至少选择一个授权人负责的客户。"))
    delegation = Delegation.objects.create(
        from_user=from_user,
        to_user=to_user,
        starts_at=starts_at,
        ends_at=ends_at,
        note=note.strip()[:200],
        created_by=actor,
    )
    delegation.customers.set(chosen)
    log_action(
        actor=actor,
        action="delegation.created",
        target=delegation,
        ip_address=ip,
        changes={
            "to_user": [None, str(to_user)],
            "customers": [None, len(chosen)],
            "period": [
                None,
                _period(starts_at, ends_at),
            ],
        },
    )
    transaction.on_commit(
        lambda: notification_send(
            recipient=to_user,
            title=_("%(name)s 把 %(count)d 个客户临时授权给您")
            % {"name": from_user.display_name, "count": len(chosen)},
            body=_("授权期：%(start)s 至 %(end)s。%(note)s")
            % {
                "start": f"{timezone.localtime(starts_at):%Y-%m-%d %H:%M}",
                "end": f"{timezone.localtime(ends_at):%Y-%m-%d %H:%M}",
                "note": note,
            },
            url="/customers/delegations/",
        )
    )
    return delegation


@transaction.atomic
def delegation_revoke(*, actor, delegation: Delegation, ip: str | None = None) -> Delegation:
    delegation = Delegation.objects.select_for_update().get(pk=delegation.pk)
    if not _may_manage(actor, delegation.from_user):
        raise ValidationError(_("只能撤销自己或下属的授权。"))
    if delegation.revoked_at is None:
        delegation.revoked_at = timezone.now()
        delegation.save(update_fields=["revoked_at"])
        log_action(actor=actor, action="delegation.revoked", target=delegation, ip_address=ip)
    return delegation


def delegations_for(user) -> dict[str, list[Delegation]]:
    base = Delegation.objects.select_related("from_user", "to_user").prefetch_related("customers")
    return {
        "given": list(base.filter(from_user=user)[:50]),
        "received": list(base.filter(to_user=user)[:50]),
    }
