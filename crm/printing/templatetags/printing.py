from decimal import Decimal, InvalidOperation

from django import template

register = template.Library()


@register.filter
def mm(value) -> str:
    """A length as plain CSS text without locale formatting: Decimal("220.0") → "220"."""
    try:
        number = Decimal(str(value)).normalize()
    except (InvalidOperation, ValueError, TypeError):
        return "0"
    return f"{number:f}"
