"""Envelope placeholders ({{客户名称}} …): a plain regex replacement over an allow-list.

Admin-written envelope text is never run through the Django template engine: the literal parts and
the values are HTML-escaped separately and joined, so a customer called "<script>" prints as text.
"""

import re
from collections.abc import Iterable, Mapping

from django.core.exceptions import ValidationError
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

PLACEHOLDER_RE = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")

# The allow-list: placeholder → what it stands for (shown in the editor's help).
PLACEHOLDERS: dict[str, str] = {
    "客户名称": "customer_name",
    "联系人": "contact_name",
    "地址": "address",
    "邮编": "postcode",
    "电话": "phone",
    "手机": "mobile",
    "寄件人": "sender_name",
    "公司名称": "sender_company",
}


def unknown_placeholders(text: str) -> list[str]:
    """The placeholders in `text` that are not on the allow-list, in order, without repeats."""
    found: list[str] = []
    for match in PLACEHOLDER_RE.finditer(text or ""):
        name = match.group(1)
        if name not in PLACEHOLDERS and name not in found:
            found.append(name)
    return found


def validate_placeholders(text: str) -> None:
    """Model/serializer validator: refuse unknown placeholders with a message naming them."""
    unknown = unknown_placeholders(text)
    if unknown:
        allowed = "、".join(f"{{{{{name}}}}}" for name in PLACEHOLDERS)
        raise ValidationError(
            _("未知的占位符：%(unknown)s。可用的占位符有：%(allowed)s。")
            % {"unknown": "、".join(f"{{{{{name}}}}}" for name in unknown), "allowed": allowed},
            code="unknown_placeholder",
        )


def substitute(text: str, values: Mapping[str, object]) -> SafeString:
    """`text` with each known placeholder replaced by its value, everything HTML-escaped, line
    breaks as <br>. `values` is keyed by the placeholder's Chinese name; a missing value is ""."""
    parts: list[str] = []
    position = 0
    for match in PLACEHOLDER_RE.finditer(text or ""):
        parts.append(escape(text[position : match.start()]))
        name = match.group(1)
        if name in PLACEHOLDERS:
            value = values.get(name)
            parts.append(escape("" if value is None else str(value)))
        else:  # refused on save; an old row prints the placeholder as typed
            parts.append(escape(match.group(0)))
        position = match.end()
    parts.append(escape((text or "")[position:]))
    html = "".join(parts).replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>")
    return mark_safe(html)  # noqa: S308 - every piece above is escaped


def help_items() -> Iterable[str]:
    return [f"{{{{{name}}}}}" for name in PLACEHOLDERS]
