from django.db import migrations

# PostgreSQL only: trigram indexes for pinyin substring search and a GIN index over the name's
# 1-2 character substrings for short Chinese queries (DESIGN.md, measured at a million rows).
POSTGRES_SQL = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS customer_pinyin_trgm ON customers_customer USING gin (name_pinyin gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS customer_initials_trgm ON customers_customer USING gin (name_initials gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS customer_name_trgm ON customers_customer USING gin (upper(name) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS customer_grams_gin ON customers_customer "
    "USING gin (string_to_array(name_grams, ' '))",
]
POSTGRES_REVERSE = [
    "DROP INDEX IF EXISTS customer_pinyin_trgm",
    "DROP INDEX IF EXISTS customer_initials_trgm",
    "DROP INDEX IF EXISTS customer_name_trgm",
    "DROP INDEX IF EXISTS customer_grams_gin",
]

DICTIONARIES = {
    "status": ["潜在客户", "意向客户", "正式客户", "流失客户"],
    "category": ["普通客户", "重点客户", "VIP 客户", "代理商"],
    "value_level": ["A 级", "B 级", "C 级", "D 级"],
    "stage": ["初次接触", "需求确认", "方案报价", "谈判", "成交", "售后"],
    "industry": ["制造业", "信息技术", "批发零售", "金融", "教育", "医疗", "建筑", "其他"],
    "source": ["电话营销", "网站", "展会", "老客户介绍", "广告", "其他"],
    "followup_type": ["电话", "拜访", "微信", "邮件", "会议", "其他"],
    "lost_reason": ["价格", "产品不符", "竞争对手", "预算取消", "其他"],
}
REGIONS = {"广东省": ["深圳市", "广州市", "东莞市"], "上海市": [], "北京市": [], "浙江省": ["杭州市", "宁波市"],
           "江苏省": ["南京市", "苏州市"]}


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in POSTGRES_SQL:
            schema_editor.execute(sql)
    seed_defaults(apps)


def seed_defaults(apps):
    """Default dictionaries, the default pool and the customer numbering rule (idempotent)."""
    item = apps.get_model("customers", "DictionaryItem")
    for kind, names in DICTIONARIES.items():
        for order, name in enumerate(names):
            item.objects.get_or_create(kind=kind, name=name, parent=None, defaults={"sort_order": order})
    for order, (province, cities) in enumerate(REGIONS.items()):
        parent, _ = item.objects.get_or_create(kind="region", name=province, parent=None,
                                               defaults={"sort_order": order})
        for city_order, city in enumerate(cities):
            item.objects.get_or_create(kind="region", name=city, parent=parent, defaults={"sort_order": city_order})
    pool = apps.get_model("customers", "Pool")
    if not pool.objects.exists():
        pool.objects.create(name="公海", is_default=True, description="默认公海，所有人可见")
    rule = apps.get_model("customers", "NumberingRule")
    rule.objects.get_or_create(key="customer", defaults={"prefix": "KH", "date_part": "%Y%m%d", "padding": 4})


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in POSTGRES_REVERSE:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
