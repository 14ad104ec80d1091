"""Money rounds ROUND_HALF_UP to the fen, from Decimals, ints, strings and floats alike."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm.core.money import line_total, to_fen


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0.005", "0.01"),
        ("0.004", "0.00"),
        (2.675, "2.68"),  # float 2.675 is 2.67499999… in binary; through str it is 2.675
        (Decimal("2.675"), "2.68"),
        ("1.115", "1.12"),
        ("-0.005", "-0.01"),
        ("-0.004", "0.00"),  # no "-0.00"
        (10, "10.00"),
        ("  12.3 ", "12.30"),
    ],
)
def test_to_fen_rounds_half_up(value, expected):
    result = to_fen(value)

    assert isinstance(result, Decimal)
    assert str(result) == expected


@pytest.mark.parametrize("bad", ["abc", "", None, True, float("nan"), "Infinity", [1]])
def test_to_fen_refuses_what_is_not_a_number(bad):
    with pytest.raises(ValueError):
        to_fen(bad)


def test_to_fen_can_refuse_negative_amounts():
    with pytest.raises(ValueError):
        to_fen("-1", allow_negative=False)
    assert to_fen("0", allow_negative=False) == Decimal("0.00")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((3, "19.99"), "59.97"),
        ((1, "100", 10), "90.00"),
        ((1, "100", 0, 13), "113.00"),
        ((2, "0.125"), "0.25"),
        ((1, "0.015"), "0.02"),
        ((3, "33.333", "0", "0"), "100.00"),  # 99.999 rounds once, at the end
        ((7, "12.35", "12.5", "6"), "80.18"),  # 86.45 × 0.875 × 1.06 = 80.182375
        ((0, "100"), "0.00"),
        ((1, "100", 100), "0.00"),
    ],
)
def test_line_total(args, expected):
    assert str(line_total(*args)) == expected


@pytest.mark.parametrize(
    "args",
    [(-1, "10"), (1, "-10"), (1, "10", -5), (1, "10", 101), (1, "10", 0, -1), (1, "abc")],
)
def test_line_total_refuses_meaningless_values(args):
    with pytest.raises(ValueError):
        line_total(*args)


@given(
    quantity=st.decimals(min_value=0, max_value=10_000, places=2),
    price=st.decimals(min_value=0, max_value=1_000_000, places=2),
    discount=st.decimals(min_value=0, max_value=100, places=2),
)
def test_line_total_is_exact_to_the_fen_and_never_above_the_undiscounted_total(quantity, price, discount):
    total = line_total(quantity, price, discount)

    assert total == total.quantize(Decimal("0.01"))
    assert total <= to_fen(quantity * price)
    assert abs(total - quantity * price * (100 - discount) / 100) <= Decimal("0.005")
