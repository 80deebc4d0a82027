"""A worker takes a paid order's work before any backlog of background work.

What a fan who has paid waits for (the order's fulfilment, then its render) is
routed to the `paid` queue, and a worker started as the deployment starts it
(`-Q paid,default`) takes from its queues in that order
(`queue_order_strategy: priority`): a new catalog's previews, stem imports
and analyses never hold a paid remix back. Real Redis, the app's own routes
and broker options, and the consumer a Celery worker builds.
"""

from __future__ import annotations

import uuid

import pytest
from celery import Celery
from django.conf import settings

from config.celery import app as project_app

pytestmark = pytest.mark.skipif(
    not settings.CELERY_BROKER_URL.startswith("redis://"),
    reason="queue order is the Redis transport's (set REDIS_URL); the demo's files take turns",
)

PAID = ("marketplace.tasks.order_fulfil", "remixing.tasks.render_run")
BACKGROUND = ("remixing.tasks.recording_preview_run", "remixing.tasks.stems_import_official")


def _probe_app() -> Celery:
    """The project's Celery configuration under keys of this test's own."""
    probe = Celery("clearmix-probe", set_as_current=False)
    probe.config_from_object("django.conf:settings", namespace="CELERY")
    probe.conf.task_queues = project_app.conf.task_queues
    probe.conf.broker_transport_options = {
        **settings.CELERY_BROKER_TRANSPORT_OPTIONS,
        "global_keyprefix": f"probe-{uuid.uuid4().hex}:",
    }
    return probe


def _taken(probe: Celery, queue_names: list[str], count: int) -> list[str]:
    """The task names a worker consuming `queue_names` takes, one at a time."""
    return [headers["task"] for headers, _ in _messages(probe, queue_names, count)]


def _messages(probe: Celery, queue_names: list[str], count: int) -> list[tuple[dict, list]]:
    """(headers, args) of the messages a worker consuming `queue_names` takes."""
    taken: list[tuple[dict, list]] = []
    with probe.connection_for_read() as connection:
        queues = [probe.amqp.queues[name] for name in queue_names]
        consumer = probe.amqp.TaskConsumer(connection, queues=queues, accept=["json"])

        def on_message(body, message):
            taken.append((message.headers, body[0]))
            message.ack()

        consumer.register_callback(on_message)
        with consumer:
            consumer.qos(prefetch_count=1)
            while len(taken) < count:
                connection.drain_events(timeout=10)
    return taken


def test_paid_work_is_taken_before_a_backlog_queued_earlier():
    probe = _probe_app()
    for n in range(3):
        probe.send_task(BACKGROUND[n % 2], args=(n,))
    for name in PAID:
        probe.send_task(name, args=(1,))
    assert _taken(probe, ["paid", "default"], 3) == [*PAID, BACKGROUND[0]]
    # The rest of the backlog is still there, in its order.
    assert _taken(probe, ["paid", "default"], 2) == [BACKGROUND[1], BACKGROUND[0]]


def test_beat_sends_a_heartbeat_to_each_queue_a_worker_must_take():
    """/healthz shows each queue's last heartbeat (marketplace.heartbeat): beat
    must send one to `paid` as well as `default`, each landing on its queue."""
    probe = _probe_app()
    beats = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"].endswith("heartbeat")]
    for entry in beats:
        probe.send_task(entry["task"], args=entry.get("args", ()), **entry.get("options", {}))
    for queue in ("paid", "default"):
        [(headers, args)] = _messages(probe, [queue], 1)
        assert headers["task"] == "marketplace.tasks.heartbeat"
        assert (args[0] if args else "default") == queue
