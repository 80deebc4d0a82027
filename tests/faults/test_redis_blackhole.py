"""Redis black-holed while a request enqueues work: the fault proxy in front
of the broker accepts the connection and never answers (no reset).

Opening the studio on a track creates the fan's draft and queues its stem
separation after commit. With the broker silent, the publish gives up after
the Redis socket timeout and its retries (a bound the settings declare),
the fan gets a 503 in plain words instead of a hang or a 500, the draft and
its queued job are kept (nothing lost), and the jobs sweep queues the job
again once Redis answers: it is queued exactly once.

Needs Redis (skips with the filesystem broker: there is no socket to silence).
"""

from __future__ import annotations

import json
import threading
import time
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from celery import current_app
from django.utils import timezone

from remixing.enqueue import SEPARATION
from remixing.models import Remix, StemSet
from remixing.sweep import jobs_sweep
from tests.marketplace.billing.factories import entitle

pytestmark = pytest.mark.django_db(transaction=True)

SOCKET_S = 1
HANG_S = 15


@pytest.fixture
def client(client):
    client.raise_request_exception = False
    return client


def _point_broker(app, url: str, write_url: str | None, options: dict) -> None:
    """Publish to `url` from now on: the app's broker pools are looked up
    afresh (kombu keeps one pool per broker address)."""
    app.conf.broker_url, app.conf.broker_write_url = url, write_url
    app.conf.broker_transport_options = options
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def broker_via_proxy(fault_proxy, settings):
    url = settings.CELERY_BROKER_URL
    if not url.startswith("redis://"):
        pytest.skip("a broker to black-hole needs Redis (set REDIS_URL); this run uses files")
    parts = urlsplit(url)
    proxy = fault_proxy(parts.hostname, parts.port or 6379)
    app = current_app
    saved = dict(app.conf.broker_transport_options)
    saved_write = app.conf.get("broker_write_url")
    through = urlunsplit(parts._replace(netloc=f"{proxy.host}:{proxy.port}"))
    short = {**saved, "socket_timeout": SOCKET_S, "socket_connect_timeout": SOCKET_S}
    _point_broker(app, through, through, short)
    yield proxy
    proxy.pass_()
    app.pool.force_close_all()
    _point_broker(app, url, saved_write, saved)


# (retries + 1) attempts, each a connection handshake and a push that may each
# wait a socket timeout, the pause between them, and a margin for a busy machine.
BOUND_S = (1 + 1) * 2 * SOCKET_S + 0.5 + 2
MESSAGE = "Clearmix can&#x27;t reach its job queue right now."


class Silence:
    """Black-holes the proxy; a build that would wait forever gets a reset
    after HANG_S instead, so it fails on the time taken, not by hanging."""

    def __init__(self, proxy):
        self.proxy = proxy
        proxy.blackhole()
        self.rescue = threading.Timer(HANG_S, proxy.drop)
        self.rescue.daemon = True
        self.rescue.start()

    def end(self) -> None:
        self.rescue.cancel()
        self.proxy.pass_()


def separations_queued(settings, stem_set: StemSet) -> int:
    """Separation messages for `stem_set` waiting in Redis (read directly)."""
    prefix = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("global_keyprefix", "")
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    count = 0
    for raw in broker.lrange(f"{prefix}gpu", 0, -1):
        headers = json.loads(raw)["headers"]
        if headers["task"] == SEPARATION and headers["argsrepr"] == f"({stem_set.pk},)":
            count += 1
    return count


def test_work_queued_into_a_silent_redis_answers_503_and_is_queued_once_when_it_is_back(
    client, fan, make_recording, settings, broker_via_proxy
):
    settings.SEPARATION_PREPARE_AHEAD = False
    settings.REMIXING_JOB_REQUEUE_SECONDS = 1
    assert current_app.conf.task_publish_retry_policy["max_retries"] == 1  # the setting
    recording, _ = make_recording()
    entitle(fan)
    client.force_login(fan)
    current_app.control.purge()

    silence = Silence(broker_via_proxy)
    started = time.monotonic()
    response = client.get(f"/studio/tracks/{recording.pk}/")  # creates the draft, queues stems
    elapsed = time.monotonic() - started
    assert response.status_code == 503, response.content[:300]
    assert SOCKET_S <= elapsed < BOUND_S, elapsed
    assert MESSAGE in response.content.decode()
    assert response["Retry-After"] == "30"
    # Committed before the publish: the draft and its stem job are kept.
    remix = Remix.objects.get(fan=fan, recording=recording)
    stem_set = StemSet.objects.get(pk=remix.stem_set_id)
    assert stem_set.status == StemSet.Status.PENDING
    assert separations_queued(settings, stem_set) == 0

    silence.end()  # Redis answers again
    time.sleep(1.1)  # past REMIXING_JOB_REQUEUE_SECONDS: the message counts as lost
    assert jobs_sweep()["stem_sets_requeued"] == 1
    assert jobs_sweep()["stem_sets_requeued"] == 0  # queued once, not again
    assert separations_queued(settings, stem_set) == 1
    stem_set.refresh_from_db()
    assert stem_set.queued_at <= timezone.now()
    again = client.get(f"/studio/tracks/{recording.pk}/")
    # The track's studio URL renders the fan's draft itself (no redirect hop).
    assert again.status_code == 200 and again.context["remix"].pk == remix.pk
    assert Remix.objects.filter(fan=fan, recording=recording).count() == 1
    assert separations_queued(settings, stem_set) == 1
