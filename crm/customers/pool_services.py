"""Every write of the public customer pool (公海, POOL-1..3): claim, apply/approve/reject, assign,
recall, release, delete, and the pool settings. One function per action, atomic, logged.

Race-freedom: a customer changes hands only through a conditional UPDATE
(`… WHERE owner IS NULL` to take it, `… WHERE owner = me` to give it back) whose row count is
checked, so two people claiming the same customer at once cannot both win. Limits (POOL-3) are
counted after locking the claimant's user row (SELECT … FOR UPDATE), so parallel claims by one
user are counted one after the other and never overshoot.

Permissions: claim and apply need pool.view + pool.create (领取); approve/reject need pool.edit;
assign and recall need pool.transfer (moving customers between the pool and people is the pool's
"transfer" right; customers.transfer stays the owner-to-owner transfer of CUS-6); delete needs
pool.delete; pools and limits need pool.settings. An owner may always give back (退回) their own
customer. The customer list's bulk 放入公海 (`pool_release_many`) needs customers.edit and follows
the same two rules: own customers, and with pool.transfer customers in the actor's data scope.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from crm.access import policy
from crm.access.policy import PermissionRequiredError
from crm.accounts.models import Department, User
from crm.audit.services import diff, log_action, log_actions_bulk
from crm.customers import pool_selectors
from crm.customers.models import ClaimRequest, Customer, CustomerAccess, Pool, PoolSettings
from crm.customers.selectors import customers_visible, pools_visible
from crm.customers.services import customers_delete, default_pool
from crm.messaging.models import Notification
from crm.messaging.services import notification_send

MAX_BATCH = 1000  # customers per batch assign/recall/delete request
MAX_NAMES = 5  # names quoted in a refusal message


def _require(actor, *permissions: str) -> None:
    for permission in permissions:
        if not policy.can(actor, permission):
            raise PermissionRequiredError(permission)


def _lock_user(user) -> None:
    """Serialise everything that counts this user's claims (held until the transaction ends)."""
    list(User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True))


def _already_claimed() -> ValidationError:
    return ValidationError(_("该客户已被其他人领取，请选择其他客户。"))


def _names(labels: list[str]) -> str:
    text = _("、").join(labels[:MAX_NAMES])
    return text + (_("等") if len(labels) > MAX_NAMES else "")


def _requested_ids(customers: QuerySet[Customer]) -> list[int]:
    ids = list(customers.order_by("pk").values_list("pk", flat=True)[: MAX_BATCH + 1])
    if not ids:
        raise ValidationError(_("请先选择客户。"))
    if len(ids) > MAX_BATCH:
        raise ValidationError(_("一次最多处理 %(max)d 个客户。") % {"max": MAX_BATCH})
    return ids


def _refuse_missing(actor, requested: list[int], found: list[Customer], message: str) -> None:
    """Refuse the whole batch (nothing changes) when some requested customers are not eligible."""
    found_ids = {c.pk for c in found}
    missing = [pk for pk in requested if pk not in found_ids]
    if missing:
        # Names only of customers the actor may see; others by the id the actor sent (no leak).
        shown = missing[: MAX_NAMES + 1]
        visible = dict(
            customers_visible(actor, include_pool=True).filter(pk__in=shown).values_list("pk", "name")
        )
        labels = [visible.get(pk) or f"#{pk}" for pk in shown]
        raise ValidationError(message % {"names": _names(labels)})


def _locked(customers: QuerySet[Customer]) -> list[Customer]:
    return list(
        customers.select_for_update(of=("self",))
        .only("pk", "name", "owner_id", "pool_id", "previous_owner_id", "released_at")
        .order_by("pk")
    )


def _close_pending_applications(customer_ids: list[int], *, actor) -> None:
    """Applications for customers someone has just taken are closed (one UPDATE)."""
    ClaimRequest.objects.filter(customer_id__in=customer_ids, status=ClaimRequest.Status.PENDING).update(
        status=ClaimRequest.Status.REJECTED,
        decided_by=actor,
        decided_at=timezone.now(),
        decision_note=_("客户已被他人领取"),
    )


