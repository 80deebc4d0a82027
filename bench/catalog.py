"""Benchmark: the catalog pages and API at real catalog size, over HTTP.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/clearmix_perf python bench/catalog.py
    python bench/catalog.py --small            # 2,000 recordings, short runs

Seeds N recordings with bulk inserts (artists, works, writers, splits, a
hash-chained consent ledger), derives the stored listing state through the
project's own refresh services, then serves the site with gunicorn
(production settings) and loads home, browse, search and the API with `wrk`
at C connections. Beside them, in the same run and under the same load, three
floors served by the same gunicorn: a Django view returning a constant through
the project's middleware (bench/web_floor.py), a static response (the HTTP
stack alone) and the browse page's indexed SQL query run raw through psycopg. Prints a
table, the ratios, and last one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

VOCAB = (
    "blue hour red sky night city lights ocean drive summer rain golden river fire "
    "dream echo shadow neon heart wild storm silver moon sun wave velvet midnight "
    "paper crown glass garden electric honey stone cloud winter gold ghost desert "
    "highway mirror thunder sugar ember orbit static signal falling rising lost home "
    "dance tonight forever young slow fast alone together broken open hidden bright "
    "dark cold warm endless first last little big runaway northern southern morning"
).split()
NAMES = (
    "nova lane kite mira june okafor tide water sol aria reed vale cole ivy sage wren "
    "juno lux rio kai noor asha finn luca zara omar lena theo maya eli ada"
).split()
GENRES = ["house", "techno", "pop", "hip hop", "ambient", "drum and bass", "indie", "soul"]
KEYS = ["A minor", "C major", "E minor", "G major", "D minor", "F major", "B minor"]
MOODS = ["uplifting", "dark", "chill", "energetic", "melancholic", "dreamy"]
SEARCH_WORD = "velvet"
MARKER = "Clearmix Bench Label"


def _django(settings_module: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    import django

    django.setup()


# --- Seeding --------------------------------------------------------------------


def _iswc(n: int) -> str:
    digits = f"{n:09d}"
    check = (1 + sum((i + 1) * int(d) for i, d in enumerate(digits))) % 10
    check = (10 - check) % 10
    return f"T{digits}{check}"


def _bulk(model, rows, batch=5000):
    return model.objects.bulk_create(rows, batch_size=batch)


def seed(n: int, rng: random.Random) -> dict:
    """Bulk-insert a catalog of n recordings; returns timings."""
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone

    from catalog.chain import GENESIS_HASH, canonical_time, event_hash
    from catalog.models import (
        ConsentChainHead,
        ConsentEvent,
        ConsentState,
        Party,
        Recording,
        RecordingArtist,
        SplitShare,
        SplitVersion,
        Work,
        WorkWriter,
    )

    started = time.perf_counter()
    user, _ = get_user_model().objects.get_or_create(
        email="bench@clearmix.bench", defaults={"is_artist": True}
    )
    with transaction.atomic():
        label = Party.objects.create(kind="label", name=MARKER)
        artists = _bulk(
            Party,
            [
                Party(
                    kind="artist",
                    name=f"{rng.choice(NAMES).title()} {rng.choice(NAMES).title()} {i}",
                )
                for i in range(max(2, n // 5))
            ],
        )
        writers = _bulk(
            Party,
            [
                Party(kind="songwriter", name=f"{rng.choice(NAMES).title()} Writer {i}")
                for i in range(max(2, n // 20))
            ],
        )
        works = _bulk(
            Work,
            [Work(title=_title(rng), iswc=_iswc(900_000_000 + i)) for i in range(max(1, n // 2))],
        )
        _bulk(
            WorkWriter,
            [WorkWriter(work=w, party=rng.choice(writers), role="composer") for w in works],
        )
        now = timezone.now()
        recordings = _bulk(
            Recording,
            [
                Recording(
                    title=_title(rng),
                    isrc=f"QZBN{i:08d}"[:12],
                    work=works[i // 2] if i % 20 else None,
                    genre=rng.choice(GENRES),
                    mood=sorted(rng.sample(MOODS, 2)),
                    tempo_bpm=rng.randint(70, 170),
                    key=rng.choice(KEYS),
                    duration_ms=rng.randint(120_000, 300_000),
                )
                for i in range(n)
            ],
        )
        links = []
        for i, recording in enumerate(recordings):
            main = artists[i // 5 % len(artists)]
            links.append(RecordingArtist(recording=recording, party=main, role="main"))
            if i % 10 == 3:
                other = rng.choice(artists)
                if other.pk != main.pk:
                    links.append(
                        RecordingArtist(recording=recording, party=other, role="featured", order=1)
                    )
        _bulk(RecordingArtist, links)
        # Splits: most complete, some missing (the rule then says no).
        masters = [
            SplitVersion(side="master", recording=r, number=1, effective_from=now)
            for r in recordings
            if rng.random() < 0.95
        ]
        publishing = [
            SplitVersion(side="publishing", work=w, number=1, effective_from=now)
            for w in works
            if rng.random() < 0.95
        ]
        versions = _bulk(SplitVersion, masters + publishing)
        _bulk(
            SplitShare,
            [
                SplitShare(
                    version=v,
                    party=label if v.side == "master" else rng.choice(writers),
                    bps=10_000,
                )
                for v in versions
            ],
        )
        # Consent: a hash-chained ledger, as ledger_append would write it.
        head, _ = ConsentChainHead.objects.select_for_update().get_or_create(
            pk=1, defaults={"seq": 0, "hash": GENESIS_HASH}
        )
        seq, prev = head.seq, head.hash
        events = []
        terms = {
            "publication": True,
            "tempo": True,
            "key": True,
            "effects": True,
            "unpublish_on_revoke": True,
        }
        for artist in artists:
            if rng.random() >= 0.85:
                continue
            seq += 1
            content = {
                "seq": seq,
                "kind": "grant",
                "party_id": artist.pk,
                "recording_id": None,
                "actor_id": user.pk,
                "created_at": canonical_time(now),
                "reason": "bench",
                "terms": terms,
                "prev_hash": prev,
            }
            digest = event_hash(content)
            events.append(
                ConsentEvent(
                    seq=seq,
                    kind="grant",
                    party=artist,
                    actor=user,
                    created_at=now,
                    reason="bench",
                    terms=terms,
                    prev_hash=prev,
                    hash=digest,
                )
            )
            prev = digest
        events = _bulk(ConsentEvent, events)
        _bulk(
            ConsentState,
            [
                ConsentState(
                    party_id=e.party_id,
                    status="granted",
                    terms=terms,
                    event=e,
                    seq=e.seq,
                    updated_at=now,
                )
                for e in events
            ],
        )
        head.seq, head.hash = seq, prev
        head.save(update_fields=["seq", "hash"])
    inserted = time.perf_counter() - started
    return {"insert_s": inserted, "ids": [r.pk for r in recordings]}


def _name(rng: random.Random) -> str:
    return rng.choice(NAMES).title()


def _title(rng: random.Random) -> str:
    return " ".join(rng.choice(VOCAB) for _ in range(rng.randint(1, 3))).title()


def derive_state(ids: list[int]) -> dict:
    """The project's own services derive the stored state (the rule, in chunks)."""
    from catalog.services import recording_remixability_refresh, recording_search_refresh

    started = time.perf_counter()
    recording_remixability_refresh(recording_ids=ids)
    remix_s = time.perf_counter() - started
    started = time.perf_counter()
    recording_search_refresh(recording_ids=ids)
    return {"refresh_remixability_s": remix_s, "refresh_search_s": time.perf_counter() - started}


