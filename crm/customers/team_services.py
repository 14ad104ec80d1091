"""Customer team (客户团队, CUS-5): the owner adds colleagues who work on the customer."""

import logging
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from crm.accounts.models import User
from crm.audit.services import log_action
from crm.customers.models import Customer, CustomerAccess

logger = logging.getLogger(__name__)


@transaction.atomic
def customer_team_add(
    *, actor, customer: Customer, users: Iterable[User], can_edit: bool = False, ip: str | None = None
) -> int:
    """Make the users team members (read-only or read-write); an existing share becomes a team
    membership. The owner is never added to their own customer's team."""
    users = [u for u in users if u.is_active and u.pk != customer.owner_id]
    if not users:
        raise ValidationError(_("请选择要加入团队的在职员工（负责人本人除外）。"))
    user_ids = [u.pk for u in users]
    existing = set(
        CustomerAccess.objects.filter(customer=customer, user_id__in=user_ids).values_list(
            "user_id", flat=True
        )
    )
    CustomerAccess.objects.filter(customer=customer, user_id__in=existing).update(
        kind=CustomerAccess.Kind.TEAM, can_edit=can_edit, granted_by=actor
    )
    CustomerAccess.objects.bulk_create(
        [
            CustomerAccess(
                customer=customer, user=u, kind=CustomerAccess.Kind.TEAM, can_edit=can_edit, granted_by=actor
            )
            for u in users
            if u.pk not in existing
        ],
        ignore_conflicts=True,
    )
    log_action(
        actor=actor,
        action="customer.team_added",
        target=customer,
        changes={"team": [None, sorted(str(u) for u in users)], "can_edit": [None, can_edit]},
        ip_address=ip,
    )
    logger.info("customer %s: %s added %d team member(s)", customer.pk, actor.pk, len(users))
    return len(users)
