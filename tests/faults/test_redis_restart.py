"""Redis restarted during a job: a real Redis server (our own throwaway one on
a free port, no persistence) is SIGKILLed while a real Celery worker renders
a paid remix, then started again on the same port, empty.

The render under way finishes and is delivered once; the job message that
was waiting in Redis (a second remix queued behind it) is lost with the
empty server and the jobs sweep (beat in the worker, every 2 s here through
REMIXING_JOB_SWEEP_SECONDS / REMIXING_JOB_REQUEUE_SECONDS) queues it again:
work resumes. The order stays paid and is settled once, the ledger
verifiers pass, and the worker reconnects without a restart.

Needs Redis (skips with the filesystem broker) and PostgreSQL or a file
SQLite database the worker can share.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from celery import current_app
from django.core.management import call_command

from marketplace.billing.services.orders import order_checkout_start
from marketplace.models import Order
from remixing.models import Remix, StemSet
from remixing.services import remix_create, remix_render_start, remix_update_recipe
from royalties.audit import ledger_verify
from royalties.models import Settlement, Transfer
from royalties.stripe_client import stripe_client, stripe_value
from tests.marketplace.billing.factories import entitle
from tests.marketplace.test_money_end_to_end import URLS
from tests.remixing.test_worker_crash import SLOW_RECIPE, assert_delivered_once, row, wait_for

RENDER = "remixing.tasks.render_run"
pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


class RedisServer:
    """A redis-server of our own: no snapshot, no append-only file, so a
    restart comes back empty, as a cache-configured Redis does."""

    def __init__(self, folder):
        self.folder = folder
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        argv += ["--save", "", "--appendonly", "no", "--dir", str(self.folder)]
        log = open(self.folder / "redis.log", "ab")
        self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        wait_for(lambda: self._pings(client), 10)

    @staticmethod
    def _pings(client) -> bool:
        try:
            return bool(client.ping())
        except redis.ConnectionError:
            return False

    def kill(self) -> None:
        self.proc.kill()  # SIGKILL: no goodbye to the clients
        self.proc.wait(10)

    def keys(self) -> int:
        return redis.Redis(port=self.port).dbsize()

    def renders_waiting(self, settings, remix: Remix) -> int:
        """Render messages for `remix` waiting in the paid queue (read directly)."""
        prefix = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("global_keyprefix", "")
        count = 0
        for raw in redis.Redis(port=self.port).lrange(f"{prefix}paid", 0, -1):
            headers = json.loads(raw)["headers"]
            count += headers["task"] == RENDER and headers["argsrepr"] == f"({remix.pk},)"
        return count


@pytest.fixture
def own_redis(settings, crash_env, tmp_path):
    """The test process and the worker use a Redis of our own (broker and
    cache); the app's broker pools are looked up afresh and put back after."""
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.skip("a Redis to restart needs Redis (set REDIS_URL); this run uses files")
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = RedisServer(tmp_path)
    server.start()
    parts = urlsplit(settings.CELERY_BROKER_URL)
    url = urlunsplit(parts._replace(netloc=f"127.0.0.1:{server.port}", path="/0"))
    crash_env.update(REDIS_URL=url, CELERY_BROKER_URL=url)
    app = current_app
    saved = app.conf.broker_url, app.conf.get("broker_write_url")
    _broker_use(app, url, url)
    yield server
    app.pool.force_close_all()
    _broker_use(app, *saved)
    if server.proc.poll() is None:
        server.kill()


def _broker_use(app, url: str, write_url: str | None) -> None:
    app.conf.broker_url, app.conf.broker_write_url = url, write_url
    app._pool = None
    app.amqp._producer_pool = None


def _sandbox_transfers():
    return list(stripe_client().v1.transfers.list(params={"limit": 100}).auto_paging_iter())


def _ready_remix(make_recording, fan, worker, seconds: float) -> Remix:
    recording, _ = make_recording(seconds=seconds, official_stems=True)
    remix = remix_create(fan=fan, recording=recording)
    wait_for(
        lambda: StemSet.objects.filter(pk=remix.stem_set_id, status="ready").exists(), 60, worker
    )
    return remix


def test_redis_restarted_empty_mid_render_delivers_once_and_requeues_the_lost_job(
    make_recording, fan, settings, stripe_plans, stripe_events, workers, own_redis
):
    entitle(fan)
    transfers_before = {stripe_value(t, "id") for t in _sandbox_transfers()}
    stripe_events.skip()
    worker = workers()
    paid = _ready_remix(make_recording, fan, worker, seconds=24.0)  # renders for seconds
    remix_update_recipe(remix=paid, fan=fan, recipe=SLOW_RECIPE)
    behind = _ready_remix(make_recording, fan, worker, seconds=2.0)
    order = order_checkout_start(fan=fan, remix=paid, **URLS)
    stripe_events.sandbox.pay(order.checkout_url)
    stripe_events.deliver()  # the webhook queues the fulfilment: settle, then render
    wait_for(lambda: row(paid)["status"] == "rendering", 60, worker, step=0.01)
    remix_render_start(remix=behind)  # waits in Redis behind the render (one pool process)
    wait_for(lambda: own_redis.renders_waiting(settings, behind) == 1, 5)

    own_redis.kill()
    time.sleep(1)
    own_redis.start()  # same port, empty: the queued render's message is gone
    assert own_redis.keys() == 0
    assert row(paid)["status"] == "rendering"

    assert_delivered_once(paid, worker)
    # Its message died with Redis: the jobs sweep queues it again (a build
    # whose sweep forgets lost jobs leaves it queued for ever).
    wait_for(lambda: row(behind)["status"] == "ready", 45, worker)
    assert_delivered_once(behind, worker)
    paid.refresh_from_db()
    behind.refresh_from_db()
    assert (paid.attempts, behind.attempts) == (1, 1)
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert Settlement.objects.filter(order_ref=f"order_{order.pk}").count() == 1
    assert Order.objects.filter(remix=paid).count() == 1
    # The ledger balances. The artists' payouts may still be on their way: a transfer
    # interrupted by Redis' death is sent again, with the same key, by the payouts sweep
    # (the worker payout crash tests prove that round). Here: nothing doubled, nothing
    # at Stripe that is not one of our transfers.
    assert ledger_verify() == []
    call_command("verify_ledger")
    at_stripe = [  # made during this test (the sandbox outlives each test's database)
        stripe_value(stripe_value(t, "metadata") or {}, "clearmix_transfer_id")
        for t in _sandbox_transfers()
        if stripe_value(t, "id") not in transfers_before
    ]
    ours = {str(pk) for pk in Transfer.objects.values_list("pk", flat=True)}
    assert len(at_stripe) == len(set(at_stripe)) and set(at_stripe) <= ours, (at_stripe, ours)
    assert worker.proc.running()  # the worker reconnected rather than died
    log = worker.log.read_text(errors="replace")
    assert "Connection to broker lost" in log
    assert "SIGSEGV" not in log and "Segmentation fault" not in log
    worker.kill_all()  # done: no need to wait out a warm shutdown
