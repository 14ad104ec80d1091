"""The price rule: the lowest applicable offer wins, never above the list price."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm.core.money import discounted
from crm.products import pricing, services
from crm.products.models import PricePolicy, Product

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 20)


def _policy(product, **values):
    return PricePolicy.objects.create(product=product, **values)


def test_no_policy_means_the_list_price(catalog):
    price, policy, explanation = pricing.price_for(catalog["lock"], on=TODAY)

    assert price == Decimal("1299.00")
    assert policy is None
    assert "标准价格" in explanation


def test_quantity_break_applies_from_its_minimum(catalog):
    lock = catalog["lock"]
    fifty = _policy(lock, kind="quantity", name="满50台", min_quantity=50, discount_percent=Decimal(8))

    assert pricing.price_for(lock, quantity=49, on=TODAY).policy is None
    price, policy, explanation = pricing.price_for(lock, quantity=50, on=TODAY)
    assert (price, policy) == (Decimal("1195.08"), fifty)  # 1299 × 0.92 = 1195.08
    assert "满50台" in explanation


def test_lowest_applicable_price_wins(catalog, customers):
    lock = catalog["lock"]
    _policy(lock, kind="quantity", name="满50台", min_quantity=50, discount_percent=Decimal(8))
    vip = _policy(lock, kind="customer", name="协议价", customer=customers["mine"], price=Decimal("1100"))
    _policy(lock, kind="payment_term", name="预付", payment_term="prepaid", discount_percent=Decimal(20))

    assert pricing.price_for(lock, customer=customers["mine"], quantity=60, on=TODAY).policy == vip
    # the prepaid offer (1039.20) is lower still when the term is prepaid
    price, policy, _text = pricing.price_for(
        lock, customer=customers["mine"], quantity=60, payment_term="prepaid", on=TODAY
    )
    assert price == Decimal("1039.20")
    assert policy.name == "预付"
    # another customer does not get the customer price
    assert pricing.price_for(lock, customer=customers["other"], quantity=1, on=TODAY).policy is None


def test_season_includes_both_ends_and_inactive_policies_never_apply(catalog):
    lock = catalog["lock"]
    season = _policy(
        lock, kind="seasonal", starts_on=date(2026, 11, 1), ends_on=date(2026, 11, 30), price=Decimal(999)
    )
    _policy(lock, kind="quantity", min_quantity=1, price=Decimal(1), is_active=False)

    assert pricing.price_for(lock, on=date(2026, 11, 1)).policy == season
    assert pricing.price_for(lock, on=date(2026, 11, 30)).policy == season
    assert pricing.price_for(lock, on=date(2026, 12, 1)).policy is None
    assert pricing.price_for(lock, on=date(2026, 10, 31)).unit_price == Decimal("1299.00")


def test_a_fixed_price_above_the_list_price_never_raises_the_price(catalog):
    lock = catalog["lock"]
    _policy(lock, kind="quantity", min_quantity=1, price=Decimal(5000))

    price, policy, _text = pricing.price_for(lock, on=TODAY)

    assert price == Decimal("1299.00")
    assert policy is None


def test_the_rule_is_written_in_the_docstring_and_the_ui_text():
    assert "LOWEST" in pricing.__doc__
    assert "最低" in str(pricing.RULE_TEXT)


policy_strategy = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(PricePolicy.Kind.values),
        "for_customer": st.booleans(),
        "min_quantity": st.none() | st.integers(min_value=1, max_value=100),
        "payment_term": st.sampled_from(["", *PricePolicy.PaymentTerm.values]),
        "season": st.none() | st.tuples(st.integers(-10, 10), st.integers(0, 20)),
        "price": st.none() | st.decimals(min_value=0, max_value=3000, places=2),
        "discount": st.decimals(min_value=0, max_value=100, places=2),
        "is_active": st.booleans(),
    }
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    specs=st.lists(policy_strategy, max_size=6),
    list_price=st.decimals(min_value=0, max_value=2000, places=2),
    quantity=st.integers(min_value=1, max_value=120),
    term=st.sampled_from([None, *PricePolicy.PaymentTerm.values]),
    with_customer=st.booleans(),
)
def test_price_never_exceeds_list_price_and_is_the_minimum_over_applicable_offers(
    catalog, customers, specs, list_price, quantity, term, with_customer
):
    product = Product.objects.get(pk=catalog["lock"].pk)
    product.list_price = list_price
    product.save(update_fields=["list_price"])
    PricePolicy.objects.filter(product=product).delete()
    customer = customers["mine"] if with_customer else None
    candidates = [list_price]
    for spec in specs:
        starts = ends = None
        if spec["season"] is not None:
            offset, length = spec["season"]
            starts = date.fromordinal(TODAY.toordinal() + offset)
            ends = date.fromordinal(starts.toordinal() + length)
        policy = _policy(
            product,
            kind=spec["kind"],
            customer=customers["mine"] if spec["for_customer"] else None,
            min_quantity=spec["min_quantity"],
            payment_term=spec["payment_term"],
            starts_on=starts,
            ends_on=ends,
            price=spec["price"],
            discount_percent=None if spec["price"] is not None else spec["discount"],
            is_active=spec["is_active"],
        )
        applies = (
            spec["is_active"]
            and (not spec["for_customer"] or with_customer)
            and (spec["min_quantity"] is None or quantity >= spec["min_quantity"])
            and (not spec["payment_term"] or spec["payment_term"] == term)
            and (starts is None or starts <= TODAY <= ends)
        )
        if applies:
            offer = (
                policy.price if policy.price is not None else discounted(list_price, policy.discount_percent)
            )
            candidates.append(offer)

    price, winner, _text = pricing.price_for(
        product, customer=customer, quantity=quantity, payment_term=term, on=TODAY
    )

    assert price <= list_price
    assert price == min(candidates)
    if winner is None:
        assert price == list_price
    else:
        assert pricing.offered_price(winner, list_price) == price < list_price


def test_price_for_reads_policies_in_one_query(catalog, django_assert_num_queries):
    for minimum in range(1, 6):
        services.price_policy_create(
            actor=catalog["lock"].created_by,
            product=catalog["lock"],
            kind="quantity",
            min_quantity=minimum,
            discount_percent=minimum,
        )

    with django_assert_num_queries(1):
        price, _policy, _text = pricing.price_for(catalog["lock"], quantity=5, on=TODAY)

    assert price == Decimal("1234.05")  # 5 % off 1299
