"""Demo quotes for seed_demo: ~20 quotes on demo customers with demo products (crm/products/demo.py),
made through the services (priced, checked and logged like real ones). Idempotent: nothing is
created when quotes exist."""

import random
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from crm.customers.models import Customer
from crm.products.models import Product
from crm.quotes import services
from crm.quotes.models import Quote

COUNT = 20
CODES = [
    "SW-ENT",
    "SW-STD",
    "SW-USER",
    "SW-MOB",
    "SV-IMPL",
    "SV-TRAIN",
    "SV-MAINT",
    "HW-X1",
    "HW-X2",
    "HW-GW",
]


@transaction.atomic
def seed_quotes(*, count: int = COUNT, seed: int = 20261202) -> int:
    """Create the demo quotes once; returns how many were created."""
    if Quote.objects.exists():
        return 0
    products = list(Product.objects.filter(code__in=CODES, is_active=True).order_by("code"))
    customers = list(
        Customer.objects.filter(deleted_at__isnull=True, owner__isnull=False, owner__is_active=True)
        .select_related("owner")
        .order_by("pk")[: count // 2]
    )
    if not products or not customers:
        return 0
    rng = random.Random(seed)
    created = 0
    for index in range(count):
        customer = customers[index % len(customers)]
        lines = [
            {
                "product": product.pk,
                "quantity": rng.choice([1, 2, 5, 10, 20, 60]),
                "discount_percent": rng.choice([0, 0, 2, 5]),
            }
            for product in rng.sample(products, rng.randint(1, 4))
        ]
        values = {
            "customer": customer,
            "contact": customer.contacts.order_by("-is_primary", "pk").first(),
            "payment_term": rng.choice(["", "prepaid", "net30"]),
            "valid_until": timezone.localdate() + timedelta(days=rng.choice([7, 15, 30])),
            "note": "",
        }
        quote = services.quote_create(actor=customer.owner, values=values, lines=lines)
        created += 1
        step = index % 5
        if step >= 1:
            services.quote_send(actor=customer.owner, quote=quote)
        if step == 2:
            services.quote_accept(actor=customer.owner, quote=quote)
        elif step == 3:
            services.quote_reject(actor=customer.owner, quote=quote)
        elif step == 4 and index % 2:
            Quote.objects.filter(pk=quote.pk).update(valid_until=timezone.localdate() - timedelta(days=3))
    services.quotes_expire()
    return created