# ---------------------------------------------------------------- limits (POOL-3)


def _check_reclaim_window(user, customer: Customer, limits: PoolSettings, *, own: bool = True) -> None:
    days = limits.reclaim_after_days
    if not days or customer.previous_owner_id != user.pk or customer.released_at is None:
        return
    until = customer.released_at + timedelta(days=days)
    if until > timezone.now():
        values = {
            "days": days,
            "until": timezone.localtime(until).strftime("%Y-%m-%d %H:%M"),
            "user": user,
        }
        if own:
            message = _("该客户是您退回或被收回公海的，%(days)d 天内不能再次领取（%(until)s 后可领取）。")
        else:
            message = _(
                "该客户是%(user)s退回或被收回公海的，%(days)d 天内不能再次归其所有（%(until)s 后可以）。"
            )
        raise ValidationError(message % values)


def _check_owned_limit(user, limits: PoolSettings, *, adding: int, own: bool = True) -> None:
    if not limits.max_owned:
        return
    owned = pool_selectors.owned_count(user)
    if owned + adding > limits.max_owned:
        values = {"count": owned, "max": limits.max_owned, "adding": adding, "user": user}
        if own:
            message = _("您名下已有 %(count)d 个客户，已达到每人最多 %(max)d 个的上限，不能再领取。")
        else:
            message = _(
                "%(user)s名下已有 %(count)d 个客户，再增加 %(adding)d 个将超过每人最多 %(max)d 个的上限。"
            )
        raise ValidationError(message % values)


def _check_daily_limit(user, limits: PoolSettings, *, own: bool = True) -> None:
    if not limits.max_claims_per_day:
        return
    today = pool_selectors.claims_today(user)
    if today + 1 > limits.max_claims_per_day:
        values = {"count": today, "max": limits.max_claims_per_day, "user": user}
        if own:
            message = _("您今天已领取 %(count)d 个客户，已达到每天最多 %(max)d 个的上限，请明天再领取。")
        else:
            message = _("%(user)s今天已领取 %(count)d 个客户，已达到每天最多 %(max)d 个的上限。")
        raise ValidationError(message % values)


def _check_limits(user, customer: Customer, limits: PoolSettings, *, own: bool = True) -> None:
    _check_reclaim_window(user, customer, limits, own=own)
    _check_owned_limit(user, limits, adding=1, own=own)
    _check_daily_limit(user, limits, own=own)


def _public_customer(actor, customer_id: int) -> Customer:
    """The customer as it is now, if public in a pool the actor may see; else a clear refusal."""
    customer = Customer.objects.filter(pk=customer_id, deleted_at__isnull=True).select_related("pool").first()
    if customer is None:
        raise ValidationError(_("该客户不存在或已被删除。"))
    if customer.owner_id is not None:
        raise _already_claimed()
    if customer.pool_id is None:
        raise ValidationError(_("该客户不在公海中。"))
    if not pools_visible(actor).filter(pk=customer.pool_id).exists():
        raise ValidationError(_("您不能查看或领取该公海中的客户。"))
    return customer


def send_to_pool(ids: list[int], *, pool: Pool, reason, now) -> int:
    """Put these owned customers into `pool` in one UPDATE: the owner becomes the previous owner
    (so the reclaim window applies), claim and protection end, the reason is kept; their shares
    and team go with the owner. `reason` may be a text or an SQL expression (per-row reasons)."""
    moved = Customer.objects.filter(pk__in=ids, owner__isnull=False).update(
        previous_owner=F("owner"),
        owner=None,
        department=None,
        pool=pool,
        claimed_at=None,
        protected_until=None,
        released_at=now,
        release_reason=reason,
        updated_at=now,
    )
    CustomerAccess.objects.filter(customer_id__in=ids).delete()
    return moved


