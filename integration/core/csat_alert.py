"""The daily CSAT alert, pure (seed 000, Monitoring: "Customer Satisfaction, daily aggregation, alert below 4.0 →
CSM escalation"): which organizations are due, the day's average, and the message.

Our readings:
- each organization of organizations.yaml, in its own timezone: from csat_alert_at local time, the previous local
  day is due (a worker that was down at that time sends it when it comes back, the same local day; a day missed
  entirely is not sent later);
- the day's ratings are those recorded in it (their arrival), of the organization's tickets; Zendesk good counts 5
  and bad 1, Slack scores 1–5 as given; no rating that day, no alert;
- the alert goes to the organization's dedicated CSM (a Slack direct message), else to the Customer Success
  level's Slack channels.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from integration.core.context import Context
from integration.core.matrix import CUSTOMER_SUCCESS_LEVEL
from integration.mappings.model import Mappings, Organization

UTC = dt.timezone.utc
ZENDESK_VALUES = {"good": 5, "bad": 1}
MAX_LISTED = 30  # ratings listed in one message; the rest are counted


@dataclass(frozen=True)
class AlertDay:
    """An organization's local day whose ratings are due to be checked, as a UTC half-open range."""

    organization_id: int
    name: str
    day: dt.date
    start: dt.datetime
    end: dt.datetime
    timezone: str


@dataclass(frozen=True)
class Rating:
    ticket_id: int
    at: dt.datetime
    value: int  # 1-5
    source: str  # slack | zendesk
    comment: str | None = None


def rating_value(source: str, score: int | None, zendesk_score: str | None) -> int | None:
    return ZENDESK_VALUES.get(zendesk_score or "") if source == "zendesk" else score


def due_days(mappings: Mappings, now: dt.datetime) -> list[AlertDay]:
    """The (organization, previous local day) pairs whose alert time has come today, local time."""
    at_minutes = mappings.escalation.csat_alert_at_minutes
    due = []
    for org in mappings.organizations:
        zone = ZoneInfo(org.timezone)
        local = now.astimezone(zone)
        if local.hour * 60 + local.minute < at_minutes:
            continue
        today = local.date()
        day = today - dt.timedelta(days=1)
        due.append(AlertDay(org.zendesk_id, org.name or str(org.zendesk_id), day,
                            dt.datetime.combine(day, dt.time(), zone).astimezone(UTC),
                            dt.datetime.combine(today, dt.time(), zone).astimezone(UTC), org.timezone))
    return due


def average(ratings: list[Rating]) -> Decimal | None:
    if not ratings:
        return None
    return (Decimal(sum(r.value for r in ratings)) / len(ratings)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def alert_needed(ratings: list[Rating], below: float) -> bool:
    mean = average(ratings)
    return mean is not None and mean < Decimal(str(below))


def recipients(mappings: Mappings, org: Organization | None) -> tuple[str, ...]:
    """The CSM's Slack user (a direct message), else the Customer Success level's channels."""
    if org is not None and org.csm is not None and org.csm.slack_user_id:
        return (org.csm.slack_user_id,)
    return mappings.escalation.owner(CUSTOMER_SUCCESS_LEVEL).slack_channel_ids


def alert_message(day: AlertDay, ratings: list[Rating], below: float, context: Context) -> dict:
    zone = ZoneInfo(day.timezone)
    mean = average(ratings)
    head = (f"CSAT alert: {day.name} averaged {mean} on {day.day:%a %d %b %Y} (below {below:g}), "
            f"{len(ratings)} rating{'' if len(ratings) == 1 else 's'}")
    lines = []
    for r in sorted(ratings, key=lambda r: (r.at, r.ticket_id))[:MAX_LISTED]:
        how = f"Zendesk {'good' if r.value == 5 else 'bad'}" if r.source == "zendesk" else "Slack"
        line = (f"• {r.at.astimezone(zone):%H:%M} <{context.ticket_url(r.ticket_id)}|#{r.ticket_id}>: "
                f"{r.value}/5 ({how})")
        lines.append(line + (f" — “{r.comment}”" if r.comment else ""))
    if len(ratings) > MAX_LISTED:
        lines.append(f"… and {len(ratings) - MAX_LISTED} more")
    text = head + ":\n" + "\n".join(lines)
    return {"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}]}
