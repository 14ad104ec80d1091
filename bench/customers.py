"""Fill a PostgreSQL database with a million customers, then time the customer list and search.

Usage (a database of its own; it is filled with generated rows):
    psql -h 127.0.0.1 -U postgres -c "CREATE DATABASE crm_bench_customers ENCODING 'UTF8' TEMPLATE template0"
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench_customers \
        .venv/bin/python bench/customers.py [--customers 1000000] [--runs 25] [--explain] \

The fill uses COPY and INSERT … SELECT (never ORM saves), with the secondary indexes dropped
during the load and rebuilt after it: 1,000,000 customers (names from a pool of ~50k realistic
company names, reused with a number), 2,000,000 contacts and, when crm.activities is installed,
5,000,000 follow-ups; ~2,000 salespeople in 20 regions × 5 teams, so that a salesperson owns
~500 customers and a regional manager's subtree ~50,000; ~5% of the customers lie in the pool.

Then, per user (a salesperson: 本人; a manager: 本部门及下级), it prints p50/p95 over --runs
repetitions of: the list page 1 with a filter and a sort, a 2- and a 4-character Chinese name
search, a pinyin-initials search, and the bare SQL time of the same query, and their ratio; then
the /customers/ page through the test Client, and the detail page of a customer with a long
timeline (2,000 follow-ups and 500 log entries, added in a transaction rolled back afterwards).
"""

import argparse
import importlib
import io
import json
import multiprocessing
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

import django  # noqa: E402

django.setup()

from django.apps import apps  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.contrib.contenttypes.models import ContentType  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, models  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import Resolver404, resolve  # noqa: E402
from django.utils import timezone  # noqa: E402

from crm.access import policy  # noqa: E402
from crm.accounts.models import Department, Role, User  # noqa: E402
from crm.customers.models import Contact, Customer, DictionaryItem, Pool  # noqa: E402
from crm.customers.selectors import Condition, customer_list, customer_list_rows  # noqa: E402
from crm.customers.text import name_grams, pinyin_columns  # noqa: E402

SEED = 20261123
REGIONS = (
    "北京市 上海市 广州市 深圳市 杭州市 南京市 苏州市 成都市 武汉市 重庆市 天津市 西安市 长沙市 郑州市 "
    "青岛市 宁波市 东莞市 佛山市 厦门市 福州市 合肥市 济南市 沈阳市 大连市 昆明市 无锡市 常州市 温州市 "
    "珠海市 中山市 绍兴市 嘉兴市 泉州市 南昌市 石家庄市 哈尔滨市 长春市 太原市 南宁市 贵阳市"
).split()
BRAND_CHARS = list(
    dict.fromkeys(
        "华中兴腾讯阿里百度京东美的格力海尔联想小米长城东方金龙凤天恒瑞康泰安宏盛达通信鑫源博远新星光明"
        "辉银丰裕嘉德利隆昌祥和永顺发富强大正荣佳晨曦宝福禄寿喜乐凯旋飞翔云峰山川洋江河湖重行万"
    )
)
INDUSTRIES = (
    "通讯 科技 电子 贸易 实业 投资 建设 物流 食品 医药 生物 新能源 软件 信息技术 网络 文化传媒 教育科技 "
    "机械 化工 纺织 服饰 家具 建材 汽车 电器 照明 环保 农业 餐饮管理 酒店管理 房地产开发 装饰工程 "
    "精密制造 自动化 智能科技 供应链管理 进出口 包装 印刷 光电"
).split()
SUFFIXES = ("有限公司", "股份有限公司", "集团有限公司", "有限责任公司")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍鹏辉建国红文斌宇浩凯"
TITLES = ("总经理", "采购经理", "技术总监", "财务", "行政主管", "销售总监", "项目经理", "董事长")
FOLLOWUP_TEXTS = (
    "电话沟通需求，客户对报价有疑问",
    "上门拜访，演示产品功能",
    "微信发送资料，约下周再联系",
    "客户反馈预算在审批中",
    "邮件发送合同草稿",
    "会议讨论实施方案",
)
POOL_SIZE = 50_000
REGION_COUNT, TEAMS_PER_REGION, SALES_PER_TEAM = 20, 5, 20
PUBLIC_SHARE = 0.05


