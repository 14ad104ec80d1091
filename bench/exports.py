"""Time the export (SYS-3) of a million customers to .xlsx and .csv, and its peak memory.

Usage (a filled database, e.g. the one bench/pipeline.py or bench/customers.py fills; nothing is
written to it: the export runs in a READ ONLY transaction and no ExportJob row is saved):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench_pipeline \\
        nice .venv/bin/python bench/exports.py [--formats xlsx,csv] [--limit N] [--columns all|visible] \\
        [--username admin] [--out /tmp]

Each format runs in a child process of its own, so the peak resident memory it reports
(resource.getrusage ru_maxrss) is that export's alone. The export is the product's own path:
crm.exports.services.export_write over the customer list's selector (customers_visible for the
user), the columns' fields read as tuples (values_list, related names joined) with a server-side
cursor in chunks of 2,000, written by openpyxl in write-only mode or the csv module, every cell
through safe_cell. It prints rows, wall seconds, rows/s, the process's CPU seconds (rows per
CPU-second: steadier on a busy machine; the database's own time is not in it), the file size and
the peak memory per format.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")


def run_one(fmt: str, args) -> dict:
    import django

    django.setup()
    from django.db import connection, transaction

    from crm.accounts.models import User
    from crm.exports import services
    from crm.exports.models import ExportJob

    user = (
        User.objects.filter(username=args.username).first()
        or User.objects.filter(roles__code="super_admin", is_active=True).order_by("pk").first()
    )
    if user is None:
        raise SystemExit("no user to export as: pass --username")
    job = ExportJob(user=user, list_key="customers", format=fmt, scope="all", params={}, columns=args.columns)
    path = Path(args.out) / f"bench-export-customers.{fmt}"
    started = time.perf_counter()
    cpu_started = time.process_time()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION READ ONLY")
        with path.open("wb") as target:
            rows = services.export_write(job, target, limit=args.limit)
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "format": fmt,
        "user": user.username,
        "rows": rows,
        "seconds": round(seconds, 1),
        "rows_per_s": round(rows / seconds) if seconds else 0,
        "cpu_seconds": round(cpu, 1),
        "rows_per_cpu_s": round(rows / cpu) if cpu else 0,
        "file_mb": round(path.stat().st_size / 1e6, 1),
        "peak_rss_mb": round(peak_kb / 1024, 1),
        "vendor": connection.vendor,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--formats", default="csv,xlsx")
    parser.add_argument("--limit", type=int, default=None, help="export at most N rows")
    parser.add_argument("--columns", default="all", choices=("all", "visible"))
    parser.add_argument("--username", default="admin")
    parser.add_argument("--out", default=tempfile.gettempdir())
    parser.add_argument("--child", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_one(args.child, args)))
        return
    for fmt in args.formats.split(","):
        command = [sys.executable, __file__, "--child", fmt, "--columns", args.columns, "--out", args.out]
        command += ["--username", args.username] + (["--limit", str(args.limit)] if args.limit else [])
        done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
        if done.returncode != 0:
            print(done.stderr[-2000:], file=sys.stderr)
            raise SystemExit(done.returncode)
        result = json.loads(done.stdout.strip().splitlines()[-1])
        print(
            f"{result['format']:>5}: {result['rows']:,} rows in {result['seconds']} s = "
            f"{result['rows_per_s']:,} rows/s (process CPU {result['cpu_seconds']} s = "
            f"{result['rows_per_cpu_s']:,} rows/CPU-s), file {result['file_mb']} MB, "
            f"peak RSS {result['peak_rss_mb']} MB ({result['vendor']}, as {result['user']}, "
            f"{args.columns} columns)"
        )


if __name__ == "__main__":
    main()
