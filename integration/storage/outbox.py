"""The outbox: claim due actions (in order per ticket), record what delivery did. Retries are durable rows."""
from __future__ import annotations

import datetime as dt
import functools
import uuid
from dataclasses import dataclass

from sqlalchemy import bindparam, case, exists, func, select, update
from sqlalchemy.orm import Session, aliased

from integration.inbound import storable
from integration.storage.models import OutboxAction, UtcDateTime

LEASE = dt.timedelta(seconds=60)  # a claimed action whose worker died is claimable again after this
WITHDRAWN = "the escalation it announced was withdrawn before it was sent"


@dataclass(frozen=True)
class Claimed:
    id: int
    ticket_id: int | None
    target: str
    kind: str
    payload: dict
    idempotency_key: str
    attempts: int  # including this one; > 1 means an earlier attempt may have reached the other side
    token: str = ""  # the claim's fencing token: only its holder may record an outcome or renew the lease
    lane: int = 2


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
    """Not attempted (waiting for rate budget or a pacing slot): back to pending, not counted as an attempt."""

    after: dt.timedelta
    reason: str = ""


def claim(session: Session, now: dt.datetime, limit: int = 20, target: str | None = None,
          lease: dt.timedelta = LEASE, kind: str | None = None, except_kind: str | None = None,
          drop: bool = True) -> list[Claimed]:
    """Claim up to `limit` due actions, escalation lane first; only the oldest unfinished action of each
    ticket is eligible, so a ticket's actions go out in order. An action past its instant is never claimed;
    `drop` also marks such actions dropped (the worker does that once a second, not on every claim)."""
    if drop:
        drop_expired(session, now)
    query = _claim_statement(target, kind, except_kind)
    rows = session.execute(query, {"now": now, "limit": limit}).all()
    if not rows:
        return []
    token = uuid.uuid4().hex
    # The rows are locked (FOR UPDATE) until this transaction ends: one UPDATE takes them, not one per row.
    session.execute(update(OutboxAction).where(OutboxAction.id.in_([r.id for r in rows]))
                    .values(attempts=OutboxAction.attempts + 1, lease_until=now + lease, claim_token=token)
                    .execution_options(synchronize_session=False))
    return [Claimed(r.id, r.ticket_id, r.target, r.kind, dict(r.payload), r.idempotency_key, r.attempts + 1, token,
                    r.lane) for r in rows]


_CLAIMED_COLUMNS = (OutboxAction.id, OutboxAction.ticket_id, OutboxAction.target, OutboxAction.kind,
                    OutboxAction.payload, OutboxAction.idempotency_key, OutboxAction.attempts, OutboxAction.lane)
_NOW = bindparam("now", type_=UtcDateTime())


@functools.cache
def _claim_statement(target: str | None, kind: str | None, except_kind: str | None):
    """A claim's SELECT, built once per filter (`now` and `limit` bound at each call): building it was a fifth of
    a delivery round's CPU."""
    older = aliased(OutboxAction, name="older")
    # Each ticket's oldest pending action per target, looked up row by row in the pending index: as a NOT EXISTS,
    # PostgreSQL without fresh statistics compared every pending row with every other (O(n²) a claim).
    first_of_ticket = (select(func.min(older.id)).where(
        older.target == OutboxAction.target, older.ticket_id == OutboxAction.ticket_id, older.status == "pending",
        older.expires_at.is_(None) | (older.expires_at > _NOW)).correlate(OutboxAction).scalar_subquery())
    query = (select(*_CLAIMED_COLUMNS)
             .where(*_DUE_UNCLAIMED, OutboxAction.ticket_id.is_(None) | (OutboxAction.id == first_of_ticket))
             .order_by(OutboxAction.lane, OutboxAction.id).limit(bindparam("limit"))
             .with_for_update(skip_locked=True, of=OutboxAction))
    if target:
        query = query.where(OutboxAction.target == target)
    if kind:
        query = query.where(OutboxAction.kind == kind)
    if except_kind:
        query = query.where(OutboxAction.kind != except_kind)
    return query


# Pending, due, not leased to a worker, not past its instant: what a claim may take (ready_targets agrees).
_DUE_UNCLAIMED = (OutboxAction.status == "pending", OutboxAction.next_attempt_at <= _NOW,
                  OutboxAction.lease_until.is_(None) | (OutboxAction.lease_until < _NOW),
                  OutboxAction.expires_at.is_(None) | (OutboxAction.expires_at > _NOW))
_READY_TARGETS = select(OutboxAction.target).where(*_DUE_UNCLAIMED).distinct()


def ready_targets(session: Session, now: dt.datetime) -> set[str]:
    """The targets with an action due and unclaimed now (one indexed query): a delivery round claims only for
    these, instead of running every target's claim to find most of them empty."""
    return set(session.scalars(_READY_TARGETS, {"now": now}))


def drop_expired(session: Session, now: dt.datetime) -> int:
    """Actions past their instant (a warning whose target is already due) are dropped, not sent late."""
    ids = list(session.scalars(select(OutboxAction.id).where(
        OutboxAction.status == "pending", OutboxAction.expires_at <= now,
        OutboxAction.lease_until.is_(None) | (OutboxAction.lease_until < now))
        .order_by(OutboxAction.id).limit(1000).with_for_update(skip_locked=True)))
    if not ids:
        return 0
    return session.execute(update(OutboxAction).where(OutboxAction.id.in_(ids)).values(
        status="dropped", done_at=now, last_error="dropped: its instant passed before it could be sent")).rowcount