# ---------------------------------------------------------------- names


def _name_columns(name: str) -> tuple[str, str, str]:
    full, initials = pinyin_columns(name)
    return name, full, initials


def name_pool(size: int) -> list[tuple[str, str, str]]:
    """~`size` distinct company names (region + brand + industry + legal suffix) with their pinyin
    columns, computed on 2 processes."""
    rng = random.Random(SEED)
    names = {
        "深圳市中兴通讯股份有限公司": None,
        "重庆长安汽车股份有限公司": None,
        "TCL科技集团股份有限公司": None,
    }
    while len(names) < size:
        brand = rng.choice(BRAND_CHARS) + rng.choice(BRAND_CHARS)
        names[rng.choice(REGIONS) + brand + rng.choice(INDUSTRIES) + rng.choice(SUFFIXES)] = None
    with multiprocessing.get_context("fork").Pool(2) as workers:
        return workers.map(_name_columns, list(names), chunksize=2000)


def numbered(base: tuple[str, str, str], k: int) -> tuple[str, str, str]:
    """The k-th reuse of a pool name: "…公司（k）"; pinyin columns get the digits appended (which
    is what crm.customers.text computes for the numbered name, asserted in fill())."""
    if k == 0:
        return base
    digits = str(k)
    name, full, initials = base
    return (
        f"{name}（{k}）",
        " ".join(v + digits for v in full.split(" ")),
        " ".join(v + digits for v in initials.split(" ")),
    )


# ---------------------------------------------------------------- organisation


def _department(name: str, parent: Department) -> Department:
    dept = Department.objects.create(name=name, parent=parent)
    dept.path = f"{parent.path}{dept.pk}/"
    dept.save(update_fields=["path"])
    return dept


def fill_org() -> tuple[list[tuple[int, int]], int]:
    """Regions → teams → salespeople; returns [(sales user id, department id)] and the admin id."""
    password = make_password("bench-password")
    admin, _ = User.objects.get_or_create(
        username="bench_admin", defaults={"name": "管理员", "password": password}
    )
    admin.roles.add(Role.objects.get(code="super_admin"))
    root = Department.objects.get(parent__isnull=True)
    center = _department("销售中心", root)
    sales_role, manager_role = Role.objects.get(code="sales"), Role.objects.get(code="sales_manager")
    through = User.roles.through
    sales: list[tuple[int, int]] = []
    for r in range(REGION_COUNT):
        region = _department(f"大区{r + 1}", center)
        manager = User.objects.create(
            username=f"manager{r + 1}", name=f"经理{r + 1}", password=password, department=region
        )
        through.objects.create(user_id=manager.pk, role_id=manager_role.pk)
        for t in range(TEAMS_PER_REGION):
            team = _department(f"大区{r + 1}-组{t + 1}", region)
            batch = [
                User(
                    username=f"sales{r + 1}_{t + 1}_{s + 1}",
                    name=f"销售{r + 1}-{t + 1}-{s + 1}",
                    password=password,
                    department=team,
                    manager=manager,
                )
                for s in range(SALES_PER_TEAM)
            ]
            User.objects.bulk_create(batch)
            created = User.objects.filter(department=team).values_list("pk", flat=True)
            through.objects.bulk_create([through(user_id=pk, role_id=sales_role.pk) for pk in created])
            sales.extend((pk, team.pk) for pk in created)
    return sales, admin.pk


# ---------------------------------------------------------------- bulk load helpers


def _copy_value(value) -> str:
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    return str(value)


