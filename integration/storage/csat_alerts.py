"""The daily CSAT alert in the database: each due (organization, local day) is checked once; the unique row and the
alert's outbox rows are written in one transaction, so two workers never both send it."""
from __future__ import annotations

import datetime as dt
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from integration.core.context import Context
from integration.core.csat_alert import (AlertDay, Rating, alert_message, alert_needed, average, due_days,
                                         rating_value, recipients)
from integration.core.state import Action
from integration.mappings.model import Mappings
from integration.storage import repo
from integration.storage.models import CsatAlert, CsatRating

CHECK_EVERY = dt.timedelta(minutes=1)


def day_ratings(session: Session, day: AlertDay) -> list[Rating]:
    rows = session.scalars(select(CsatRating).where(CsatRating.organization_id == day.organization_id,
                                                    CsatRating.at >= day.start, CsatRating.at < day.end)
                           .order_by(CsatRating.at, CsatRating.id))
    found = [(r, rating_value(r.source, r.score, r.zendesk_score)) for r in rows]
    return [Rating(r.ticket_id, r.at, value, r.source) for r, value in found if value is not None]


def send_daily_alerts(sessions: sessionmaker[Session], mappings: Mappings, context: Context,
                      now: dt.datetime) -> int:
    """Check every due (organization, day) not checked yet; returns how many alerts were queued (a check that
    finds nothing to say is bookkeeping, not work the worker reports)."""
    due = due_days(mappings, now)
    if not due:
        return 0
    with sessions() as session:
        done = {(org, day) for org, day in session.execute(select(CsatAlert.organization_id, CsatAlert.day)
                                   .where(CsatAlert.day.in_({d.day.isoformat() for d in due})))}
    return sum(_check(sessions, mappings, context, day, now) for day in due
               if (day.organization_id, day.day.isoformat()) not in done)


def _check(sessions: sessionmaker[Session], mappings: Mappings, context: Context, day: AlertDay,
           now: dt.datetime) -> int:
    below = mappings.escalation.csat_alert_below
    with sessions.begin() as session:
        ratings = day_ratings(session, day)
        alert = alert_needed(ratings, below)
        mean = average(ratings)
        claimed = session.execute(repo.dialect_insert(session, CsatAlert).values(
            organization_id=day.organization_id, day=day.day.isoformat(), ratings=len(ratings),
            average=None if mean is None else str(mean), alerted=alert, checked_at=now,
        ).on_conflict_do_nothing(index_elements=["organization_id", "day"]).returning(CsatAlert.id)).first()
        if claimed is None or not alert:  # another worker checked this day first, or nothing to say
            return 0
        message = alert_message(day, ratings, below, context)
        for target in recipients(mappings, mappings.organization_by_id(day.organization_id)):
            key = f"csat-alert-{day.organization_id}-{day.day.isoformat()}-{target}"
            repo.enqueue(session, Action("slack", "post_message", {"channel": target, **message}, key),
                         ticket_id=None, now=now)
        return 1


class DailyCsatAlerts:
    """The worker's ticker: looks at most once every CHECK_EVERY (a clock read otherwise)."""

    def __init__(self, sessions: sessionmaker[Session], mappings: Callable[[], Mappings], context: Context,
                 now: Callable[[], dt.datetime]) -> None:
        self.sessions, self.mappings, self.context, self.now = sessions, mappings, context, now
        self.last: dt.datetime | None = None

    def __call__(self) -> int:
        now = self.now()
        if self.last is not None and self.last <= now < self.last + CHECK_EVERY:
            return 0
        self.last = now
        return send_daily_alerts(self.sessions, self.mappings(), self.context, now)
