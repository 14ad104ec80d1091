"""Money arithmetic in one place: Decimal end to end, rounded ROUND_HALF_UP to the fen (0.01 CNY).

Every price, discount, tax and total in the CRM goes through these two functions so that the UI,
the API, print views and exports round the same way. Floats are never trusted as they are: a float
is converted through its shortest `repr` (`2.675` → Decimal("2.675") → 2.68), never through its
binary value (which would give 2.67).
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

FEN = Decimal("0.01")
HUNDRED = Decimal(100)


def to_decimal(value) -> Decimal:
    """`value` as an exact Decimal (a float through its string form); ValueError if not a number."""
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool):
        raise ValueError("not a number")
    elif isinstance(value, (int, str, float)):
        try:
            result = Decimal(str(value).strip())
        except InvalidOperation as exc:
            raise ValueError(f"not a number: {value!r}") from exc
    else:
        raise ValueError(f"not a number: {value!r}")
    if not result.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return result


def to_fen(value, *, allow_negative: bool = True) -> Decimal:
    """`value` rounded ROUND_HALF_UP to 0.01: 0.005 → 0.01, 2.675 → 2.68, -0.005 → -0.01."""
    amount = to_decimal(value).quantize(FEN, rounding=ROUND_HALF_UP)
    if not allow_negative and amount < 0:
        raise ValueError("negative amount")
    return amount + 0  # normalise -0.00 to 0.00


def line_total(quantity, unit_price, discount_percent=0, tax_percent=0) -> Decimal:
    """quantity × unit price, less the discount, plus the tax, rounded once to the fen at the end.

    Negative quantities, prices, discounts or taxes and discounts above 100 % are meaningless on a
    line and raise ValueError.
    """
    qty = to_decimal(quantity)
    price = to_decimal(unit_price)
    discount = to_decimal(discount_percent)
    tax = to_decimal(tax_percent)
    if qty < 0 or price < 0 or tax < 0 or discount < 0:
        raise ValueError("negative line value")
    if discount > HUNDRED:
        raise ValueError("discount above 100%")
    amount = qty * price * (HUNDRED - discount) / HUNDRED * (HUNDRED + tax) / HUNDRED
    return to_fen(amount)


def discounted(price, discount_percent) -> Decimal:
    """`price` less `discount_percent` %, to the fen (a line of one)."""
    return line_total(1, price, discount_percent)