def _defaults_sql(model, given: dict[str, str]) -> tuple[list[str], list[str]]:
    """Column names and SQL expressions for INSERT … SELECT: `given` for the columns we set, and
    for every other column NULL, '' (blank text), false, or the field's constant default."""
    columns, expressions = [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(connection.ops.quote_name(field.column))
        if field.attname in given:
            expressions.append(given[field.attname])
        elif field.null:
            expressions.append("NULL")
        elif isinstance(field, models.BooleanField):
            expressions.append("true" if field.default is True else "false")
        elif field.has_default() and not callable(field.default) and isinstance(field.default, int | str):
            expressions.append(f"'{field.default}'" if isinstance(field.default, str) else str(field.default))
        elif isinstance(field, models.CharField | models.TextField):
            expressions.append("''")
        elif isinstance(field, models.DateTimeField):
            expressions.append("now()")
        else:
            raise RuntimeError(f"no bench value for {model.__name__}.{field.name}")
    return columns, expressions


def secondary_indexes(table: str) -> list[tuple[str, str]]:
    """(name, definition) of the table's indexes that no constraint owns."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
            WHERE x.indrelid = %s::regclass
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
            """,
            [table],
        )
        return cursor.fetchall()


def fill(total: int) -> None:
    started = time.perf_counter()
    sales, admin_id = fill_org()
    print(f"  org: {len(sales)} salespeople in {REGION_COUNT} regions ({time.perf_counter() - started:.0f}s)")
    pool_id = Pool.objects.get(is_default=True).pk
    kinds = {}
    for kind in ("status", "category", "value_level", "stage", "industry", "source", "followup_type"):
        kinds[kind] = list(DictionaryItem.objects.filter(kind=kind).values_list("pk", flat=True))
    kinds["region"] = list(DictionaryItem.objects.filter(kind="region").values_list("pk", flat=True))

    names = name_pool(POOL_SIZE)
    sample = numbered(names[7], 12)
    assert (sample[1], sample[2]) == pinyin_columns(sample[0]), "numbered pinyin drifted from text.py"
    print(f"  name pool: {len(names)} names ({time.perf_counter() - started:.0f}s)")

    followup_model = apps.get_model("activities", "FollowUp") if apps.is_installed("crm.activities") else None
    tables = [Customer._meta.db_table, Contact._meta.db_table]
    if followup_model is not None:
        tables.append(followup_model._meta.db_table)
    dropped = {table: secondary_indexes(table) for table in tables}
    with connection.cursor() as cursor:
        # A bench database of our own: no triggers (foreign-key checks) during the load, indexes
        # rebuilt once afterwards. The data are consistent by construction.
        cursor.execute("SET session_replication_role = replica")
        for table in tables:
            for name, _definition in dropped[table]:
                cursor.execute(f"DROP INDEX IF EXISTS {connection.ops.quote_name(name)}")

        # Customers: COPY, in text format, written in large chunks.
        field_names = [f for f in Customer._meta.concrete_fields if not f.primary_key]
        columns = ", ".join(connection.ops.quote_name(f.column) for f in field_names)
        set_here = {
            "kind", "name", "code", "keyword", "status_id", "category_id", "value_level_id", "stage_id",
            "region_id", "industry_id", "source_id", "phone", "mobile", "owner_id", "department_id",
            "pool_id", "created_by_id", "created_at", "updated_at", "claimed_at", "last_followup_at",
            "next_contact_at", "name_pinyin", "name_initials", "name_grams",
        }  # fmt: skip
        constant = {}
        for field in field_names:
            if field.attname in set_here:
                continue
            if field.null:
                constant[field.attname] = None
            elif isinstance(field, models.BooleanField):
                constant[field.attname] = bool(field.default)
            elif isinstance(field, models.JSONField):
                constant[field.attname] = json.dumps(field.get_default())
            else:
                constant[field.attname] = ""
        rng = random.Random(SEED)
        now = timezone.now()
        two_years = 2 * 365 * 24 * 3600
        three_years = 3 * 365 * 24 * 3600
        with cursor.cursor.copy(f"COPY {Customer._meta.db_table} ({columns}) FROM STDIN") as copy:
            buffer = io.StringIO()
            for i in range(total):
                name, full, initials = numbered(names[i % len(names)], i // len(names))
                public = rng.random() < PUBLIC_SHARE
                owner_id, department_id = (None, None) if public else sales[rng.randrange(len(sales))]
                created = now - timedelta(seconds=rng.randrange(three_years))
                followed = None if rng.random() < 0.1 else now - timedelta(seconds=rng.randrange(two_years))
                row = dict(constant)
                row.update(
                    kind="enterprise",
                    name=name,
                    code=f"KH{i + 1:09d}",
                    keyword=name[3:5] if rng.random() < 0.1 else "",
                    status_id=rng.choice(kinds["status"]),
                    category_id=rng.choice(kinds["category"]),
                    value_level_id=rng.choice(kinds["value_level"]),
                    stage_id=rng.choice(kinds["stage"]),
                    region_id=rng.choice(kinds["region"]),
                    industry_id=rng.choice(kinds["industry"]),
                    source_id=rng.choice(kinds["source"]),
                    phone=f"0755-{rng.randrange(10**7, 10**8)}",
                    mobile=f"1{rng.choice('3456789')}{rng.randrange(10**8, 10**9)}",
                    owner_id=owner_id,
                    department_id=department_id,
                    pool_id=pool_id if public else None,
                    created_by_id=owner_id or admin_id,
                    created_at=created.isoformat(),
                    updated_at=created.isoformat(),
                    claimed_at=None if public else created.isoformat(),
                    last_followup_at=followed.isoformat() if followed else None,
                    next_contact_at=(now + timedelta(days=rng.randrange(30))).isoformat()
                    if rng.random() < 0.2
                    else None,
                    name_pinyin=full,
                    name_initials=initials,
                    name_grams=name_grams(name),
                )
                buffer.write("\t".join(_copy_value(row[f.attname]) for f in field_names))
                buffer.write("\n")
                if i % 20000 == 19999:
                    copy.write(buffer.getvalue())
                    buffer = io.StringIO()
            copy.write(buffer.getvalue())
        print(f"  customers: {total} copied ({time.perf_counter() - started:.0f}s)")

        # Contacts: two per customer, the first primary, generated in SQL.
        contact_columns, contact_values = _defaults_sql(
            Contact,
            {
                "customer_id": "c.id",
                "name": f"substr('{SURNAMES}', (1 + (c.id * 7 + g) % {len(SURNAMES)})::int, 1)"
                f" || substr('{GIVEN}', (1 + (c.id * 13 + g) % {len(GIVEN)})::int, 1)",
                "title": f"(ARRAY{list(TITLES)!r})[(1 + (c.id + g) % {len(TITLES)})::int]",
                "mobile": "'13' || lpad(((c.id * 31 + g * 17) % 1000000000)::text, 9, '0')",
                "is_primary": "g = 1",
                "created_by_id": f"coalesce(c.owner_id, {admin_id})",
                "created_at": "c.created_at",
                "updated_at": "c.created_at",
            },
        )
        cursor.execute(
            f"INSERT INTO {Contact._meta.db_table} ({', '.join(contact_columns)}) "  # noqa: S608
            f"SELECT {', '.join(contact_values)} FROM {Customer._meta.db_table} c "
            "CROSS JOIN generate_series(1, 2) g"
        )
        print(f"  contacts: {cursor.rowcount} inserted ({time.perf_counter() - started:.0f}s)")

        if followup_model is None:
            print("  NOTE: crm.activities is not installed: no follow-ups generated (5,000,000 planned).")
        else:
            types = kinds["followup_type"]
            followup_columns, followup_values = _defaults_sql(
                followup_model,
                {
                    "customer_id": "c.id",
                    "author_id": f"coalesce(c.owner_id, {admin_id})",
                    "type_id": f"(ARRAY{types!r})[(1 + (c.id + g) % {len(types)})::int]",
                    "content": f"(ARRAY{list(FOLLOWUP_TEXTS)!r})"
                    f"[(1 + (c.id * 3 + g) % {len(FOLLOWUP_TEXTS)})::int]",
                    "followed_at": "coalesce(c.last_followup_at, c.created_at) - (g - 1) * interval '9 days'",
                    "created_at": "coalesce(c.last_followup_at, c.created_at) - (g - 1) * interval '9 days'",
                    "updated_at": "coalesce(c.last_followup_at, c.created_at) - (g - 1) * interval '9 days'",
                },
            )
            cursor.execute(
                f"INSERT INTO {followup_model._meta.db_table} ({', '.join(followup_columns)}) "  # noqa: S608
                f"SELECT {', '.join(followup_values)} FROM {Customer._meta.db_table} c "
                "CROSS JOIN generate_series(1, 5) g"
            )
            print(f"  follow-ups: {cursor.rowcount} inserted ({time.perf_counter() - started:.0f}s)")

        cursor.execute("SET session_replication_role = origin")
        cursor.execute("SET maintenance_work_mem = '1GB'")
        cursor.execute("SET max_parallel_maintenance_workers = 2")
        for table in tables:
            for name, definition in dropped[table]:
                step = time.perf_counter()
                cursor.execute(definition)
                print(f"    index {name}: {time.perf_counter() - step:.1f}s")
        # Rebuilt indexes lose per-index settings (statistics targets): apply migration 0004 again.
        search_indexes = importlib.import_module("crm.customers.migrations.0004_search_indexes")
        for sql in search_indexes.POSTGRES_SQL:
            cursor.execute(sql)
        print(f"  indexes rebuilt ({time.perf_counter() - started:.0f}s)")
        for table in tables:
            sequence_reset(cursor, table)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"  VACUUM ANALYZE done ({time.perf_counter() - started:.0f}s)")


