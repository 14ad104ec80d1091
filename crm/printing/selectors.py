"""Reads for printing: templates, the customers a user may print, and what an envelope shows."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Prefetch, QuerySet
from django.utils.safestring import SafeString

from crm.access import field_policy
from crm.customers import selectors as customer_selectors
from crm.customers.models import Contact, Customer
from crm.printing.models import PAPER_SIZES, EnvelopeTemplate
from crm.printing.placeholders import substitute

MAX_PRINT = 500  # customers per printed batch (the list's bulk limit)


def templates() -> QuerySet[EnvelopeTemplate]:
    return EnvelopeTemplate.objects.all()


def template_get(pk) -> EnvelopeTemplate | None:
    try:
        return EnvelopeTemplate.objects.filter(pk=int(pk)).first()
    except (TypeError, ValueError):
        return None


def default_template() -> EnvelopeTemplate | None:
    return EnvelopeTemplate.objects.order_by("-is_default", "name", "id").first()


def parse_ids(values) -> list[int]:
    """Posted ids (`ids=1&ids=2` or `ids=1,2`), digits only, without repeats, at most MAX_PRINT."""
    found: list[int] = []
    for value in values:
        for part in str(value).split(","):
            part = part.strip()
            if part.isdigit() and len(part) < 12 and int(part) not in found:
                found.append(int(part))
    return found[:MAX_PRINT]


def customers_for_print(user, ids: list[int]) -> list[Customer]:
    """The customers among `ids` the user may see (pool ones included, as on their detail page), in
    the order posted, with their primary contact prefetched: two queries whatever the count."""
    if not ids:
        return []
    customers = (
        customer_selectors.customers_visible(user, include_pool=True)
        .filter(pk__in=ids)
        .select_related("owner", "status", "value_level", "stage", "pool")
        .prefetch_related(
            Prefetch(
                "contacts",
                queryset=Contact.objects.filter(is_primary=True).only("id", "customer_id", "name"),
                to_attr="primary_contacts",
            )
        )
    )
    by_pk = {c.pk: c for c in customers}
    return [by_pk[pk] for pk in ids if pk in by_pk]


SAMPLE = {
    "客户名称": "深圳市华强电子有限公司",
    "联系人": "张伟",
    "地址": "广东省深圳市福田区华强北路1002号赛格广场18楼",
    "邮编": "518031",
    "电话": "0755-83281234",
    "手机": "13812345678",
}


def customer_values(customer: Customer, fields: field_policy.FieldAccess) -> dict[str, str]:
    """The placeholder values of one customer: hidden fields empty, masked ones masked (ORG-8)."""

    def value(field: str) -> str:
        if not fields.visible(field):
            return ""
        shown = fields.display(field, getattr(customer, field))
        return "" if shown is None else str(shown)

    primary = getattr(customer, "primary_contacts", None)
    contact = primary[0].name if primary else ""
    return {
        "客户名称": customer.name,
        "联系人": contact,
        "地址": value("address"),
        "邮编": value("postcode"),
        "电话": value("phone"),
        "手机": value("mobile"),
    }


@dataclass
class Envelope:
    sender: SafeString
    recipient: SafeString
    postcode: str
    customer_id: int | None = None


def envelope_for(template: EnvelopeTemplate, values: dict[str, str], customer_id: int | None = None):
    values = {**values, "寄件人": template.sender_name, "公司名称": template.sender_company}
    postcode = "".join(ch for ch in values.get("邮编", "") if ch.isalnum())[:10]
    sender = substitute(template.sender_text, values)
    if not sender.replace("<br>", "").strip():
        sender = SafeString("")
    return Envelope(
        sender=sender,
        recipient=substitute(template.recipient_text, values),
        postcode=postcode,
        customer_id=customer_id,
    )


def envelopes(user, template: EnvelopeTemplate, customers: list[Customer]) -> list[Envelope]:
    fields = field_policy.field_access(user, "customers", field_policy.DETAIL)
    return [envelope_for(template, customer_values(c, fields), c.pk) for c in customers]


def sample_envelope(template: EnvelopeTemplate) -> Envelope:
    return envelope_for(template, dict(SAMPLE))


def paper_size(paper: str) -> tuple[Decimal, Decimal]:
    width, height = PAPER_SIZES[paper]
    return Decimal(width), Decimal(height)
