"""The worker: claims due outbox actions and delivers them through the gateways passed in.

Retries are durable: a failed attempt is rescheduled in the database (tenacity's exponential backoff
with jitter, or the server's Retry-After), so a restart loses nothing. Deliveries run on a bounded pool
(a slow call holds up only its own ticket), timers fire on their own loop (never behind a delivery), and a
heartbeat renews the leases of calls still in flight, so no other worker takes them over meanwhile.
"""
from __future__ import annotations

import concurrent.futures as futures
import datetime as dt
import logging
import os
import sys
import threading
from typing import Callable, Protocol

import tenacity
from sqlalchemy.orm import Session, sessionmaker

from integration.inbound import storable
from integration.storage import outbox
from integration.storage.outbox import Claimed

log = logging.getLogger("escalator.worker")
# Raised by a deliverer reading a payload of the wrong shape (a number where a URL belongs, a missing key).
PAYLOAD_ERRORS = (TypeError, KeyError, AttributeError, IndexError, UnicodeError)
BACKOFF = tenacity.wait_exponential_jitter(multiplier=2, max=600, jitter=2)


class Deliverer(Protocol):
    def deliver(self, action: Claimed) -> outbox.Delivered | outbox.RetryLater | outbox.Failed | outbox.DryRun: ...


def backoff_for(attempt: int) -> dt.timedelta:
    state = tenacity.RetryCallState(None, None, (), {})
    state.attempt_number = attempt
    return dt.timedelta(seconds=BACKOFF(state))


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


INBOX_GATHER_SECONDS = 0.01
DROP_EVERY = dt.timedelta(seconds=1)
GATHER_BELOW = 20  # events decided in the last round
GIVE_WAY_SECONDS = 0.25  # the longest a delivery step waits for a decision round to end


