"""Demo leads for seed_demo: about forty, over sales1, sales2 and manager, in every status."""

import random
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from crm.accounts.models import User
from crm.customers.demo import BRANDS, GIVEN, REGIONS, SURNAMES, TITLES, TRADES
from crm.customers.models import Customer, DictionaryItem
from crm.leads import services
from crm.leads.models import Lead

NOTES = ["想了解报价", "展会上留下名片", "官网咨询试用", "老客户介绍", "需要上门演示", "预算在审批中"]


@transaction.atomic
def seed_leads(*, count: int = 40, seed: int = 20261202) -> int:
    """Create demo leads once; returns how many were created (0 when leads exist)."""
    if Lead.objects.exists():
        return 0
    owners = list(User.objects.filter(username__in=["sales1", "sales2", "manager"]).order_by("username"))
    if not owners:
        return 0
    rng = random.Random(seed)
    sources = list(DictionaryItem.objects.filter(kind=DictionaryItem.Kind.SOURCE, is_active=True))
    industries = list(DictionaryItem.objects.filter(kind=DictionaryItem.Kind.INDUSTRY, is_active=True))
    followup_types = list(
        DictionaryItem.objects.filter(kind=DictionaryItem.Kind.FOLLOWUP_TYPE, is_active=True)
    )
    customers_of: dict[int, list[int]] = {}
    for customer_id, owner_id in Customer.objects.filter(
        owner__in=owners, deleted_at__isnull=True
    ).values_list("pk", "owner_id")[:500]:
        customers_of.setdefault(owner_id, []).append(customer_id)
    now = timezone.now()
    created = 0
    for index in range(count):
        owner = owners[index % len(owners)]
        # "线索" in the name keeps demo leads apart from demo customers (no duplicate warnings).
        company = f"{rng.choice(REGIONS)}{rng.choice(BRANDS)}{rng.choice(TRADES)}线索{index + 1:02d}有限公司"
        lead = services.lead_create(
            actor=owner,
            values={
                "company": company,
                "contact_name": rng.choice(SURNAMES) + rng.choice(GIVEN),
                "title": rng.choice(TITLES),
                "mobile": f"13{rng.randint(100000000, 999999999)}",
                "source": rng.choice(sources) if sources else None,
                "industry": rng.choice(industries) if industries else None,
                "remark": rng.choice(NOTES),
            },
        )
        Lead.objects.filter(pk=lead.pk).update(
            created_at=now - timedelta(days=rng.randint(0, 60), hours=index)
        )
        roll = rng.random()
        if roll < 0.45 and followup_types:
            services.lead_followup_create(
                actor=owner,
                lead=lead,
                type=rng.choice(followup_types),
                content=rng.choice(NOTES),
                followed_at=now - timedelta(days=rng.randint(0, 10)),
            )
        elif roll < 0.55:
            services.leads_mark_invalid(actor=owner, leads=Lead.objects.filter(pk=lead.pk), reason="演示数据")
        elif roll < 0.7 and followup_types:
            services.lead_followup_create(
                actor=owner, lead=lead, type=rng.choice(followup_types), content=rng.choice(NOTES)
            )
            # Converted demo leads are linked to one of the owner's demo customers, so seeding leads
            # leaves the demo customer count as seed_customers made it.
            target = rng.choice(customers_of.get(owner.pk) or [None])
            if target is not None:
                services.leads_convert(
                    actor=owner, leads=Lead.objects.filter(pk=lead.pk), link={lead.pk: target}
                )
        created += 1
    return created
