"""The CSAT follow-up commitment (seed 000, Satisfaction Measurement: "<24 hours for scores <4").

A rating below 4 (Zendesk "bad", Slack 1-3) opens a follow-up due `csat_follow_up` later (wall-clock,
escalation.yaml, default 24h), unless one is already open. The next public agent comment after the
rating meets it if it comes by the due instant; otherwise, from the due instant on, it is missed:
the owner and the organization's CSM are told and the ticket moves one level up.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from integration.core.escalation_record import EscalationRecord, FollowUp
from integration.core.history import CommentRow, HistoryRow
from integration.core.signals import TicketSignal

TIMER_KIND = "csat_follow_up"


def low_rating(signal: TicketSignal, seen: str | None = None) -> str | None:
    """How the signal newly rates the ticket below 4, in words, or None (`seen`: Zendesk's rating already known)."""
    if signal.satisfaction == "bad" and seen != "bad":
        return "Zendesk satisfaction: bad"
    if signal.csat is not None and signal.csat < 4:
        return f"Slack CSAT {signal.csat}/5"
    return None


@dataclass(frozen=True)
class FollowUpChange:
    record: EscalationRecord
    missed: FollowUp | None = None  # became missed in this decision
    timer_due: dt.datetime | None = None  # the open follow-up's due, for its timer


def follow_up(record: EscalationRecord, signal: TicketSignal, history: tuple[HistoryRow, ...],
              every: dt.timedelta, now: dt.datetime) -> FollowUpChange:
    follow_ups = list(record.follow_ups)
    rating = low_rating(signal, record.satisfaction)
    if signal.satisfaction in ("good", "bad"):
        record = replace(record, satisfaction=signal.satisfaction)
    opened_now = False
    if rating is not None and not (follow_ups and follow_ups[-1].outcome == "open"):
        at = signal.at or now
        follow_ups.append(FollowUp(opened_at=at, due=at + every, rating=rating))
        opened_now = True
    missed = None
    if follow_ups and follow_ups[-1].outcome == "open":
        current = follow_ups[-1]
        reply = next((r.at for r in sorted(history, key=lambda r: r.at)
                      if isinstance(r, CommentRow) and r.public and r.by_agent and r.at > current.opened_at), None)
        if reply is not None and reply <= current.due:
            follow_ups[-1] = replace(current, met_at=reply)
        elif now >= current.due and not opened_now:
            follow_ups[-1] = missed = replace(current, missed_at=current.due)
    last = follow_ups[-1] if follow_ups else None
    timer_due = last.due if last is not None and last.outcome == "open" else None
    return FollowUpChange(replace(record, follow_ups=tuple(follow_ups)), missed, timer_due)


def missed_message(*, ticket_id: int, url: str, follow: FollowUp, level: int) -> dict:
    due = follow.due.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    text = (f"Ticket #{ticket_id}: the CSAT follow-up ({follow.rating}) was due {due} and nobody answered the "
            f"customer; the ticket moves up to level {level}.")
    return {"text": text, "blocks": [{"type": "section", "text": {
        "type": "mrkdwn", "text": f":hourglass: Ticket <{url}|#{ticket_id}>: the CSAT follow-up ({follow.rating}) "
                                  f"was due {due} and nobody answered the customer; it moves up to level {level}."}}]}
