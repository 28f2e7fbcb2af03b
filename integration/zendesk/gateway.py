"""Every call to Zendesk goes through here: ticket updates and authoritative reads, from the outbox.

Updates are safe updates: each carries the `updated_stamp` read before its first attempt, stored in the
outbox row first, so a retry repeats the very same request. Of two copies of one update (a PUT that timed
out on our side but landed later, or two workers with the same row) at most one can apply; the other gets
409 UpdateConflict, and finding our note's marker on the ticket then proves the first one landed.
"""
from __future__ import annotations

import datetime as dt
import time

from zenpy.lib.exception import APIException

from integration.storage import outbox
from integration.storage.outbox import Claimed, Deferred, Delivered, Failed, RetryLater
from integration.zendesk.budget import ACCOUNT, ZendeskBudget
from integration.zendesk.bulk import deliver_bulk
from integration.zendesk.client import ZendeskRateLimited
from integration.zendesk.outcomes import is_conflict, outcome_of_error, zendesk_ticket
from integration.zendesk.snapshot import READS, read_snapshot

BULK_FROM = 2  # this many updates waiting together go out as one Update Many job (one alone: a plain PUT)
GATHER = 0.5  # seconds: after sending updates, let the next ones gather into one job instead of many small ones


class ZendeskGateway:
    def __init__(self, zenpy, ingestor, budget: ZendeskBudget | None = None, *, gather: float = GATHER) -> None:
        self.zenpy, self.ingestor, self.gather = zenpy, ingestor, gather
        self.sessions = ingestor.sessions
        self.budget = budget or ZendeskBudget(self.sessions, ingestor.now)
        self._sent_updates_at = -float("inf")

    def gathering(self) -> bool:
        """True for a moment after updates went out: the worker leaves waiting updates to gather meanwhile."""
        return time.monotonic() - self._sent_updates_at < self.gather

    def deliver(self, action: Claimed):
        return self.deliver_batch([action])[action.id]

    def group(self, actions: list[Claimed]) -> list[list[Claimed]]:
        """How the worker splits a claimed batch into concurrent calls: updates together (one job per 100),
        reads each on its own, so that no slow call holds up another ticket."""
        updates = [a for a in actions if a.kind == "update_ticket"]
        if len(updates) < BULK_FROM:
            return [[a] for a in actions]
        return [updates[i:i + 100] for i in range(0, len(updates), 100)] + \
            [[a] for a in actions if a.kind != "update_ticket"]

    def deliver_batch(self, actions: list[Claimed]) -> dict:
        updates = [a for a in actions if a.kind == "update_ticket"]
        if updates:
            self._sent_updates_at = time.monotonic()
        outcomes = {}
        if len(updates) >= BULK_FROM:
            for start in range(0, len(updates), 100):
                outcomes |= deliver_bulk(self, updates[start:start + 100])
        for action in actions:
            if action.id not in outcomes:
                outcomes[action.id] = self._guarded(action)
        return outcomes

    def _guarded(self, action: Claimed):
        try:
            if action.kind == "update_ticket":
                return self._update(action)
            if action.kind == "fetch_ticket":
                return self._fetch(action)
            return Failed(f"unknown Zendesk action kind {action.kind!r}")
        except Exception as exc:  # noqa: BLE001 - every vendor error becomes an outcome
            return self.error_outcome(exc, action.ticket_id)

    def error_outcome(self, exc: Exception, ticket_id: int | None):
        if isinstance(exc, ZendeskRateLimited):
            self.budget.hold(ACCOUNT, exc.retry_after, "Zendesk answered 429")
        return outcome_of_error(exc, ticket_id)

    def _update(self, action: Claimed):
        stamp = action.payload.get("updated_stamp")
        wait = self.budget.spend(account=1 if stamp else 2, ticket_update=1)
        if wait:
            return Deferred(wait, "Zendesk rate budget")
        if not stamp:
            stamp = self.zenpy.tickets(id=action.payload["ticket_id"]).updated_at
            self.remember(action, updated_stamp=stamp)
        try:
            self.zenpy.tickets.update(zendesk_ticket(action.payload, stamp))
        except APIException as exc:
            if not is_conflict(exc):
                raise
            return self.after_conflict(action)
        return Delivered()

    def after_conflict(self, action: Claimed):
        """409 UpdateConflict: did an earlier copy of this update land, or did someone else change the ticket?"""
        marker = action.payload.get("marker")
        if marker:
            wait = self.budget.spend(account=1)
            if wait:
                return Deferred(wait, "Zendesk rate budget")
            if self.has_note(action.payload["ticket_id"], marker):
                return Delivered(f"already applied (found {marker} on the ticket)")
        self.remember(action, updated_stamp=None)
        return RetryLater("the ticket changed in Zendesk meanwhile: sending again on its new state",
                          after=dt.timedelta(0))

    def remember(self, action: Claimed, **facts) -> None:
        self.remember_many([(action, facts)])

    def remember_many(self, facts: list[tuple[Claimed, dict]]) -> None:
        with self.sessions.begin() as session:
            for action, values in facts:
                outbox.remember(session, action, **values)

    def has_note(self, ticket_id: int, marker: str) -> bool:
        return any(marker in (c.body or "") for c in self.zenpy.tickets.comments(ticket=ticket_id))

    def _fetch(self, action: Claimed):
        wait = self.budget.spend(account=READS)  # the ticket, its requester, its audit log
        if wait:
            return Deferred(wait, "Zendesk rate budget")
        ticket_id = action.payload["ticket_id"]
        signal = read_snapshot(self.zenpy, ticket_id, source_key=f"snapshot:{action.idempotency_key}")
        # Queued like a webhook: decided with the others in the worker's next batch, not one at a time here.
        result = self.ingestor.record(source="worker", dedup_key=signal.source_key, event_type="snapshot",
                                      payload={"ticket_id": ticket_id, "read_for": action.idempotency_key},
                                      signal=signal)
        return Delivered(f"read ticket {ticket_id}: {result.outcome}")