def _take(customer_ids: list[int], to_user, now) -> int:
    """The conditional UPDATE that hands public customers to a user; returns the rows taken."""
    return Customer.objects.filter(pk__in=customer_ids, owner__isnull=True, deleted_at__isnull=True).update(
        owner=to_user, department_id=to_user.department_id, claimed_at=now, updated_at=now
    )


# ---------------------------------------------------------------- claim, apply, approve, reject


@transaction.atomic
def pool_claim(*, actor, customer: Customer, reason: str = "", ip: str | None = None):
    """Claim (领取) a public customer. In a pool that needs approval this files an application
    instead: returns the ClaimRequest; otherwise the claimed Customer."""
    _require(actor, "pool.view", "pool.create")
    customer = _public_customer(actor, customer.pk)
    if customer.pool.claim_needs_approval:
        return pool_apply(actor=actor, customer=customer, reason=reason, ip=ip)
    limits = PoolSettings.load()
    _lock_user(actor)
    _check_limits(actor, customer, limits)
    now = timezone.now()
    if _take([customer.pk], actor, now) != 1:
        raise _already_claimed()
    _close_pending_applications([customer.pk], actor=actor)
    customer.owner, customer.claimed_at = actor, now
    log_action(
        actor=actor,
        action="pool.claimed",
        target=customer,
        changes={"owner": [None, str(actor)], "pool": [str(customer.pool), str(customer.pool)]},
        ip_address=ip,
    )
    return customer


@transaction.atomic
def pool_apply(*, actor, customer: Customer, reason: str = "", ip: str | None = None) -> ClaimRequest:
    """Apply (申请) to claim a customer from a pool that needs approval."""
    _require(actor, "pool.view", "pool.create")
    customer = _public_customer(actor, customer.pk)
    if not customer.pool.claim_needs_approval:
        raise ValidationError(_("“%(pool)s”无需申请，可以直接领取。") % {"pool": customer.pool})
    reason = (reason or "").strip()
    if len(reason) > 200:
        raise ValidationError(_("申请理由不能超过 200 个字符。"))
    limits = PoolSettings.load()
    _check_limits(actor, customer, limits)
    pending = ClaimRequest.objects.filter(
        customer=customer, applicant=actor, status=ClaimRequest.Status.PENDING
    )
    if pending.exists():
        raise ValidationError(_("您已申请过该客户，请等待审批。"))
    try:
        with transaction.atomic():
            application = ClaimRequest.objects.create(
                customer=customer, pool=customer.pool, applicant=actor, reason=reason
            )
    except IntegrityError as exc:  # the same user applying twice at the same moment
        raise ValidationError(_("您已申请过该客户，请等待审批。")) from exc
    log_action(
        actor=actor,
        action="pool.applied",
        target=customer,
        changes={"reason": [None, reason]} if reason else {},
        ip_address=ip,
    )
    return application


def _lock_pending(application: ClaimRequest) -> ClaimRequest:
    locked = (
        ClaimRequest.objects.select_for_update(of=("self",))
        .select_related("customer", "pool", "applicant")
        .filter(pk=application.pk)
        .first()
    )
    if locked is None or locked.status != ClaimRequest.Status.PENDING:
        raise ValidationError(_("该申请已被处理，请刷新页面。"))
    return locked


def _check_decider(actor, application: ClaimRequest) -> None:
    _require(actor, "pool.edit")
    if not pools_visible(actor).filter(pk=application.pool_id).exists():
        raise PermissionRequiredError("pool.edit")


