"""Fill a PostgreSQL database with the sales pipeline on top of bench/customers.py's million
customers, then time the opportunity kanban and list, a contract detail and a contract approval.

Usage (a database of its own; it is filled with generated rows):
    psql -h 127.0.0.1 -U postgres -c "CREATE DATABASE crm_bench_pipeline ENCODING 'UTF8' TEMPLATE template0"
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench_pipeline \
        .venv/bin/python bench/pipeline.py [--customers 1000000] [--runs 25] [--explain]

The customers, contacts, follow-ups and the organisation (20 regions × 5 teams × 20 salespeople,
managers with data scope 本部门及下级) come from bench/customers.py's fill(). On top of them, set-based
(INSERT … SELECT, secondary indexes dropped during the load and rebuilt after it):
- the default stage group (4 open stages, 赢单, 输单) and ~200 products;
- opportunities (as many as customers: 1,000,000), on owned customers and owned by the customer's
  owner, 60 % open (spread over the open stages), 20 % won, 20 % lost, stage kind = status;
- contracts (half as many: 500,000), one per second opportunity, linked to it when it was won;
  ~90 % approved, ~6 % pending, ~4 % draft; 3 lines each over the products, totals = the lines'
  (crm/core/money.line_total rounding: ROUND_HALF_UP to the fen, in SQL round(numeric));
- 1–3 payment plans per contract (amounts add up to the total), a receivable for ~80 % of the
  approved contracts' plans already due, received amounts on plans and contracts = their receivables.

Then, over --runs repetitions, p50/p95 server time of each case beside the bare SQL of the same
statements (every statement the case ran, captured and executed again on a cursor), their ratio
and the statement count:
1. the kanban board (URL "opportunities:kanban") for a regional manager (本部门及下级)   < 200 ms
2. the opportunity list (URL "opportunities:list") with status=open and a stage filter  < 100 ms
3. a contract detail page (URL "contracts:detail"; its selector when it does not answer)  < 100 ms
4. approving step 1 of a 2-step contract approval (crm.approvals.services.approve), each
   run in a transaction rolled back afterwards                                            < 100 ms
"""

import argparse
import math
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import customers as base  # noqa: E402  (bench/customers.py: django.setup(), the customer fill, timing)
from django.apps import apps  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import NoReverseMatch, reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from crm.access import policy  # noqa: E402
from crm.accounts.models import User  # noqa: E402
from crm.approvals import services as approvals  # noqa: E402
from crm.approvals.models import ApprovalFlow, ApprovalStep, ApprovalTask  # noqa: E402
from crm.contracts.models import Contract, ContractLine  # noqa: E402
from crm.customers.models import Customer  # noqa: E402
from crm.opportunities.demo import ensure_default_group  # noqa: E402
from crm.opportunities.models import Opportunity, Stage  # noqa: E402
from crm.products.models import Product  # noqa: E402
from crm.receivables.models import PaymentPlan, Receivable  # noqa: E402

PRODUCT_COUNT = 200
PRODUCT_PREFIX = "BENCH-"
TOPICS = (
    "ERP 升级 门店收银系统 年度耗材采购 仓储设备更新 办公网络改造 安防监控 培训服务 数据中心扩容 "
    "生产线自动化 车队管理 财务软件 会议室改造 视频会议系统 云服务迁移 信息安全评估 物流系统"
).split()
PRODUCT_WORDS = (
    "服务器 交换机 路由器 防火墙 存储阵列 笔记本 台式机 显示器 打印机 扫描仪 投影仪 门禁 摄像头 "
    "收银机 条码枪 平板 软件授权 运维服务 培训课程 安装调试"
).split()
UNITS = ("台", "套", "个", "年", "次")
TARGETS = {"kanban": 200, "list": 100, "contract": 100, "approve": 100}


# ---------------------------------------------------------------- fill


def _insert(cursor, model, given: dict[str, str], source_sql: str, params=None) -> int:
    """INSERT INTO model's table (all concrete columns but the id) SELECT given-or-default FROM …"""
    columns, expressions = base._defaults_sql(model, given)
    cursor.execute(
        f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) "  # noqa: S608
        f"SELECT {', '.join(expressions)} {source_sql}",
        params,
    )
    return cursor.rowcount


