"""Zendesk in dry-run (no API credentials): updates are recorded, not sent; reads have no Zendesk to ask.

A new ticket is decided only after the worker reads it from the API. In dry-run there is nothing to
read, so the event-subscription webhook that asked for the read stands in for it: its fields are API
values (`URGENT`, `PENDING`), never localized, and are applied as the read would be, without what
only the API knows (the requester's email, earlier comments). A read asked for by a trigger body
(rendered, localized text) has no such stand-in and is only recorded.
"""
from __future__ import annotations

import logging
from dataclasses import replace

from sqlalchemy.orm import Session, sessionmaker

from integration.core.zendesk_update import fetch_action
from integration.storage.decisions import EventToRecord
from integration.storage.inbox_lookup import Received, received_by_keys, received_for_ticket
from integration.storage.outbox import Claimed, DryRun
from integration.zendesk.payloads import EVENT_PREFIX, PayloadError, parse_payload

log = logging.getLogger("escalator.zendesk")
NOT_SENT = "Zendesk credentials not set: recorded, not sent"


class DryRunZendesk:
    def __init__(self, sessions: sessionmaker[Session], ingestor) -> None:
        self.sessions, self.ingestor = sessions, ingestor

    def deliver_batch(self, actions: list[Claimed]) -> dict[int, DryRun]:
        """A round's actions as one group: the webhooks that asked for its reads looked up in one query, their
        stand-ins recorded in one transaction, and the outcomes recorded in one transaction, not one each."""
        asked = self._webhooks_that_asked([a for a in actions if a.kind == "fetch_ticket"])
        outcomes = {action.id: self._stand_in(action, asked.get(action.id)) for action in actions}
        reads = {action_id: read for action_id, read in outcomes.items() if isinstance(read, tuple)}
        results = self.ingestor.record_many([recording for recording, _ in reads.values()])
        for (action_id, (_, asked_by)), result in zip(reads.items(), results):
            outcomes[action_id] = DryRun(f"Zendesk credentials not set: not read; webhook {asked_by} stood in "
                                         f"for the read ({result.outcome})")
        return outcomes

    def deliver(self, action: Claimed) -> DryRun:
        return self.deliver_batch([action])[action.id]

    def _stand_in(self, action: Claimed, asked_by: Received | None) -> DryRun | tuple[EventToRecord, str]:
        """The outcome of an action that needs no read, or the stand-in to record for a read (and what asked)."""
        if action.kind != "fetch_ticket":
            return DryRun(NOT_SENT)
        ticket_id = action.payload["ticket_id"]
        if asked_by is None or not asked_by.document.get("type", "").startswith(EVENT_PREFIX):
            return DryRun("Zendesk credentials not set: the ticket was not read (its webhook carries no API values)")
        try:
            signal = parse_payload(asked_by.document, raw=b"").signal
        except PayloadError as exc:  # it was accepted once; a stricter parser since then refuses it
            return DryRun(f"Zendesk credentials not set: the webhook cannot stand in for the read ({exc})")
        if signal is None:
            return DryRun(NOT_SENT)
        key = f"dry-run-read:{action.idempotency_key}"
        stand_in = replace(signal, kind="snapshot", authoritative=True, source_key=key)
        return EventToRecord(source="worker", dedup_key=key, event_type="snapshot",
                         payload={"ticket_id": ticket_id, "read_for": action.idempotency_key,
                                  "stood_in": asked_by.dedup_key}, signal=stand_in), asked_by.dedup_key

    def _webhooks_that_asked(self, reads: list[Claimed]) -> dict[int, Received]:
        """action id → the webhook that asked for the read: one query for the reads that name it, a lookup by
        ticket for the others (queued before reads named the webhook that asked)."""
        if not reads:
            return {}
        named = {a.id: a.payload["asked_by"] for a in reads if a.payload.get("asked_by") is not None}
        found: dict[int, Received] = {}
        with self.sessions() as session:
            by_key = received_by_keys(session, "zendesk", set(named.values()))
            found.update({action_id: by_key[key] for action_id, key in named.items() if key in by_key})
            for action in (a for a in reads if a.id not in named):
                ticket_id = action.payload["ticket_id"]
                bodies = received_for_ticket(session, "zendesk", ticket_id)
                match = next((r for r in bodies
                              if fetch_action(ticket_id, r.dedup_key).idempotency_key == action.idempotency_key),
                             None)
                if match is not None:
                    found[action.id] = match
        return found