@transaction.atomic
def pool_approve(*, actor, application: ClaimRequest, note: str = "", ip: str | None = None) -> ClaimRequest:
    """Approve (批准) an application: the customer goes to the applicant, race-free, within the
    applicant's limits; the applicant gets a message."""
    _check_decider(actor, application)
    application = _lock_pending(application)
    applicant, customer = application.applicant, application.customer
    if not applicant.is_active:
        raise ValidationError(_("申请人%(user)s已停用，不能批准，请驳回。") % {"user": applicant})
    if customer.deleted_at is not None:
        raise ValidationError(_("该客户已被删除，不能批准，请驳回。"))
    if customer.owner_id is not None:
        raise ValidationError(_("该客户已被其他人领取，不能批准，请驳回。"))
    limits = PoolSettings.load()
    _lock_user(applicant)
    _check_limits(applicant, customer, limits, own=False)
    now = timezone.now()
    if _take([customer.pk], applicant, now) != 1:
        raise ValidationError(_("该客户已被其他人领取，不能批准，请驳回。"))
    application.status = ClaimRequest.Status.APPROVED
    application.decided_by, application.decided_at = actor, now
    application.decision_note = (note or "").strip()[:200]
    application.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    _close_pending_applications([customer.pk], actor=actor)
    log_action(
        actor=actor,
        action="pool.approved",
        target=customer,
        changes={"owner": [None, str(applicant)]},
        message=application.decision_note,
        ip_address=ip,
    )
    notification_send(
        recipient=applicant,
        kind=Notification.Kind.APPROVAL,
        title=_("您申请领取的客户“%(customer)s”已批准") % {"customer": customer.name},
        body=application.decision_note,
    )
    return application


@transaction.atomic
def pool_reject(*, actor, application: ClaimRequest, note: str = "", ip: str | None = None) -> ClaimRequest:
    """Reject (驳回) an application; the applicant gets a message."""
    _check_decider(actor, application)
    application = _lock_pending(application)
    application.status = ClaimRequest.Status.REJECTED
    application.decided_by, application.decided_at = actor, timezone.now()
    application.decision_note = (note or "").strip()[:200]
    application.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    log_action(
        actor=actor,
        action="pool.rejected",
        target=application.customer,
        changes={"applicant": [str(application.applicant), None]},
        message=application.decision_note,
        ip_address=ip,
    )
    notification_send(
        recipient=application.applicant,
        kind=Notification.Kind.APPROVAL,
        title=_("您申请领取的客户“%(customer)s”未获批准") % {"customer": application.customer.name},
        body=application.decision_note,
    )
    return application


# ---------------------------------------------------------------- assign, recall, release, delete


@transaction.atomic
def pool_assign(*, actor, customers: QuerySet[Customer], to_user: User, ip: str | None = None) -> int:
    """Assign (指派) public customers to a person, one or many at once, set-based. Every selected
    customer must be public in a pool the actor sees, else nothing changes."""
    _require(actor, "pool.view", "pool.transfer")
    if not to_user.is_active:
        raise ValidationError(_("不能把客户指派给已停用的员工。"))
    if not pool_selectors.assignable_users(actor).filter(pk=to_user.pk).exists():
        raise ValidationError(_("只能把客户指派给您数据范围内的员工。"))
    requested = _requested_ids(customers)
    rows = _locked(pool_selectors.pool_customers(actor).filter(pk__in=requested))
    _refuse_missing(
        actor, requested, rows, _("以下客户已被领取或不在您可见的公海中，未做任何指派：%(names)s。")
    )
    limits = PoolSettings.load()
    _lock_user(to_user)
    _check_owned_limit(to_user, limits, adding=len(rows), own=False)
    now = timezone.now()
    ids = [c.pk for c in rows]
    if _take(ids, to_user, now) != len(ids):  # rows are locked: cannot happen, but never half-assign
        raise _already_claimed()
    _close_pending_applications(ids, actor=actor)
    log_actions_bulk(
        actor=actor,
        action="pool.assigned",
        targets=rows,
        changes={"owner": [None, str(to_user)]},
        ip_address=ip,
    )
    if to_user.pk != actor.pk:
        notification_send(
            recipient=to_user,
            title=_("%(actor)s给您指派了 %(count)d 个公海客户") % {"actor": actor, "count": len(rows)},
        )
    return len(rows)