def fill_products(count: int = PRODUCT_COUNT) -> None:
    """~200 products with list prices from 10 to ~50,000 (200 rows: the ORM is fine)."""
    admin = User.objects.get(username="bench_admin")
    Product.objects.bulk_create(
        Product(
            code=f"{PRODUCT_PREFIX}{n + 1:04d}",
            name=f"{PRODUCT_WORDS[n % len(PRODUCT_WORDS)]} 型号{n + 1:03d}",
            unit=UNITS[n % len(UNITS)],
            list_price=f"{10 + (n * 7919) % 50000}.{n % 100:02d}",
            cost=f"{5 + (n * 7919) % 30000}.00",
            created_by=admin,
        )
        for n in range(count)
    )


def fill_pipeline(opportunity_total: int, contract_total: int) -> list[str]:
    """The pipeline rows (call inside a transaction: a failure leaves nothing behind); returns
    the tables filled, to VACUUM ANALYZE after the commit."""
    started = time.perf_counter()
    group = ensure_default_group()
    stages = list(group.stages.order_by("order", "pk"))
    open_ids = [s.pk for s in stages if s.kind == Stage.Kind.OPEN]
    won_id = next(s.pk for s in stages if s.kind == Stage.Kind.WON)
    lost_id = next(s.pk for s in stages if s.kind == Stage.Kind.LOST)
    fill_products()
    print(f"  stage group {group.name} ({len(stages)} stages), {PRODUCT_COUNT} products")

    owned = Customer.objects.filter(owner__isnull=False).count()
    # Every owned customer gets `per_customer` opportunities, and one more for extra_share/10000.
    per_customer = opportunity_total // owned
    extra_share = math.ceil((opportunity_total - per_customer * owned) * 10000 / owned) + 10
    models_ = (Opportunity, Contract, ContractLine, PaymentPlan, Receivable)
    tables = [m._meta.db_table for m in models_]
    dropped = {table: base.secondary_indexes(table) for table in tables}
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        for table in tables:
            for name, _definition in dropped[table]:
                cursor.execute(f"DROP INDEX IF EXISTS {connection.ops.quote_name(name)}")

        # Opportunities: h decides the status (60 % open / 20 % won / 20 % lost), the stage agrees.
        stage_sql = (
            f"CASE WHEN s.h < 60 THEN (ARRAY{open_ids!r})[1 + (s.cid + s.g) % {len(open_ids)}] "
            f"WHEN s.h < 80 THEN {won_id} ELSE {lost_id} END"
        )
        status_sql = "CASE WHEN s.h < 60 THEN 'open' WHEN s.h < 80 THEN 'won' ELSE 'lost' END"
        created_sql = "LEAST(now(), s.c_created + ((s.cid * 7 + s.g) % 365) * interval '1 day')"
        closed_sql = f"LEAST(now(), {created_sql} + (1 + s.h % 60) * interval '1 day')"
        rows = _insert(
            cursor,
            Opportunity,
            {
                "code": "'SJB' || lpad(s.rn::text, 9, '0')",
                "name": f"(ARRAY{list(TOPICS)!r})[1 + (s.cid * 3 + s.g) % {len(TOPICS)}]",
                "customer_id": "s.cid",
                "expected_amount": "((1 + (s.cid * 13 + s.g) % 500) * 1000)::numeric(14, 2)",
                "expected_close_date": f"({created_sql} + (30 + s.h) * interval '1 day')::date",
                "stage_group_id": str(group.pk),
                "stage_id": stage_sql,
                "owner_id": "s.owner_id",
                "department_id": "s.department_id",
                "status": status_sql,
                "won_at": f"CASE WHEN s.h >= 60 AND s.h < 80 THEN {closed_sql} END",
                "lost_at": f"CASE WHEN s.h >= 80 THEN {closed_sql} END",
                "created_by_id": "s.owner_id",
                "created_at": created_sql,
                "updated_at": f"CASE WHEN s.h < 60 THEN "
                f"LEAST(now(), {created_sql} + (s.h % 30) * interval '1 day') ELSE {closed_sql} END",
            },
            f"FROM (SELECT c.id AS cid, c.owner_id, c.department_id, c.created_at AS c_created, g, "  # noqa: S608
            f"row_number() OVER () AS rn, (c.id * 31 + g * 17) % 100 AS h "
            f"FROM {Customer._meta.db_table} c CROSS JOIN generate_series(1, {per_customer + 1}) g "
            f"WHERE c.owner_id IS NOT NULL AND c.deleted_at IS NULL "
            f"AND (g <= {per_customer} OR (c.id * 7919) % 10000 < {extra_share}) "
            f"LIMIT {opportunity_total}) s",
        )
        print(f"  opportunities: {rows} inserted ({time.perf_counter() - started:.0f}s)")

        # Contracts: one per `step`-th opportunity; 90 % approved, 6 % pending, 4 % draft.
        step = max(1, opportunity_total // max(contract_total, 1))
        h = "((o.id * 37) % 100)"
        signed = "LEAST(current_date, (o.created_at + (o.id % 60) * interval '1 day')::date)"
        rows = _insert(
            cursor,
            Contract,
            {
                "code": "'HTB' || lpad(o.id::text, 10, '0')",
                "name": "o.name || '合同'",
                "kind": "'contract'",
                "customer_id": "o.customer_id",
                "opportunity_id": "CASE WHEN o.status = 'won' THEN o.id END",
                "owner_id": "o.owner_id",
                "department_id": "o.department_id",
                "status": f"CASE WHEN {h} < 90 THEN 'approved' WHEN {h} < 96 THEN 'pending' ELSE 'draft' END",
                "order_status": "''",
                "signed_on": signed,
                "start_on": signed,
                "end_on": f"{signed} + 365",
                "tax_percent": "13.00",
                "subtotal": "0",
                "discount_total": "0",
                "tax_total": "0",
                "total": "0",
                "received_amount": "0",
                "invoiced_amount": "0",
                "submitted_at": f"CASE WHEN {h} < 96 THEN {signed}::timestamptz END",
                "approved_at": f"CASE WHEN {h} < 90 THEN {signed}::timestamptz + interval '1 day' END",
                "created_by_id": "o.owner_id",
                "created_at": "o.created_at",
                "updated_at": "o.created_at",
            },
            f"FROM {Opportunity._meta.db_table} o WHERE o.id % {step} = 0 "
            f"ORDER BY o.id LIMIT {contract_total}",
        )
        print(f"  contracts: {rows} inserted ({time.perf_counter() - started:.0f}s)")

        # Lines: 3 per contract over the products; amount = line_total(qty, price, discount, 13 %).
        quantity = "(1 + (c.id + g) % 10)::numeric"
        discount = "(((c.id + g) % 3) * 5)::numeric"
        rows = _insert(
            cursor,
            ContractLine,
            {
                "contract_id": "c.id",
                "order": "g",
                "product_id": "p.id",
                "quantity": quantity,
                "unit": "p.unit",
                "list_price": "p.list_price",
                "policy_price": "p.list_price",
                "unit_price": "p.list_price",
                "discount_percent": discount,
                "tax_percent": "13.00",
                "amount": f"round({quantity} * p.list_price * (100 - {discount}) / 100 * 113 / 100, 2)",
                "points": "0",
            },
            f"FROM {Contract._meta.db_table} c CROSS JOIN generate_series(1, 3) g "  # noqa: S608
            f"JOIN (SELECT id, unit, list_price, row_number() OVER (ORDER BY id) - 1 AS n "
            f"FROM {Product._meta.db_table} WHERE code LIKE '{PRODUCT_PREFIX}%%') p "
            f"ON p.n = (c.id * 7 + g * 13) % {PRODUCT_COUNT}",
        )
        print(f"  contract lines: {rows} inserted ({time.perf_counter() - started:.0f}s)")
        # Totals as crm.quotes.services.compute_totals adds them: subtotal = Σ gross, discount =
        # Σ (gross − net), tax = Σ (amount − net), total = Σ amount.
        cursor.execute(
            f"UPDATE {Contract._meta.db_table} c SET subtotal = t.gross, discount_total = t.gross - t.net, "  # noqa: S608
            "tax_total = t.amount - t.net, total = t.amount "
            "FROM (SELECT contract_id, sum(round(quantity * unit_price, 2)) AS gross, "
            "sum(round(quantity * unit_price * (100 - discount_percent) / 100, 2)) AS net, "
            f"sum(amount) AS amount FROM {ContractLine._meta.db_table} GROUP BY contract_id) t "
            "WHERE t.contract_id = c.id"
        )
        print(f"  contract totals: {cursor.rowcount} updated ({time.perf_counter() - started:.0f}s)")

        # Payment plans: 1–3 per contract, equal parts, the last one takes the rounding rest.
        parts = "(1 + c.id % 3)"
        part = f"round(c.total / {parts}, 2)"
        rows = _insert(
            cursor,
            PaymentPlan,
            {
                "contract_id": "c.id",
                "customer_id": "c.customer_id",
                "number": "g",
                "amount": f"CASE WHEN g < {parts} THEN {part} ELSE c.total - {part} * ({parts} - 1) END",
                "due_on": "c.signed_on + g * 30",
                "method": "'bank'",
                "remind_days_before": "3",
                "received_amount": "0",
                "created_by_id": "c.owner_id",
                "created_at": "c.created_at",
            },
            f"FROM {Contract._meta.db_table} c CROSS JOIN generate_series(1, 3) g WHERE g <= {parts}",
        )
        print(f"  payment plans: {rows} inserted ({time.perf_counter() - started:.0f}s)")

        # Receivables: ~80 % of the approved contracts' plans already due, received in full.
        received_on = "LEAST(current_date, p.due_on + (p.id % 10)::int)"
        rows = _insert(
            cursor,
            Receivable,
            {
                "code": "'HKB' || lpad(p.id::text, 10, '0')",
                "contract_id": "c.id",
                "customer_id": "c.customer_id",
                "plan_id": "p.id",
                "owner_id": "c.owner_id",
                "department_id": "c.department_id",
                "amount": "p.amount",
                "received_on": received_on,
                "method": "'bank'",
                "status": "'approved'",
                "approved_at": f"{received_on}::timestamptz",
                "created_by_id": "c.owner_id",
                "created_at": f"{received_on}::timestamptz",
                "updated_at": f"{received_on}::timestamptz",
            },
            f"FROM {PaymentPlan._meta.db_table} p JOIN {Contract._meta.db_table} c ON c.id = p.contract_id "
            "WHERE c.status = 'approved' AND p.due_on <= current_date AND (p.id * 13) % 10 < 8",
        )
        print(f"  receivables: {rows} inserted ({time.perf_counter() - started:.0f}s)")
        cursor.execute(
            f"UPDATE {PaymentPlan._meta.db_table} p SET received_amount = r.amount "  # noqa: S608
            f"FROM {Receivable._meta.db_table} r WHERE r.plan_id = p.id AND r.status = 'approved'"
        )
        cursor.execute(
            f"UPDATE {Contract._meta.db_table} c SET received_amount = r.amount "  # noqa: S608
            f"FROM (SELECT contract_id, sum(amount) AS amount FROM {Receivable._meta.db_table} "
            "WHERE status = 'approved' GROUP BY contract_id) r WHERE r.contract_id = c.id"
        )
        print(f"  received amounts: {cursor.rowcount} contracts ({time.perf_counter() - started:.0f}s)")

        cursor.execute("SET session_replication_role = origin")
        cursor.execute("SET maintenance_work_mem = '1GB'")
        cursor.execute("SET max_parallel_maintenance_workers = 2")
        for table in tables:
            for name, definition in dropped[table]:
                step_started = time.perf_counter()
                cursor.execute(definition)
                print(f"    index {name}: {time.perf_counter() - step_started:.1f}s")
            base.sequence_reset(cursor, table)
    print(f"  pipeline indexes rebuilt ({time.perf_counter() - started:.0f}s)")
    return tables


def vacuum(tables) -> None:
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM ANALYZE {table}")


def check_consistency() -> None:
    """The invariants the fill promises, checked in SQL (fails loudly when the fill drifted)."""
    checks = {
        "opportunity status = its stage's kind": (
            "SELECT count(*) FROM opportunities_opportunity o "
            "JOIN opportunities_stage s ON s.id = o.stage_id WHERE s.kind <> o.status"
        ),
        "opportunity owner = customer owner": (
            "SELECT count(*) FROM opportunities_opportunity o "
            "JOIN customers_customer c ON c.id = o.customer_id WHERE c.owner_id IS DISTINCT FROM o.owner_id"
        ),
        "contract total = Σ line amounts": (
            "SELECT count(*) FROM contracts_contract c LEFT JOIN (SELECT contract_id, sum(amount) a "
            "FROM contracts_contractline GROUP BY contract_id) l ON l.contract_id = c.id "
            "WHERE c.total <> coalesce(l.a, 0)"
        ),
        "contract total = subtotal − discount + tax": (
            "SELECT count(*) FROM contracts_contract WHERE total <> subtotal - discount_total + tax_total"
        ),
        "Σ plans = contract total": (
            "SELECT count(*) FROM contracts_contract c JOIN (SELECT contract_id, sum(amount) a "
            "FROM receivables_paymentplan GROUP BY contract_id) p "
            "ON p.contract_id = c.id WHERE p.a <> c.total"
        ),
        "contract received = Σ approved receivables": (
            "SELECT count(*) FROM contracts_contract c LEFT JOIN (SELECT contract_id, sum(amount) a "
            "FROM receivables_receivable WHERE status = 'approved' GROUP BY contract_id) r "
            "ON r.contract_id = c.id WHERE c.received_amount <> coalesce(r.a, 0)"
        ),
    }
    with connection.cursor() as cursor:
        for label, sql in checks.items():
            cursor.execute(sql)
            bad = cursor.fetchone()[0]
            assert bad == 0, f"fill inconsistent: {label}: {bad} rows"
    print(f"  consistency: {len(checks)} checks passed")


# ---------------------------------------------------------------- measuring


class Captured:
    """The statements a block ran (sql, params, many), via connection.execute_wrapper."""

    def __init__(self):
        self.statements: list[tuple[str, object, bool]] = []

    def __call__(self, execute, sql, params, many, context):
        self.statements.append((sql, params, many))
        return execute(sql, params, many, context)


def capture(fn) -> tuple[object, list]:
    captured = Captured()
    with connection.execute_wrapper(captured):
        result = fn()
    return result, captured.statements


def replay(statements) -> None:
    """Run the captured statements again on a bare cursor (in a savepoint rolled back, so writes
    leave nothing behind)."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            for sql, params, many in statements:
                if many:
                    cursor.executemany(sql, params)
                else:
                    cursor.execute(sql, params)
        transaction.set_rollback(True)


def slowest(statements, top: int = 2) -> list[tuple[float, str, object]]:
    timed = []
    with transaction.atomic():
        with connection.cursor() as cursor:
            for sql, params, many in statements:
                if many or not sql.lstrip().upper().startswith("SELECT"):
                    continue
                started = time.perf_counter()
                cursor.execute(sql, params)
                timed.append(((time.perf_counter() - started) * 1000, sql, params))
        transaction.set_rollback(True)
    return sorted(timed, key=lambda row: row[0], reverse=True)[:top]


def show_plans(case: str, statements) -> None:
    for ms, sql, params in slowest(statements):
        print(f"\n--- {case}: {ms:.1f} ms\n{sql}\n{base.explain(sql, params)}")


def timed(fn, runs: int) -> tuple[float, float, float]:
    """Wall-clock p50/p95 (ms) of fn over `runs` after one warm-up, and the p50 of this process's CPU
    time (ms): the part of a run spent in Python here, which other jobs on the machine do not inflate
    as much as the wall clock."""
    fn()
    walls, cpus = [], []
    for _ in range(runs):
        cpu, started = time.process_time(), time.perf_counter()
        fn()
        walls.append((time.perf_counter() - started) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    p50, p95 = base.percentiles(walls)
    return p50, p95, base.percentiles(cpus)[0]


def measure_page(client, url: str, runs: int, case: str, explain: bool) -> tuple | None:
    response, statements = capture(lambda: client.get(url))
    if response.status_code != 200:
        print(f"NOTE: {url} answered {response.status_code}; not measured")
        return None
    p50, p95, cpu = timed(lambda: client.get(url), runs)
    sql50, sql95 = base.time_it(lambda: replay(statements), runs)
    if explain:
        show_plans(case, statements)
    return (case, p50, p95, sql50, sql95, len(statements), cpu)


def measure_contract(manager, runs: int, explain: bool) -> tuple:
    contract = (
        Contract.objects.filter(
            owner__in=policy.visible_users(manager).values("pk"), status=Contract.Status.APPROVED
        )
        .order_by("pk")
        .first()
    )
    try:
        url = reverse("contracts:detail", args=[contract.pk])
    except NoReverseMatch:
        url = None
    if url is not None:
        client = Client()
        client.force_login(manager)
        try:
            row = measure_page(client, url, runs, f"contract detail {url}", explain)
        except Exception as exc:  # the page is being built: fall back to its selector  # noqa: BLE001
            print(f"NOTE: {url} failed ({exc!r})")
            row = None
        if row is not None:
            return row
    print("NOTE: contracts:detail did not answer: timed contract_get_for_user + contract_lines instead.")
    from crm.contracts import selectors

    def read():
        policy.forget(manager)
        found = selectors.contract_get_for_user(user=manager, contract_id=contract.pk)
        return selectors.contract_lines(found)

    _result, statements = capture(read)
    p50, p95, cpu = timed(read, runs)
    sql50, sql95 = base.time_it(lambda: replay(statements), runs)
    if explain:
        show_plans("contract selector", statements)
    return ("contract get_for_user + lines (selector)", p50, p95, sql50, sql95, len(statements), cpu)


def _pending_contract(salesperson, manager, admin, run: int) -> ApprovalTask:
    """Inside the caller's transaction: a 2-step flow (the manager, then the admin) of a high
    priority, a pending contract of the salesperson with 3 lines, submitted; step 1's task."""
    flow = ApprovalFlow.objects.create(name=f"bench 两级审批 {run}", kind="contract", priority=10_000)
    ApprovalStep.objects.create(flow=flow, order=1, name="部门经理审批", approver_user=manager)
    ApprovalStep.objects.create(flow=flow, order=2, name="总经理审批", approver_user=admin)
    model = Contract.objects.filter(owner=salesperson).order_by("pk").first()
    lines = list(model.lines.all())
    contract = Contract.objects.create(
        code=f"HT-BENCH-{run:04d}",
        name="bench 审批合同",
        customer_id=model.customer_id,
        owner=salesperson,
        department_id=salesperson.department_id,
        status=Contract.Status.PENDING,
        signed_on=timezone.localdate(),
        subtotal=model.subtotal,
        discount_total=model.discount_total,
        tax_total=model.tax_total,
        total=model.total,
        submitted_at=timezone.now(),
        created_by=salesperson,
    )
    for line in lines:
        line.pk, line.contract = None, contract
    ContractLine.objects.bulk_create(lines)
    request = approvals.submit(actor=salesperson, document=contract, kind="contract")
    return ApprovalTask.objects.get(request=request, step_order=1, approver=manager)


def measure_approve(salesperson, manager, admin, runs: int, explain: bool) -> tuple:
    times, sql_times, counts, cpus = [], [], [], []
    for run in range(runs + 1):  # the first run warms up
        with transaction.atomic():
            task = _pending_contract(salesperson, manager, admin, run)
            policy.forget(manager)
            savepoint = transaction.savepoint()
            cpu, started = time.process_time(), time.perf_counter()
            _task, statements = capture(lambda task=task: approvals.approve(actor=manager, task=task))
            elapsed = (time.perf_counter() - started) * 1000
            cpu = (time.process_time() - cpu) * 1000
            transaction.savepoint_rollback(savepoint)
            started = time.perf_counter()
            replay(statements)
            sql_elapsed = (time.perf_counter() - started) * 1000
            if explain and run == 1:
                show_plans("approve step 1", statements)
            transaction.set_rollback(True)
        if run:
            times.append(elapsed)
            sql_times.append(sql_elapsed)
            counts.append(len(statements))
            cpus.append(cpu)
    p50, p95 = base.percentiles(times)
    sql50, sql95 = base.percentiles(sql_times)
    cpu50 = base.percentiles(cpus)[0]
    return ("approve contract step 1 of 2 (service)", p50, p95, sql50, sql95, max(counts), cpu50)


def measure(runs: int, explain: bool) -> list[tuple]:
    manager = User.objects.get(username="manager3")
    salesperson = User.objects.get(username="sales3_2_7")
    admin = User.objects.get(username="bench_admin")
    group = ensure_default_group()
    stage = group.stages.filter(kind=Stage.Kind.OPEN).order_by("order", "pk")[1]
    client = Client()
    client.force_login(manager)
    rows = []
    kanban = reverse("opportunities:kanban")
    rows.append(measure_page(client, kanban, runs, f"kanban {kanban} (经理)", explain))
    url = f"{reverse('opportunities:list')}?status=open&stage={stage.pk}"
    rows.append(measure_page(client, url, runs, f"list {url} (经理)", explain))
    rows.append(measure_contract(manager, runs, explain))
    rows.append(measure_approve(salesperson, manager, admin, runs, explain))
    targets = [TARGETS["kanban"], TARGETS["list"], TARGETS["contract"], TARGETS["approve"]]
    return [(*row, target) for row, target in zip(rows, targets, strict=True) if row is not None]


def counts() -> str:
    followups = ""
    if apps.is_installed("crm.activities"):
        followups = f", {apps.get_model('activities', 'FollowUp').objects.count()} follow-ups"
    return (
        f"{Customer.objects.count()} customers{followups}, {Opportunity.objects.count()} opportunities, "
        f"{Contract.objects.count()} contracts, {ContractLine.objects.count()} contract lines, "
        f"{PaymentPlan.objects.count()} payment plans, {Receivable.objects.count()} receivables"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--opportunities", type=int, help="default: as many as customers")
    parser.add_argument("--contracts", type=int, help="default: half as many as customers")
    parser.add_argument("--runs", type=int, default=25)
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the slowest statements")
    args = parser.parse_args()
    assert connection.vendor == "postgresql", "bench/pipeline.py needs PostgreSQL (DATABASE_URL)"
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    if Customer.objects.exists():
        print("customers already generated")
    else:
        base.fill(args.customers)
        print(f"customer fill: {time.perf_counter() - started:.0f}s")
    customers_done = time.perf_counter()
    if Opportunity.objects.exists():
        print("pipeline already generated")
    else:
        total = Customer.objects.count()
        with transaction.atomic():
            tables = fill_pipeline(args.opportunities or total, args.contracts or total // 2)
            check_consistency()
        vacuum(tables)
        print(f"pipeline fill: {time.perf_counter() - customers_done:.0f}s")
    print(f"data ready in {time.perf_counter() - started:.0f}s: {counts()}")
    load_before = os.getloadavg()
    rows = measure(args.runs, args.explain)
    load_after = os.getloadavg()
    print(
        f"\np50/p95 over {args.runs} runs, ms; SQL = the same statements on a bare cursor; CPU = this "
        f"process's CPU time p50; load average {load_before[0]:.1f} → {load_after[0]:.1f} "
        f"on {os.cpu_count()} CPUs"
    )
    print(
        f"{'case':52} {'p50':>7} {'p95':>7} {'SQL p50':>8} {'SQL p95':>8} {'ratio':>6} {'CPU p50':>8} "
        f"{'queries':>7} {'target':>7}"
    )
    for case, p50, p95, sql50, sql95, queries, cpu, target in rows:
        ratio = p50 / sql50 if sql50 else float("nan")
        verdict = "ok" if p95 < target else "SLOW"
        print(
            f"{case:52} {p50:7.1f} {p95:7.1f} {sql50:8.1f} {sql95:8.1f} {ratio:6.1f} {cpu:8.1f} "
            f"{queries:7d} {'< ' + str(target):>7} {verdict}"
        )


if __name__ == "__main__":
    main()
