"""Benchmark: settling paid orders into the PostgreSQL ledger with 16 writers.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/clearmix_<you> \\
        .venv/bin/python bench/ledger.py [--orders 8000] [--writers 16] [--batch 40]
    .venv/bin/python bench/ledger.py --short          # bench/all.py's quick run

It creates (and drops, unless --keep) its own database, named after the one in
DATABASE_URL with `_bench_ledger` appended, migrates it and seeds a recording
whose sale splits six ways (platform fee, three master holders, two
publishing holders).

Project: W writer processes (one connection each) settle N paid orders through
the real service, `royalties.services.settlements.settlements_post`, B orders
per call — what each batch of the settling queue
(`marketplace.billing.settling`) does with paid orders that arrive together:
per order a ledger transaction, a settlement, six lines and seven entries, the
balance rows, exactly once per order.

Floor: in the same database, with the same writers and batch size, the same
rows (ledger transactions, settlements, lines, entries, balance upserts) sent
as raw multi-row INSERTs through psycopg, one transaction per batch, the
database's own triggers included, with the project's lock discipline (the
ledger's deferred checks run before the shared balance rows are locked). The
gap between them is the price of the ORM, the split computation and the
exactly-once check.

Afterwards: a duplicate storm (every writer posts the same orders, shuffled, at
once: each must settle once), a count of one settlement per order, and
verify_ledger (balanced, balance rows equal to their entries). Prints a table,
the ratio, and last one JSON line. Exit 1 if a check fails.
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing as mp
import os
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GROSS = 199  # cents; each order adds a little so rounding differs between orders
CURRENCY = "usd"


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("bench/ledger.py needs DATABASE_URL=postgres://… (your own database)")
    return url


def _with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def _bench_db(url: str) -> str:
    return (urlsplit(url).path.strip("/") or "postgres") + "_bench_ledger"


def _recreate_db(url: str, drop_only: bool = False) -> None:
    import psycopg

    name = _bench_db(url)
    with psycopg.connect(_with_db(url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{name}"')


def _setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = _with_db(url, _bench_db(url))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
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
        now = timezone.now()
        master = SplitVersion.objects.create(
            side="master", recording=rec, number=1, effective_from=now
        )
        publishing = SplitVersion.objects.create(
            side="publishing", work=work, number=1, effective_from=now
        )
        SplitShare.objects.bulk_create(
            [
                SplitShare(version=master, party=parties[0], bps=5000),
                SplitShare(version=master, party=parties[1], bps=3000),
                SplitShare(version=master, party=parties[2], bps=2000),
                SplitShare(version=publishing, party=parties[3], bps=6667),
                SplitShare(version=publishing, party=parties[4], bps=3333),
            ]
        )
    return {"master": master.pk, "publishing": publishing.pk, "recording": rec.pk}


def _gross(ref: str) -> int:
    return GROSS + sum(map(ord, ref)) % 5000


# --- the project: the real settlement service --------------------------------


def _project_writer(job: dict, barrier, results) -> None:
    _setup_django(job["url"])
    from catalog.models import SplitVersion
    from royalties.services.settlements import SettlementRequest, settlements_post

    master = SplitVersion.objects.get(pk=job["seed"]["master"])
    publishing = SplitVersion.objects.get(pk=job["seed"]["publishing"])
    requests = [
        SettlementRequest(
            order_ref=ref,
            gross_cents=_gross(ref),
            currency=CURRENCY,
            master_split_version=master,
            publishing_split_version=publishing,
            charge_id=f"ch_{ref}",
            transfer_group=f"order_{ref}",
            remix_ref=f"remix_{ref}",
            recording=job["seed"]["recording"],
        )
        for ref in job["refs"]
    ]
    batch = job["batch"]
    gc.freeze()  # a long-lived worker's start-up objects: out of the collector's way
    barrier.wait()
    latencies, refused, t0 = [], [], time.perf_counter()
    for start in range(0, len(requests), batch):
        chunk = requests[start : start + batch]
        t = time.perf_counter()
        out = settlements_post(chunk)
        latencies += [time.perf_counter() - t] * len(chunk)
        refused += [str(r) for r in out if isinstance(r, Exception)]
    results.put({"t0": t0, "t1": time.perf_counter(), "lat": latencies, "refused": refused})


# --- the floor: the same rows as raw INSERTs ---------------------------------


def _floor_rows(ref: str, seed: dict, shares: dict) -> dict:
    """The rows one settlement writes, computed as the service would."""
    from royalties.splits import compute_split

    gross = _gross(ref)
    lines = compute_split(
        gross_cents=gross,
        currency=CURRENCY,
        platform_fee_bps=seed["fee_bps"],
        master_pool_bps=seed["pool_bps"],
        master_shares=shares["master"],
        publishing_shares=shares["publishing"],
    )
    return {"ref": ref, "gross": gross, "lines": lines}


def _unnest(cur, sql: str, types: tuple[str, ...], rows: list[tuple], returning: bool) -> list:
    """INSERT rows sent as one array per column (the cheapest way to send many
    rows in one statement: a handful of parameters however many rows)."""
    arrays = ", ".join(f"%s::{t}[]" for t in types)
    cur.execute(f"{sql} SELECT * FROM unnest({arrays})" + (" RETURNING id" if returning else ""),
                [list(column) for column in zip(*rows, strict=True)])  # fmt: skip
    return [r[0] for r in cur.fetchall()] if returning else []


def _floor_batch(conn, orders: list[dict], seed: dict, accounts: dict) -> None:
    now = datetime.now(UTC)
    with conn.transaction():
        cur = conn.cursor()
        txn_ids = _unnest(
            cur,
            "INSERT INTO royalties_ledgertransaction"
            " (idempotency_key, reason, ref, memo, created_at)",
            ("text", "text", "text", "text", "timestamptz"),
            [(f"settlement:{o['ref']}", "settlement", o["ref"], "", now) for o in orders],
            returning=True,
        )
        settlement_ids = _unnest(
            cur,
            "INSERT INTO royalties_settlement (order_ref, gross_cents, currency, charge_id,"
            " transfer_group, remix_ref, recording_id, master_split_version_id,"
            " publishing_split_version_id, platform_fee_bps, master_pool_bps, transaction_id,"
            " created_at)",
            ("text", "bigint", "text", "text", "text", "text", "bigint", "bigint", "bigint",
             "integer", "integer", "bigint", "timestamptz"),
            [
                (o["ref"], o["gross"], CURRENCY, f"ch_{o['ref']}", f"order_{o['ref']}",
                 f"remix_{o['ref']}", seed["recording"], seed["master"], seed["publishing"],
                 seed["fee_bps"], seed["pool_bps"], txn, now)
                for o, txn in zip(orders, txn_ids, strict=True)
            ],
            returning=True,
        )  # fmt: skip
        line_ids = iter(
            _unnest(
                cur,
                "INSERT INTO royalties_settlementline (settlement_id, kind, party_id, bps,"
                " amount_cents, refunded_cents, offset_cents, transferred_cents, reversed_cents,"
                " receivable_cents)",
                ("bigint", "text", "bigint", "integer") + ("bigint",) * 6,
                [
                    (s, ln.kind, ln.party_key, ln.bps, ln.amount_cents, 0, 0, 0, 0, 0)
                    for o, s in zip(orders, settlement_ids, strict=True)
                    for ln in o["lines"]
                ],
                returning=True,
            )
        )
        entries, delta = [], {}
        for o, txn in zip(orders, txn_ids, strict=True):
            legs = [(accounts[("platform_cash", None)], o["gross"], None)]
            for ln in o["lines"]:
                kind = "platform_revenue" if ln.party_key is None else "payable"
                legs.append((accounts[(kind, ln.party_key)], -ln.amount_cents, next(line_ids)))
            for account, amount, line in legs:
                entries.append((txn, account, amount, CURRENCY, now, line))
                delta[account] = delta.get(account, 0) + amount
        _unnest(
            cur,
            "INSERT INTO royalties_entry (transaction_id, account_id, amount_cents, currency,"
            " created_at, line_id)",
            ("bigint", "bigint", "bigint", "text", "timestamptz", "bigint"),
            entries,
            returning=False,
        )
        # As the project does (royalties migration 0004): the deferred checks
        # before the shared balance rows are locked, not at commit.
        cur.execute("SELECT royalties_ledger_checks_now()")
        rows = sorted(delta.items())
        values = ", ".join(["(%s, %s)"] * len(rows))
        cur.execute(
            f"INSERT INTO royalties_accountbalance (account_id, balance_cents) VALUES {values}"
            " ON CONFLICT (account_id) DO UPDATE"
            " SET balance_cents = royalties_accountbalance.balance_cents + excluded.balance_cents",
            [x for row in rows for x in row],
        )


def _floor_writer(job: dict, barrier, results) -> None:
    import psycopg

    seed = job["seed"]
    orders = [_floor_rows(ref, seed, job["shares"]) for ref in job["refs"]]
    accounts = {tuple(k): v for k, v in job["accounts"]}
    batch = job["batch"]
    with psycopg.connect(_with_db(job["url"], _bench_db(job["url"]))) as conn:
        gc.freeze()
        barrier.wait()
        latencies, t0 = [], time.perf_counter()
        for start in range(0, len(orders), batch):
            chunk = orders[start : start + batch]
            t = time.perf_counter()
            _floor_batch(conn, chunk, seed, accounts)
            latencies += [time.perf_counter() - t] * len(chunk)
    results.put({"t0": t0, "t1": time.perf_counter(), "lat": latencies, "refused": []})


# --- running, checking, reporting --------------------------------------------


def _run(target, jobs: list[dict]) -> dict:
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(len(jobs))
    results = ctx.Queue()
    procs = [ctx.Process(target=target, args=(job, barrier, results)) for job in jobs]
    for p in procs:
        p.start()
    out = [results.get() for _ in procs]
    for p in procs:
        p.join()
        if p.exitcode:
            sys.exit(f"a writer failed (exit {p.exitcode})")
    lat = sorted(x for r in out for x in r["lat"])
    wall = max(r["t1"] for r in out) - min(r["t0"] for r in out)
    n = len(lat)
    return {
        "settlements": n,
        "refused": [x for r in out for x in r["refused"]][:3],
        "seconds": round(wall, 3),
        "per_sec": round(n / wall, 1),
        "p50_ms": round(lat[n // 2] * 1000, 2),
        "p99_ms": round(lat[min(n - 1, int(n * 0.99))] * 1000, 2),
    }


def _jobs(url: str, seed: dict, refs: list[str], writers: int, batch: int, **extra) -> list:
    return [
        {
            "url": url,
            "seed": seed,
            "refs": refs[i::writers],
            "batch": batch,
            **extra,
        }
        for i in range(writers)
    ]


def _storm_jobs(url: str, seed: dict, refs: list[str], writers: int, batch: int) -> list:
    jobs = []
    for i in range(writers):
        mine = refs[:]
        random.Random(i).shuffle(mine)
        jobs.append({"url": url, "seed": seed, "refs": mine, "batch": batch})
    return jobs


def _floor_extra(seed: dict) -> dict:
    from django.conf import settings

    from catalog.models import SplitShare
    from royalties.models import Account

    seed.update(fee_bps=settings.PLATFORM_FEE_BPS, pool_bps=settings.MASTER_POOL_BPS)
    shares: dict = {"master": [], "publishing": []}
    for version, party, bps in SplitShare.objects.values_list("version_id", "party_id", "bps"):
        shares["master" if version == seed["master"] else "publishing"].append((party, bps))
    accounts = [
        [[kind, party], pk]
        for pk, kind, party in Account.objects.values_list("pk", "kind", "party")
    ]
    return {"shares": shares, "accounts": accounts}


def _warm_up(seed: dict) -> None:
    """One settlement before timing: the accounts exist from then on."""
    from royalties.services.settlements import settlement_post

    settlement_post(
        order_ref="warm-up",
        gross_cents=GROSS,
        currency=CURRENCY,
        master_split_version=seed["master"],
        publishing_split_version=seed["publishing"],
        charge_id="ch_warm-up",
        transfer_group="order_warm-up",
        recording=seed["recording"],
    )


def _checks(project_refs: list[str], storm_refs: list[str]) -> dict:
    from django.db.models import Count

    from royalties.audit import ledger_verify
    from royalties.models import Entry, Settlement

    per_order = Settlement.objects.values("order_ref").annotate(n=Count("pk")).filter(n__gt=1)
    storm_settled = Settlement.objects.filter(order_ref__in=storm_refs).count()
    storm_entries = Entry.objects.filter(transaction__ref__in=storm_refs).count()
    t0 = time.perf_counter()
    problems = ledger_verify()
    return {
        "orders_settled": Settlement.objects.filter(order_ref__in=project_refs).count(),
        "orders_settled_twice": per_order.count(),
        "storm_orders": len(storm_refs),
        "storm_settlements": storm_settled,
        "storm_entries": storm_entries,
        "total_settlements": Settlement.objects.count(),
        "verify_seconds": round(time.perf_counter() - t0, 2),
        "verify_ok": not problems,
        "first_problem": problems[0] if problems else None,
    }


def _report(opts, project: dict, floor: dict, storm: dict, checks: dict) -> dict:
    ratio = round(floor["per_sec"] / project["per_sec"], 2) if project["per_sec"] else None
    print(
        f"ledger: {opts.orders} paid orders, {opts.writers} writers, {opts.batch} orders per "
        f"transaction, {os.cpu_count()} CPUs"
    )
    header = f"{'':<10}{'settlements':>12}{'per_sec':>10}{'p50 ms':>9}{'p99 ms':>9}"
    print(header)
    print("-" * len(header))
    for name, r in (("project", project), ("floor", floor)):
        row = f"{name:<10}{r['settlements']:>12}{r['per_sec']:>10}"
        print(f"{row}{r['p50_ms']:>9}{r['p99_ms']:>9}")
    print(f"ratio floor/project: {ratio}x (1.0 = as fast as raw INSERTs of the same rows)")
    print(
        f"duplicate storm: {opts.writers} writers x {checks['storm_orders']} orders -> "
        f"{checks['storm_settlements']} settlements, {checks['storm_entries']} entries "
        f"(expected {checks['storm_orders']} and {checks['storm_orders'] * 7}); "
        f"{storm['per_sec']} calls/s"
    )
    print(
        f"one settlement per order: {checks['orders_settled']} of {opts.orders}, "
        f"{checks['orders_settled_twice']} settled twice; verify_ledger over "
        f"{checks['total_settlements']} settlements: {checks['verify_seconds']}s, "
        f"{'OK' if checks['verify_ok'] else 'FAILED: ' + checks['first_problem']}"
    )
    return {
        "bench": "ledger",
        "cpus": os.cpu_count(),
        "orders": opts.orders,
        "writers": opts.writers,
        "batch": opts.batch,
        "per_sec": project["per_sec"],
        "p50_ms": project["p50_ms"],
        "p99_ms": project["p99_ms"],
        "floor_per_sec": floor["per_sec"],
        "floor_p50_ms": floor["p50_ms"],
        "floor_p99_ms": floor["p99_ms"],
        "ratio": ratio,
        "goal_per_sec": 1000,
        "refused": project["refused"] + storm["refused"],
        "exactly_once": checks["orders_settled"] == opts.orders
        and checks["orders_settled_twice"] == 0
        and checks["storm_settlements"] == checks["storm_orders"]
        and checks["storm_entries"] == 7 * checks["storm_orders"],
        **{k: checks[k] for k in ("total_settlements", "verify_ok", "first_problem")},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orders", type=int, default=8000)
    ap.add_argument("--writers", type=int, default=16)
    ap.add_argument("--batch", type=int, default=40, help="orders per transaction")
    ap.add_argument("--storm-orders", type=int, default=200)
    ap.add_argument("--short", action="store_true", help="a quick run (bench/all.py)")
    ap.add_argument("--keep", action="store_true", help="keep the bench database")
    opts = ap.parse_args()
    if opts.short:
        opts.orders, opts.storm_orders = min(opts.orders, 1600), min(opts.storm_orders, 50)
    url = _database_url()
    _recreate_db(url)
    _setup_django(url)
    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", verbosity=0)
    seed = _seed()
    _warm_up(seed)
    extra = _floor_extra(seed)
    connections.close_all()
    project_refs = [f"order-{i}" for i in range(opts.orders)]
    floor_refs = [f"floor-{i}" for i in range(opts.orders)]
    storm_refs = [f"storm-{i}" for i in range(opts.storm_orders)]
    project = _run(_project_writer, _jobs(url, seed, project_refs, opts.writers, opts.batch))
    floor = _run(_floor_writer, _jobs(url, seed, floor_refs, opts.writers, opts.batch, **extra))
    storm = _run(_project_writer, _storm_jobs(url, seed, storm_refs, opts.writers, opts.batch))
    result = _report(opts, project, floor, storm, _checks(project_refs, storm_refs))
    connections.close_all()
    if not opts.keep:
        _recreate_db(url, drop_only=True)
    print(json.dumps(result))
    sys.exit(0 if result["verify_ok"] and result["exactly_once"] and not result["refused"] else 1)


if __name__ == "__main__":
    main()
