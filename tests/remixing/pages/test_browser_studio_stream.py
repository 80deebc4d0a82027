"""The studio plays before its stems are decoded whole: a short head of each stem
first, the rest as it arrives, swapped in while playing without a gap, the mixer
still in charge after the handover. Observed through the page's state
(`data-audio`, each stem's `data-decoded`), not through timing: the download is
throttled (DevTools network emulation) so the rest is still on its way."""

from __future__ import annotations

import os
import statistics
import time

import pytest

from tests.fixtures.accounts import PASSWORD, UserFactory
from tests.fixtures.browser import login
from tests.marketplace.billing.factories import entitle

from .conftest import wait_for

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = pytest.mark.browser

# Injected through DevTools before the page's scripts (the CSP does not apply):
# samples the studio's analyser every 5 ms while it plays, with the decoded state.
LEVEL_WATCH = """
window.__watch = [];
setInterval(() => {
  const s = window.__studio;
  const root = document.querySelector("[data-studio]");
  if (s && s.engine.playing) window.__watch.push([s.engine.level(), root.dataset.audio]);
}, 5);
"""
BYTES_PER_S = 160_000  # 30 s of four 128 kb/s stems take about 12 s to arrive


def _poll(page, script: str, timeout: float = 30.0, step_ms: int = 50):
    deadline = time.monotonic() + timeout
    while not (value := page.evaluate(script)):
        assert time.monotonic() < deadline, f"timed out waiting for {script}"
        page.wait_for_timeout(step_ms)
    return value


def test_the_studio_plays_before_the_stems_are_decoded_whole_and_the_mixer_follows(
    pipeline, live_server, browser, make_recording
):
    fan = UserFactory(email="stream-fan@example.com", is_fan=True)
    entitle(fan)
    recording, _ = make_recording(official_stems=True, seconds=30.0)
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(20_000)
    context.add_init_script(LEVEL_WATCH)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
    login(page, fan.email, PASSWORD)
    page.goto(f"/studio/tracks/{recording.pk}/")  # the stems and their streams are made
    try:
        wait_for(lambda: page.locator("[data-studio][data-state=ready]").count(), 90, pipeline)
    except AssertionError:
        state = page.evaluate("document.querySelector('[data-studio]').dataset.state")
        raise AssertionError(f"studio {state}: {console}") from None

    # Open it again, on a slow line and without the cache: the streams trickle in.
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 5, "downloadThroughput": BYTES_PER_S, "uploadThroughput": -1},
    )
    page.reload()
    _poll(page, "document.querySelector('[data-studio]').dataset.state === 'ready'")
    page.get_by_role("button", name="Play").click()
    _poll(page, "window.__studio.engine.level() > 0.001")
    root = page.locator("[data-studio]")
    # Sound, while the stems still play from their decoded heads.
    assert root.get_attribute("data-audio") == "partial"
    stems = page.locator("[data-stem]")
    assert stems.count() == 4
    assert all(
        stems.nth(i).get_attribute("data-decoded") == "prefix"
        and float(stems.nth(i).get_attribute("data-decoded-s")) < 30
        for i in range(4)
    )

    # The rest arrives and is swapped in while playing: every stem whole, no gap.
    _poll(page, "document.querySelector('[data-studio]').dataset.audio === 'complete'", 60)
    page.wait_for_timeout(500)
    assert all(stems.nth(i).get_attribute("data-decoded") == "whole" for i in range(4))
    assert all(float(stems.nth(i).get_attribute("data-decoded-s")) > 29 for i in range(4))
    watch = page.evaluate("window.__watch")
    heard = [level for level, _ in watch[next(i for i, (v, _) in enumerate(watch) if v > 1e-3) :]]
    states = [state for _, state in watch]
    assert "partial" in states and states[-1] == "complete"
    typical = statistics.median(heard)
    # From the moment the sound is established (the analyser's 46 ms window fills
    # up at the onset) to the end: it never went quiet, through every handover.
    steady = heard[next(i for i, v in enumerate(heard) if v > 0.6 * typical) :]
    assert min(steady) > 0.3 * typical, (min(steady), typical)
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )

    # The mixer after the handover acts on the gain nodes the swapped-in stems play
    # through (read from the graph, not from the analyser: on a loaded machine the
    # clip can reach its end while a level is polled). Mute every stem, then solo one.
    gains_js = (
        "Object.values(Object.fromEntries([...window.__studio.engine.stems]"
        ".map(([n, s]) => [n, s.gain.gain.value])))"
    )
    for i in range(4):
        stems.nth(i).locator("[data-stem-mute]").click()
    _poll(page, f"Math.max(...{gains_js}) < 0.001", 20)
    for i in range(4):
        stems.nth(i).locator("[data-stem-mute]").click()
    _poll(page, f"Math.min(...{gains_js}) > 0.9", 20)
    stems.nth(0).locator("[data-stem-solo]").click()
    page.wait_for_timeout(300)
    gains = page.evaluate(
        "Object.fromEntries([...window.__studio.engine.stems]"
        ".map(([n, s]) => [n, s.gain.gain.value]))"
    )
    soloed = stems.nth(0).get_attribute("data-stem")
    assert gains.pop(soloed) > 0.9 and max(gains.values()) < 1e-3
    context.close()