def _check_reason(reason: str, empty_message: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(empty_message)
    if len(reason) > 200:
        raise ValidationError(_("原因不能超过 200 个字符。"))
    return reason


@transaction.atomic
def pool_recall(
    *, actor, customers: QuerySet[Customer], pool: Pool, reason: str, ip: str | None = None
) -> int:
    """Recall (收回) owned customers in the actor's data scope into a pool, set-based: the former
    owner, time and reason are kept, shares and team of the customer are removed."""
    _require(actor, "pool.view", "pool.transfer")
    reason = _check_reason(reason, _("请填写收回原因。"))
    if pool is None or not pools_visible(actor).filter(pk=pool.pk).exists():
        raise ValidationError(_("请选择您可见的公海。"))
    requested = _requested_ids(customers)
    rows = _locked(pool_selectors.recallable_customers(actor).filter(pk__in=requested))
    _refuse_missing(
        actor,
        requested,
        rows,
        _("以下客户不是您数据范围内已有负责人的客户，不能收回，未做任何收回：%(names)s。"),
    )
    ids = [c.pk for c in rows]
    now = timezone.now()
    send_to_pool(ids, pool=pool, reason=reason, now=now)
    log_actions_bulk(
        actor=actor,
        action="pool.recalled",
        targets=rows,
        changes={"pool": [None, str(pool)], "release_reason": [None, reason]},
        ip_address=ip,
    )
    owners = sorted({c.owner_id for c in rows} - {actor.pk})
    Notification.objects.bulk_create(
        Notification(
            recipient_id=owner_id,
            title=_("您的客户已被收回到“%(pool)s”") % {"pool": pool},
            body=_("原因：%(reason)s") % {"reason": reason},
        )
        for owner_id in owners
    )
    return len(rows)


@transaction.atomic
def pool_release(
    *, actor, customer: Customer, reason: str, pool: Pool | None = None, ip: str | None = None
) -> Customer:
    """An owner gives a customer back (退回公海): to `pool`, else the pool it came from, else the
    default pool."""
    reason = _check_reason(reason, _("请填写退回原因。"))
    if pool is not None and not pools_visible(actor).filter(pk=pool.pk).exists():
        raise ValidationError(_("请选择您可见的公海。"))
    current = Customer.objects.filter(pk=customer.pk).select_related("pool").first()
    if current is None or current.owner_id != actor.pk or current.deleted_at is not None:
        raise ValidationError(_("只有客户的负责人才能把客户退回公海。"))
    pool = pool or current.pool or default_pool()
    now = timezone.now()
    updated = Customer.objects.filter(pk=customer.pk, owner=actor, deleted_at__isnull=True).update(
        previous_owner=actor,
        owner=None,
        department=None,
        pool=pool,
        claimed_at=None,
        protected_until=None,
        released_at=now,
        release_reason=reason,
        updated_at=now,
    )
    if updated != 1:
        raise ValidationError(_("只有客户的负责人才能把客户退回公海。"))
    CustomerAccess.objects.filter(customer_id=customer.pk).delete()
    log_action(
        actor=actor,
        action="pool.released",
        target=current,
        changes={"owner": [str(actor), None], "pool": [None, str(pool)], "release_reason": [None, reason]},
        ip_address=ip,
    )
    current.refresh_from_db()
    return current


@dataclass(frozen=True)
class ReleaseResult:
    """What a bulk release did: how many customers went to the pool, which were kept back
    because they are protected (保护期)."""

    count: int
    protected: tuple[int, ...] = ()  # ids kept back: under protection
    ids: tuple[int, ...] = ()  # ids put into the pool


def releasable_customers(actor, customers: QuerySet[Customer]) -> QuerySet[Customer]:
    """Of `customers`, the live owned ones `actor` may put into a pool: their own (like
    `pool_release`, an owner may always give back), and, with pool.transfer, those whose owner is
    in the actor's data scope (like `pool_recall`). One SQL condition, no query of its own."""
    customers = customers.filter(owner__isnull=False, deleted_at__isnull=True)
    allowed = Q(owner_id=actor.pk)
    if policy.can(actor, "pool.view") and policy.can(actor, "pool.transfer"):
        scope = policy.visible_q(actor, "owner")
        allowed |= Q(owner__isnull=False) if scope is None else scope
    return customers.filter(allowed)


@transaction.atomic
def pool_release_many(
    *, actor, customers: QuerySet[Customer], pool: Pool, reason: str, ip: str | None = None
) -> ReleaseResult:
    """Put many customers into a pool at once (放入公海, the list's bulk action), set-based.

    Like `pool_release` (own customers) and `pool_recall` (others' customers, with pool.transfer):
    the former owner, time and reason are kept (so the reclaim window of POOL-3 applies), shares
    and team are removed, one log entry per customer. Customers under protection (保护期) are
    not released; the result names them, and a batch of only protected customers is refused.
    `customers` is what the caller may change; those it may not put into a pool are left alone."""
    _require(actor, "customers.edit")
    reason = _check_reason(reason, _("请填写放入公海的原因。"))
    if pool is None or not pools_visible(actor).filter(pk=pool.pk).exists():
        raise ValidationError(_("请选择您可见的公海。"))
    found = list(
        releasable_customers(actor, customers)
        .select_for_update(of=("self",))
        .only("pk", "name", "owner_id", "pool_id", "protected_until")
        .order_by("pk")[: MAX_BATCH + 1]
    )
    if len(found) > MAX_BATCH:
        raise ValidationError(_("一次最多处理 %(max)d 个客户。") % {"max": MAX_BATCH})
    now = timezone.now()
    protected = [c.pk for c in found if c.protected_until is not None and c.protected_until > now]
    rows = [c for c in found if c.pk not in protected]
    if not rows and protected:
        raise ValidationError(
            ngettext(
                "所选的 %(count)d 个客户在保护期内，不能放入公海，未做任何操作。",
                "所选的 %(count)d 个客户在保护期内，不能放入公海，未做任何操作。",
                len(protected),
            )
            % {"count": len(protected)}
        )
    if not rows:
        return ReleaseResult(count=0)
    ids = [c.pk for c in rows]
    send_to_pool(ids, pool=pool, reason=reason, now=now)
    owners = {u.pk: str(u) for u in User.objects.filter(pk__in={c.owner_id for c in rows})}
    pools = {p.pk: str(p) for p in Pool.objects.filter(pk__in={c.pool_id for c in rows} - {None})}
    changes = {
        c.pk: {
            "owner": [owners.get(c.owner_id), None],
            "pool": [pools.get(c.pool_id), str(pool)],
            "release_reason": [None, reason],
        }
        for c in rows
    }
    own = [c for c in rows if c.owner_id == actor.pk]
    others = [c for c in rows if c.owner_id != actor.pk]
    log_actions_bulk(
        actor=actor, action="pool.released", targets=own, changes_by_target=changes, ip_address=ip
    )
    log_actions_bulk(
        actor=actor, action="pool.recalled", targets=others, changes_by_target=changes, ip_address=ip
    )
    Notification.objects.bulk_create(
        Notification(
            recipient_id=owner_id,
            title=_("您的客户已被收回到“%(pool)s”") % {"pool": pool},
            body=_("原因：%(reason)s") % {"reason": reason},
        )
        for owner_id in sorted({c.owner_id for c in others})
    )
    return ReleaseResult(count=len(rows), protected=tuple(protected), ids=tuple(ids))


@transaction.atomic
def pool_customers_delete(*, actor, customers: QuerySet[Customer], ip: str | None = None) -> int:
    """Delete public customers to the recycle bin (services.customers_delete logs customer.deleted
    per customer). Every selected customer must be public in a pool the actor sees."""
    _require(actor, "pool.view", "pool.delete")
    requested = _requested_ids(customers)
    rows = list(pool_selectors.pool_customers(actor).filter(pk__in=requested).only("pk", "name"))
    _refuse_missing(
        actor, requested, rows, _("以下客户已被领取或不在您可见的公海中，未做任何删除：%(names)s。")
    )
    return customers_delete(
        actor=actor, customers=Customer.objects.filter(pk__in=[c.pk for c in rows]), ip=ip
    )


# ---------------------------------------------------------------- settings (pools, limits)


def _pool_snapshot(pool: Pool) -> dict:
    return {
        "name": pool.name,
        "description": pool.description,
        "is_default": pool.is_default,
        "claim_needs_approval": pool.claim_needs_approval,
        "departments": sorted(str(d) for d in pool.departments.all()) if pool.pk else [],
        "users": sorted(str(u) for u in pool.users.all()) if pool.pk else [],
    }


@transaction.atomic
def pool_save(
    *,
    actor,
    pool: Pool | None,
    name: str,
    description: str = "",
    is_default: bool = False,
    claim_needs_approval: bool = False,
    departments: list[Department] = (),
    users: list[User] = (),
    ip: str | None = None,
) -> Pool:
    """Create or change a pool: who sees it (departments/users; none = everyone), approval."""
    _require(actor, "pool.settings")
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("公海名称不能为空。")})
    if len(name) > 64:
        raise ValidationError({"name": _("公海名称不能超过 64 个字符。")})
    if Pool.objects.filter(name=name).exclude(pk=getattr(pool, "pk", None)).exists():
        raise ValidationError({"name": _("公海名称“%(name)s”已存在。") % {"name": name}})
    if pool is not None and pool.is_default and not is_default:
        raise ValidationError(
            {"is_default": _("必须有一个默认公海：请把另一个公海设为默认，而不是取消这一个。")}
        )
    if any(not u.is_active for u in users):
        raise ValidationError({"users": _("不能把公海开放给已停用的员工。")})
    created = pool is None
    old = {} if created else _pool_snapshot(pool)
    pool = pool or Pool()
    pool.name, pool.description = name, (description or "").strip()[:255]
    pool.is_default, pool.claim_needs_approval = is_default, claim_needs_approval
    pool.save()
    pool.departments.set(departments)
    pool.users.set(users)
    if pool.is_default:
        Pool.objects.exclude(pk=pool.pk).filter(is_default=True).update(is_default=False)
    changes = diff(old, _pool_snapshot(pool))
    log_action(
        actor=actor,
        action="pool.pool_created" if created else "pool.pool_updated",
        target=pool,
        changes=changes,
        ip_address=ip,
    )
    return pool


