"""How each custom-field type is validated, stored in `custom_data` and shown.

Stored forms (JSON), chosen so that the same JSON key lookups work on SQLite and PostgreSQL:

| type                          | stored as                                          |
|-------------------------------|----------------------------------------------------|
| text, long text, phone, e-mail, URL, single choice | string                        |
| number                        | string, plain decimal ("1234.5")                   |
| money                         | string with 2 decimals ("1234.50")                 |
| date                          | string "YYYY-MM-DD"                                |
| date-time                     | string, UTC "YYYY-MM-DDTHH:MM:SS+00:00"           |
| multi choice                  | list of strings, in the options' order             |
| boolean                       | true / false                                       |
| user                          | integer id                                         |

An empty value is not stored (the key is left out).
"""

import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from crm.customfields.models import CustomField

T = CustomField.FieldType
TEXT_MAX = 200
LONG_TEXT_MAX = 2000
URL_MAX = 500
NUMBER_MAX_DIGITS = 18
NUMBER_MAX_PLACES = 6
MONEY_MAX = Decimal("100000000000000")  # 10^14
PHONE_RE = re.compile(r"^[0-9+\-() ]{5,32}$")
TRUE_WORDS = {"true", "1", "yes", "on", "是"}
FALSE_WORDS = {"false", "0", "no", "off", "否"}


class EmptyValueError(Exception):
    """The value is empty: nothing is stored for the field."""


def is_empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, (list, tuple, set)):
        return not any(not is_empty(v) for v in value)
    return False


def normalise(field: CustomField, value: Any, *, current: Any = None) -> Any:
    """The stored form of `value` for `field`, or raises ValidationError (a Chinese message).

    `current` is what the record holds now: a choice or user it already has stays acceptable
    after the option is removed or the user is disabled (like deactivated dictionary values)."""
    if is_empty(value):
        raise EmptyValueError
    handler = _HANDLERS[field.field_type]
    return handler(field, value, current)


def _text(field: CustomField, value: Any, current: Any, *, limit: int = TEXT_MAX) -> str:
    if not isinstance(value, (str, int, float, Decimal)) or isinstance(value, bool):
        raise ValidationError(_("“%(label)s”应为文本。") % {"label": field.label})
    text = str(value).strip()
    if len(text) > limit:
        raise ValidationError(
            _("“%(label)s”不能超过 %(limit)d 个字符。") % {"label": field.label, "limit": limit}
        )
    return text


def _long_text(field, value, current) -> str:
    if isinstance(value, str):
        value = value.replace("\r\n", "\n")
    return _text(field, value, current, limit=LONG_TEXT_MAX)


def _decimal(field: CustomField, value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValidationError(_("“%(label)s”应为数字。") % {"label": field.label})
    try:
        number = Decimal(str(value).strip().replace(",", "")) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError(_("“%(label)s”应为数字。") % {"label": field.label}) from exc
    if not number.is_finite():
        raise ValidationError(_("“%(label)s”应为数字。") % {"label": field.label})
    return number


def _number(field, value, current) -> str:
    number = _decimal(field, value)
    exponent = number.normalize().as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    if places > NUMBER_MAX_PLACES:
        raise ValidationError(
            _("“%(label)s”最多 %(places)d 位小数。") % {"label": field.label, "places": NUMBER_MAX_PLACES}
        )
    if abs(number) >= Decimal(10) ** (NUMBER_MAX_DIGITS - NUMBER_MAX_PLACES):
        raise ValidationError(_("“%(label)s”超出了允许的范围。") % {"label": field.label})
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def _money(field, value, current) -> str:
    number = _decimal(field, value)
    if number != number.quantize(Decimal("0.01")):
        raise ValidationError(_("“%(label)s”是金额，最多两位小数。") % {"label": field.label})
    if abs(number) >= MONEY_MAX:
        raise ValidationError(_("“%(label)s”超出了允许的范围。") % {"label": field.label})
    return f"{number.quantize(Decimal('0.01')):f}"


def _date(field, value, current) -> str:
    if isinstance(value, datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if isinstance(value, date):
        return value.isoformat()
    day = None
    if isinstance(value, str):
        try:
            day = parse_date(value.strip())
        except ValueError:
            day = None
    if day is None:
        raise ValidationError(_("“%(label)s”应为有效的日期，格式如 2026-01-31。") % {"label": field.label})
    return day.isoformat()


def _datetime(field, value, current) -> str:
    moment = value if isinstance(value, datetime) else None
    if moment is None and isinstance(value, str):
        text = value.strip().replace(" ", "T", 1)
        try:
            moment = parse_datetime(text)
        except ValueError:
            moment = None
    if moment is None:
        raise ValidationError(
            _("“%(label)s”应为有效的日期时间，格式如 2026-01-31 14:30。") % {"label": field.label}
        )
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def _choice(field, value, current) -> str:
    if not isinstance(value, str):
        raise ValidationError(_("“%(label)s”应为选项之一。") % {"label": field.label})
    text = value.strip()
    if text not in (field.options or []) and text != current:
        raise ValidationError(
            _("“%(value)s”不是“%(label)s”的有效选项。") % {"value": text[:50], "label": field.label}
        )
    return text


def _multi_choice(field, value, current) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple, set)) or any(not isinstance(v, str) for v in value):
        raise ValidationError(_("“%(label)s”应为选项的列表。") % {"label": field.label})
    chosen = {v.strip() for v in value if v.strip()}
    allowed = list(field.options or [])
    kept = [v for v in (current or []) if isinstance(v, str) and v not in allowed]
    bad = sorted(chosen - set(allowed) - set(kept))
    if bad:
        raise ValidationError(
            _("“%(value)s”不是“%(label)s”的有效选项。") % {"value": "、".join(bad)[:50], "label": field.label}
        )
    return [v for v in allowed + kept if v in chosen]