def ensure_catalog(n: int, *, reseed: bool) -> dict:
    from django.core.management import call_command
    from django.db import connection

    from catalog.models import Party, Recording

    call_command("migrate", verbosity=0)
    existing = Recording.objects.count()
    if Party.objects.filter(name=MARKER).exists() and existing >= n and not reseed:
        return {"seeded": False, "recordings": existing}
    if existing and (reseed or not Party.objects.filter(name=MARKER).exists()):
        if connection.vendor != "postgresql":
            raise SystemExit("refusing to reseed a non-empty SQLite database; remove it first")
        with connection.cursor() as cursor:
            # TRUNCATE: the append-only tables refuse DELETE (see README).
            cursor.execute(
                "TRUNCATE catalog_recording, catalog_party, catalog_work, catalog_consentevent, "
                "catalog_consentchainhead, catalog_splitversion CASCADE"
            )
    timings = seed(n, random.Random(13))
    timings.update(derive_state(timings.pop("ids")))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE catalog_recording")
    return {"seeded": True, "recordings": Recording.objects.count(), **timings}


# --- The floors, served by the same gunicorn -------------------------------------

FLOOR_SQL = "SELECT id, title FROM catalog_recording WHERE is_remixable ORDER BY title, id LIMIT 60"
_floor_connection = None


