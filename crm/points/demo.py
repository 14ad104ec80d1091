"""Demo points for seed_demo (idempotent). Approved demo contracts earn their points through the
contract_approved signal; here one customer with a balance redeems part of it, through the real
service (checked and logged), once: nothing happens when a redemption exists."""

from django.db import transaction
from django.db.models import Sum

from crm.accounts.models import User
from crm.customers.models import Customer
from crm.points import services
from crm.points.models import PointsEntry

MIN_BALANCE = 10


@transaction.atomic
def seed() -> int:
    """Redeem part of one demo customer's balance; returns how many entries were created."""
    if PointsEntry.objects.filter(kind=PointsEntry.Kind.REDEEM).exists():
        return 0
    admin = User.objects.filter(roles__is_super=True, is_active=True).order_by("pk").first()
    if admin is None:
        return 0
    richest = (
        PointsEntry.objects.values("customer_id")
        .annotate(balance=Sum("points"))
        .filter(balance__gte=MIN_BALANCE)
        .order_by("-balance", "customer_id")
        .first()
    )
    if richest is None:
        return 0
    customer = Customer.objects.get(pk=richest["customer_id"])
    services.points_redeem(
        actor=admin, customer=customer, points=richest["balance"] // 2, note="兑换礼品：定制保温杯"
    )
    return 1
