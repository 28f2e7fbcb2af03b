"""Recording inbound events and deciding them.

The webhooks only `record` (one INSERT into the inbox; the worker is woken). The worker decides queued
events in batches (`decide_queued`), fires due timers (`fire_due_timers`), and `ingest`s what it reads
itself (API snapshots, backfill): record and decide in one transaction."""
from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from dataclasses import dataclass, replace
from typing import Callable

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from integration.storage import history_archive, inbox, timers
from integration.storage.batch import TicketBatch, save_batch, save_decision
from integration.storage.recorder import Recorder
from integration.storage.threads import mirror_to_threads
from integration.core.compaction import FullHistoryNeeded
from integration.core.decide import decide
from integration.core.context import Context
from integration.mappings.store import MappingsStore
from integration.core.signals import TicketSignal
from integration.core.state import Decision, TicketState
from integration.storage import repo
from integration.storage.timers import DueTimer
from integration.core.zendesk_update import fetch_action

log = logging.getLogger("escalator.ingest")
RECHECK_SECONDS = 60.0


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@dataclass(frozen=True)
class IngestResult:
    outcome: str  # duplicate | ignored | queued | applied | unchanged | refresh
    detail: str
    inbox_id: int | None = None


@dataclass(frozen=True)
class EventToRecord:
    """An event to record (Ingestor.record_many)."""

    source: str
    dedup_key: str
    event_type: str
    payload: dict
    signal: TicketSignal | None
    ignore_reason: str = ""


def _recorded(inbox_id: int | None, event: EventToRecord) -> IngestResult:
    if inbox_id is None:
        return IngestResult("duplicate", "already received; not applied again")
    if event.signal is None:
        return IngestResult("ignored", event.ignore_reason, inbox_id)
    return IngestResult("queued", "recorded; the worker decides it", inbox_id)


