"""Writing the operation log. Every service calls `log_action` inside its transaction."""

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from crm.audit.models import OperationLog
from crm.webhooks.dispatch import webhook_events_logged


def _plain(value: Any) -> Any:
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [old, new]} for the fields whose value changed."""
    return {
        key: [_plain(old.get(key)), _plain(new.get(key))]
        for key in sorted(set(old) | set(new))
        if _plain(old.get(key)) != _plain(new.get(key))
    }


def log_action(
    *,
    actor,
    action: str,
    target: models.Model | None = None,
    changes: dict[str, Any] | None = None,
    message: str = "",
    ip_address: str | None = None,
) -> OperationLog:
    log = OperationLog.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        target_type=ContentType.objects.get_for_model(target) if target is not None else None,
        target_id=str(target.pk) if target is not None else "",
        target_repr=str(target)[:200] if target is not None else "",
        changes={k: _plain(v) for k, v in (changes or {}).items()},
        message=message[:500],
        ip_address=ip_address,
    )
    webhook_events_logged([log])  # signed webhooks (crm/webhooks); never raises, queries nothing idle
    return log


def log_actions_bulk(
    *,
    actor,
    action: str,
    targets: list[models.Model],
    changes: dict[str, Any] | None = None,
    message: str = "",
    ip_address: str | None = None,
    changes_by_target: dict[Any, dict[str, Any]] | None = None,
) -> int:
    """One log row per target in one INSERT: bulk actions stay set-based and still audited.

    `changes_by_target` ({target pk: changes}) gives each target its own changes (old → new per
    record); a target it does not name gets `changes`."""
    if not targets:
        return 0
    content_type = ContentType.objects.get_for_model(targets[0])
    plain_changes = {k: _plain(v) for k, v in (changes or {}).items()}
    by_target = {
        pk: {k: _plain(v) for k, v in target_changes.items()}
        for pk, target_changes in (changes_by_target or {}).items()
    }
    rows = [
        OperationLog(
            actor=actor if getattr(actor, "pk", None) else None,
            action=action,
            target_type=content_type,
            target_id=str(target.pk),
            target_repr=str(target)[:200],
            changes=by_target.get(target.pk, plain_changes),
            message=message[:500],
            ip_address=ip_address,
        )
        for target in targets
    ]
    OperationLog.objects.bulk_create(rows, batch_size=5000)
    webhook_events_logged(rows)  # signed webhooks (crm/webhooks); never raises, queries nothing idle
    return len(rows)


def client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") if request is not None else None
