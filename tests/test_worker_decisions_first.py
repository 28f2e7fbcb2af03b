"""Within a worker, a decision round goes first: deliveries wait at their next step while one runs (a decision
sets what is delivered), but never longer than GIVE_WAY_SECONDS a step; and the delivery threads run at a lower
CPU priority than the deciding one."""
import datetime as dt
import os
import sys
import threading
import time

import pytest

from integration import worker as worker_module
from integration.core.state import Action
from integration.storage.repo import enqueue
from integration.worker import Worker, lower_thread_priority
from tests.harness import Recording, wait_for

T0 = dt.datetime(2026, 3, 2, 14, 0, tzinfo=dt.timezone.utc)


class Round:
    """The worker's inbox callable: its first round lasts until released."""

    def __init__(self) -> None:
        self.started, self.release = threading.Event(), threading.Event()

    def __call__(self) -> int:
        self.started.set()
        self.release.wait(10)
        return 0


def running(sessions, deliverer, decide_round):
    with sessions.begin() as session:
        enqueue(session, Action("slack", "post_message", {"ticket_id": 7, "channel": "C1", "text": "hi"}, "post-7"),
                ticket_id=7, now=T0)
    worker = Worker(sessions, {"slack": deliverer}, now=lambda: T0, inbox=decide_round, poll=0.05)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run_forever, args=(stop, 0.02), daemon=True)
    thread.start()
    return stop, thread


def test_a_delivery_waits_for_the_decision_round_under_way(sessions):
    deliverer, decide_round = Recording(), Round()
    stop, thread = running(sessions, deliverer, decide_round)
    try:
        assert decide_round.started.wait(5)
        time.sleep(worker_module.GIVE_WAY_SECONDS / 2)
        assert deliverer.delivered == []  # due, but a decision round is running
        decide_round.release.set()
        assert wait_for(lambda: deliverer.delivered == ["post-7"], timeout=5)
    finally:
        decide_round.release.set()
        stop.set()
        thread.join(5)


def test_a_long_decision_round_holds_deliveries_up_only_briefly(sessions, monkeypatch):
    monkeypatch.setattr(worker_module, "GIVE_WAY_SECONDS", 0.05)
    deliverer, decide_round = Recording(), Round()  # never released while the delivery is awaited
    stop, thread = running(sessions, deliverer, decide_round)
    try:
        assert decide_round.started.wait(5)
        assert wait_for(lambda: deliverer.delivered == ["post-7"], timeout=3)
        assert not decide_round.release.is_set()
    finally:
        decide_round.release.set()
        stop.set()
        thread.join(5)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="nice is per thread on Linux only; a no-op elsewhere")
def test_lowering_the_delivery_threads_priority_leaves_the_deciding_thread_alone():
    def niceness() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    before, seen = niceness(), {}

    def delivery_loop():
        lower_thread_priority(3)
        seen["loop"] = niceness()
        pool_thread = threading.Thread(target=lambda: seen.__setitem__("started after", niceness()))
        pool_thread.start()
        pool_thread.join()

    thread = threading.Thread(target=delivery_loop)
    thread.start()
    thread.join()
    assert seen == {"loop": min(before + 3, 19), "started after": min(before + 3, 19)}
    assert niceness() == before  # the thread that started the loop (the deciding thread's peer) is untouched