class Ingestor:
    def __init__(self, sessions: sessionmaker[Session], mappings: MappingsStore,
                 now: Callable[[], dt.datetime] = utcnow, context: Context = Context(),
                 on_decided: Callable[[float], None] = lambda seconds: None,
                 record_engine: Engine | None = None) -> None:
        self.sessions, self.mappings, self.now, self.context = sessions, mappings, now, context
        self.engine = sessions.kw["bind"]
        self.recorder = Recorder(record_engine or self.engine)
        self.wake = threading.Event()  # set when an event is queued: the worker in this process decides at once
        self._settled, self._settled_at = (None, False), 0.0  # the mappings every open ticket was last found on
        self.on_decided = on_decided  # webhook → decision seconds, for each queued event decided

    def record(self, *, source: str, dedup_key: str, event_type: str, payload: dict,
               signal: TicketSignal | None, ignore_reason: str = "") -> IngestResult:
        """The request path: one INSERT (deduplicated), no decision; the worker decides it."""
        return self.record_many([EventToRecord(source, dedup_key, event_type, payload, signal, ignore_reason)])[0]

    def record_many(self, events: list[EventToRecord]) -> list[IngestResult]:
        """`record` for several events (a worker's batch of reads): one transaction, in the order given."""
        now = self.now()
        rows = [inbox.row_values(source=e.source, dedup_key=e.dedup_key, event_type=e.event_type, payload=e.payload,
                                 detail=e.ignore_reason, ticket_id=e.signal.ticket_id if e.signal else None,
                                 signal=e.signal.to_json() if e.signal else None, now=now) for e in events]
        results = [_recorded(inbox_id, event) for inbox_id, event in zip(self.recorder.record_many(rows), events)]
        if any(r.outcome == "queued" for r in results):
            self.wake.set()
        return results

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

    def enqueue_action(self, *, source: str, dedup_key: str, action, payload: dict) -> bool:
        """Record an inbound request whose work is outbound (open a ticket, answer a button); False if repeated."""
        now = self.now()
        with self.sessions.begin() as session:
            recorded = repo.record_inbox(session, source=source, dedup_key=dedup_key, event_type=action.kind,
                                         ticket_id=action.payload.get("ticket_id"), payload=payload, now=now,
                                         outcome="queued")
            if recorded.inbox_id is None:
                return False
            return repo.enqueue(session, action, ticket_id=action.payload.get("ticket_id"), now=now)

    def tick(self, ticket_id: int, timer: DueTimer | None = None) -> IngestResult:
        """Decide a known ticket again at this instant (a timer is due, or the mappings changed)."""
        with self.sessions.begin() as session:
            return self._tick(session, ticket_id, timer, self.now())

    def _tick(self, session: Session, ticket_id: int, timer: DueTimer | None, now: dt.datetime) -> IngestResult:
        # The ticket's row lock first, then its timers: the order every decision takes them in (no deadlock).
        state = repo.load_ticket(session, ticket_id)
        if timer is not None:
            timers.mark_fired(session, timer, now)
        reason = f"timer {timer.kind} due {timer.due_at.isoformat()}" if timer else "mappings changed"
        return self._apply(session, TicketSignal(ticket_id=ticket_id, kind="tick", at=now), None, now, reason,
                           loaded=(state,))

    def fire_due_timers(self, limit: int = 40) -> int:
        """Claim due timers, then decide their tickets in one transaction: the tickets locked together (in id
        order), their timers marked fired together, one decision a ticket however many of its timers are due,
        and the decisions written together (integration.storage.batch). A ticket whose decision fails has its
        timers tried again later; if writing the batch fails, it is written again a ticket at a time, each in a
        savepoint, so that only the ticket at fault fails."""
        now = self.now()
        with self.sessions.begin() as session:
            due = timers.claim_due(session, now, limit)
        if not due:
            return 0
        self._in_batch(lambda session, together: self._fire(session, due, now, together), f"{len(due)} due timers")
        return len(due)

    def _fire(self, session: Session, due: list[DueTimer], now: dt.datetime, together: bool) -> None:
        ticket_ids = sorted({t.ticket_id for t in due})
        rows = repo.lock_tickets(session, ticket_ids)
        timers.mark_all_fired(session, due, now)
        repo.preload_timers(session, ticket_ids)
        written = []
        for ticket_id in ticket_ids:
            kinds = ", ".join(f"{t.kind} due {t.due_at.isoformat()}" for t in due if t.ticket_id == ticket_id)
            signal = TicketSignal(ticket_id=ticket_id, kind="tick", at=now)
            try:
                state = repo.state_of(rows[ticket_id]) if ticket_id in rows else None
                if together:
                    written.append(TicketBatch(ticket_id, [(None, self._decide(session, state, signal, now,
                                                                               f"timer {kinds}"))]))
                else:
                    with session.begin_nested():
                        self._apply(session, signal, None, now, f"timer {kinds}", loaded=(state,))
            except Exception:  # noqa: BLE001 - one ticket never holds up the others
                log.exception("deciding ticket %s at its timers failed", ticket_id)
                timers.retry_later(session, [t for t in due if t.ticket_id == ticket_id], now)
        if together:
            save_batch(session, written, now)

    def decide_queued(self, limit: int = 200) -> int:
        """Claim queued events and decide them in one transaction, like fire_due_timers: their tickets locked
        together in id order, each ticket decided once for all its events (in the order they came), the
        decisions written together; a ticket that fails has its events retried later."""
        now, outcome = self.now(), {}
        self._in_batch(lambda session, together: outcome.update(self._decide_claimed(session, now, limit, together)),
                       "queued events")
        if not outcome.get("claimed"):
            return 0
        decided_at = self.now()
        done = [event for event in outcome["claimed"] if event.ticket_id not in outcome["waiting"]]
        for event in done:
            self.on_decided(max((decided_at - event.received_at).total_seconds(), 0.0))
        return len(done)  # events held back are not work done: the loop waits instead of spinning on them

    def _decide_claimed(self, session: Session, now: dt.datetime, limit: int, together: bool) -> dict:
        claimed = inbox.claim(session, now, limit)
        if not claimed:
            return {"claimed": []}
        waiting = inbox.held_back(session, claimed)
        ticket_ids = sorted({q.ticket_id for q in claimed} - waiting)
        rows = repo.lock_tickets(session, ticket_ids)
        repo.preload_timers(session, ticket_ids)
        written, decided = [], []
        for ticket_id in ticket_ids:
            events = [q for q in claimed if q.ticket_id == ticket_id]
            try:
                if together:
                    written.append(self._decide_events(session, rows.get(ticket_id), events, now))
                else:
                    with session.begin_nested():
                        save_batch(session, [self._decide_events(session, rows.get(ticket_id), events, now)], now,
                                   decided_at=self.now())
                        mirror_to_threads(session, events, now)
                decided += [event.id for event in events]
            except Exception as exc:  # noqa: BLE001 - one ticket never holds up the others
                log.exception("deciding the queued events %s of ticket %s failed", [q.id for q in events], ticket_id)
                inbox.retry_later(session, events, now, f"{exc.__class__.__name__}: {exc}")
        if together:
            # decided_at: when, not "as of" (the latency); the outcomes' UPDATE takes the events off the queue
            save_batch(session, written, now, decided_at=self.now())
            mirror_to_threads(session, [q for q in claimed if q.id in set(decided)], now)
        return {"claimed": claimed, "waiting": waiting}

    def _in_batch(self, work: Callable[[Session, bool], None], what: str) -> None:
        try:
            with self.sessions.begin() as session:
                work(session, True)
        except Exception:  # noqa: BLE001 - written again a ticket at a time: only the ticket at fault fails
            log.exception("writing the decisions on %s together failed; writing them a ticket at a time", what)
            with self.sessions.begin() as session:
                work(session, False)

    def _decide_events(self, session: Session, row, events: list, now: dt.datetime) -> TicketBatch:
        state = repo.state_of(row) if row is not None else None
        batch = TicketBatch(events[0].ticket_id)
        for event in events:
            decision = self._decide(session, state, TicketSignal.from_json(event.signal), now)
            batch.decided.append((event.id, decision))
            state = decision.state or state
        return batch

    def _decide(self, session: Session, state: TicketState | None, signal: TicketSignal, now: dt.datetime,
                reason: str = "") -> Decision:
        """The decision and what it records at once (a rating, a read of the ticket Zendesk asked for). decide()
        runs on the live history; on the whole one when the clock checkpoint cannot serve (rare: a mapping edit,
        another customer, an event from before the checkpoint)."""
        try:
            decision = decide(self.mappings.current, state, signal, now, self.context)
        except FullHistoryNeeded as why:
            log.info("ticket %s: deciding on the whole history: %s", signal.ticket_id, why)
            decision = decide(self.mappings.current, history_archive.unfold(session, state), signal, now, self.context)
        if reason:
            decision = replace(decision, detail=f"{decision.detail}: {reason}")
        if decision.state is not None:
            repo.record_rating(session, decision.state, signal, now)
        if signal.needs_refresh and decision.outcome != "refresh" and state is not None:
            repo.enqueue(session, fetch_action(signal.ticket_id, signal.source_key), ticket_id=signal.ticket_id,
                         now=now)
        return decision

    def redecide_after_mapping_edit(self, limit: int = 200) -> int:
        # Looking for stale tickets reads every open ticket: done when the mappings change, and once a minute
        # besides (a ticket another process decided on mappings it had not reloaded yet), not every round.
        fingerprint, now = self.mappings.current.fingerprint, time.monotonic()
        if self._settled == (fingerprint, True) and now - self._settled_at < RECHECK_SECONDS:
            return 0
        with self.sessions() as session:
            stale = timers.stale_tickets(session, fingerprint, limit)
        for ticket_id in stale:
            self.tick(ticket_id)
        self._settled, self._settled_at = (fingerprint, len(stale) < limit), now
        return len(stale)

    def _apply(self, session: Session, signal: TicketSignal, inbox_id: int | None, now: dt.datetime,
               reason: str = "", loaded: tuple = ()) -> IngestResult:
        state = loaded[0] if loaded else repo.load_ticket(session, signal.ticket_id)
        decision = self._decide(session, state, signal, now, reason)
        save_decision(session, decision, inbox_id=inbox_id, now=now)
        return IngestResult(decision.outcome, decision.detail, inbox_id)
