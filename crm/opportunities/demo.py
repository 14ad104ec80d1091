"""Demo opportunities for seed_demo: the default stage group and about forty opportunities on the demo
customers of sales1, sales2 and manager, across the stages, some with product lines."""

import random
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from crm.accounts.models import User
from crm.customers.models import Contact, Customer, DictionaryItem
from crm.opportunities import services
from crm.opportunities.models import Opportunity, Stage, StageGroup
from crm.products.models import Product

DEFAULT_STAGES = [("初步接洽", 10), ("需求确认", 30), ("方案报价", 60), ("谈判", 80)]
TOPICS = ["ERP 升级", "门店收银系统", "年度耗材采购", "仓储设备更新", "办公网络改造", "安防监控", "培训服务"]


def ensure_default_group() -> StageGroup:
    """The default stage group (初步接洽 10 % … 谈判 80 %, 赢单, 输单), created once."""
    group = StageGroup.objects.filter(is_default=True).first()
    if group is not None:
        return group
    group = StageGroup.objects.create(name="默认销售流程", is_default=True)
    for order, (name, rate) in enumerate(DEFAULT_STAGES, start=1):
        Stage.objects.create(group=group, name=name, order=order * 10, win_rate=rate)
    Stage.objects.create(group=group, name="赢单", order=50, win_rate=100, kind=Stage.Kind.WON)
    Stage.objects.create(group=group, name="输单", order=60, win_rate=0, kind=Stage.Kind.LOST)
    return group


@transaction.atomic
def seed_opportunities(*, count: int = 40, seed: int = 20261203) -> int:
    """Create demo opportunities once; returns how many were created (0 when some exist)."""
    group = ensure_default_group()
    if Opportunity.objects.exists():
        return 0
    owners = list(User.objects.filter(username__in=["sales1", "sales2", "manager"]).order_by("username"))
    if not owners:
        return 0
    customers_of: dict[int, list[Customer]] = {}
    for customer in Customer.objects.filter(owner__in=owners, deleted_at__isnull=True).order_by("pk")[:300]:
        customers_of.setdefault(customer.owner_id, []).append(customer)
    owners = [owner for owner in owners if customers_of.get(owner.pk)]
    if not owners:
        return 0
    rng = random.Random(seed)
    stages = list(group.stages.filter(kind=Stage.Kind.OPEN).order_by("order"))
    sources = list(DictionaryItem.objects.filter(kind=DictionaryItem.Kind.SOURCE, is_active=True))
    reasons = list(DictionaryItem.objects.filter(kind=DictionaryItem.Kind.LOST_REASON, is_active=True))
    products = list(Product.objects.filter(is_active=True).order_by("pk")[:30])
    today = timezone.localdate()
    created = 0
    for index in range(count):
        owner = owners[index % len(owners)]
        customer = rng.choice(customers_of[owner.pk])
        contacts = list(Contact.objects.filter(customer=customer)[:1])
        lines = []
        if products and rng.random() < 0.4:
            lines = [
                services.LineInput(
                    product=rng.choice(products),
                    quantity=rng.randint(1, 20),
                    discount_percent=rng.choice([0, 0, 5, 10]),
                )
                for _ in range(rng.randint(1, 3))
            ]
        opp = services.opportunity_create(
            actor=owner,
            values={
                "name": f"{customer.name[:20]} · {rng.choice(TOPICS)}",
                "customer": customer,
                "source": rng.choice(sources) if sources else None,
                "expected_amount": rng.randrange(5_000, 500_000, 100),
                "expected_close_date": today + timedelta(days=rng.randint(-10, 90)),
            },
            contacts=contacts,
            lines=lines,
            stage=rng.choice(stages),
        )
        roll = rng.random()
        if roll < 0.12:
            services.opportunity_win(actor=owner, opportunity=opp)
        elif roll < 0.22 and reasons:
            services.opportunity_lose(
                actor=owner, opportunity=opp, reason=rng.choice(reasons), note="演示数据"
            )
        created += 1
    return created
