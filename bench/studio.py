"""Benchmark: the studio's first sound, in Debian's headless Chromium against a live demo server.

    python bench/studio.py              # 5 opens of a demo track's studio
    python bench/studio.py --short      # 3 opens
    python bench/studio.py --scratch D  # keep (and reuse) the seeded database and media in D

Seeds the demo catalog into a scratch SQLite database and media folder (stems made ahead,
as `seed_demo` and the worker do), then serves it as production does: production settings
(no DEBUG), `collectstatic` (hashed, compressed, long-cached files served by WhiteNoise) and
gunicorn through `docker/entrypoint.sh web`. Logs in as the demo fan, opens the studio once
unmeasured (every worker warm), then opens a remixable demo track's studio N times at
`/studio/tracks/<id>/` (what "Remix this track" links to), each in a fresh browser context
(empty cache): the time from the start of the navigation to each stage (page, scripts, stem
heads, ready, Play, signal at the studio's AnalyserNode = first sound, every stem decoded
whole). Median and worst.

The floor, measured in the same run, same browser and server: loading a trivial page of
the same server (`/healthz`), then fetching the smallest audio the first sound needs (the
stem heads the studio preloads, `?head=N`) directly, decoding them in a new AudioContext and
starting them into an analyser, until it hears them. Prints a table, the ratio, and last one
JSON line. Goal: first sound <= 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--autoplay-policy=no-user-gesture-required",
]
GOAL_S = 1.0
HEAD_SECONDS = 2  # as static/js/studio-engine.js: decoded before play is offered
SIGNAL = 1e-3  # analyser RMS that counts as sound

# Injected before the page's own scripts (CDP, so the page's CSP does not apply): as soon
# as the studio says "ready" it presses Play, then watches the analyser for signal.
STUDIO_PROBE = """
window.__bench = {};
(function poll() {
  const root = document.querySelector("[data-studio]");
  const b0 = window.__bench;
  if (window.__studio && !b0.script) {
    b0.script = performance.now();  // the studio's module ran
    window.__studio.engine.on((e) => {
      if (e.type === "stem" && !b0.first_head) b0.first_head = performance.now();
    });
  }
  if (root && root.dataset.state === "ready" && window.__studio) {
    const b = window.__bench;
    b.ready = performance.now();
    document.querySelector("[data-action=play]").click();
    b.play = performance.now();
    (function listen() {
      if (window.__studio.engine.level() > __SIGNAL__) {
        b.sound = performance.now();
        b.audio_at_sound = root.dataset.audio;  // "partial": before every stem is decoded whole
        return;
      }
      setTimeout(listen, 2);
    })();
    (function whole() {
      if (root.dataset.audio === "complete") { b.complete = performance.now(); return; }
      setTimeout(whole, 5);
    })();
    return;
  }
  setTimeout(poll, 2);
})();
""".replace("__SIGNAL__", str(SIGNAL))

# The floor: the same previews fetched and decoded directly (as much of each as the studio
# decodes before offering play), played into an analyser.
FLOOR_PROBE = """
async ([urls, head]) => {
  const t0 = performance.now();
  const ctx = new AudioContext();
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 2048;
  analyser.connect(ctx.destination);
  const buffers = await Promise.all(urls.map(async (url) => {
    const bytes = await (await fetch(url, { credentials: "same-origin" })).arrayBuffer();
    return ctx.decodeAudioData(bytes.slice(0, Math.ceil(bytes.byteLength * head)));
  }));
  const decoded = performance.now();
  if (ctx.state !== "running") await ctx.resume();
  const when = ctx.currentTime + 0.03;
  for (const buffer of buffers) {
    const src = ctx.createBufferSource();
    src.buffer = buffer;
    src.connect(analyser);
    src.start(when);
  }
  const data = new Float32Array(analyser.fftSize);
  for (;;) {
    analyser.getFloatTimeDomainData(data);
    let sum = 0;
    for (const v of data) sum += v * v;
    if (Math.sqrt(sum / data.length) > __SIGNAL__) break;
    await new Promise((r) => setTimeout(r, 2));
  }
  const sound = performance.now();
  ctx.close();
  return { decode_ms: decoded - t0, sound_ms: sound - t0 };
}
""".replace("__SIGNAL__", str(SIGNAL))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed(env: dict[str, str]) -> tuple[int, float]:
    """Migrate and seed the scratch database; make every stem set now. Returns a
    remixable demo track's recording id and duration (s)."""
    os.environ.update(env)
    import django

    django.setup()
    from celery import current_app
    from django.core.management import call_command
    from django.db import IntegrityError, transaction

    from catalog.models import Recording
    from catalog.selectors import recording_remixability
    from marketplace.demo.catalog_data import TRACKS
    from marketplace.demo.seed import seed_demo
    from remixing import job_runner
    from remixing.models import StemSet
    from remixing.previews import recording_preview_make
    from remixing.services import stemsets_prepare
    from tests.marketplace.billing.factories import entitle

    current_app.conf.task_always_eager = True  # the worker's work, done here and now
    call_command("migrate", verbosity=0)
    result = seed_demo(log=lambda *_: None)
    try:  # Premium + Remix add-on, no Stripe needed
        with transaction.atomic():
            entitle(result["users"]["fan@clearmix.demo"])
    except IntegrityError:
        pass  # a kept --scratch database: entitled by an earlier run
    recordings = list(Recording.objects.order_by("pk"))
    stemsets_prepare(recording_ids=[r.pk for r in recordings])
    for stem_set in StemSet.objects.exclude(status=StemSet.Status.READY):
        job_runner.stemset_execute(stem_set.pk)  # what the worker does at start
    titles = [t.title for t in TRACKS]
    track = next(
        r
        for r in sorted(recordings, key=lambda r: titles.index(r.title))
        if recording_remixability(recording=r).remixable
    )
    recording_preview_make(recording_id=track.pk)
    return track.pk, track.duration_ms / 1000


