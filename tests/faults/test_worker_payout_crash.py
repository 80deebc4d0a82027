"""A real Celery worker SIGKILLed mid-payout: its pool process, then its main
process, while a transfer to a Connect account is in flight at the Stripe
sandbox (the sandbox made the transfer; its answer is held by the fault
proxy, so the worker dies without hearing of it).

After the kill every payable line is transferred exactly once: the
redelivered task or the payouts sweep (beat, in the worker) sends the same
saved idempotency key again and the sandbox replays its first answer. The
sandbox's own transfers and their `transfer.created` events (which carry
each request's idempotency key) are counted; the ledger and Stripe
reconciliation verifiers pass.

Runs on PostgreSQL + Redis (CI) and on SQLite + the filesystem broker: the
worker reads the test database file and queue folder (see crash_env).
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from celery import current_app
from django.core.management import call_command

from marketplace.billing.fulfilment import order_settle
from royalties.audit import ledger_verify, stripe_reconcile
from royalties.models import SettlementLine, Transfer
from tests.marketplace.billing.factories import entitle
from tests.marketplace.test_money_end_to_end import onboard, paid_order
from tests.remixing.test_worker_crash import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

STUCK_S = 2  # a transfer attempt silent this long is sent again by the sweep


@pytest.fixture
def payout_env(crash_env, stripe_sandbox, fault_proxy):
    """The worker reaches the sandbox through a FaultProxy (the test process
    and the fan's browser reach it directly); it waits long on Stripe, so
    it is killed while waiting, and its beat sweeps payouts every second."""
    address = urlsplit(stripe_sandbox.url)
    proxy = fault_proxy(address.hostname, address.port)
    crash_env.update(
        STRIPE_API_BASE=f"http://{proxy.host}:{proxy.port}",
        STRIPE_API_KEY="sk_test_clearmix_sandbox",
        STRIPE_TIMEOUT_SECONDS="60",
        STRIPE_MAX_NETWORK_RETRIES="0",
        PAYOUTS_SWEEP_SECONDS="1",
        PAYOUT_ATTEMPT_STUCK_SECONDS=str(STUCK_S),
    )
    yield proxy
    stripe_sandbox.api("POST", "/_sandbox/reset", {})  # forget our transfers


def _pids_connected_to(port: int, pids: list[int]) -> list[int]:
    """Which of `pids` hold an established TCP connection to 127.0.0.1:port."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        remote, state, inode = fields[2], fields[3], fields[9]
        if state == "01" and remote == f"0100007F:{port:04X}":
            inodes.add(f"socket:[{inode}]")
    holders = []
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        links = set()
        for fd in fds:
            try:
                links.add(os.readlink(f"/proc/{pid}/fd/{fd}"))
            except OSError:
                pass
        if links & inodes:
            holders.append(pid)
    return holders


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                found.append(int(entry))
    return found


def _created_at_sandbox(sandbox, order) -> list[dict]:
    """transfer.created events of the order's transfer group, oldest first."""
    return [
        event
        for event in sandbox.list_events()
        if event["type"] == "transfer.created"
        and event["data"]["object"]["transfer_group"] == order.transfer_group
    ]


def _settled_with_a_transfer_in_flight(fan, stripe_events, proxy, workers):
    """A paid order of a remix whose artist and songwriter both receive
    payouts, settled while the worker runs: its first transfer is made at the
    sandbox and the worker is left waiting for the answer."""
    entitle(fan)
    stripe_events.skip()
    order = paid_order(fan, stripe_events)
    for split in (order.remix.master_split_version, order.remix.publishing_split_version):
        party = split.shares.get().party
        onboard(party, party.user)
    current_app.control.purge()  # the fulfilment and sweep tasks setup queued: not our subject
    worker = workers()
    proxy.hold_replies()
    order_settle(order=order)  # queues one transfer task per payable line
    lines = list(SettlementLine.objects.filter(settlement__order_ref=f"order_{order.pk}"))
    payable = [line for line in lines if line.kind != SettlementLine.Kind.PLATFORM_FEE]
    assert len(payable) == 2
    wait_for(lambda: _created_at_sandbox(stripe_events.sandbox, order), 60, worker, step=0.1)
    in_flight = Transfer.objects.get()
    assert (in_flight.status, in_flight.attempts, in_flight.stripe_transfer_id) == (
        "pending",
        1,
        None,
    )
    return order, payable, worker


def _assert_paid_exactly_once(order, payable, sandbox, worker) -> None:
    def all_paid() -> bool:
        made = len(_created_at_sandbox(sandbox, order))
        assert made <= len(payable), f"{made} transfers at the sandbox for {len(payable)} lines"
        done = Transfer.objects.filter(status="succeeded", line__in=payable).count()
        return done == len(payable)

    wait_for(all_paid, 60, worker, step=0.2)
    time.sleep(STUCK_S + 1.5)  # one more sweep past the stuck window: nothing more is sent
    transfers = {t.line_id: t for t in Transfer.objects.all()}
    assert sorted(transfers) == sorted(line.pk for line in payable)  # one per line, no more
    for line in payable:
        line.refresh_from_db()
        assert line.transferred_cents == line.amount_cents == transfers[line.pk].amount_cents
    listed = sandbox.api("GET", f"/v1/transfers?transfer_group={order.transfer_group}&limit=100")
    at_stripe = {t["id"]: t for t in listed["data"]}
    assert sorted(at_stripe) == sorted(t.stripe_transfer_id for t in transfers.values())
    for tr in transfers.values():
        made = at_stripe[tr.stripe_transfer_id]
        assert (made["amount"], made["destination"]) == (tr.amount_cents, tr.destination)
    created = _created_at_sandbox(sandbox, order)
    keys = [event["request"]["idempotency_key"] for event in created]
    assert sorted(keys) == sorted(t.idempotency_key for t in transfers.values())
    assert ledger_verify() == [] and stripe_reconcile() == []
    call_command("verify_ledger")
    call_command("reconcile_stripe")


def test_sigkill_of_the_pool_process_mid_transfer(
    fan, stripe_plans, stripe_events, payout_env, workers
):
    order, payable, worker = _settled_with_a_transfer_in_flight(
        fan, stripe_events, payout_env, workers
    )
    pool = _pids_connected_to(payout_env.port, _children(worker.proc.pid))
    assert len(pool) == 1 and pool[0] != worker.proc.pid, pool
    os.kill(pool[0], signal.SIGKILL)
    payout_env.pass_()
    _assert_paid_exactly_once(order, payable, stripe_events.sandbox, worker)
    assert worker.proc.running()  # the worker itself lives on
    assert "WorkerLostError" in worker.log.read_text(errors="replace")
    worker.kill_all()  # done: no need to wait out a warm shutdown


def test_sigkill_of_the_worker_main_process_mid_transfer(
    fan, stripe_plans, stripe_events, payout_env, workers
):
    order, payable, worker = _settled_with_a_transfer_in_flight(
        fan, stripe_events, payout_env, workers
    )
    os.kill(worker.proc.pid, signal.SIGKILL)  # the main process only
    worker.proc.wait(10)
    worker.stop()  # its orphaned pool process goes with it, as under a service manager
    payout_env.pass_()
    second = workers()  # the broker still holds the unacknowledged task
    _assert_paid_exactly_once(order, payable, stripe_events.sandbox, second)
    second.kill_all()  # done: no need to wait out a warm shutdown