def sequence_reset(cursor, table: str) -> None:
    cursor.execute(
        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
        f"coalesce((SELECT max(id) FROM {table}), 1))"
    )


# ---------------------------------------------------------------- measuring


def percentiles(times: list[float]) -> tuple[float, float]:
    times = sorted(times)
    return statistics.median(times), times[max(0, int(round(len(times) * 0.95)) - 1)]


def time_it(fn, runs: int) -> tuple[float, float]:
    fn()  # warm
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return percentiles(times)


def orm_page(user, **kwargs):
    def run():
        policy.forget(user)  # as in a request: the user's roles are read again
        return list(customer_list_rows(customer_list(user=user, **kwargs))[:20])

    return run


def sql_page(user, **kwargs):
    policy.forget(user)
    sql, params = customer_list_rows(customer_list(user=user, **kwargs))[:20].query.sql_with_params()

    def run():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    return run, sql, params


def explain(sql: str, params) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def measure(runs: int, show_plans: bool) -> list[tuple]:
    salesperson = User.objects.filter(username="sales3_2_7").get()
    manager = User.objects.get(username="manager3")
    status = (
        DictionaryItem.objects.filter(kind="status", name="意向客户").values_list("pk", flat=True).first()
    )

    # Search terms taken from the data: a 2-character brand, brand + industry (4 characters) and
    # its initials, chosen among the manager's customers so that they find something.
    def cases_for(user) -> list[tuple[str, dict]]:
        # Search terms taken from the user's own scope so that they find something: a 2-character
        # brand, brand + industry (4 characters) and its pinyin initials.
        sample = (
            Customer.objects.filter(owner__in=policy.visible_users(user).values("pk"))
            .filter(name__regex=r"^..市..(通讯|科技|电子|贸易)")
            .order_by("pk")
            .first()
        )
        brand, four = sample.name[3:5], sample.name[3:7]
        initials = pinyin_columns(four)[1].split(" ")[0]
        return [
            ("list: status filter, sort -last_followup_at",
             {"conditions": [Condition("status", "is", str(status))], "sort": "-last_followup_at"}),
            ("list: default (newest first)", {}),
            (f"search 2 chars {brand}", {"query": brand}),
            (f"search 4 chars {four}", {"query": four}),
            (f"search initials {initials}", {"query": initials}),
            ("search 1 char 华", {"query": "华"}),
            ("search pinyin zhongxing", {"query": "zhongxing"}),
            ("search mobile prefix 1391", {"query": "1391"}),
        ]  # fmt: skip

    brands = {}
    rows = []
    for label, user in (("销售 (本人)", salesperson), ("经理 (本部门及下级)", manager)):
        cases = cases_for(user)
        brands[user.pk] = cases[2][1]["query"]
        for case, kwargs in cases:
            orm_p50, orm_p95 = time_it(orm_page(user, **kwargs), runs)
            sql_run, sql, params = sql_page(user, **kwargs)
            sql_p50, sql_p95 = time_it(sql_run, runs)
            found = len(sql_run())
            rows.append((label, "ORM", case, orm_p50, orm_p95, sql_p50, sql_p95, found))
            if show_plans:
                print(f"\n--- {label} / {case}\n{explain(sql, params)}")
    try:
        resolve("/customers/")
    except Resolver404:
        print("\nNOTE: /customers/ does not resolve yet: the list was measured through the ORM only.")
        return rows
    for label, user in (("销售 (本人)", salesperson), ("经理 (本部门及下级)", manager)):
        client = Client()
        client.force_login(user)
        brand = brands[user.pk]
        for case, url in (
            ("page /customers/", "/customers/"),
            (f"page ?q={brand}", f"/customers/?q={brand}"),
        ):
            response = client.get(url)
            if response.status_code != 200:
                print(f"NOTE: {url} answered {response.status_code} for {user.username}; not measured")
                continue
            p50, p95 = time_it(lambda url=url, client=client: client.get(url), runs)
            rows.append((label, "Client", case, p50, p95, float("nan"), float("nan"), 0))
    rows += measure_detail(runs, salesperson, manager)
    return rows


