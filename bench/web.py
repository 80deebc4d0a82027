"""Benchmark: the site's public pages and API lists over HTTP, beside their floors.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/clearmix_web \\
        REDIS_URL=redis://127.0.0.1:6379/12 python bench/web.py
    python bench/web.py --short            # for bench/all.py: 2 s per URL
    python bench/web.py -n 100000          # the catalog-at-scale goal

Generates (or reuses) a catalog of N tracks in its own PostgreSQL database
(parties, works, splits, a hash-chained consent ledger, then published
remixes with likes and this week's plays), serves it with gunicorn and the
production settings, and drives home, browse (plain, search, filter), a
track, a published remix, the remixes page, site search and the API lists
at 8 and 32 connections, and the two searches again with different words
on every request (`bench/varied.py`: no cache has answered them before),
with `wrk` when installed, else a small threaded load generator. In the same
run, under the same load, three floors:

- `floor: django`: a Django view returning a constant through the project's
  own gunicorn, WSGI handler and middleware stack (sessions, CSRF, auth,
  rate limits, CSP...), the least a page of this site can cost;
- `floor: http`: a bare WSGI callable in the same gunicorn (the HTTP stack);
- `floor: raw SQL`: the browse page's indexed query run raw through psycopg.

SQL queries per page are counted in-process at two catalog sizes (N and a
small catalog in `<db>_small`), which must be equal: a page's query count
must not grow with the catalog. Prints a table, each URL's ratio to the
Django floor, and last one JSON line.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import random
import secrets
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.catalog import (  # noqa: E402  (the path above makes `bench` importable)
    SEARCH_WORD,
    _django,
    _server,
    _stop,
    ensure_catalog,
    uncached,
    wrk,
)
from bench.varied import MARK, varied_query, varied_start, wrk_script  # noqa: E402

BENCH_FAN = "bench_fan_{}"
FANS = 40
SMALL = 200


# --- Published remixes ----------------------------------------------------------


def seed_remixes(n_tracks: int, rng: random.Random) -> dict:
    """Bulk-publish about one remix per ten tracks (some forks), by 40 fans,
    with likes and this week's plays. Idempotent: skipped when the bench's
    fans already have remixes."""
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone

    from catalog.models import Recording
    from marketplace.discovery.selectors import week_start
    from marketplace.models import RemixLike, RemixWeeklyPlay
    from remixing.engine.presets import PRESETS
    from remixing.models import Remix

    user_model = get_user_model()
    if Remix.objects.filter(fan__handle=BENCH_FAN.format(0)).exists():
        return {"remixes": Remix.objects.filter(status=Remix.Status.PUBLISHED).count()}
    started = time.perf_counter()
    with transaction.atomic():
        fans = [
            user_model.objects.get_or_create(
                email=f"bench-fan-{i}@clearmix.bench",
                defaults={"handle": BENCH_FAN.format(i), "display_name": f"Bench Fan {i}"},
            )[0]
            for i in range(FANS)
        ]
        wanted = max(10, n_tracks // 10)
        tracks = list(
            Recording.objects.filter(is_remixable=True).order_by("id").values_list("id", flat=True)
        )
        tracks = rng.sample(tracks, min(wanted, len(tracks)))
        presets = sorted(PRESETS)
        now = timezone.now()
        remixes = Remix.objects.bulk_create(
            [
                Remix(
                    fan=rng.choice(fans),
                    recording_id=track,
                    title=f"{SEARCH_WORD.title() if i % 7 == 0 else 'Night'} Remix {i}",
                    preset=rng.choice(presets),
                    status=Remix.Status.PUBLISHED,
                    published_at=now - timedelta(minutes=i),
                    allow_forks=True,
                )
                for i, track in enumerate(tracks)
            ],
            batch_size=2000,
        )
        # A fork credits its parent: every 20th remix is a fork of an older one.
        forks = [r for i, r in enumerate(remixes) if i % 20 == 19]
        for fork in forks:
            fork.parent = rng.choice(remixes[-len(remixes) // 2 :])
        Remix.objects.bulk_update(forks, ["parent"], batch_size=2000)
        week = week_start()
        likes, plays = [], []
        for remix in remixes:
            for fan in rng.sample(fans, 3):
                likes.append(RemixLike(user=fan, remix=remix))
            for listener in range(rng.randint(0, 6)):
                plays.append(
                    RemixWeeklyPlay(remix=remix, listener=f"bench{listener}", week_start=week)
                )
        RemixLike.objects.bulk_create(likes, batch_size=5000)
        RemixWeeklyPlay.objects.bulk_create(plays, batch_size=5000)
    return {"remixes": len(remixes), "remix_seed_s": time.perf_counter() - started}


def bench_urls() -> dict[str, str]:
    from catalog.models import Recording
    from remixing.models import Remix

    track = Recording.objects.filter(is_remixable=True).order_by("id").values_list("id", flat=True)
    remix = Remix.objects.filter(status=Remix.Status.PUBLISHED).order_by("-published_at", "-id")
    return {
        "home": "/",
        "browse": "/tracks/",
        "browse search": f"/tracks/?q={SEARCH_WORD}",
        "browse filter": "/tracks/?genre=house&mood=dreamy",
        "track": f"/tracks/{track.first()}/",
        "published remix": f"/studio/r/{remix.first().share_slug}/",
        "remixes": "/remixes/",
        "site search": f"/search/?q={SEARCH_WORD}",
        "API list": "/api/v1/tracks/",
        "API search": f"/api/v1/tracks/?q={SEARCH_WORD}",
        # Different words on every request: searches no cache has answered.
        "browse search, varied": f"/tracks/?{MARK}",
        "API search, varied": f"/api/v1/tracks/?{MARK}",
    }


def concrete(url: str, n: int = 0) -> str:
    """`url` with its varied-search mark (if any) filled for the n-th request."""
    return url.replace(MARK, varied_query(n))


def prepare(n: int, *, reseed: bool) -> tuple[dict, dict[str, str], dict]:
    """Seed (or reuse) the catalog of this process's database; count queries."""
    catalog = ensure_catalog(n, reseed=reseed)
    catalog.update(seed_remixes(n, random.Random(14)))
    from django.db import connection

    with connection.cursor() as cursor:  # fresh bulk inserts: plans need statistics
        cursor.execute("ANALYZE")
    urls = bench_urls()
    return catalog, urls, uncached({k: concrete(v) for k, v in urls.items()}, repeat=3)


