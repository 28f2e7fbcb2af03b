"""Record an inbound event and apply its decision in one transaction (the request path: no outbound calls)."""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Callable

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from integration.decide import decide
from integration.mappings.store import MappingsStore
from integration.signals import TicketSignal
from integration.storage import repo
from integration.zendesk_update import fetch_action

log = logging.getLogger("escalator.ingest")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@dataclass(frozen=True)
class IngestResult:
    outcome: str  # duplicate | ignored | applied | unchanged | refresh
    detail: str
    inbox_id: int | None = None


class Ingestor:
    def __init__(self, sessions: sessionmaker[Session], mappings: MappingsStore,
                 now: Callable[[], dt.datetime] = utcnow) -> None:
        self.sessions, self.mappings, self.now = sessions, mappings, now

    def ingest(self, *, source: str, dedup_key: str, event_type: str, payload: dict,
               signal: TicketSignal | None, ignore_reason: str = "") -> IngestResult:
        # Two first events of one new ticket can race to insert it; the loser simply runs again.
        for attempt in range(3):
            try:
                return self._ingest_once(source, dedup_key, event_type, payload, signal, ignore_reason)
            except (IntegrityError, OperationalError) as exc:
                if attempt == 2:
                    raise
                log.info("retrying %s event %s after a concurrent write: %s", source, dedup_key,
                         exc.__class__.__name__)
        raise AssertionError("unreachable")

    def _ingest_once(self, source, dedup_key, event_type, payload, signal, ignore_reason) -> IngestResult:
        now = self.now()
        with self.sessions.begin() as session:
            recorded = repo.record_inbox(session, source=source, dedup_key=dedup_key, event_type=event_type,
                                         ticket_id=signal.ticket_id if signal else None, payload=payload,
                                         now=now, outcome="ignored" if signal is None else "recorded",
                                         detail=ignore_reason)
            if recorded.inbox_id is None:
                return IngestResult("duplicate", "already received; not applied again")
            if signal is None:
                return IngestResult("ignored", ignore_reason, recorded.inbox_id)
            return self._apply(session, signal, recorded.inbox_id, now)

    def _apply(self, session: Session, signal: TicketSignal, inbox_id: int, now: dt.datetime) -> IngestResult:
        state = repo.load_ticket(session, signal.ticket_id)
        decision = decide(self.mappings.current, state, signal, now)
        repo.save_decision(session, decision, inbox_id=inbox_id, now=now)
        if signal.needs_refresh and decision.outcome != "refresh" and state is not None:
            repo.enqueue(session, fetch_action(signal.ticket_id, signal.source_key), ticket_id=signal.ticket_id, now=now)
        return IngestResult(decision.outcome, decision.detail, inbox_id)