def measure_detail(runs: int, salesperson, manager) -> list[tuple]:
    """The detail page of one of the salesperson's customers given a long history, for its owner
    and for the manager, beside the bare SQL of its largest read (the newest follow-ups)."""
    from django.db import transaction

    from crm.activities.models import FollowUp
    from crm.audit.models import OperationLog

    rows = []
    with transaction.atomic():
        customer = Customer.objects.filter(owner=salesperson, deleted_at__isnull=True).order_by("pk").first()
        now = timezone.now()
        phone_call = DictionaryItem.objects.filter(kind="followup_type").order_by("pk").first()
        FollowUp.objects.bulk_create(
            FollowUp(
                customer=customer,
                content=FOLLOWUP_TEXTS[n % len(FOLLOWUP_TEXTS)],
                author=salesperson,
                type=phone_call,
                followed_at=now - timedelta(hours=n),
                created_at=now - timedelta(hours=n),
            )
            for n in range(2000)
        )
        OperationLog.objects.bulk_create(
            OperationLog(
                actor=salesperson,
                action="customer.updated",
                target_type=ContentType.objects.get_for_model(Customer),
                target_id=str(customer.pk),
                target_repr=customer.name,
            )
            for _ in range(500)
        )
        with connection.cursor() as cursor:  # statistics as autovacuum would have them by now
            cursor.execute("ANALYZE activities_followup")
            cursor.execute("ANALYZE audit_operationlog")
        url = f"/customers/{customer.pk}/"
        sql = (
            "SELECT * FROM activities_followup WHERE customer_id = %s "
            "ORDER BY created_at DESC, id DESC LIMIT 20"
        )

        def bare():
            with connection.cursor() as cursor:
                cursor.execute(sql, [customer.pk])
                return cursor.fetchall()

        sql_p50, sql_p95 = time_it(bare, runs)
        for label, user in (("销售 (本人)", salesperson), ("经理 (本部门及下级)", manager)):
            client = Client()
            client.force_login(user)
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            queries = []  # counted by a wrapper: each request clears connection.queries_log

            def count(execute, sql, params, many, context, queries=queries):
                queries.append(sql)
                return execute(sql, params, many, context)

            with connection.execute_wrapper(count):
                client.get(url)
            p50, p95 = time_it(lambda client=client: client.get(url), runs)
            case = f"detail (2000 follow-ups), {len(queries)} queries"
            if os.environ.get("BENCH_PROFILE"):
                import cProfile

                cProfile.runctx("client.get(url)", globals(), {"client": client, "url": url}, sort="cumtime")
            rows.append((label, "Client", case, p50, p95, sql_p50, sql_p95, 20))
        transaction.set_rollback(True)
    return rows


