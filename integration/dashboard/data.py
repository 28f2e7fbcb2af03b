"""What the dashboard shows, read from the database (one query per panel)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from integration.core.compliance import percent
from integration.core.sidebar_view import agent_state
from integration.core.sla_summary import SlaSummary
from integration.core.statuses import OPEN_STATUSES
from integration.mappings.model import Mappings
from integration.storage.models import AuditEntry, OutboxAction, Ticket

STUCK_AFTER = dt.timedelta(minutes=10)


def ticket_state(ticket: Ticket, now: dt.datetime) -> str:
    """on track | warning | breached | paused, as agents think of it (the sidebar app uses the same words)."""
    return agent_state(SlaSummary.from_json(ticket.sla), now)


def open_tickets(session: Session, mappings: Mappings, now: dt.datetime, limit: int = 200,
                 only: tuple[int, ...] | None = None, tier: str | None = None,
                 organization: int | str | None = None, level: int | None = None) -> list[dict]:
    """The open tickets, optionally only one tier, organization (a Zendesk id, or "unmapped") or level."""
    # Nearest breach first; tickets without a running clock (paused, breached) after, newest level first.
    query = select(Ticket).where(Ticket.status.in_(OPEN_STATUSES))
    if only is not None:  # a Slack digest's "and N more" link lists its tickets
        query = query.where(Ticket.id.in_(only))
    if tier is not None:
        query = query.where(Ticket.tier == tier)
    if level is not None:
        query = query.where(Ticket.level == level)
    if organization == "unmapped":
        mapped = [org.zendesk_id for org in mappings.organizations]
        query = query.where(or_(Ticket.organization_id.is_(None), Ticket.organization_id.not_in(mapped)))
    elif organization is not None:
        query = query.where(Ticket.organization_id == organization)
    rows = session.scalars(query.order_by(Ticket.nearest_due_at.is_(None), Ticket.nearest_due_at, Ticket.level.desc(),
                                     Ticket.id).limit(limit)).all()
    names = {org.zendesk_id: org.name or str(org.zendesk_id) for org in mappings.organizations}
    return [{
        "id": t.id, "subject": t.subject, "organization": names.get(t.organization_id, "unmapped"),
        "tier": t.tier, "priority": t.priority, "state": ticket_state(t, now),
        "nearest_due": t.nearest_due_at.isoformat() if t.nearest_due_at else None,
        "level": t.level, "owner": _owner(mappings, t.level),
    } for t in rows]


def compliance_this_month(session: Session, now: dt.datetime) -> list[dict]:
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    rows = session.execute(select(Ticket.tier, Ticket.first_response_state, Ticket.resolution_state)
                           .where(Ticket.created_at >= start)).all()
    tiers: dict[str, dict] = {}
    for tier, first, resolution in rows:
        entry = tiers.setdefault(tier or "unknown", {"tier": tier or "unknown", "tickets": 0,
                                                     "first_response": [0, 0], "resolution": [0, 0]})
        entry["tickets"] += 1
        for key, state in (("first_response", first), ("resolution", resolution)):
            if state in ("met", "breached"):
                entry[key][0] += state == "met"
                entry[key][1] += 1
    return [{**e, "first_response": _percent(*e["first_response"]), "resolution": _percent(*e["resolution"])}
            for e in sorted(tiers.values(), key=lambda e: e["tier"])]


def recent_escalations(session: Session, mappings: Mappings, limit: int = 20) -> list[dict]:
    rows = session.scalars(select(AuditEntry).where(AuditEntry.change.is_not(None))
                           .order_by(AuditEntry.id.desc()).limit(limit * 5)).all()
    found = []
    for entry in rows:
        level = (entry.change or {}).get("level")
        if level and level[1] and level[1] > (level[0] or 1):  # a new ticket at level 1 is no escalation
            found.append({"ticket_id": entry.ticket_id, "at": entry.at.isoformat(), "from": level[0],
                          "to": level[1], "owner": _owner(mappings, level[1]), "reason": entry.reason})
    return found[:limit]


def troubled_actions(session: Session, now: dt.datetime, limit: int = 50) -> list[dict]:
    stuck = (OutboxAction.status == "pending") & (OutboxAction.created_at < now - STUCK_AFTER)
    rows = session.scalars(select(OutboxAction).where(or_(OutboxAction.status == "failed", stuck))
                           .order_by(OutboxAction.id.desc()).limit(limit)).all()
    return [{"id": r.id, "target": r.target, "kind": r.kind, "ticket_id": r.ticket_id, "status": r.status,
             "attempts": r.attempts, "error": r.last_error, "created_at": r.created_at.isoformat()} for r in rows]


def outbox_depth(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(OutboxAction).where(OutboxAction.status == "pending"))


def dashboard(session: Session, mappings: Mappings, now: dt.datetime, only: tuple[int, ...] | None = None) -> dict:
    return {"now": now.isoformat(), "open_tickets": open_tickets(session, mappings, now, only=only),
            "compliance": compliance_this_month(session, now),
            "escalations": recent_escalations(session, mappings),
            "troubled_actions": troubled_actions(session, now), "outbox_depth": outbox_depth(session)}


def _owner(mappings: Mappings, level: int) -> str:
    levels = mappings.escalation.levels
    return levels[min(level, len(levels)) - 1].role if levels else "?"


def _percent(met: int, decided: int) -> float | None:
    value = percent(met, decided)
    return None if value is None else float(value)  # JSON for the page; the value is already rounded
