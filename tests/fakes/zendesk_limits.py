"""Optional rate-limit enforcement of the fake Zendesk, and the call-log analysis helpers.

Off by default (tests inject single 429s with `rate_limit_next`). `fake.enforce_rate_limits()` turns on
sliding windows over the fake's request arrival times (a monotonic clock, injectable):
- account: every request, `account_per_minute` (700 = Suite/Support Enterprise) per 60 s;
- ticket updates: each `PUT /api/v2/tickets/{id}.json`, `ticket_updates_per_minute` (100) per 60 s, and
  `per_ticket_updates_per_10_minutes` (30) per ticket per 600 s (one API user here);
- jobs: `update_many` is one account request (not a ticket update) and is refused while `max_jobs` (30)
  jobs are queued or working ("Job limit" on developer.zendesk.com/api-reference/introduction/rate-limits).
A refused request gets 429, `Retry-After` (whole seconds until the window frees a slot, at least 1) and
a JSON body `{"error": "APIRateLimitExceeded", "description": ...}` (text/plain with `json_body=False`),
and has no effect: it is not applied and does not use a slot. Only admitted requests fill the windows.
While enforcing, every answer carries `X-Rate-Limit` / `X-Rate-Limit-Remaining`, and ticket-update
answers `Zendesk-RateLimit-tickets-update: total=100; remaining=N; resets=S`. Injected faults
(`fail_next`, `rate_limit_next`) win over enforcement and are not counted. Sources and what is
[unconfirmed]: docs/zendesk-facts.md section 3.
"""

from __future__ import annotations

import copy
import json
import math
import re
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable

from werkzeug.wrappers import Response

TICKET_UPDATE = re.compile(r"/api/v2/tickets/(\d+)\.json")
UPDATE_MANY = re.compile(r"/api/v2/tickets/update_many(\.json)?")


@dataclass
class Limits:
    account_per_minute: int = 700
    ticket_updates_per_minute: int = 100
    per_ticket_updates_per_10_minutes: int = 30
    max_jobs: int = 30
    json_body: bool = True


@dataclass
class Refusal:
    """One 429 the limiter sent."""

    at: float
    method: str
    path: str
    limit: str  # "account" | "ticket_updates" | "per_ticket" | "jobs"
    retry_after: int