# ---------------------------------------------------------------- recycle rules (POOL-4)

RECYCLE_SHARE = 0.07  # of all customers: what the bench rule should recycle
# When "no follow-up for N days" starts counting: the last follow-up, or the claim when later.
REFERENCE_SQL = (
    "GREATEST(COALESCE(last_followup_at, COALESCE(claimed_at, created_at)), COALESCE(claimed_at, created_at))"
)


def _recycle_rule(share: float):
    """A "no follow-up for N days" rule with A-level customers given 60 more days and 正式客户
    exempt, N chosen from the data so that it recycles about `share` of all customers."""
    from crm.customers.models import RecycleRule

    formal = DictionaryItem.objects.get(kind="status", name="正式客户")
    a_level = DictionaryItem.objects.get(kind="value_level", name="A 级")
    table = Customer._meta.db_table
    owned = Customer.objects.filter(deleted_at__isnull=True, owner__isnull=False).exclude(status=formal)
    eligible = owned.count()
    fraction = min(0.99, share * Customer.objects.count() / max(eligible, 1))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT percentile_disc(%s) WITHIN GROUP (ORDER BY now() - {REFERENCE_SQL}) "  # noqa: S608
            f"FROM {table} WHERE deleted_at IS NULL AND owner_id IS NOT NULL AND status_id <> %s",
            [1 - fraction, formal.pk],
        )
        age = cursor.fetchone()[0]
    days = max(1, age.days)
    rule = RecycleRule.objects.create(
        name="bench 长期未跟进", kind="no_followup", days=days, days_by_level={str(a_level.pk): days + 60}
    )
    rule.exempt_statuses.set([formal])
    return rule, formal, a_level