class Worker:
    def __init__(self, sessions: sessionmaker[Session], deliverers: dict[str, Deliverer],
                 now: Callable[[], dt.datetime] = utcnow, batch: int = 100,
                 tickers: tuple[Callable[[], int], ...] = (), lease: dt.timedelta = outbox.LEASE,
                 pool_size: int = 8, inbox: Callable[[], int] = lambda: 0,
                 wake: threading.Event | None = None, poll: float = 0.5,
                 listen: Callable[[threading.Event, threading.Event], None] | None = None,
                 delivery_nice: int = 0) -> None:
        self.sessions, self.deliverers, self.now, self.batch = sessions, deliverers, now, batch
        self.lease, self.pool_size = lease, pool_size
        self.tickers = tickers  # other periodic work (timers), each returns how much it did
        # Queued inbound events: decided on a loop of their own, woken at once (`wake`), polled as a fallback.
        self.inbox, self.wake, self.poll = inbox, wake or threading.Event(), poll
        self.listen = listen  # (stop, wake): sets wake when another process queues an event (PostgreSQL NOTIFY)
        self.delivery_nice = delivery_nice
        self._pool = futures.ThreadPoolExecutor(pool_size, thread_name_prefix="escalator-deliver")
        self._in_flight: dict[futures.Future, list[Claimed]] = {}
        self._lock = threading.Lock()
        self._dropped_at: dt.datetime | None = None  # when expired actions were last dropped (claims skip them)
        self._not_deciding = threading.Event()  # clear while the inbox loop decides a round
        self._not_deciding.set()

    def run_once(self) -> int:
        """One round, synchronously: queued events, timers, then every due action delivered and recorded."""
        done = self.inbox() + self.tick()
        submitted = self.submit_round()
        futures.wait(submitted)
        return done + self._reap(submitted)

    def tick(self) -> int:
        return sum(tick() for tick in self.tickers)

    def run_forever(self, stop: threading.Event, idle_sleep: float = 0.5) -> None:
        log.info("worker started")
        loops = [threading.Thread(target=self._loop, args=(stop, self.tick, idle_sleep), name="escalator-timers",
                                  daemon=True),
                 threading.Thread(target=self._woken_loop, args=(stop,), name="escalator-inbox", daemon=True),
                 threading.Thread(target=self._heartbeat, args=(stop,), name="escalator-heartbeat", daemon=True)]
        if self.listen is not None:
            loops.append(threading.Thread(target=self.listen, args=(stop, self.wake), name="escalator-listen",
                                          daemon=True))
        for loop in loops:
            loop.start()
        lower_thread_priority(self.delivery_nice)  # the delivery loop, and the pool threads it starts from now on
        self._loop(stop, self._deliver_some, idle_sleep)
        for loop in loops:
            loop.join(timeout=5)
        log.info("worker stopped")

    @staticmethod
    def _loop(stop: threading.Event, work: Callable[[], int], idle_sleep: float) -> None:
        while not stop.is_set():
            try:
                busy = work()
            except Exception:  # keep serving: the failure is logged and the next round retries
                log.exception("worker round failed")
                busy = 0
            if not busy:
                stop.wait(idle_sleep)

    def _woken_loop(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self.wake.clear()  # before the claim: an event queued meanwhile sets it again, none is missed
            self._not_deciding.clear()
            try:
                busy = self.inbox()
            except Exception:  # the next round retries
                log.exception("deciding queued events failed")
                busy = 0
            finally:
                self._not_deciding.set()
            if not busy:
                self.wake.wait(self.poll)
            elif busy < GATHER_BELOW:
                # Events keep coming one by one: a moment's wait lets the next ones join one batch (and one
                # transaction) instead of paying a round each; a full batch goes on at once.
                stop.wait(INBOX_GATHER_SECONDS)

    def _deliver_some(self) -> int:
        submitted = self.submit_round() if len(self._in_flight) < self.pool_size else []
        with self._lock:
            pending = list(self._in_flight)
        if pending:
            finished, _ = futures.wait(pending, timeout=0.05, return_when=futures.FIRST_COMPLETED)
            self._reap(list(finished))
        return len(submitted) or len(pending)

    def give_way(self) -> None:
        """Delivery steps wait (briefly) for the decision round under way: a decision sets what is delivered, and
        the two otherwise share this process's interpreter lock turn by turn, the round taking several times
        its own CPU time (seen: 70 ms rounds of 25 ms CPU at 100 events a second)."""
        self._not_deciding.wait(GIVE_WAY_SECONDS)

    def submit_round(self) -> list[futures.Future]:
        self.give_way()
        submitted = []
        now = self.now()  # the injected clock: expiry is judged on it, so the pace of dropping is too
        drop = self._dropped_at is None or now - self._dropped_at >= DROP_EVERY
        if drop:
            self._dropped_at = now
        with self.sessions.begin() as session:
            if drop:
                outbox.drop_expired(session, now)
            ready = outbox.ready_targets(session, now)
        for target, deliverer in self.deliverers.items():
            if target not in ready:
                continue
            gathering = getattr(deliverer, "gathering", None)
            held = "update_ticket" if gathering is not None and gathering() else None
            with self.sessions.begin() as session:
                claimed = outbox.claim(session, self.now(), self.batch, target=target, lease=self.lease,
                                       except_kind=held, drop=False)
            for group in _groups(deliverer, claimed):
                future = self._pool.submit(self._deliver, deliverer, group)
                with self._lock:
                    self._in_flight[future] = group
                submitted.append(future)
        return submitted

    def _reap(self, finished: list[futures.Future]) -> int:
        count = 0
        for future in finished:
            with self._lock:
                count += len(self._in_flight.pop(future, ()))
        return count

    def _deliver(self, deliverer: Deliverer, group: list[Claimed]) -> None:
        self.give_way()
        try:
            batch = getattr(deliverer, "deliver_batch", None)
            results = batch(group) if batch else {group[0].id: deliverer.deliver(group[0])}
        except PAYLOAD_ERRORS as exc:  # the payload's shape is wrong: no retry can fix it
            error = storable(f"{exc.__class__.__name__}: {exc}", 300)
            log.error("outbox actions %s cannot be delivered: %s", [a.id for a in group], error)
            results = {a.id: outbox.Failed(f"payload cannot be delivered: {error}") for a in group}
        except Exception as exc:  # any other unexpected error is transient until proven otherwise
            log.exception("delivering outbox actions %s failed", [a.id for a in group])
            results = {a.id: outbox.RetryLater(storable(f"{exc.__class__.__name__}: {exc}", 300)) for a in group}
        outcomes = [(action, results.get(action.id) or outbox.RetryLater("the deliverer gave no outcome"),
                     backoff_for(action.attempts)) for action in group]
        for action, result, _ in outcomes:
            self._log(action, result)
        self.give_way()
        with self.sessions.begin() as session:
            recorded = outbox.record_many(session, outcomes, self.now())
        for action in group:
            if action.id not in recorded:
                log.warning("outbox action %s: our lease ran out and another worker holds it now; "
                            "its outcome is theirs to record", action.id)

    def _heartbeat(self, stop: threading.Event) -> None:
        every = max(self.lease.total_seconds() / 3, 0.05)
        while not stop.wait(every):
            with self._lock:
                flying = [a for group in self._in_flight.values() for a in group]
            if flying:
                try:
                    with self.sessions.begin() as session:
                        outbox.renew_leases(session, flying, self.now(), self.lease)
                except Exception:  # the next beat tries again; the lease still has two thirds left
                    log.exception("renewing outbox leases failed")

    @staticmethod
    def _log(action: Claimed, result) -> None:
        name = f"{action.target}/{action.kind} #{action.id} (ticket {action.ticket_id}, attempt {action.attempts})"
        if isinstance(result, outbox.Failed):
            log.error("%s failed for good: %s", name, storable(result.error, 300))
        elif isinstance(result, outbox.RetryLater):
            log.warning("%s will be retried: %s", name, storable(result.error, 300))
        elif isinstance(result, (outbox.Delivered, outbox.DryRun)):
            log.info("%s %s", name, "recorded (dry-run)" if isinstance(result, outbox.DryRun) else "delivered")


def lower_thread_priority(increment: int) -> None:
    """Lower the calling thread's CPU priority (nice), and that of the threads it starts afterwards. Only on
    Linux, where nice is kept per thread: elsewhere it would slow the whole process, decisions included.
    Measured on 2 shared cores (PostgreSQL, two runs each, deliveries at nice 10 against 0): decision p95 under
    bench/webhooks.py's full load 0.9-1.4 s against 2.5-3.1 s, at 100 webhooks a second 70 and 302 ms against
    121 and 397 ms (a slower machine in the second pair), webhooks answered a second 0-12 % more. The whole
    worker at nice 10 answered 11-22 % more webhooks, but decided 30 % slower at 100 a second."""
    if increment > 0 and sys.platform.startswith("linux"):
        os.nice(increment)


def _groups(deliverer, claimed: list[Claimed]) -> list[list[Claimed]]:
    if not claimed:
        return []
    if hasattr(deliverer, "group"):
        return deliverer.group(claimed)
    if hasattr(deliverer, "deliver_batch"):
        return [claimed]
    return [[action] for action in claimed]