# --- Load -----------------------------------------------------------------------


def python_load(url: str, *, connections: int, seconds: float) -> dict:
    """A threaded keep-alive load generator, for machines without wrk."""
    parsed = urllib.request.urlparse(url)
    path = parsed.path + (f"?{parsed.query}" if parsed.query else "")
    numbers = itertools.count(varied_start())  # for a varied-search template
    deadline = time.perf_counter() + seconds
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def worker() -> None:
        conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)
        mine: list[float] = []
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                conn.request("GET", concrete(path, next(numbers)))
                response = conn.getresponse()
                response.read()
                if response.status >= 400:
                    errors[0] += 1
            except (OSError, http.client.HTTPException):
                errors[0] += 1
                conn.close()
                conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)
                continue
            mine.append((time.perf_counter() - started) * 1000)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]  # noqa: E731
    return {
        "rps": len(latencies) / elapsed,
        "p50_ms": pick(0.50) if latencies else 0.0,
        "p99_ms": pick(0.99) if latencies else 0.0,
        "errors": errors[0],
    }


def load(url: str, *, connections: int, seconds: float) -> dict:
    if shutil.which("wrk"):
        script = None
        if MARK in url:
            parsed = urllib.request.urlparse(url)
            lua = wrk_script(f"{parsed.path}?{parsed.query}")
            base = f"{parsed.scheme}://{parsed.netloc}/"
            script = ["-s", str(lua), base, "--", str(varied_start())]
        try:
            return wrk(url, connections=connections, seconds=max(1, round(seconds)), script=script)
        finally:
            if script:
                Path(script[1]).unlink()
    return python_load(url, connections=connections, seconds=seconds)


# --- The run --------------------------------------------------------------------