def _bare_recycle_sql(rule, formal, a_level, now) -> tuple[str, list]:
    """The same recycle as one UPDATE … WHERE (no locking, batches, log or messages)."""
    from crm.customers import recycle
    from crm.customers.services import default_pool

    level_days = rule.days_by_level[str(a_level.pk)]
    sql = (
        f"UPDATE {Customer._meta.db_table} SET previous_owner_id = owner_id, owner_id = NULL, "  # noqa: S608
        "department_id = NULL, pool_id = %s, claimed_at = NULL, protected_until = NULL, released_at = %s, "
        "release_reason = CASE WHEN value_level_id = %s THEN %s ELSE %s END, updated_at = %s "
        "WHERE deleted_at IS NULL AND owner_id IS NOT NULL "
        "AND (protected_until IS NULL OR protected_until <= %s) "
        "AND NOT (status_id IS NOT NULL AND status_id = %s) "
        f"AND {REFERENCE_SQL} <= CASE WHEN value_level_id = %s THEN %s ELSE %s END"
    )
    params = [
        default_pool().pk,
        now,
        a_level.pk,
        recycle.reason_text(rule, level_days),
        recycle.reason_text(rule, rule.days),
        now,
        now,
        formal.pk,
        a_level.pk,
        now - timedelta(days=level_days),
        now - timedelta(days=rule.days),
    ]
    return sql, params


