"""The outbox: claim due actions (in order per ticket), record what delivery did. Retries are durable rows."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, exists, select, update
from sqlalchemy.orm import Session, aliased

from integration.storage.models import OutboxAction

LEASE = dt.timedelta(seconds=60)  # a claimed action whose worker died is claimable again after this


@dataclass(frozen=True)
class Claimed:
    id: int
    ticket_id: int | None
    target: str
    kind: str
    payload: dict
    idempotency_key: str
    attempts: int  # including this one; > 1 means an earlier attempt may have reached the other side


@dataclass(frozen=True)
class Delivered:
    detail: str = ""


@dataclass(frozen=True)
class RetryLater:
    error: str
    after: dt.timedelta | None = None  # None: the caller's backoff decides; else e.g. Retry-After


@dataclass(frozen=True)
class Failed:
    error: str  # will not succeed by retrying (e.g. 422): recorded and shown


@dataclass(frozen=True)
class DryRun:
    detail: str


@dataclass(frozen=True)
class Deferred:
    """Not tried at all (e.g. the channel's pacing slot was taken): back to pending, the claim's attempt undone."""
    after: dt.timedelta
    reason: str


def claim(session: Session, now: dt.datetime, limit: int = 20, target: str | None = None,
          lease: dt.timedelta = LEASE) -> list[Claimed]:
    """Claim up to `limit` due actions; only the oldest unfinished action of each ticket is eligible."""
    older = aliased(OutboxAction)
    blocked_by_older = exists().where(and_(
        older.target == OutboxAction.target,
        older.ticket_id == OutboxAction.ticket_id,
        older.id < OutboxAction.id,
        older.status == "pending",
    ))
    query = (select(OutboxAction)
             .where(OutboxAction.status == "pending", OutboxAction.next_attempt_at <= now,
                    (OutboxAction.lease_until.is_(None)) | (OutboxAction.lease_until < now),
                    ~blocked_by_older)
             .order_by(OutboxAction.id).limit(limit)
             .with_for_update(skip_locked=True, of=OutboxAction))
    if target:
        query = query.where(OutboxAction.target == target)
    rows = session.execute(query).scalars().all()
    for row in rows:
        row.attempts += 1
        row.lease_until = now + lease
    return [Claimed(r.id, r.ticket_id, r.target, r.kind, dict(r.payload), r.idempotency_key, r.attempts)
            for r in rows]


def record(session: Session, action_id: int, outcome, now: dt.datetime, backoff: dt.timedelta) -> None:
    values: dict = {"lease_until": None}
    if isinstance(outcome, Delivered):
        values |= {"status": "done", "done_at": now, "last_error": outcome.detail}
    elif isinstance(outcome, DryRun):
        values |= {"status": "dry_run", "done_at": now, "last_error": outcome.detail}
    elif isinstance(outcome, Failed):
        values |= {"status": "failed", "done_at": now, "last_error": outcome.error}
    elif isinstance(outcome, Deferred):
        values |= {"next_attempt_at": now + outcome.after, "attempts": OutboxAction.attempts - 1}
    else:
        values |= {"next_attempt_at": now + (outcome.after if outcome.after is not None else backoff),
                   "last_error": outcome.error}
    session.execute(update(OutboxAction).where(OutboxAction.id == action_id).values(**values))


def retry_failed(session: Session, action_id: int, now: dt.datetime) -> bool:
    """An admin's second chance for a failed action (after fixing its cause)."""
    result = session.execute(update(OutboxAction).where(
        OutboxAction.id == action_id, OutboxAction.status == "failed").values(
        status="pending", next_attempt_at=now, done_at=None))
    return result.rowcount == 1
