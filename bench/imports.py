"""Import 100,000 customers from an .xlsx through the real import machinery, on SQLite and PostgreSQL.

Usage:
    nice .venv/bin/python bench/imports.py [--rows 100000] [--db sqlite,postgres] [--file PATH] [--rebuild]

    SQLite: a fresh temporary file database (/tmp/crm_bench_imports.sqlite3), migrated by the script.
    PostgreSQL: a database of its own, dropped and re-created by the script on the server of
    --pg-url (default postgres://postgres@127.0.0.1:5432); by hand that is
        psql -h 127.0.0.1 -U postgres \
            -c "CREATE DATABASE crm_bench_imports ENCODING 'UTF8' TEMPLATE template0"

The file: --rows customers with every column the customers target accepts (the form's fields, the
owner, the first contact: name, mobile, title, phone, e-mail, department) plus four more contacts'
worth of columns (联系人2姓名 … 联系人5部门). The customers target takes one contact per row, so
contacts 2-5 stay unmapped columns: they are read and carried (a failed row keeps them) but not
imported. Mobile numbers are stored as numbers, as Excel users do. 1% of the rows repeat an
earlier company name, so the duplicate check has something to skip.

For each database, in separate processes (so each peak RSS is its own):
  bare      the limit: openpyxl read-only over the same file, the same column values turned into
            Customer and first-Contact rows (dictionaries resolved by name from one dict) and
            bulk_create in batches of 500: no checks, no search columns, no log;
  machinery what a user's upload does: services.job_create (stores the file, checks it, reads the
            header, auto-maps the columns, counts the rows), job_configure (dedupe "skip", with
            the customer policy's duplicate check on name and keyword, in the database and in the
            file), job_check (the dry run over every row) and job_start → job_run (the Huey task,
            run in-process with HUEY_IMMEDIATE; every row checked again and written in ONE
            transaction, batches of 500 with their operation-log rows).
It prints seconds, rows/s, the peak resident memory of the process (ru_maxrss) and its baseline
after Django started, and the ratio machinery/bare.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SQLITE_PATH = Path("/tmp/crm_bench_imports.sqlite3")  # noqa: S108 - a throw-away benchmark database
PG_DB = "crm_bench_imports"
SEED = 20261202
EXTRA_CONTACTS = 4
CONTACT_PARTS = ("姓名", "手机", "职务", "电话", "邮箱", "部门")

CITIES = (
    "北京 上海 广州 深圳 杭州 南京 苏州 成都 武汉 重庆 天津 西安 长沙 郑州 青岛 宁波 东莞 佛山 厦门 福州 "
    "合肥 济南 沈阳 大连 昆明 无锡 常州 温州 南昌 贵阳"
).split()
SYLLABLES = list(
    "华创远航腾飞恒信宏达金石鼎盛博源汇通瑞祥嘉禾永泰盛世中科天成新程安和富润立德佳美明珠海天万象卓越"
)
TRADES = (
    "科技 贸易 电子 实业 网络 信息 机械 物流 医疗 食品 建材 化工 环保 教育 传媒 能源 电气 智能 软件 咨询"
).split()
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗")
GIVEN = list("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂")
TITLES = ("总经理", "采购经理", "财务", "技术总监", "行政", "销售总监")
DEPARTMENTS = ("采购部", "财务部", "技术部", "行政部", "总经办")


# ------------------------------------------------------------------------------------- parent


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--file", default="/tmp/crm_bench_imports.xlsx")  # noqa: S108
    parser.add_argument("--rebuild", action="store_true", help="write the .xlsx even if it exists")
    parser.add_argument(
        "--pg-url", default=os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
    )
    parser.add_argument(
        "--duplicate-check",
        choices=("on", "off"),
        default="on",
        help="on: the customer policy's check (default: name and keyword); off: policy set to 不查重",
    )
    parser.add_argument("--passes", default="bare,machinery", help="which of bare,machinery to run")
    parser.add_argument(
        "--webhook-cache",
        choices=("warm", "cold"),
        default="warm",
        help="warm: the webhook subscriptions are cached, as on a running server; cold: not cached, so "
        "every log row's webhook payload is built and held until the import's transaction commits",
    )
    parser.add_argument("--child", choices=("prepare", "bare", "machinery"))
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    results = {}
    for db in [d.strip() for d in args.db.split(",") if d.strip()]:
        url = _database_url(db, args.pg_url)
        print(f"== {db}: {url}", flush=True)
        rebuild = args.rebuild or not Path(args.file).exists() or _rows_in(args.file) != args.rows
        passes = args.passes.split(",")
        _spawn(args, url, "prepare", ["--rebuild"] if rebuild else [])
        bare = _spawn(args, url, "bare") if "bare" in passes else None
        machinery = None
        if "machinery" in passes:
            if bare is not None:
                _spawn(args, url, "prepare")  # a fresh, empty database for the machinery too
            machinery = _spawn(args, url, "machinery")
        results[db] = {"bare": bare, "machinery": machinery}
    print()
    print(_table(results, args))


def _rows_in(path: str) -> int:
    marker = Path(path + ".rows")
    return int(marker.read_text()) if marker.exists() else -1


def _database_url(db: str, pg_url: str) -> str:
    if db == "sqlite":
        return f"sqlite:///{SQLITE_PATH}"
    if db == "postgres":
        return f"{pg_url.rstrip('/')}/{PG_DB}"
    raise SystemExit(f"unknown database {db!r}")


def _spawn(args, url: str, mode: str, extra: list[str] | None = None) -> dict:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url,
        HUEY_IMMEDIATE="1",
        DJANGO_SETTINGS_MODULE="crm.settings",
        ALLOWED_HOSTS="testserver",
        MEDIA_ROOT="/tmp/crm_bench_imports_media",  # noqa: S108
    )
    env.pop("REDIS_URL", None)
    command = [
        sys.executable,
        __file__,
        "--child",
        mode,
        "--rows",
        str(args.rows),
        "--file",
        args.file,
        "--pg-url",
        args.pg_url,
        "--duplicate-check",
        args.duplicate_check,
        "--webhook-cache",
        args.webhook_cache,
        *(extra or []),
    ]
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, check=False)  # noqa: S603
    sys.stderr.write(done.stderr[-3000:])
    if done.returncode:
        print(done.stdout)
        raise SystemExit(f"{mode} failed ({done.returncode})")
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    for line in done.stdout.splitlines():
        if not line.startswith("RESULT "):
            print("   ", line, flush=True)
    return json.loads(lines[-1][7:]) if lines else {}


def _table(results: dict, args) -> str:
    out = [
        f"{args.rows:,} customers, {args.file} ({Path(args.file).stat().st_size / 1e6:.1f} MB), "
        f"duplicate check {args.duplicate_check}, webhook subscription cache {args.webhook_cache}"
    ]
    out.append(
        f"{'db':9} {'pass':26} {'seconds':>9} {'rows/s':>9} {'peak RSS MB':>12} {'base MB':>8} {'x bare':>7}"
    )
    for db, runs in results.items():
        bare, machinery = runs["bare"], runs["machinery"]
        if bare:
            out.append(
                f"{db:9} {'bare (openpyxl+bulk_create)':26} {bare['seconds']:9.1f} {bare['rows_per_s']:9.0f} "
                f"{bare['peak_mb']:12.0f} {bare['base_mb']:8.0f} {1:7.2f}"
            )
        if not machinery:
            continue
        for name in ("upload", "dry_run", "run", "total"):
            seconds = machinery[name]
            rate = machinery["rows"] / seconds if seconds else 0
            ratio = seconds / bare["seconds"] if bare and bare["seconds"] else 0
            out.append(
                f"{db:9} {'machinery ' + name:26} {seconds:9.1f} {rate:9.0f} "
                f"{machinery['peak_mb']:12.0f} {machinery['base_mb']:8.0f} {ratio:7.2f}"
            )
        out.append(
            f"{db:9} created {machinery['created']:,}, skipped {machinery['skipped']:,}, "
            f"failed {machinery['failed']:,}; status {machinery['status']} {machinery['error'][:200]}"
        )
    return "\n".join(out)


# ------------------------------------------------------------------------------------- children


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(args) -> None:
    sys.path.insert(0, str(ROOT))
    if args.child == "prepare":
        _fresh_database(os.environ["DATABASE_URL"], args.pg_url)
    import django

    django.setup()
    from django.conf import settings

    # progress keys of this benchmark stay in this process, not in the shared file cache
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    Path(settings.MEDIA_ROOT).mkdir(parents=True, exist_ok=True)
    if args.child == "prepare":
        _prepare(args)
    elif args.child == "bare":
        _bare(args)
    else:
        _machinery(args)


def _fresh_database(url: str, pg_url: str) -> None:
    if url.startswith("sqlite"):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{SQLITE_PATH}{suffix}").unlink(missing_ok=True)
        return
    import psycopg

    with psycopg.connect(f"{pg_url.rstrip('/')}/postgres", autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {PG_DB} ENCODING 'UTF8' TEMPLATE template0")


def _importer():
    from crm.accounts.models import Department, Role, User

    user = User.objects.filter(username="bench_importer").first()
    if user is None:
        user = User.objects.create(
            username="bench_importer",
            name="导入员",
            department=Department.objects.get(parent__isnull=True),
        )
        user.roles.set([Role.objects.get(code="admin")])
    return user


def _prepare(args) -> None:
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    user = _importer()
    if args.duplicate_check == "off":
        from crm.customers.models import CustomerPolicy

        policy = CustomerPolicy.load()
        policy.duplicate_mode = CustomerPolicy.DuplicateMode.OFF
        policy.save()
    print(f"migrated in {time.perf_counter() - started:.0f} s")
    if "--rebuild" in sys.argv:
        started = time.perf_counter()
        _write_file(args, user)
        size = Path(args.file).stat().st_size / 1e6
        print(
            f"wrote {args.file}: {args.rows:,} rows, {size:.1f} MB in {time.perf_counter() - started:.0f} s"
        )


def _write_file(args, user) -> None:
    from openpyxl import Workbook

    from crm.customers.models import DictionaryItem
    from crm.customers.services import DICTIONARY_FIELDS
    from crm.imports.targets import get_target

    fields = get_target("customers").fields(user)
    headers = [str(f.label) for f in fields]
    keys = [f.key for f in fields]
    for n in range(2, 2 + EXTRA_CONTACTS):
        for part in CONTACT_PARTS:
            headers.append(f"联系人{n}{part}")
            keys.append(f"extra{n}_{part}")
    names_by_kind: dict[str, list[str]] = {}
    for kind, name in DictionaryItem.objects.filter(is_active=True).values_list("kind", "name"):
        names_by_kind.setdefault(kind, []).append(name)
    rng = random.Random(SEED)
    pairs: set[tuple[str, str]] = set()
    while len(pairs) < args.rows:
        brand = "".join(rng.sample(SYLLABLES, 3))
        pairs.add((brand, rng.choice(TRADES)))
    pairs_list = sorted(pairs)
    rng.shuffle(pairs_list)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("客户")
    sheet.append(headers)
    names: list[str] = []
    for index in range(args.rows):
        city = rng.choice(CITIES)
        brand, trade = pairs_list[index]
        name = f"{city}{brand}{trade}有限公司"
        if index > 100 and rng.random() < 0.01:
            name = names[rng.randrange(len(names))]  # a duplicate of an earlier row
        names.append(name)
        person = rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")
        values = {
            "kind": "企业客户",
            "name": name,
            "keyword": brand + trade,
            "address": f"{city}市{rng.choice(('高新区', '经开区', '中心区'))}{rng.randint(1, 999)}号",
            "postcode": f"{rng.randint(100000, 999999)}",
            "phone": f"0{rng.randint(10, 999)}-{rng.randint(2000000, 89999999)}",
            "mobile": int(f"1{rng.choice('3456789')}{rng.randint(0, 999999999):09d}"),
            "qq": rng.randint(10000, 9999999999),
            "wechat": f"wx_{brand}{index}",
            "email": f"info{index}@example{index % 997}.com",
            "website": f"https://www.c{index}.example.com",
            "legal_representative": person,
            "registered_capital": rng.choice((100, 500, 1000, 5000)),
            "credit_limit": rng.randint(0, 200) * 1000,
            "tags": rng.choice(("重点", "重点,华南", "", "老客户")),
            "next_contact_at": f"2027-0{rng.randint(1, 9)}-1{rng.randint(0, 9)} 09:30",
            "remark": rng.choice(("", "展会认识", "老客户介绍")),
            "owner": "",
            "contact_name": person,
            "contact_mobile": int(f"1{rng.choice('3456789')}{rng.randint(0, 999999999):09d}"),
            "contact_title": rng.choice(TITLES),
            "contact_phone": f"0{rng.randint(10, 999)}-{rng.randint(2000000, 89999999)}",
            "contact_email": f"c{index}@example{index % 997}.com",
            "contact_department": rng.choice(DEPARTMENTS),
        }
        for field, kind in DICTIONARY_FIELDS.items():
            options = names_by_kind.get(kind)
            if options and rng.random() < 0.8:
                values[field] = rng.choice(options)
        for n in range(2, 2 + EXTRA_CONTACTS):
            extra = rng.choice(SURNAMES) + rng.choice(GIVEN)
            values[f"extra{n}_姓名"] = extra
            values[f"extra{n}_手机"] = int(f"1{rng.choice('3456789')}{rng.randint(0, 999999999):09d}")
            values[f"extra{n}_职务"] = rng.choice(TITLES)
            values[f"extra{n}_电话"] = ""
            values[f"extra{n}_邮箱"] = f"c{index}_{n}@example.com"
            values[f"extra{n}_部门"] = rng.choice(DEPARTMENTS)
        sheet.append([values.get(key, "") for key in keys])
    book.save(args.file)
    Path(args.file + ".rows").write_text(str(args.rows))


def _bare(args) -> None:
    import openpyxl
    from django.db import transaction

    from crm.customers.models import Contact, Customer, DictionaryItem
    from crm.customers.services import DICTIONARY_FIELDS, EDITABLE_FIELDS
    from crm.imports.targets import get_target
    from crm.imports.targets.customers import CONTACT_COLUMNS

    user = _importer()
    fields = get_target("customers").fields(user)
    by_label = {str(f.label): f.key for f in fields}
    items: dict[str, dict[str, DictionaryItem]] = {}
    for item in DictionaryItem.objects.filter(is_active=True):
        items.setdefault(item.kind, {}).setdefault(item.name, item)
    base = _rss_mb()
    started = time.perf_counter()
    book = openpyxl.load_workbook(args.file, read_only=True)
    rows = book.worksheets[0].iter_rows(values_only=True)
    headers = [str(h) for h in next(rows)]
    columns = [(i, by_label[h]) for i, h in enumerate(headers) if h in by_label]
    count = 0
    customers: list[Customer] = []
    contacts: list[tuple[int, dict]] = []

    def flush() -> None:
        Customer.objects.bulk_create(customers, batch_size=500)
        Contact.objects.bulk_create(
            [Contact(customer=customers[i], is_primary=True, created_by=user, **c) for i, c in contacts],
            batch_size=500,
        )
        customers.clear()
        contacts.clear()

    with transaction.atomic():
        for values in rows:
            count += 1
            customer = Customer(
                code=f"B{count:08d}", owner=user, department_id=user.department_id, created_by=user
            )
            contact: dict = {}
            for index, key in columns:
                value = values[index]
                if value is None or value == "":
                    continue
                if key in DICTIONARY_FIELDS:
                    setattr(customer, key, items.get(DICTIONARY_FIELDS[key], {}).get(str(value)))
                elif key == "kind":
                    customer.kind = Customer.Kind.ENTERPRISE
                elif key in EDITABLE_FIELDS and key != "next_contact_at":
                    numeric = key in ("registered_capital", "credit_limit")
                    setattr(customer, key, value if numeric or not isinstance(value, int) else str(value))
                elif key in CONTACT_COLUMNS:
                    contact[CONTACT_COLUMNS[key][0]] = str(value)
            customers.append(customer)
            if contact.get("name"):
                contacts.append((len(customers) - 1, contact))
            if len(customers) >= 500:
                flush()
        if customers:
            flush()
    book.close()
    seconds = time.perf_counter() - started
    inserted = Customer.objects.count()
    print(f"bare: {inserted:,} customers in {seconds:.1f} s")
    _result(
        {
            "rows": count,
            "seconds": seconds,
            "rows_per_s": count / seconds,
            "peak_mb": _peak_mb(),
            "base_mb": base,
        }
    )


def _machinery(args) -> None:
    from django.core.files import File

    from crm.customers.models import Contact, Customer, CustomerPolicy
    from crm.imports import services

    user = _importer()
    policy = CustomerPolicy.load()
    print(f"duplicate check: {policy.duplicate_mode} on {policy.duplicate_fields}")
    if args.webhook_cache == "warm":
        from crm.webhooks.dispatch import subscribed_events

        subscribed_events()  # what a running server has cached (no endpoints in this database)
    base = _rss_mb()
    started = time.perf_counter()
    with open(args.file, "rb") as handle:  # noqa: PTH123
        job = services.job_create(user=user, target_key="customers", upload=File(handle, name="客户.xlsx"))
    mapped = sorted(job.mapping.values())
    job = services.job_configure(job=job, user=user, mapping=job.mapping, dedupe="skip")
    uploaded = time.perf_counter()
    print(f"RSS after upload {_rss_mb():.0f} MB, peak {_peak_mb():.0f} MB")
    print(f"mapped {len(mapped)} of {len(job.headers)} columns; unmapped: {_unmapped(job)}")
    job = services.job_check(job_id=job.pk)
    checked = time.perf_counter()
    print(f"RSS after dry run {_rss_mb():.0f} MB, peak {_peak_mb():.0f} MB")
    print(
        f"dry run: {job.status}, create {job.to_create:,}, skip {job.to_skip:,}, errors {job.failed_count:,} "
        f"{job.errors[:3]}"
    )
    if job.status == "checked":
        job = services.job_start(job=job, user=user, only_valid=job.failed_count > 0)
        job.refresh_from_db()
    finished = time.perf_counter()
    print(f"run: {job.status} {job.error_message[:300]}")
    print(f"in the database: {Customer.objects.count():,} customers, {Contact.objects.count():,} contacts")
    _result(
        {
            "rows": job.total,
            "upload": uploaded - started,
            "dry_run": checked - uploaded,
            "run": finished - checked,
            "total": finished - started,
            "peak_mb": _peak_mb(),
            "base_mb": base,
            "created": job.created_count,
            "skipped": job.skipped_count,
            "failed": job.failed_count,
            "status": job.status,
            "error": job.error_message,
        }
    )
    services.job_delete_files(job)


def _unmapped(job) -> str:
    mapped = {int(i) for i in job.mapping}
    names = [h for i, h in enumerate(job.headers) if i not in mapped]
    return f"{len(names)} ({', '.join(names[:3])} …)" if names else "none"


def _result(values: dict) -> None:
    print("RESULT " + json.dumps(values, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
