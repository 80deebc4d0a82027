"""Ledger throughput: settlements per second into PostgreSQL with concurrent writers.

Each settlement is one database transaction of ~6 ledger lines (platform fee,
three master holders, two publishing holders) plus the settlement rows, checked
by the deferred balance trigger at commit. Writers are processes (one
connection each). After the timed runs, a duplicate storm posts the same orders
from every writer at once (exactly-once check), then verify_ledger runs.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/ledger.py [--writers 1,2,4,8] [--seconds 5]

It creates (and drops, unless --keep) its own database, clearmix_bench_ledger.
Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BENCH_DB = "clearmix_bench_ledger"


def _admin_url() -> str:
    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    if not url.startswith("postgres"):
        sys.exit("bench/ledger.py needs a PostgreSQL DATABASE_URL")
    return url


def _with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def _recreate_db(url: str) -> None:
    import psycopg

    with psycopg.connect(_with_db(url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{BENCH_DB}"')


def _drop_db(url: str) -> None:
    import psycopg

    with psycopg.connect(_with_db(url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')


def _setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = _with_db(url, BENCH_DB)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings.test")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def _seed() -> dict:
    from django.db import transaction
    from django.utils import timezone

    from catalog.models import Party, Recording, SplitShare, SplitVersion, Work

    with transaction.atomic():
        parties = [Party.objects.create(kind="artist", name=f"Bench {i}") for i in range(5)]
        work = Work.objects.create(title="Bench song")
        rec = Recording.objects.create(title="Bench master", work=work)
        master = SplitVersion.objects.create(
            side="master", recording=rec, number=1, effective_from=timezone.now()
        )
        SplitShare.objects.bulk_create(
            [
                SplitShare(version=master, party=p, bps=b)
                for p, b in zip(parties[:3], [5000, 3000, 2000], strict=True)
            ]
        )
        pub = SplitVersion.objects.create(
            side="publishing", work=work, number=1, effective_from=timezone.now()
        )
        SplitShare.objects.bulk_create(
            [
                SplitShare(version=pub, party=p, bps=b)
                for p, b in zip(parties[3:], [6667, 3333], strict=True)
            ]
        )
    return {"master": master.pk, "publishing": pub.pk, "recording": rec.pk}


def _writer(args) -> tuple[int, list[float], int]:
    url, seed, prefix, seconds, fixed_refs = args
    _setup_django(url)
    from catalog.models import SplitVersion
    from royalties.services import settlement_post

    master = SplitVersion.objects.get(pk=seed["master"])
    pub = SplitVersion.objects.get(pk=seed["publishing"])
    lat: list[float] = []
    n = 0
    new = 0
    refs = iter(fixed_refs) if fixed_refs else None
    deadline = time.perf_counter() + seconds
    while True:
        if refs is not None:
            ref = next(refs, None)
            if ref is None:
                break
        else:
            if time.perf_counter() >= deadline:
                break
            ref = f"{prefix}-{n}"
        t0 = time.perf_counter()
        s = settlement_post(
            order_ref=ref,
            gross_cents=199 + (n * 37) % 5000,
            currency="usd",
            master_split_version=master,
            publishing_split_version=pub,
            charge_id=f"ch_{ref}",
            transfer_group=f"order_{ref}",
            remix_ref=f"rmx_{ref}",
            recording=seed["recording"],
        )
        lat.append(time.perf_counter() - t0)
        if s.order_ref == ref and s.charge_id == f"ch_{ref}":
            new += 1
        n += 1
    return n, lat, new


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--writers", default="1,2,4,8")
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--dup-orders", type=int, default=200)
    ap.add_argument("--keep", action="store_true", help="keep the bench database")
    opts = ap.parse_args()
    url = _admin_url()
    _recreate_db(url)
    _setup_django(url)
    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", verbosity=0)
    seed = _seed()
    connections.close_all()
    ctx = mp.get_context("spawn")
    rows = []
    for w in [int(x) for x in opts.writers.split(",")]:
        with ctx.Pool(w) as pool:
            t0 = time.perf_counter()
            results = pool.map(
                _writer, [(url, seed, f"w{w}p{i}", opts.seconds, None) for i in range(w)]
            )
            wall = time.perf_counter() - t0
        count = sum(r[0] for r in results)
        lat = [x for r in results for x in r[1]]
        # Throughput over the timed window (process start-up excluded).
        rows.append(
            {
                "writers": w,
                "settlements": count,
                "per_sec": round(count / opts.seconds, 1),
                "lines_per_sec": round(count * 6 / opts.seconds, 1),
                "p50_ms": round(_pct(lat, 0.50) * 1000, 2),
                "p99_ms": round(_pct(lat, 0.99) * 1000, 2),
                "wall_s": round(wall, 2),
            }
        )
    # Duplicate storm: every writer posts the same orders at once.
    dup_refs = [f"dup-{i}" for i in range(opts.dup_orders)]
    w = max(int(x) for x in opts.writers.split(","))
    with ctx.Pool(w) as pool:
        pool.map(_writer, [(url, seed, "dup", 0, dup_refs) for _ in range(w)])
    from royalties.models import Entry, Settlement

    dup_settled = Settlement.objects.filter(order_ref__startswith="dup-").count()
    dup_entries = Entry.objects.filter(transaction__ref__startswith="dup-").count()
    t0 = time.perf_counter()
    from royalties.audit import ledger_verify

    problems = ledger_verify()
    verify_s = time.perf_counter() - t0
    total = Settlement.objects.count()

    header = (
        f"{'writers':>7} {'settlements':>11} {'per_sec':>8} {'lines/s':>8} "
        f"{'p50 ms':>7} {'p99 ms':>7}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['writers']:>7} {r['settlements']:>11} {r['per_sec']:>8} "
            f"{r['lines_per_sec']:>8} {r['p50_ms']:>7} {r['p99_ms']:>7}"
        )
    print(
        f"duplicate storm: {w} writers x {opts.dup_orders} orders -> {dup_settled} settlements, "
        f"{dup_entries} entries (expected {opts.dup_orders} and {opts.dup_orders * 7})"
    )
    print(
        f"verify_ledger over {total} settlements: {verify_s:.2f}s, "
        f"{'OK' if not problems else 'FAILED: ' + problems[0]}"
    )
    result = {
        "bench": "ledger",
        "cpus": os.cpu_count(),
        "seconds_per_run": opts.seconds,
        "runs": rows,
        "best_per_sec": max(r["per_sec"] for r in rows),
        "duplicate_storm": {
            "writers": w,
            "orders": opts.dup_orders,
            "settlements": dup_settled,
            "entries": dup_entries,
            "exactly_once": dup_settled == opts.dup_orders and dup_entries == opts.dup_orders * 7,
        },
        "total_settlements": total,
        "verify_seconds": round(verify_s, 2),
        "verify_ok": not problems,
        "first_problem": problems[0] if problems else None,
    }
    connections.close_all()
    if not opts.keep:
        _drop_db(url)
    print(json.dumps(result))
    sys.exit(0 if result["verify_ok"] and result["duplicate_storm"]["exactly_once"] else 1)


if __name__ == "__main__":
    main()
