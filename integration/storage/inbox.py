"""The inbox as a queue: the request path records an event in one INSERT; the worker claims and decides it.

A queued row carries the parsed signal (TicketSignal.to_json) and `decide_after`; deciding it clears
`decide_after` in the same transaction as the ticket's state, timers and outbox rows, so a worker killed
in between leaves the row queued and the next claim decides it, once.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import bindparam, func, literal_column, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from integration.inbound import storable
from integration.storage.models import InboxEvent

INBOX = InboxEvent.__table__
NOTIFY_CHANNEL = "escalator_inbox"
MAX_ATTEMPTS = 5  # a row whose decision keeps failing is marked failed (payload kept) instead of retried forever


INSERT_COLUMNS = ("source", "dedup_key", "event_type", "ticket_id", "received_at", "payload", "outcome", "detail",
                  "signal", "decide_after", "attempts", "decided_at")


def insert_statement(postgres: bool, notify: bool):
    """The webhooks' INSERT … ON CONFLICT DO NOTHING RETURNING id (no row: a duplicate); run by recorder.Recorder.
    With `notify` (PostgreSQL), the INSERT and the NOTIFY that wakes the workers (sent at commit) are one round
    trip, and a duplicate, which returns no row, wakes nobody."""
    insert = ((postgresql_insert if postgres else sqlite_insert)(INBOX)
              .values({name: bindparam(name, type_=INBOX.c[name].type) for name in INSERT_COLUMNS})
              .on_conflict_do_nothing(index_elements=["source", "dedup_key"]).returning(INBOX.c.id))
    if not notify:
        return insert
    recorded = insert.cte("recorded")
    channel, payload = literal_column(f"'{NOTIFY_CHANNEL}'"), literal_column("''")  # constants, not parameters
    return select(recorded.c.id, func.pg_notify(channel, payload)).select_from(recorded)


def row_values(*, source: str, dedup_key: str, event_type: str, ticket_id: int | None, payload: dict,
               signal: dict | None, now: dt.datetime, detail: str = "") -> dict:
    """A new inbox row: with a signal it is queued for the worker, without one it is recorded as ignored."""
    return dict(source=source, dedup_key=dedup_key, event_type=event_type, ticket_id=ticket_id, received_at=now,
                payload=payload, outcome="ignored" if signal is None else "queued", detail=detail, signal=signal,
                decide_after=None if signal is None else now, attempts=0, decided_at=None)


@dataclass(frozen=True)
class Queued:
    id: int
    ticket_id: int
    signal: dict
    received_at: dt.datetime
    attempts: int
    source: str = ""
    dedup_key: str = ""
    event_type: str = ""


def claim(session: Session, now: dt.datetime, limit: int) -> list[Queued]:
    """Queued rows, oldest first, locked for this transaction (others skip them). A first attempt is due at
    once whatever the clocks say; a retry waits for its decide_after."""
    rows = session.execute(_CLAIM, {"now": now, "limit": limit}).all()
    return [Queued(r.id, r.ticket_id, r.signal, _aware(r.received_at), r.attempts, r.source, r.dedup_key,
                   r.event_type) for r in rows]


# Built once, `now` and `limit` bound per call: the worker claims every round.
_CLAIM = (select(INBOX.c.id, INBOX.c.ticket_id, INBOX.c.signal, INBOX.c.received_at, INBOX.c.attempts, INBOX.c.source,
                 INBOX.c.dedup_key, INBOX.c.event_type)
          .where(INBOX.c.decide_after.is_not(None),
                 (INBOX.c.attempts == 0) | (INBOX.c.decide_after <= bindparam("now", type_=INBOX.c.decide_after.type)))
          .order_by(INBOX.c.id).limit(bindparam("limit")).with_for_update(skip_locked=True))


def payloads(session: Session, ids: list[int]) -> dict[int, dict]:
    """The bodies of these rows (read only when needed: the worker's decisions use the parsed signal)."""
    if not ids:
        return {}
    return dict(session.execute(select(INBOX.c.id, INBOX.c.payload).where(INBOX.c.id.in_(ids))).all())


def held_back(session: Session, claimed: list[Queued]) -> set[int]:
    """Tickets with a queued event outside this claim that is older than one of theirs in it (another worker
    holds it, or it waits to be retried): all their events wait, so that every ticket's events are decided in
    the order they came. Two workers claiming at once can split a ticket's events (A and C here, B there)."""
    last: dict[int, int] = {}
    for row in claimed:
        last[row.ticket_id] = row.id  # the claim is in id order
    if not last:
        return set()
    mine = {row.id for row in claimed}
    older = session.execute(_QUEUED_BEFORE, {"tickets": list(last), "before": max(last.values())}).all()
    return {ticket for ticket, row_id in older if row_id not in mine and row_id < last[ticket]}


_QUEUED_BEFORE = select(INBOX.c.ticket_id, INBOX.c.id).where(
    INBOX.c.decide_after.is_not(None), INBOX.c.ticket_id.in_(bindparam("tickets", expanding=True)),
    INBOX.c.id < bindparam("before"))


def retry_later(session: Session, rows: list[Queued], now: dt.datetime, error: str) -> None:
    """Their ticket's decision failed: tried again after a backoff, and given up (kept, marked failed) after
    MAX_ATTEMPTS."""
    for row in rows:
        attempts = row.attempts + 1
        done = attempts >= MAX_ATTEMPTS
        session.execute(update(INBOX).where(INBOX.c.id == row.id).values(
            attempts=attempts, detail=storable(error, 500), outcome="failed" if done else "queued",
            decide_after=None if done else now + dt.timedelta(seconds=2 ** attempts),
            decided_at=now if done else None))


def oldest_undecided(session: Session) -> dt.datetime | None:
    # The first queued by id: read off the queue index (min(received_at) would read every undecided row).
    oldest = session.scalar(select(INBOX.c.received_at).where(INBOX.c.decide_after.is_not(None))
                            .order_by(INBOX.c.id).limit(1))
    return _aware(oldest) if oldest is not None else None


def _aware(instant: dt.datetime) -> dt.datetime:
    return instant if instant.tzinfo else instant.replace(tzinfo=dt.timezone.utc)