@dataclass
class RateLimiter:
    limits: Limits
    clock: Callable[[], float] = time.monotonic
    account: deque[float] = field(default_factory=deque)
    updates: deque[float] = field(default_factory=deque)
    per_ticket: dict[int, deque[float]] = field(default_factory=dict)
    refusals: list[Refusal] = field(default_factory=list)

    @staticmethod
    def _trim(window: deque[float], now: float, seconds: float) -> deque[float]:
        while window and window[0] <= now - seconds:
            window.popleft()
        return window

    @staticmethod
    def _wait(window: deque[float], limit: int, now: float, seconds: float) -> int:
        """Seconds until `window` has a free slot (0 if it has one now)."""
        if len(window) < limit:
            return 0
        return max(1, math.ceil(window[len(window) - limit] + seconds - now))

    def admit(self, method: str, path: str, now: float, active_jobs: Callable[[], list[float]]
              ) -> tuple[Response | None, dict[str, str]]:
        """(429 response or None, headers for the answer). Records an admitted request."""
        lim = self.limits
        self._trim(self.account, now, 60)
        checks = [("account", self._wait(self.account, lim.account_per_minute, now, 60))]
        ticket = TICKET_UPDATE.fullmatch(path) if method == "PUT" else None
        if ticket:
            own = self._trim(self.per_ticket.setdefault(int(ticket.group(1)), deque()), now, 600)
            self._trim(self.updates, now, 60)
            checks.append(("ticket_updates", self._wait(self.updates, lim.ticket_updates_per_minute, now, 60)))
            checks.append(("per_ticket", self._wait(own, lim.per_ticket_updates_per_10_minutes, now, 600)))
        if method == "PUT" and UPDATE_MANY.fullmatch(path):
            dues = sorted(active_jobs())
            if len(dues) >= lim.max_jobs:
                checks.append(("jobs", max(1, math.ceil(dues[len(dues) - lim.max_jobs] - time.monotonic()))))
        refused = [(name, wait) for name, wait in checks if wait]
        if not refused:
            self.account.append(now)
            if ticket:
                self.updates.append(now)
                self.per_ticket[int(ticket.group(1))].append(now)
        headers = {"X-Rate-Limit": str(lim.account_per_minute),
                   "X-Rate-Limit-Remaining": str(max(0, lim.account_per_minute - len(self.account)))}
        if ticket:
            resets = math.ceil(self.updates[0] + 60 - now) if self.updates else 60
            headers["Zendesk-RateLimit-tickets-update"] = (
                f"total={lim.ticket_updates_per_minute}; "
                f"remaining={max(0, lim.ticket_updates_per_minute - len(self.updates))}; resets={max(resets, 1)}")
        if not refused:
            return None, headers
        name, wait = max(refused, key=lambda r: r[1])
        self.refusals.append(Refusal(now, method, path, name, wait))
        headers["Retry-After"] = str(wait)
        return self._too_many(name), headers

    def _too_many(self, name: str) -> Response:
        description = {
            "account": "Number of allowed API requests per minute exceeded",
            "ticket_updates": "Number of allowed ticket update requests per minute exceeded",
            "per_ticket": "Number of allowed updates of this ticket per 10 minutes exceeded",
            "jobs": "Number of allowed queued or running jobs exceeded",
        }[name]
        error = "TooManyJobs" if name == "jobs" else "APIRateLimitExceeded"
        if not self.limits.json_body:
            return Response("Too Many Requests", status=429, content_type="text/plain; charset=utf-8")
        return Response(json.dumps({"error": error, "description": description}), status=429,
                        content_type="application/json; charset=utf-8")


def max_in_window(times: list[float], seconds: float) -> int:
    """Largest number of `times` inside any half-open window [t, t + seconds)."""
    times, best, start = sorted(times), 0, 0
    for end, t in enumerate(times):
        while times[start] <= t - seconds:
            start += 1
        best = max(best, end - start + 1)
    return best


class LimitsMixin:
    """FakeZendesk methods for enforcement and analysis (needs self._lock and self._app)."""

    _lock: Any
    _app: Any

    def enforce_rate_limits(self, account_per_minute: int = 700, ticket_updates_per_minute: int = 100,
                            per_ticket_updates_per_10_minutes: int = 30, *, max_jobs: int = 30,
                            json_body: bool = True, clock: Callable[[], float] | None = None) -> None:
        """Turn on Zendesk's limits (see module docstring). `clock` (monotonic seconds) also stamps
        `Call.at`, so tests can move time without sleeping."""
        with self._lock:
            if clock is not None:
                self._app.monotonic = clock
            self._app.limiter = RateLimiter(
                Limits(account_per_minute, ticket_updates_per_minute, per_ticket_updates_per_10_minutes,
                       max_jobs, json_body), self._app.monotonic)

    def stop_enforcing_rate_limits(self) -> None:
        with self._lock:
            self._app.limiter = None

    def rate_limit_log(self) -> list[Refusal]:
        """Every 429 the enforcement sent (not the injected ones), oldest first."""
        with self._lock:
            return copy.deepcopy(self._app.limiter.refusals) if self._app.limiter else []

    def count_429(self) -> int:
        """429 answers in the call log, injected and enforced."""
        return sum(1 for c in self.calls if c.status == 429)  # type: ignore[attr-defined]

    def max_requests_in_any_window(self, seconds: float = 60,
                                   predicate: Callable[[Any], bool] | None = None) -> int:
        """Most calls (matching `predicate`, given a Call) that arrived within any `seconds`-long window,
        by their `Call.at`. E.g. `predicate=lambda c: c.method == "PUT" and c.status != 429`."""
        calls = self.calls  # type: ignore[attr-defined]
        return max_in_window([c.at for c in calls if predicate is None or predicate(c)], seconds)
