"""Within a worker, a decision round goes first: deliveries wait at their next step while one runs (a decision
sets what is delivered), but never longer than GIVE_WAY_SECONDS a step."""
import datetime as dt
import threading
import time

from integration import worker as worker_module
from integration.core.state import Action
from integration.storage.repo import enqueue
from integration.worker import Worker
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