def drop_unsent(session: Session, keys: tuple[str, ...], now: dt.datetime, why: str) -> int:
    """Actions that no longer hold, dropped while they wait (a row a worker is sending right now is left to it)."""
    if not keys:
        return 0
    return session.execute(update(OutboxAction).where(
        OutboxAction.idempotency_key.in_(keys), OutboxAction.status == "pending",
        OutboxAction.lease_until.is_(None) | (OutboxAction.lease_until < now))
        .values(status="dropped", done_at=now, last_error=f"dropped: {why}")).rowcount


def may_have_arrived(session: Session, keys: tuple[str, ...]) -> bool:
    """Whether any of these actions may have reached its recipient: sent (or recorded in dry-run), or attempted
    (an attempt that timed out may have arrived). Dropped, failed or never-attempted ones did not."""
    return bool(keys) and session.scalar(select(exists().where(
        OutboxAction.idempotency_key.in_(keys),
        OutboxAction.status.in_(("done", "dry_run")) | ((OutboxAction.status == "pending") & (OutboxAction.attempts > 0)))))


def record(session: Session, action: Claimed, outcome, now: dt.datetime, backoff: dt.timedelta) -> bool:
    """Record what delivery did, only while `action`'s claim still holds the row (False: it was taken over
    after our lease ran out, and the new holder records instead)."""
    return bool(record_many(session, [(action, outcome, backoff)], now))


def record_many(session: Session, outcomes: list[tuple[Claimed, object, dt.timedelta]], now: dt.datetime) -> set[int]:
    """`record` for a delivered group: the actions of one claim whose outcomes differ only in their text (each
    dry-run or delivery detail names its own action) in one UPDATE, the text chosen per row by a CASE, instead
    of one UPDATE each. Returns the ids recorded (the others were taken over after our lease ran out)."""
    alike: dict[tuple, tuple[dict, dict[int, str | None]]] = {}
    for action, outcome, backoff in outcomes:
        values = _outcome_values(outcome, now, backoff)
        text = values.pop("last_error", None)  # None: the outcome leaves the row's text as it is (Deferred)
        key = (action.token, text is None, tuple(sorted((name, str(value)) for name, value in values.items())))
        alike.setdefault(key, (values, {}))[1][action.id] = text
    recorded: set[int] = set()
    for (token, keeps_text, _), (values, texts) in alike.items():
        if not keeps_text:
            distinct = set(texts.values())
            values = {**values, "last_error": distinct.pop() if len(distinct) == 1
                      else case(texts, value=OutboxAction.id)}
        recorded |= set(session.scalars(
            update(OutboxAction).where(OutboxAction.id.in_(list(texts)), OutboxAction.claim_token == token)
            .values(**values).returning(OutboxAction.id).execution_options(synchronize_session=False)))
    return recorded


def _outcome_values(outcome, now: dt.datetime, backoff: dt.timedelta) -> dict:
    values: dict = {"lease_until": None, "claim_token": None}
    # Error texts quote what the other side or the payload held: made storable, so recording never fails.
    if isinstance(outcome, Delivered):
        values |= {"status": "done", "done_at": now, "last_error": storable(outcome.detail)}
    elif isinstance(outcome, DryRun):
        values |= {"status": "dry_run", "done_at": now, "last_error": storable(outcome.detail)}
    elif isinstance(outcome, Failed):
        values |= {"status": "failed", "done_at": now, "last_error": storable(outcome.error)}
    elif isinstance(outcome, Deferred):
        values |= {"next_attempt_at": now + outcome.after, "attempts": OutboxAction.attempts - 1}
    else:
        values |= {"next_attempt_at": now + (outcome.after if outcome.after is not None else backoff),
                   "last_error": storable(outcome.error)}
    return values


def renew_leases(session: Session, actions: list[Claimed], now: dt.datetime, lease: dt.timedelta) -> int:
    """Heartbeat for calls still in flight: keep their rows from being claimed again."""
    renewed = 0
    for token in {a.token for a in actions}:
        # Rows locked right now are being recorded (their call is over): skip them, in id order, so the
        # heartbeat never deadlocks with a recording transaction.
        ids = list(session.scalars(select(OutboxAction.id).where(
            OutboxAction.id.in_([a.id for a in actions if a.token == token]), OutboxAction.claim_token == token)
            .order_by(OutboxAction.id).with_for_update(skip_locked=True)))
        if ids:
            renewed += session.execute(update(OutboxAction).where(OutboxAction.id.in_(ids))
                                       .values(lease_until=now + lease)).rowcount
    return renewed


def remember(session: Session, action: Claimed, **payload) -> None:
    """Store facts about an attempt in the row before the call (e.g. the updated_stamp a safe update used), so
    that a retry after a timeout or a crash repeats the very same request."""
    row = session.get(OutboxAction, action.id, with_for_update=True)
    if row is not None and row.claim_token == action.token:
        row.payload = {**row.payload, **payload}


def retry_failed(session: Session, action_id: int, now: dt.datetime) -> bool:
    """An admin's second chance for a failed action (after fixing its cause)."""
    result = session.execute(update(OutboxAction).where(
        OutboxAction.id == action_id, OutboxAction.status == "failed").values(
        status="pending", next_attempt_at=now, done_at=None))
    return result.rowcount == 1
