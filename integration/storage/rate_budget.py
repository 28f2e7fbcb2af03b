"""One rate budget per account, kept in the database so that every process and host shares it.

Each request spends one event from each bucket it counts against ("account", "ticket_update", …); a bucket
allows at most `limit` events in any sliding window (60 s). Taking is all or nothing, under the buckets'
row locks (PostgreSQL: SELECT … FOR UPDATE; SQLite: the single writer), so two workers can never both spend
the last slot. A bucket can also be held until an instant, when Zendesk's own headers say it is nearly spent.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from integration.storage.models import RateBucket, RateEvent
from integration.storage.repo import dialect_insert

WINDOW = dt.timedelta(seconds=60)


@dataclass(frozen=True)
class Budget:
    """Per-minute limits, by bucket name."""

    limits: dict[str, int]
    window: dt.timedelta = WINDOW


def take(session: Session, budget: Budget, spend: dict[str, int], now: dt.datetime) -> dt.timedelta:
    """Spend `spend` (bucket -> requests) if every bucket has room now; else spend nothing and return how
    long until it would have (never zero when refused)."""
    buckets = _lock(session, sorted(spend))
    waits = [_wait(session, budget, name, count, buckets[name], now) for name, count in spend.items() if count]
    wait = max(waits, default=dt.timedelta(0))
    if wait > dt.timedelta(0):
        return wait
    session.add_all(RateEvent(bucket=name, at=now) for name, count in spend.items() for _ in range(count))
    return dt.timedelta(0)


def hold(session: Session, bucket: str, until: dt.datetime) -> None:
    """Spend nothing from `bucket` until `until` (Zendesk said its budget is spent)."""
    row = _lock(session, [bucket])[bucket]
    if row.held_until is None or row.held_until < until:
        row.held_until = until


def spent(session: Session, bucket: str, now: dt.datetime, window: dt.timedelta = WINDOW) -> int:
    return session.scalar(select(func.count()).select_from(RateEvent).where(
        RateEvent.bucket == bucket, RateEvent.at > now - window)) or 0


def forget_old(session: Session, now: dt.datetime, window: dt.timedelta = WINDOW) -> int:
    return session.execute(delete(RateEvent).where(RateEvent.at <= now - 2 * window)).rowcount or 0


def _lock(session: Session, names: list[str]) -> dict[str, RateBucket]:
    for name in names:  # a new bucket's row, once: concurrent first takes must not collide
        session.execute(dialect_insert(session, RateBucket).values(name=name)
                        .on_conflict_do_nothing(index_elements=["name"]))
    return {row.name: row for row in session.scalars(
        select(RateBucket).where(RateBucket.name.in_(names)).order_by(RateBucket.name).with_for_update())}


def _wait(session: Session, budget: Budget, name: str, count: int, row: RateBucket,
          now: dt.datetime) -> dt.timedelta:
    if row.held_until is not None and row.held_until > now:
        return row.held_until - now
    limit = budget.limits.get(name)
    if limit is None:
        return dt.timedelta(0)
    if count > limit:
        raise ValueError(f"{count} requests can never fit in bucket {name!r} (limit {limit})")
    recent = list(session.scalars(select(RateEvent.at).where(RateEvent.bucket == name,
                                                             RateEvent.at > now - budget.window)
                                  .order_by(RateEvent.at)))
    room = limit - len(recent)
    if room >= count:
        return dt.timedelta(0)
    # The slot that frees last among those we need: the (count - room)-th oldest leaving the window.
    frees_at = recent[count - room - 1] + budget.window
    return max(frees_at - now, dt.timedelta(milliseconds=1))
