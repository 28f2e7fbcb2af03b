"""Firing timers: a due timer wakes its ticket up and the decision runs again at that instant.

What happens is decided from the ticket's current state (see integration.core.matrix), so a timer
made stale by a reply, a pause or a mapping edit simply finds nothing to do.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select, tuple_, update
from sqlalchemy.orm import Session

from integration.core.statuses import OPEN_STATUSES
from integration.storage.models import Ticket, Timer

TIMER_LEASE = dt.timedelta(seconds=30)


@dataclass(frozen=True)
class DueTimer:
    id: int
    ticket_id: int
    kind: str
    due_at: dt.datetime


def claim_due(session: Session, now: dt.datetime, limit: int = 50,
              lease: dt.timedelta = TIMER_LEASE) -> list[DueTimer]:
    rows = session.execute(
        select(Timer).where(Timer.fired_at.is_(None), Timer.due_at <= now,
                            (Timer.lease_until.is_(None)) | (Timer.lease_until < now))
        .order_by(Timer.due_at).limit(limit).with_for_update(skip_locked=True)).scalars().all()
    for row in rows:
        row.lease_until = now + lease
    return [DueTimer(r.id, r.ticket_id, r.kind, r.due_at) for r in rows]


def mark_fired(session: Session, timer: DueTimer, now: dt.datetime) -> None:
    mark_all_fired(session, [timer], now)


def mark_all_fired(session: Session, due: list[DueTimer], now: dt.datetime) -> None:
    # Only those that still stand for the same instant: a decision may have moved one meanwhile.
    if due:
        session.execute(update(Timer).where(tuple_(Timer.id, Timer.due_at).in_([(t.id, t.due_at) for t in due]))
                        .values(fired_at=now, lease_until=None))


def retry_later(session: Session, due: list[DueTimer], now: dt.datetime, lease: dt.timedelta = TIMER_LEASE) -> None:
    """Their ticket's decision failed: they fire again when the lease runs out."""
    if due:
        session.execute(update(Timer).where(Timer.id.in_([t.id for t in due]))
                        .values(fired_at=None, lease_until=now + lease))


def stale_tickets(session: Session, fingerprint: str, limit: int = 200) -> list[int]:
    """Open tickets last decided under other mappings: they must be decided again (timers move)."""
    return list(session.scalars(select(Ticket.id).where(Ticket.mappings_fingerprint != fingerprint,
                                                        Ticket.status.in_(OPEN_STATUSES))
                                .order_by(Ticket.id).limit(limit)))