def measure_recycle(runs: int) -> None:
    """Time recycle_preview, recycle_run and recycle_warnings_send over all customers, and the
    bare-SQL UPDATE of the same rows; every run is rolled back, so the bench can be repeated."""
    from django.db import transaction

    from crm.audit.models import OperationLog
    from crm.customers import recycle

    rows = []
    for attempt in range(runs):
        with transaction.atomic():
            rule, formal, a_level = _recycle_rule(RECYCLE_SHARE)
            rule.warn_days_before = 3
            rule.save(update_fields=["warn_days_before"])
            now = timezone.now()
            loaded = recycle.rules_loaded(rule_ids=[rule.pk])[0]
            started = time.perf_counter()
            preview = recycle.recycle_preview(loaded, now)
            preview_s = time.perf_counter() - started
            started = time.perf_counter()
            warned = recycle.recycle_warnings_send(now=now)
            warn_s = time.perf_counter() - started
            logs_before = OperationLog.objects.count()
            started = time.perf_counter()
            recycled = recycle.recycle_run(now=now, rules=[rule])[rule.pk]
            run_s = time.perf_counter() - started
            logs = OperationLog.objects.filter(action="pool.recycled").count()
            assert recycled == preview.count, (recycled, preview.count)
            assert OperationLog.objects.count() - logs_before >= recycled and logs == recycled
            transaction.set_rollback(True)
        with transaction.atomic():
            rule, formal, a_level = _recycle_rule(RECYCLE_SHARE)
            sql, params = _bare_recycle_sql(rule, formal, a_level, now)
            with connection.cursor() as cursor:
                started = time.perf_counter()
                cursor.execute(sql, params)
                sql_s = time.perf_counter() - started
                updated = cursor.rowcount
            transaction.set_rollback(True)
        assert updated == recycled, (updated, recycled)
        rows.append((attempt + 1, rule.days, recycled, preview_s, warn_s, warned, run_s, sql_s))
    total = Customer.objects.count()
    print(f"\nrecycle over {total} customers (each run rolled back; target recycle_run < 60 s)")
    print(
        f"{'run':>3} {'N days':>6} {'recycled':>8} {'share':>6} {'preview s':>9} {'warn s':>7} {'warned':>7} "
        f"{'run s':>7} {'SQL s':>7} {'ratio':>6}"
    )
    for attempt, days, recycled, preview_s, warn_s, warned, run_s, sql_s in rows:
        print(
            f"{attempt:3d} {days:6d} {recycled:8d} {recycled / total:6.1%} {preview_s:9.2f} {warn_s:7.2f} "
            f"{warned:7d} {run_s:7.2f} {sql_s:7.2f} {run_s / sql_s:6.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=25)
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of every query")
    parser.add_argument(
        "--recycle",
        action="store_true",
        help="measure the recycle rules (POOL-4) instead of the list and search, --runs times (try 2)",
    )
    args = parser.parse_args()
    assert connection.vendor == "postgresql", "bench/customers.py needs PostgreSQL (DATABASE_URL)"
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    if Customer.objects.exists():
        print("data already generated")
    else:
        fill(args.customers)
    followups = ""
    if apps.is_installed("crm.activities"):
        followups = f", {apps.get_model('activities', 'FollowUp').objects.count()} follow-ups"
    print(
        f"data ready in {time.perf_counter() - started:.0f}s: {Customer.objects.count()} customers, "
        f"{Contact.objects.count()} contacts{followups}"
    )
    if args.recycle:
        measure_recycle(args.runs)
        return
    # Rolled-back bench runs (--recycle) leave dead rows behind; autovacuum would have cleared
    # them in a live system, so clear them before timing.
    with connection.cursor() as cursor:
        for table in ("customers_customer", "customers_customeraccess", "audit_operationlog"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    rows = measure(args.runs, args.explain)
    print(f"\np50/p95 over {args.runs} runs, ms (targets: list p95 < 100, search p95 < 150)")
    print(
        f"{'user':18} {'via':6} {'case':44} {'p50':>7} {'p95':>7} {'SQL p50':>8} {'SQL p95':>8} "
        f"{'ratio':>6} {'rows':>5}"
    )
    for label, via, case, p50, p95, sql50, sql95, found in rows:
        ratio = p50 / sql50 if sql50 == sql50 and sql50 else float("nan")
        print(
            f"{label:18} {via:6} {case:44} {p50:7.1f} {p95:7.1f} {sql50:8.1f} {sql95:8.1f} "
            f"{ratio:6.1f} {found:5d}"
        )


if __name__ == "__main__":
    main()
