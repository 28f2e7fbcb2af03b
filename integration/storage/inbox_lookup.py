"""Reading back what a source sent about a ticket (the inbox keeps every genuine webhook body)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from integration.storage.models import InboxEvent


@dataclass(frozen=True)
class Received:
    dedup_key: str
    event_type: str
    document: dict


def received_for_ticket(session: Session, source: str, ticket_id: int) -> list[Received]:
    """Every body `source` sent about the ticket, oldest first."""
    rows = session.execute(select(InboxEvent.dedup_key, InboxEvent.event_type, InboxEvent.payload)
                           .where(InboxEvent.source == source, InboxEvent.ticket_id == ticket_id)
                           .order_by(InboxEvent.id)).all()
    return [Received(key, event_type, payload) for key, event_type, payload in rows]


def received_by_keys(session: Session, source: str, dedup_keys: set[str]) -> dict[str, Received]:
    """The bodies `source` sent under these keys (the inbox keeps each key once), by key; one query."""
    if not dedup_keys:
        return {}
    rows = session.execute(select(InboxEvent.dedup_key, InboxEvent.event_type, InboxEvent.payload)
                           .where(InboxEvent.source == source, InboxEvent.dedup_key.in_(dedup_keys))).all()
    return {key: Received(key, event_type, payload) for key, event_type, payload in rows}
