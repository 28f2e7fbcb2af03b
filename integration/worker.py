"""The worker: claims due outbox actions and delivers them through the gateways passed in.

Retries are durable: a failed attempt is rescheduled in the database (tenacity's exponential backoff
with jitter, or the server's Retry-After), so a restart loses nothing and one slow action never
blocks the others.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
from typing import Callable, Protocol

import tenacity
from sqlalchemy.orm import Session, sessionmaker

from integration.storage import outbox
from integration.storage.outbox import Claimed

log = logging.getLogger("escalator.worker")
BACKOFF = tenacity.wait_exponential_jitter(multiplier=2, max=600, jitter=2)


class Deliverer(Protocol):
    def deliver(self, action: Claimed) -> outbox.Delivered | outbox.RetryLater | outbox.Failed | outbox.DryRun: ...


def backoff_for(attempt: int) -> dt.timedelta:
    state = tenacity.RetryCallState(None, None, (), {})
    state.attempt_number = attempt
    return dt.timedelta(seconds=BACKOFF(state))


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class Worker:
    def __init__(self, sessions: sessionmaker[Session], deliverers: dict[str, Deliverer],
                 now: Callable[[], dt.datetime] = utcnow, batch: int = 20,
                 tickers: tuple[Callable[[], int], ...] = (), lease: dt.timedelta = outbox.LEASE) -> None:
        self.sessions, self.deliverers, self.now, self.batch = sessions, deliverers, now, batch
        self.lease = lease
        self.tickers = tickers  # other periodic work (timers), each returns how much it did

    def run_once(self) -> int:
        done = sum(tick() for tick in self.tickers)
        with self.sessions.begin() as session:
            claimed = outbox.claim(session, self.now(), self.batch, lease=self.lease)
        for action in claimed:
            self._deliver(action)
        return done + len(claimed)

    def run_forever(self, stop: threading.Event, idle_sleep: float = 0.5) -> None:
        log.info("worker started")
        while not stop.is_set():
            try:
                busy = self.run_once()
            except Exception:  # keep serving: the failure is logged and the next round retries
                log.exception("worker round failed")
                busy = 0
            if not busy:
                stop.wait(idle_sleep)
        log.info("worker stopped")

    def _deliver(self, action: Claimed) -> None:
        deliverer = self.deliverers.get(action.target)
        try:
            result = deliverer.deliver(action) if deliverer else outbox.Failed(f"no deliverer for {action.target}")
        except Exception as exc:  # an unexpected error is transient until proven otherwise
            log.exception("delivering outbox action %s failed", action.id)
            result = outbox.RetryLater(f"{exc.__class__.__name__}: {exc}")
        self._log(action, result)
        with self.sessions.begin() as session:
            outbox.record(session, action.id, result, self.now(), backoff_for(action.attempts))

    @staticmethod
    def _log(action: Claimed, result) -> None:
        name = f"{action.target}/{action.kind} #{action.id} (ticket {action.ticket_id}, attempt {action.attempts})"
        if isinstance(result, outbox.Failed):
            log.error("%s failed for good: %s", name, result.error)
        elif isinstance(result, outbox.RetryLater):
            log.warning("%s will be retried: %s", name, result.error)
        else:
            log.info("%s %s", name, "recorded (dry-run)" if isinstance(result, outbox.DryRun) else "delivered")
