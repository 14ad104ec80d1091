"""Which price a customer pays for a product (PRD-1).

THE RULE (shown on the product page as well):
1. A policy applies when it is active and every condition it names holds: its customer is the
   customer asked about, the quantity is at least its minimum quantity, its payment term is the
   term asked about, and the date lies within its season (start and end dates included).
2. Each applicable policy offers a unit price: its fixed price, or the list price less its
   discount percent (rounded ROUND_HALF_UP to the fen).
3. The LOWEST offered price wins, never above the list price: a customer never pays more than the
   best offer that applies to them. On a tie the policy created first wins.
4. No applicable policy: the list price.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.core.money import discounted, to_fen
from crm.products.models import PricePolicy, Product

RULE_TEXT = gettext_lazy(
    "在所有启用且条件成立的价格策略中（客户相符、数量达到起订数量、付款条件相符、日期在促销期内），"
    "取最低价格；折扣按标准价格计算；没有适用策略时按标准价格。客户支付的价格不会高于标准价格。"
)


@dataclass(frozen=True)
class PriceQuote:
    unit_price: Decimal
    policy: PricePolicy | None
    explanation: str

    def __iter__(self):  # (unit_price, policy, explanation) = price_for(...)
        return iter((self.unit_price, self.policy, self.explanation))


def applies(policy: PricePolicy, *, customer=None, quantity=1, payment_term=None, on: date) -> bool:
    """Whether every condition `policy` names holds for this customer, quantity, term and day."""
    if not policy.is_active:
        return False
    if policy.customer_id is not None and (customer is None or customer.pk != policy.customer_id):
        return False
    if policy.min_quantity is not None and Decimal(str(quantity)) < policy.min_quantity:
        return False
    if policy.payment_term and policy.payment_term != (payment_term or ""):
        return False
    if policy.starts_on is not None and on < policy.starts_on:
        return False
    return not (policy.ends_on is not None and on > policy.ends_on)


def offered_price(policy: PricePolicy, list_price: Decimal) -> Decimal:
    """What `policy` offers: its price, or the list price less its discount (never above list)."""
    if policy.price is not None:
        price = to_fen(policy.price)
    elif policy.discount_percent is not None:
        price = discounted(list_price, policy.discount_percent)
    else:
        price = to_fen(list_price)
    return min(price, to_fen(list_price))


def best_price(product: Product, policies, *, customer=None, quantity=1, payment_term=None, on: date):
    """The winning (price, policy) among `policies` (already loaded), per the rule above."""
    list_price = to_fen(product.list_price)
    best: tuple[Decimal, PricePolicy | None] = (list_price, None)
    for policy in sorted(policies, key=lambda p: p.pk or 0):
        if not applies(policy, customer=customer, quantity=quantity, payment_term=payment_term, on=on):
            continue
        price = offered_price(policy, list_price)
        if price < best[0]:
            best = (price, policy)
    return best


def price_for(product: Product, *, customer=None, quantity=1, payment_term=None, on: date | None = None):
    """(unit price, the winning policy or None, a Chinese explanation) for `product`."""
    on = on or timezone.localdate()
    policies = list(product.price_policies.filter(is_active=True))
    price, policy = best_price(
        product, policies, customer=customer, quantity=quantity, payment_term=payment_term, on=on
    )
    if policy is None:
        explanation = _("没有适用的价格策略，按标准价格 ¥%(price)s。") % {"price": price}
    else:
        explanation = _("适用策略「%(policy)s」（%(kind)s），单价 ¥%(price)s，标准价格 ¥%(list)s。") % {
            "policy": str(policy),
            "kind": policy.get_kind_display(),
            "price": price,
            "list": to_fen(product.list_price),
        }
    return PriceQuote(price, policy, explanation)
