"""Zendesk's own record of what changed when: a `*_changed` event's previous/current values, and the audit log.

Event subscriptions put the change's values under `event` ({"previous": "OPEN", "current": "PENDING"});
the ticket audit log (`GET /api/v2/tickets/{id}/audits`) holds every change since creation, each audit at
the instant it was made: `Create` events give the first values, `Change` events the later ones, `Comment`
events the comments. Both become core Transitions, placed at Zendesk's instants, never at ours.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Callable, Iterable

from integration.core.signals import ZENDESK_PRIORITIES, Comment, Transition
from integration.core.statuses import ZENDESK_STATUSES

CHANGED_EVENTS = {"ticket.status_changed": "status", "ticket.priority_changed": "priority",
                  "ticket.organization_changed": "organization"}
AUDIT_FIELDS = {"status": "status", "priority": "priority", "organization_id": "organization"}
GONE = {"deleted": "closed", "archived": "closed", "scrubbed": "closed"}


class TransitionError(ValueError):
    pass


def event_transition(event_type: str, event: object, at: dt.datetime) -> Transition | None:
    """The change a `ticket.*_changed` event reports, or None for other events."""
    field = CHANGED_EVENTS.get(event_type)
    if field is None:
        return None
    if not isinstance(event, dict) or "current" not in event:
        raise TransitionError(f"event.current: a {event_type} event needs the current value")
    return Transition(at=at, field=field, current=value_of(field, event["current"], "event.current"),
                      previous=value_of(field, event.get("previous"), "event.previous") if "previous" in event
                      else None, previous_known="previous" in event)


def value_of(field: str, raw: object, where: str) -> str | int | None:
    if field == "organization":
        if raw in (None, ""):
            return None
        text = str(raw)
        if isinstance(raw, bool) or not re.fullmatch(r"[0-9]{1,18}", text):
            raise TransitionError(f"{where}: {raw!r} is not an organization id")
        return int(text)
    text = str(raw or "").strip().lower()
    if field == "status":
        text = GONE.get(text, text)
        if text not in ZENDESK_STATUSES:
            raise TransitionError(f"{where}: {raw!r} is not a Zendesk status")
        return text
    if text and text not in ZENDESK_PRIORITIES:
        raise TransitionError(f"{where}: {raw!r} is not a Zendesk priority")
    return text


def from_audits(audits: Iterable, parse_time: Callable[[str, str], dt.datetime],
                is_agent: Callable[[int | None], bool]) -> tuple[tuple[Transition, ...], tuple[Comment, ...]]:
    """Every status, priority and organization value and every comment, at the instant of its audit."""
    timeline: list[Transition] = []
    comments: list[Comment] = []
    for audit in audits:
        at = parse_time(_get(audit, "created_at"), "audit.created_at")
        for event in _get(audit, "events") or ():
            kind, name = _get(event, "type"), _get(event, "field_name")
            if kind in ("Create", "Change") and name in AUDIT_FIELDS:
                field = AUDIT_FIELDS[name]
                timeline.append(Transition(at=at, field=field, current=value_of(field, _get(event, "value"), name),
                                           previous=None, previous_known=False))
            elif kind == "Comment":
                author = _get(event, "author_id") or _get(audit, "author_id")
                comments.append(Comment(at=at, public=bool(_get(event, "public")), by_agent=is_agent(author)))
    timeline.sort(key=lambda t: t.at)
    comments.sort(key=lambda c: c.at)
    return tuple(timeline), tuple(comments)


def _get(item, name: str):
    return item.get(name) if isinstance(item, dict) else getattr(item, name, None)