def small_counts(database_url: str, env: dict) -> dict:
    """Query counts on a small catalog in `<db>_small`, in a child process
    (Django binds one database per process)."""
    import psycopg

    base, _, name = database_url.rpartition("/")
    small = f"{name}_small"
    admin = base.replace("postgres://", "postgresql://", 1) + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [small]).fetchone():
            conn.execute(f'CREATE DATABASE "{small}"')
    out = subprocess.run(
        [sys.executable, __file__, "--queries-only", "-n", str(SMALL)],
        cwd=ROOT,
        env={**env, "DATABASE_URL": f"{base}/{small}"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def server_env(database_url: str) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(48),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DATABASE_CONN_MAX_AGE": "600",
        # The API's per-address read limit (600/minute) would answer most of
        # the load with 429: one address is all a benchmark has.
        "RATE_LIMIT_API_READ": "100000000/minute",
        "PYTHONPATH": str(ROOT),
        "BENCH_FLOOR_DSN": database_url.replace("postgres://", "postgresql://", 1),
    }


def drive(urls: dict, *, port: int, workers: int, env: dict, levels: list, seconds: float) -> dict:
    site = _server("config.wsgi:application", port, workers, env)
    floors = _server("bench.catalog:floor_app", port + 1, workers, env)
    django_floor = _server("bench.web_floor:application", port + 2, workers, env)
    targets = {
        **{name: f"http://127.0.0.1:{port}{path}" for name, path in urls.items()},
        "floor: django": f"http://127.0.0.1:{port + 2}/floor/",
        "floor: http": f"http://127.0.0.1:{port + 1}/static",
        "floor: raw SQL": f"http://127.0.0.1:{port + 1}/sql",
    }
    results: dict[int, dict[str, dict]] = {c: {} for c in levels}
    try:
        for name, url in targets.items():
            urllib.request.urlopen(concrete(url), timeout=60).read()  # warm: connections
            for connections in levels:
                results[connections][name] = load(url, connections=connections, seconds=seconds)
    finally:
        for process in (site, floors, django_floor):
            _stop(process)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--tracks", type=int, default=10_000)
    parser.add_argument("--short", action="store_true", help="2 s per URL and level")
    parser.add_argument("-d", "--seconds", type=float, default=None)
    parser.add_argument("-w", "--workers", type=int, default=(os.cpu_count() or 2) * 2)
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--port", type=int, default=8941)
    parser.add_argument("--queries-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgres"):
        raise SystemExit("set DATABASE_URL to a PostgreSQL database (its own, it gets filled)")
    env = server_env(database_url)
    os.environ.update(
        {
            k: env[k]
            # The in-process query counts read the API too, from the same address.
            for k in (
                "DJANGO_SECRET_KEY",
                "DJANGO_ALLOWED_HOSTS",
                "DJANGO_SECURE_SSL_REDIRECT",
                "RATE_LIMIT_API_READ",
            )
        }
    )
    subprocess.run(  # the pages name hashed static files: the manifest comes first
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    _django("config.settings.production")
    if args.queries_only:
        catalog, _, counts = prepare(args.tracks, reseed=args.reseed)
        print(json.dumps({"tracks": catalog["recordings"], "counts": counts}))
        return
    seconds = args.seconds or (2 if args.short else 10)
    catalog, urls, counts = prepare(args.tracks, reseed=args.reseed)
    small = small_counts(database_url, env)
    levels = [8, 32]
    results = drive(
        urls, port=args.port, workers=args.workers, env=env, levels=levels, seconds=seconds
    )
    report(results, catalog=catalog, counts=counts, small=small, args=args, seconds=seconds)


def _cpu(row: dict) -> str:
    cpu_ms = row.get("cpu_ms")
    return "" if cpu_ms is None else f"{cpu_ms:.2f}"


def report(
    results: dict, *, catalog: dict, counts: dict, small: dict, args, seconds: float
) -> None:
    print(
        f"\n{catalog['recordings']} tracks, {catalog.get('remixes')} published remixes; "
        f"{args.workers} gunicorn workers, {seconds:g} s per URL and level, "
        f"{os.cpu_count()} CPUs, load by {'wrk' if shutil.which('wrk') else 'python threads'}, "
        + (
            "cache in Redis"
            if os.environ.get("REDIS_URL")
            else "cache in files (no REDIS_URL: production runs with Redis)"
        )
    )
    header = (
        "| URL | conns | req/s | p50 ms | p99 ms | errors | CPU ms/req | ÷ django floor | queries "
    )
    print(header + f"({catalog['recordings']} / {small['tracks']} tracks) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    ratios: dict[str, dict[str, float]] = {}
    for connections, rows in results.items():
        floor = rows["floor: django"]["rps"]
        for name, row in rows.items():
            ratio = row["rps"] / floor
            ratios.setdefault(name, {})[str(connections)] = round(ratio, 3)
            big, little = counts.get(name, {}).get("queries"), small["counts"].get(name, {})
            queries = f"{big} / {little.get('queries')}" if big is not None else ""
            print(
                f"| {name} | {connections} | {row['rps']:.0f} | {row['p50_ms']:.1f} | "
                f"{row['p99_ms']:.1f} | {row['errors']} | {_cpu(row)} | "
                f"{ratio:.2f} | {queries} |"
            )
    growing = {
        name: [row["queries"], small["counts"][name]["queries"]]
        for name, row in counts.items()
        if small["counts"].get(name, {}).get("queries") != row["queries"]
    }
    print(
        "queries per page equal at both sizes"
        if not growing
        else f"queries differ between the sizes (large / small): {growing}"
    )
    summary = {
        "bench": "web",
        "tracks": catalog["recordings"],
        "remixes": catalog.get("remixes"),
        "workers": args.workers,
        "cpus": os.cpu_count(),
        "seconds": seconds,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "results": {
            str(c): {
                k: {m: v if v is None else round(v, 2) for m, v in row.items()}
                for k, row in rows.items()
            }
            for c, rows in results.items()
        },
        "ratio_to_django_floor": ratios,
        "queries": {k: v["queries"] for k, v in counts.items()},
        "queries_small": {k: v["queries"] for k, v in small["counts"].items()},
        "small_tracks": small["tracks"],
        "queries_constant": not growing,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