def production_env(env: dict[str, str], scratch: str, port: int) -> dict[str, str]:
    """The web process as production runs it (Dockerfile, docker/entrypoint.sh): production
    settings (no DEBUG), static files collected once into hashed, compressed, year-long
    cached names served by WhiteNoise, gunicorn. Plain HTTP on localhost, so no TLS redirect."""
    return {
        **env,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(48),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "STATIC_ROOT": f"{scratch}/static",
        "WEB_BIND": f"127.0.0.1:{port}",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }


def serve(env: dict[str, str], log: Path) -> subprocess.Popen:
    """collectstatic (as the image build does), then `docker/entrypoint.sh web`."""
    with open(log, "ab") as out:
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "--clear", "-v", "0"],
            cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT, check=True,
        )  # fmt: skip
    server = subprocess.Popen(
        ["sh", str(ROOT / "docker" / "entrypoint.sh"), "web"],
        cwd=ROOT, env={**os.environ, **env}, stdout=open(log, "ab"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://{env['WEB_BIND']}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=2)
            return server
        except OSError:
            if server.poll() is not None:
                break
            time.sleep(0.2)
    server.terminate()
    raise SystemExit(f"the server did not start; see {log}")


def open_studio(browser, base: str, state: dict, recording_id: int) -> dict:
    context = browser.new_context(base_url=base, storage_state=state)
    context.add_init_script(STUDIO_PROBE)
    page = context.new_page()
    fetched: list[str] = []
    page.on("request", lambda r: fetched.append(r.url) if "/media/" in r.url else None)
    page.goto(f"/studio/tracks/{recording_id}/")
    # Polled through DevTools (the page's CSP refuses wait_for_function's eval).
    deadline = time.monotonic() + 60
    done = "() => !!(window.__bench && window.__bench.sound && window.__bench.complete)"
    while not page.evaluate(done):
        if time.monotonic() > deadline:
            raise SystemExit("no first sound (or stems never decoded whole) within 60 s")
        page.wait_for_timeout(20)
    marks = page.evaluate(
        """() => { const nav = performance.getEntriesByType("navigation")[0];
                   const res = performance.getEntriesByType("resource");
                   const end = (re) => Math.max(0, ...res.filter((r) => re.test(r.name))
                                                         .map((r) => r.responseEnd));
                   const start = (re) => Math.min(...res.filter((r) => re.test(r.name))
                                                         .map((r) => r.requestStart));
                   return {...window.__bench, loaded: nav.loadEventEnd, html: nav.responseEnd,
                           first_byte: nav.responseStart, scripts: end(/[.]js$/),
                           streams_start: start(/[.]preview[.]/),
                           streams: end(/[.]preview[.]/)}; }"""
    )
    previews = [url for url in fetched if ".preview." in url]
    context.close()
    return {
        "page_first_byte_s": marks["first_byte"] / 1000,
        "page_html_s": marks["html"] / 1000,
        "scripts_fetched_s": marks["scripts"] / 1000,
        "streams_requested_s": marks["streams_start"] / 1000,
        "streams_fetched_s": marks["streams"] / 1000,
        "script_ran_s": marks["script"] / 1000,
        "first_head_decoded_s": marks["first_head"] / 1000,
        "page_loaded_s": marks["loaded"] / 1000,
        "stems_decoded_s": marks["ready"] / 1000,
        "play_s": marks["play"] / 1000,
        "first_sound_s": marks["sound"] / 1000,
        "stems_whole_s": marks["complete"] / 1000,
        "audio_at_sound": marks["audio_at_sound"],
        "previews": previews,
        "lossless_fetched": [u for u in fetched if u.endswith((".flac", ".wav"))],
    }


def floor(browser, base: str, state: dict, urls: list[str], head: float) -> dict:
    context = browser.new_context(base_url=base, storage_state=state)
    page = context.new_page()
    page.goto("/healthz")
    loaded = page.evaluate("performance.getEntriesByType('navigation')[0].responseEnd") / 1000
    probe = page.evaluate(FLOOR_PROBE, [urls, head])
    context.close()
    return {
        "page_loaded_s": loaded,
        "decode_s": probe["decode_ms"] / 1000,
        "first_sound_s": loaded + probe["sound_ms"] / 1000,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--short", action="store_true", help="3 runs")
    parser.add_argument("--scratch", help="keep the seeded database and media here (reused)")
    args = parser.parse_args()
    runs = 3 if args.short else args.runs
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing (apt-get install chromium)")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    from marketplace.demo.catalog_data import DEMO_PASSWORD

    with tempfile.TemporaryDirectory(prefix="clearmix-bench-studio-") as temporary:
        scratch = args.scratch or temporary
        Path(scratch).mkdir(parents=True, exist_ok=True)
        env = {
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "DATABASE_URL": f"sqlite:///{scratch}/db.sqlite3",
            "MEDIA_ROOT": f"{scratch}/media",
            "CELERY_BROKER_URL": "memory://",  # tasks run eagerly here, nothing is queued
            "SEPARATION_PREPARE_AHEAD": "false",
            "STRIPE_SANDBOX": "false",
            "REDIS_URL": "",
        }
        started = time.perf_counter()
        print("seeding the demo catalog and its stems into a scratch database…", flush=True)
        marker = Path(scratch) / "seeded.json"
        if args.scratch and marker.exists():  # a kept scratch folder, seeded by an earlier run
            recording_id, duration_s = json.loads(marker.read_text())
        else:
            recording_id, duration_s = seed(env)
            marker.write_text(json.dumps([recording_id, duration_s]))
        head = min(1.0, HEAD_SECONDS / duration_s) if HEAD_SECONDS / duration_s < 0.8 else 1.0
        seeded_s = time.perf_counter() - started
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        server = serve(production_env(env, scratch, port), Path(scratch) / "web.log")
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                context = browser.new_context(base_url=base)
                page = context.new_page()
                page.goto("/accounts/login/")
                page.get_by_label("Email").fill("fan@clearmix.demo")
                page.get_by_label("Password").fill(DEMO_PASSWORD)
                page.get_by_role("button", name="Sign In").click()
                page.wait_for_load_state()
                state = context.storage_state()
                context.close()
                # Unmeasured: one open and one floor, so every gunicorn worker has served
                # these pages once (imports, templates), as a production server has.
                warm = open_studio(browser, base, state, recording_id)
                floor(browser, base, state, warm["previews"], 1.0)
                studio, floors = [], []
                for _ in range(runs):  # interleaved, so load on a shared box hits both alike
                    studio.append(open_studio(browser, base, state, recording_id))
                    # The smallest necessary audio: the heads the studio preloads, when it does.
                    heads = [u for u in studio[-1]["previews"] if "?head=" in u]
                    urls = heads or studio[-1]["previews"]
                    floors.append(floor(browser, base, state, urls, 1.0 if heads else head))
                browser.close()
        finally:
            server.terminate()  # gunicorn: graceful, open keep-alive connections and all
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(10)

    def stats(rows: list[dict], key: str) -> dict:
        values = [r[key] for r in rows]
        return {"median": round(statistics.median(values), 3), "worst": round(max(values), 3)}

    first = stats(studio, "first_sound_s")
    floor_first = stats(floors, "first_sound_s")
    print(f"studio bench: {runs} opens of a demo track's studio (seeded in {seeded_s:.1f} s)")
    print(f"{'stage (s from navigation)':<30}{'median':>9}{'worst':>9}")
    stages = ("page_first_byte_s", "page_html_s", "scripts_fetched_s", "streams_requested_s",
              "streams_fetched_s", "script_ran_s", "first_head_decoded_s", "page_loaded_s",
              "stems_decoded_s", "play_s", "first_sound_s",
              "stems_whole_s")  # fmt: skip
    for key in stages:
        s = stats(studio, key)
        print(f"{'studio ' + key[:-2].replace('_', ' '):<30}{s['median']:>9.3f}{s['worst']:>9.3f}")
    for key in ("page_loaded_s", "first_sound_s"):
        s = stats(floors, key)
        print(f"{'floor ' + key[:-2].replace('_', ' '):<30}{s['median']:>9.3f}{s['worst']:>9.3f}")
    ratio = first["median"] / floor_first["median"]
    print(
        f"first sound: {first['median']:.3f} s median, {first['worst']:.3f} s worst "
        f"(goal <= {GOAL_S} s); floor {floor_first['median']:.3f} s; ratio {ratio:.2f}"
    )
    lossless = sorted({u for r in studio for u in r["lossless_fetched"]})
    summary = {
        "bench": "studio",
        "runs": runs,
        "first_sound_s": first,
        "stems_decoded_s": stats(studio, "stems_decoded_s"),
        "stems_whole_s": stats(studio, "stems_whole_s"),
        "played_before_whole": sum(r["audio_at_sound"] == "partial" for r in studio),
        "page_loaded_s": stats(studio, "page_loaded_s"),
        "floor_first_sound_s": floor_first,
        "ratio": round(ratio, 2),
        "goal_s": GOAL_S,
        "meets_goal": first["worst"] <= GOAL_S,
        "previews_per_open": len(studio[0]["previews"]),
        "lossless_fetched": lossless,
    }
    print(json.dumps(summary))
    return 0 if not lossless else 1


if __name__ == "__main__":
    raise SystemExit(main())
