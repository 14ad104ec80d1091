"""Demo customers for seed_demo: a few hundred, spread over the demo sales team and the pool."""

import random
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from crm.accounts.models import User
from crm.customers import services
from crm.customers.duplicates import normalise_company_name
from crm.customers.models import Customer, DictionaryItem

REGIONS = ["深圳市", "广州市", "上海市", "北京市", "杭州市", "南京市", "苏州市", "东莞市"]
BRANDS = [
    "华创",
    "中兴",
    "腾达",
    "金蝶",
    "恒通",
    "宏远",
    "新天地",
    "远航",
    "瑞丰",
    "博雅",
    "云帆",
    "鼎盛",
    "海纳",
    "星辰",
    "嘉禾",
    "长城",
    "智联",
    "同方",
    "润泽",
    "天成",
]
QUALIFIERS = ["", "新", "华", "信", "达", "联", "亿"]
TRADES = ["科技", "电子", "贸易", "物流", "建材", "医疗器械", "软件", "食品", "机械", "文化传媒"]
SUFFIXES = ["有限公司", "股份有限公司", "有限责任公司"]
DISTRICTS = ["南山区", "福田区", "浦东新区", "海淀区", "西湖区"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = ["伟", "芳", "娜", "敏", "静", "强", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明", "超"]
TITLES = ["总经理", "采购经理", "技术总监", "财务主管", "行政主管", "销售总监"]


@transaction.atomic
def seed_customers(*, count: int = 300, seed: int = 20261123) -> int:
    """Create demo customers once; returns how many were created (0 when customers exist)."""
    if Customer.objects.exists():
        seed_custom_fields(seed=seed)
        return 0
    rng = random.Random(seed)
    owners = list(User.objects.filter(username__in=["sales1", "sales2", "manager"]).order_by("username"))
    if not owners:
        return 0
    dictionaries = {
        kind: list(DictionaryItem.objects.filter(kind=kind, parent__isnull=True))
        for kind in ("status", "category", "value_level", "stage", "industry", "source")
    }
    pool = services.default_pool()
    now = timezone.now()
    used: set[str] = set()
    created = 0
    attempts = 0
    while created < count and attempts < count * 20:  # bounded: distinct names are finite
        attempts += 1
        brand = rng.choice(QUALIFIERS) + rng.choice(BRANDS)
        name = f"{rng.choice(REGIONS)}{brand}{rng.choice(TRADES)}{rng.choice(SUFFIXES)}"
        key = normalise_company_name(name)
        if key in used:  # names that normalise alike would (rightly) trip the duplicate check
            continue
        used.add(key)
        public = rng.random() < 0.15
        owner = rng.choice(owners)
        values = {kind: rng.choice(items) for kind, items in dictionaries.items() if items}
        values.update(
            name=name,
            phone=f"0755-{rng.randint(20000000, 89999999)}",
            address=f"{name[:3]}{rng.choice(DISTRICTS)}科技路{rng.randint(1, 300)}号",
            next_contact_at=now + timedelta(days=rng.randint(-5, 20)) if rng.random() < 0.5 else None,
        )
        contacts = [
            {
                "name": rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(["", *GIVEN]),
                "title": rng.choice(TITLES),
                "mobile": f"13{rng.randint(100000000, 999999999)}",
            }
            for _ in range(rng.randint(1, 3))
        ]
        services.customer_create(
            actor=owner,
            values=values,
            owner=None if public else owner,
            pool=pool if public else None,
            created_at=now - timedelta(days=rng.randint(0, 720)),
            contacts=contacts,
        )
        created += 1
    _seed_followups(rng)
    seed_custom_fields(seed=seed)
    return created


# ---------------------------------------------------------------- custom fields (CUS-11)

DEMO_CUSTOM_FIELDS = [
    {
        "key": "annual_purchase",
        "label": "年采购额",
        "field_type": "money",
        "show_in_list": True,
        "searchable": True,
        "for_statistics": True,
        "help_text": "客户每年的采购金额（元）",
    },
    {
        "key": "cooperation_intent",
        "label": "合作意向",
        "field_type": "choice",
        "show_in_list": True,
        "searchable": True,
        "options": ["强烈", "一般", "观望", "暂无"],
    },
    {"key": "is_listed", "label": "是否上市", "field_type": "boolean", "searchable": True},
]


def seed_custom_fields(*, seed: int = 20261123) -> int:
    """Create the demo custom fields once and give demo customers values; idempotent (customers
    that already hold any of the demo keys are left alone). Returns how many customers got values."""
    from crm.customfields.models import CustomField
    from crm.customfields.services import customfield_create

    existing = set(CustomField.objects.filter(target="customers").values_list("key", flat=True))
    for definition in DEMO_CUSTOM_FIELDS:
        if definition["key"] not in existing:
            customfield_create(actor=None, target="customers", values=definition)
    keys = [d["key"] for d in DEMO_CUSTOM_FIELDS]
    rng = random.Random(seed)
    changed = []
    for customer in Customer.objects.only("pk", "custom_data").order_by("pk"):
        data = dict(customer.custom_data or {})
        if any(key in data for key in keys):
            continue
        if rng.random() < 0.8:
            data["annual_purchase"] = f"{rng.randint(5, 5000) * 1000}.00"
        if rng.random() < 0.9:
            data["cooperation_intent"] = rng.choice(DEMO_CUSTOM_FIELDS[1]["options"])
        data["is_listed"] = rng.random() < 0.2
        customer.custom_data = data
        changed.append(customer)
    Customer.objects.bulk_update(changed, ["custom_data"], batch_size=1000)
    return len(changed)


FOLLOWUP_NOTES = [
    "电话沟通了采购计划，客户预计下季度启动项目。",
    "上门拜访，演示了产品，对方技术负责人比较认可。",
    "发送了报价单，等待对方内部审批。",
    "微信跟进，客户询问交付周期和售后服务。",
    "参加客户组织的招标答疑会。",
]


def _seed_followups(rng: random.Random) -> None:
    """A few follow-ups per owned customer, through the real service (it keeps the customer's
    last/next contact times and reminders in step)."""
    from django.apps import apps

    if not apps.is_installed("crm.activities"):
        return
    from crm.activities.services import followup_create

    types = list(DictionaryItem.objects.filter(kind="followup_type", parent__isnull=True))
    now = timezone.now()
    for customer in Customer.objects.filter(owner__isnull=False).select_related("owner")[:200]:
        for days_ago in sorted(rng.sample(range(1, 120), rng.randint(1, 3)), reverse=True):
            followup_create(
                actor=customer.owner,
                customer_id=customer.pk,
                type=rng.choice(types) if types else None,
                content=rng.choice(FOLLOWUP_NOTES),
                followed_at=now - timedelta(days=days_ago),
            )
