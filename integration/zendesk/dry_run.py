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
from integration.storage.inbox_lookup import Received, received_by_key, received_for_ticket
from integration.storage.outbox import Claimed, DryRun
from integration.zendesk.payloads import EVENT_PREFIX, PayloadError, parse_payload

log = logging.getLogger("escalator.zendesk")
NOT_SENT = "Zendesk credentials not set: recorded, not sent"


class DryRunZendesk:
    def __init__(self, sessions: sessionmaker[Session], ingestor) -> None:
        self.sessions, self.ingestor = sessions, ingestor

    def deliver_batch(self, actions: list[Claimed]) -> dict[int, DryRun]:
        """A round's actions as one group: their outcomes recorded in one transaction, not one each."""
        return {action.id: self.deliver(action) for action in actions}

    def deliver(self, action: Claimed) -> DryRun:
        if action.kind != "fetch_ticket":
            return DryRun(NOT_SENT)
        ticket_id = action.payload["ticket_id"]
        asked_by = self._webhook_that_asked(ticket_id, action.idempotency_key, action.payload.get("asked_by"))
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
        result = self.ingestor.record(source="worker", dedup_key=key, event_type="snapshot",
                                      payload={"ticket_id": ticket_id, "read_for": action.idempotency_key,
                                               "stood_in": asked_by.dedup_key},
                                      signal=stand_in)
        return DryRun(f"Zendesk credentials not set: not read; webhook {asked_by.dedup_key} stood in "
                      f"for the read ({result.outcome})")

    def _webhook_that_asked(self, ticket_id: int, idempotency_key: str, asked_by: str | None) -> Received | None:
        with self.sessions() as session:
            if asked_by is not None:  # the read names the webhook that asked for it
                return received_by_key(session, "zendesk", asked_by)
            bodies = received_for_ticket(session, "zendesk", ticket_id)  # a read queued before it did
        return next((r for r in bodies if fetch_action(ticket_id, r.dedup_key).idempotency_key == idempotency_key),
                    None)