def floor_app(environ, start_response):
    """WSGI app: /static is the HTTP stack alone; /sql runs the browse page's
    indexed query raw (psycopg, one persistent connection per worker)."""
    global _floor_connection
    if environ["PATH_INFO"].endswith("/sql"):
        import psycopg

        if _floor_connection is None:
            _floor_connection = psycopg.connect(os.environ["BENCH_FLOOR_DSN"], autocommit=True)
        rows = _floor_connection.execute(FLOOR_SQL).fetchall()
        body = "".join(f"<li>{title}</li>" for _, title in rows).encode()
    else:
        body = b"ok"
    start_response("200 OK", [("Content-Type", "text/html"), ("Content-Length", str(len(body)))])
    return [body]


# --- Load -----------------------------------------------------------------------


def _server(app: str, port: int, workers: int, env: dict) -> subprocess.Popen:
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    process = subprocess.Popen(
        [
            gunicorn,
            app,
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--backlog",
            "2048",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5)
            return process
        except Exception:
            time.sleep(0.3)
    process.kill()
    raise SystemExit(f"{app} did not start on port {port}")


def _stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        # A worker stuck under load must not cost the run its results.
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w+)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def _busy_cpu_seconds() -> float | None:
    """CPU seconds the whole machine has spent busy (user, system, interrupts;
    not idle, I/O wait or steal), from /proc/stat; None off Linux."""
    try:
        with open("/proc/stat") as stat:
            user, nice, system, _idle, _iowait, irq, softirq = (
                int(v) for v in stat.readline().split()[1:8]
            )
    except OSError:
        return None
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def wrk(url: str, *, connections: int, seconds: int, script: list[str] | None = None) -> dict:
    """wrk's figures for `url`; `script` is ["-s", lua, url, "--", args...] when each
    request is made by a Lua script (bench/varied.py). `cpu_ms`: the machine's busy CPU
    during the run per completed request (gunicorn, PostgreSQL, Redis and wrk together),
    a cost that a host's speed changes less than req/s, and that anything else running
    inflates (so: a quiet machine)."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    busy_before = _busy_cpu_seconds()
    out = subprocess.run(
        command + (script or [url]),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    busy_after = _busy_cpu_seconds()
    latency = dict(re.findall(r"^\s+(50|90|99)%\s+(\S+)", out, re.M))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    cpu_ms = (
        (busy_after - busy_before) * 1000 / requests
        if busy_before is not None and busy_after is not None and requests
        else None
    )
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50_ms": _ms(latency["50"]),
        "p99_ms": _ms(latency["99"]),
        "errors": int(errors.group(1)) if errors else 0,
        "cpu_ms": cpu_ms,
    }


def uncached(urls: dict[str, str], repeat: int = 5) -> dict[str, dict]:
    """In-process, with the list cache off: each URL's query count (the same
    as the tests assert at small sizes) and its cold latency at this size.
    Browse's cold figure includes computing the filter facets, a scan of the
    whole catalog that a running site caches for an hour."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import override_settings

    client = Client()
    out = {}
    with override_settings(CATALOG_LIST_CACHE_SECONDS=0, ALLOWED_HOSTS=["testserver"]):
        for name, path in urls.items():
            client.get(path)
            queries: list[str] = []

            def count(run, sql, *rest, seen=queries):
                seen.append(sql)
                return run(sql, *rest)

            with connection.execute_wrapper(count):
                response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
            times = []
            for _ in range(repeat):
                started = time.perf_counter()
                client.get(path)
                times.append((time.perf_counter() - started) * 1000)
            out[name] = {"queries": len(queries), "median_ms": sorted(times)[repeat // 2]}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", action="store_true", help="2,000 recordings, 3 s per URL")
    parser.add_argument("-n", "--recordings", type=int, default=None)
    parser.add_argument("-c", "--connections", type=int, default=32)
    parser.add_argument("-d", "--seconds", type=int, default=None)
    parser.add_argument("-w", "--workers", type=int, default=(os.cpu_count() or 2) * 2)
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--port", type=int, default=8931)
    args = parser.parse_args()
    n = args.recordings or (2_000 if args.small else 100_000)
    seconds = args.seconds or (3 if args.small else 15)
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgres"):
        raise SystemExit("set DATABASE_URL to a PostgreSQL database (its own, it gets filled)")
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install -y wrk")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(48),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DATABASE_CONN_MAX_AGE": "600",
        # One address is all a benchmark has: the API's read limit would 429.
        "RATE_LIMIT_API_READ": "100000000/minute",
        "PYTHONPATH": str(ROOT),
        "BENCH_FLOOR_DSN": database_url.replace("postgres://", "postgresql://", 1),
    }
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
    _django("config.settings.production")
    catalog = ensure_catalog(n, reseed=args.reseed)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    urls = {
        "home": "/",
        "browse": "/tracks/",
        "browse search": f"/tracks/?q={SEARCH_WORD}",
        "API list": "/api/v1/tracks/",
        "API search": f"/api/v1/tracks/?q={SEARCH_WORD}",
    }
    cold = uncached(urls)
    site = _server("config.wsgi:application", args.port, args.workers, env)
    floor = _server("bench.catalog:floor_app", args.port + 1, args.workers, env)
    django_floor = _server("bench.web_floor:application", args.port + 2, args.workers, env)
    results: dict[str, dict] = {}
    try:
        for name, path in urls.items():
            url = f"http://127.0.0.1:{args.port}{path}"
            urllib.request.urlopen(url, timeout=30).read()
            results[name] = wrk(url, connections=args.connections, seconds=seconds)
        for name, url in (
            ("floor: django", f"http://127.0.0.1:{args.port + 2}/floor/"),
            ("floor: static", f"http://127.0.0.1:{args.port + 1}/static"),
            ("floor: raw SQL", f"http://127.0.0.1:{args.port + 1}/sql"),
        ):
            results[name] = wrk(url, connections=args.connections, seconds=seconds)
    finally:
        _stop(site)
        _stop(floor)
        _stop(django_floor)
    report(results, catalog=catalog, args=args, n=n, seconds=seconds, cold=cold)


def report(results: dict, *, catalog: dict, args, n: int, seconds: int, cold: dict) -> None:
    floor = results["floor: raw SQL"]["rps"]
    django_floor = results["floor: django"]["rps"]
    print(
        f"\n{catalog['recordings']} recordings; {args.connections} connections, "
        f"{args.workers} gunicorn workers, {seconds} s per URL, {os.cpu_count()} CPUs"
    )
    if catalog.get("seeded"):
        print(
            f"seeded in {catalog['insert_s']:.1f} s; state derived by the refresh services: "
            f"remixability {catalog['refresh_remixability_s']:.1f} s, "
            f"search text {catalog['refresh_search_s']:.1f} s"
        )
    print(
        "| URL | req/s | p50 ms | p99 ms | non-2xx | ÷ django floor | ÷ raw-SQL floor "
        "| queries | uncached ms |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, row in results.items():
        plain = cold.get(name)
        extra = f"{plain['queries']} | {plain['median_ms']:.1f}" if plain else " | "
        print(
            f"| {name} | {row['rps']:.0f} | {row['p50_ms']:.1f} | {row['p99_ms']:.1f} | "
            f"{row['errors']} | {row['rps'] / django_floor:.2f} | {row['rps'] / floor:.2f} | "
            f"{extra} |"
        )
    summary = {
        "bench": "catalog",
        "recordings": catalog["recordings"],
        "connections": args.connections,
        "workers": args.workers,
        "cpus": os.cpu_count(),
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "results": {
            k: {m: v if v is None else round(v, 2) for m, v in row.items()}
            for k, row in results.items()
        },
        "ratio_to_floor": {k: round(row["rps"] / floor, 3) for k, row in results.items()},
        "ratio_to_django_floor": {
            k: round(row["rps"] / django_floor, 3) for k, row in results.items()
        },
        "uncached": {k: {m: round(v, 1) for m, v in row.items()} for k, row in cold.items()},
        "seed": {k: round(v, 2) for k, v in catalog.items() if isinstance(v, float)},
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
