"""Zendesk's rate limits as one budget for the account (DESIGN.md: vendor limits are design inputs).

Every request is paid for before it is made from "account"; a single ticket PUT also from "ticket_update"
(an Update Many job does not count against Update Ticket's limit; the worker's pool bounds how many jobs
are queued at once, far under Zendesk's 30). Zendesk's own headers (X-Rate-Limit-Remaining,
Zendesk-RateLimit-tickets-update) hold a bucket before a 429 would; a 429 holds it for its Retry-After.
Waiting is quiet: one log line when throttling starts and one when it ends.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
import threading
from typing import Callable

from sqlalchemy.orm import Session, sessionmaker

from integration.storage import rate_budget
from integration.storage.rate_budget import Budget

log = logging.getLogger("escalator.zendesk")
ACCOUNT, TICKET_UPDATE = "account", "ticket_update"
# Zendesk: Update Ticket 100 a minute per account; the account limit depends on the plan (Enterprise 700).
DEFAULT_LIMITS = {ACCOUNT: 700, TICKET_UPDATE: 100}
LOW_WATER = 5  # slow down when Zendesk says this few requests are left
_RESETS = re.compile(r"remaining=(\d+).*?resets=(\d+)")


class ZendeskBudget:
    def __init__(self, sessions: sessionmaker[Session], now: Callable[[], dt.datetime],
                 limits: dict[str, int] | None = None) -> None:
        self.sessions, self.now = sessions, now
        # A 2% margin: we count a request when we pay for it, Zendesk when it arrives a moment later.
        self.budget = Budget({name: limit - limit // 50 for name, limit in {**DEFAULT_LIMITS, **(limits or {})}.items()})
        self._throttled, self._lock = False, threading.Lock()
        self._last_cleanup = None

    def spend(self, *, account: int = 0, ticket_update: int = 0) -> dt.timedelta:
        """Zero when paid; else how long to wait before asking again (nothing was spent)."""
        spend = {ACCOUNT: account, TICKET_UPDATE: ticket_update}
        with self.sessions.begin() as session:
            wait = rate_budget.take(session, self.budget, {k: v for k, v in spend.items() if v}, self.now())
        self._note_throttling(wait > dt.timedelta(0), wait)
        return wait

    def forget_old(self) -> int:
        """Delete spent events that no window can see any more (once a minute; never counts as work done)."""
        now = self.now()
        if self._last_cleanup is None or now - self._last_cleanup >= rate_budget.WINDOW:
            self._last_cleanup = now
            with self.sessions.begin() as session:
                rate_budget.forget_old(session, now)
        return 0

    def hold(self, bucket: str, seconds: float, why: str) -> None:
        with self.sessions.begin() as session:
            rate_budget.hold(session, bucket, self.now() + dt.timedelta(seconds=seconds))
        log.warning("Zendesk %s budget held for %.0f s: %s", bucket, seconds, why)

    def observe(self, headers) -> None:
        """Read Zendesk's view of the budget from a response's headers and hold a bucket that is nearly spent."""
        remaining = _int(headers.get("X-Rate-Limit-Remaining"))
        if remaining is not None and remaining <= LOW_WATER:
            self.hold(ACCOUNT, _int(headers.get("ratelimit-reset")) or 5, f"{remaining} requests left this minute")
        match = _RESETS.search(headers.get("Zendesk-RateLimit-tickets-update") or "")
        if match and int(match.group(1)) <= 1:
            self.hold(TICKET_UPDATE, max(1, int(match.group(2))), "ticket update limit nearly spent")

    def _note_throttling(self, throttled: bool, wait: dt.timedelta) -> None:
        with self._lock:
            if throttled == self._throttled:
                return
            self._throttled = throttled
        if throttled:
            log.warning("Zendesk rate budget spent: holding deliveries (next slot in %.1f s)", wait.total_seconds())
        else:
            log.info("Zendesk rate budget available again: delivering")


def _int(value) -> int | None:
    try:
        return int(float(value)) if value is not None else None
    except ValueError:
        return None