@transaction.atomic
def pool_remove(*, actor, pool: Pool, ip: str | None = None) -> None:
    """Delete an empty pool; never the default one."""
    _require(actor, "pool.settings")
    pool = Pool.objects.select_for_update().get(pk=pool.pk)
    if pool.is_default:
        raise ValidationError(_("默认公海不能删除。"))
    if Customer.objects.filter(pool=pool).exists():
        raise ValidationError(
            _("“%(pool)s”中还有客户（包括已领用和回收站中的客户），不能删除。") % {"pool": pool}
        )
    log_action(
        actor=actor,
        action="pool.pool_deleted",
        target=pool,
        changes={"name": [pool.name, None]},
        ip_address=ip,
    )
    pool.delete()


@transaction.atomic
def pool_limits_update(
    *, actor, max_owned: int, max_claims_per_day: int, reclaim_after_days: int, ip: str | None = None
) -> PoolSettings:
    """Change the claim limits (POOL-3); 0 means no limit."""
    _require(actor, "pool.settings")
    values = {
        "max_owned": max_owned,
        "max_claims_per_day": max_claims_per_day,
        "reclaim_after_days": reclaim_after_days,
    }
    for field, value in values.items():
        if value is None or value < 0 or value > 1_000_000:
            raise ValidationError({field: _("请填写 0 到 1000000 之间的整数（0 表示不限）。")})
    limits = PoolSettings.load()
    limits = PoolSettings.objects.select_for_update().get(pk=limits.pk)
    old = {field: getattr(limits, field) for field in values}
    for field, value in values.items():
        setattr(limits, field, value)
    limits.save()
    changes = diff(old, values)
    if changes:
        log_action(actor=actor, action="pool.limits_changed", target=limits, changes=changes, ip_address=ip)
    return limits