def _boolean(field, value, current) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValidationError(_("“%(label)s”只能是“是”或“否”。") % {"label": field.label})


def _phone(field, value, current) -> str:
    text = _text(field, value, current, limit=32)
    if not PHONE_RE.match(text) or sum(ch.isdigit() for ch in text) < 5:
        raise ValidationError(
            _("“%(label)s”应为有效的电话号码（数字、空格、+、- 和括号）。") % {"label": field.label}
        )
    return text


def _email(field, value, current) -> str:
    text = _text(field, value, current, limit=254)
    try:
        validate_email(text)
    except ValidationError as exc:
        raise ValidationError(_("“%(label)s”应为有效的邮箱地址。") % {"label": field.label}) from exc
    return text


def _url(field, value, current) -> str:
    text = _text(field, value, current, limit=URL_MAX)
    if "://" not in text:
        text = f"https://{text}"
    try:
        URLValidator(schemes=["http", "https"])(text)
    except ValidationError as exc:
        raise ValidationError(
            _("“%(label)s”应为有效的网址（http 或 https）。") % {"label": field.label}
        ) from exc
    return text


def _user(field, value, current) -> int:
    from crm.accounts.models import User

    if isinstance(value, User):
        user_id = value.pk
    elif isinstance(value, int) and not isinstance(value, bool):
        user_id = value
    elif isinstance(value, str) and value.strip().isdigit():
        user_id = int(value.strip())
    else:
        raise ValidationError(_("“%(label)s”应为员工的编号。") % {"label": field.label})
    if user_id == current:
        return user_id
    if user_id > 2**31 - 1 or not User.objects.filter(pk=user_id, is_active=True).exists():
        raise ValidationError(_("“%(label)s”应为一位在职员工。") % {"label": field.label})
    return user_id


_HANDLERS = {
    T.TEXT: _text,
    T.LONG_TEXT: _long_text,
    T.NUMBER: _number,
    T.MONEY: _money,
    T.DATE: _date,
    T.DATETIME: _datetime,
    T.CHOICE: _choice,
    T.MULTI_CHOICE: _multi_choice,
    T.BOOLEAN: _boolean,
    T.PHONE: _phone,
    T.EMAIL: _email,
    T.URL: _url,
    T.USER: _user,
}


# ---------------------------------------------------------------- showing stored values


def python_value(field: CustomField, stored: Any) -> Any:
    """The stored value as a form's initial value (Decimal, date, aware datetime, …)."""
    if stored is None:
        return None
    try:
        if field.field_type in (T.NUMBER, T.MONEY):
            return Decimal(str(stored))
        if field.field_type == T.DATE:
            return parse_date(str(stored))
        if field.field_type == T.DATETIME:
            moment = parse_datetime(str(stored))
            return timezone.localtime(moment) if moment and timezone.is_aware(moment) else moment
    except (InvalidOperation, ValueError):
        return stored
    if field.field_type == T.BOOLEAN:
        return "true" if stored is True else "false" if stored is False else None
    return stored


def display(field: CustomField, stored: Any, users: dict[int, str] | None = None) -> Any:
    """What a page shows for a stored value (plain text; templates escape it), None when empty."""
    if stored is None or stored == "" or stored == []:
        return None
    kind = field.field_type
    if kind == T.BOOLEAN:
        return _("是") if stored is True else _("否") if stored is False else str(stored)
    if kind == T.MULTI_CHOICE:
        return "、".join(str(v) for v in stored) if isinstance(stored, list) else str(stored)
    if kind == T.USER:
        return (users or {}).get(stored) or _("员工 #%(id)s") % {"id": stored}
    if kind == T.MONEY:
        try:
            return f"{Decimal(str(stored)):,.2f}"
        except InvalidOperation:
            return str(stored)
    if kind == T.DATETIME:
        moment = python_value(field, stored)
        return moment.strftime("%Y-%m-%d %H:%M") if isinstance(moment, datetime) else str(stored)
    return str(stored)


def user_names(fields: list[CustomField], records_data: list[dict]) -> dict[int, str]:
    """Names of the users that user-type fields point at, in one query for all records."""
    from crm.accounts.models import User

    user_keys = [f.key for f in fields if f.field_type == T.USER]
    if not user_keys:
        return {}
    ids = {
        data.get(key)
        for data in records_data
        for key in user_keys
        if isinstance(data, dict) and isinstance(data.get(key), int)
    }
    if not ids:
        return {}
    return {u.pk: u.display_name for u in User.objects.filter(pk__in=ids)}
