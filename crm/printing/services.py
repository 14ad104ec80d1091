"""Writes of the printing app: envelope templates (kept by admins) and the print log."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from crm.audit.services import log_action, log_actions_bulk
from crm.customers.models import Customer
from crm.printing.models import EnvelopeTemplate

TEMPLATE_FIELDS = (
    "name",
    "paper",
    "width_mm",
    "height_mm",
    "sender_company",
    "sender_name",
    "sender_text",
    "sender_x",
    "sender_y",
    "sender_font_size",
    "sender_font",
    "recipient_text",
    "recipient_x",
    "recipient_y",
    "recipient_font_size",
    "recipient_font",
    "show_postcode",
    "postcode_x",
    "postcode_y",
    "postcode_font_size",
    "postcode_spacing",
    "is_default",
)


def _save(template: EnvelopeTemplate, values: dict[str, Any]) -> EnvelopeTemplate:
    unknown = set(values) - set(TEMPLATE_FIELDS)
    if unknown:
        raise ValidationError(_("未知字段：%(fields)s。") % {"fields": "、".join(sorted(unknown))})
    for key, value in values.items():
        setattr(template, key, value)
    template.full_clean()
    if template.is_default:
        EnvelopeTemplate.objects.filter(is_default=True).exclude(pk=template.pk).update(is_default=False)
    template.save()
    if not EnvelopeTemplate.objects.filter(is_default=True).exists():
        # Always one default, so the print pages have something preselected.
        template.is_default = True
        template.save(update_fields=["is_default"])
    return template


@transaction.atomic
def envelope_template_create(*, actor, values: dict[str, Any], ip_address: str | None = None):
    template = _save(EnvelopeTemplate(), values)
    log_action(
        actor=actor,
        action="envelope_template.created",
        target=template,
        changes={"name": template.name},
        ip_address=ip_address,
    )
    return template


@transaction.atomic
def envelope_template_update(
    *, actor, template: EnvelopeTemplate, values: dict[str, Any], ip_address: str | None = None
) -> EnvelopeTemplate:
    template = EnvelopeTemplate.objects.select_for_update().get(pk=template.pk)
    before = {f: getattr(template, f) for f in TEMPLATE_FIELDS}
    template = _save(template, values)
    changes = {
        f: [before[f], getattr(template, f)] for f in TEMPLATE_FIELDS if before[f] != getattr(template, f)
    }
    log_action(
        actor=actor,
        action="envelope_template.updated",
        target=template,
        changes=changes,
        ip_address=ip_address,
    )
    return template


@transaction.atomic
def envelope_template_delete(*, actor, template: EnvelopeTemplate, ip_address: str | None = None) -> None:
    was_default = template.is_default
    log_action(
        actor=actor,
        action="envelope_template.deleted",
        target=template,
        changes={"name": template.name},
        ip_address=ip_address,
    )
    template.delete()
    if was_default:
        successor = EnvelopeTemplate.objects.order_by("name", "id").first()
        if successor is not None:
            successor.is_default = True
            successor.save(update_fields=["is_default"])


def customers_printed(*, actor, customers: list[Customer], what: str, ip_address: str | None = None) -> int:
    """One "customer.printed" log row per printed customer, in one INSERT."""
    return log_actions_bulk(
        actor=actor,
        action="customer.printed",
        targets=list(customers),
        message=what,
        ip_address=ip_address,
    )
