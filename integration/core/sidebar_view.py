"""What the Zendesk sidebar app shows an agent about one ticket (pure: state, mappings and now in, JSON out).

The app renders it and keeps the countdowns live from `due`; everything here is as of `now`, which the
answer carries so the app can tell how old it is.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from integration.core.customers import match_customer
from integration.core.decide import settle
from integration.core.explain import TRIGGERS, iso_utc
from integration.core.history import StatusRow
from integration.core.matrix import TRIGGER_WORDS
from integration.core.sla.ticket import Target
from integration.core.sla_summary import SlaSummary, TargetSummary
from integration.core.statuses import SOLVED_STATUSES
from integration.core.state import TicketState
from integration.mappings.model import Mappings

LABELS = {"first_response": "First response", "resolution": "Resolution"}
SOURCES = {"zendesk": "Zendesk priority field", "keyword": "keyword rule", "default": "tier default"}


def agent_state(sla: SlaSummary, now: dt.datetime) -> str:
    """on track | warning | breached | paused | met, as agents think of a ticket (the dashboard's words too)."""
    entries = [sla.first_response, sla.resolution]
    states = [entry.state for entry in entries]
    if "breached" in states:
        return "breached"
    running = [entry for entry in entries if entry.state == "running"]
    if any(entry.warning and entry.warning <= now for entry in running):
        return "warning"
    if not running and "paused" in states:
        return "paused"
    if states and all(state == "met" for state in states):
        return "met"
    return "on track"


def target_state(entry: TargetSummary, now: dt.datetime) -> str:
    if entry.state == "running":
        return "warning" if entry.warning and entry.warning <= now else "on track"
    return entry.state or "unknown"


@dataclass(frozen=True)
class Commitment:
    """Something promised on the ticket besides the SLA targets (a CSAT follow-up, a customer told of a step)."""

    kind: str
    text: str
    at: dt.datetime | None = None

    def to_json(self) -> dict:
        return {"kind": self.kind, "text": self.text, "at": iso_utc(self.at)}


def ticket_view(mappings: Mappings, state: TicketState, now: dt.datetime,
                commitments: tuple[Commitment, ...] = ()) -> dict:
    customer = match_customer(mappings, organization_id=state.organization_id,
                              requester_email=state.requester_email)
    priority = settle(mappings, state, customer)
    tier = mappings.tiers.get(state.tier or "")
    pause_statuses = tier.pause_statuses if tier else frozenset({"pending", "hold"})
    org = customer.organization
    return {
        "ticket_id": state.id,
        "subject": state.subject,
        "status": state.status,
        "now": iso_utc(now),
        "tier": state.tier,
        "priority": state.priority,
        "priority_source": "VIP requester" if priority.vip else SOURCES.get(priority.source, priority.source),
        "priority_reason": state.priority_reason,
        "organization": {"name": (org.name if org else None) or ("unmapped" if org is None else str(org.zendesk_id)),
                         "timezone": customer.timezone},
        "state": agent_state(state.sla, now),
        "targets": [_target(name, state.sla[name_enum], now, state, pause_statuses)
                    for name, name_enum in _targets(state.sla)],
        "warning_ratio": mappings.escalation.warning_ratio,
        "level": state.level,
        "owner": _owner(mappings, state.level),
        "steps": [_step(step) for step in state.escalation.steps],
        "acknowledge": _acknowledge(mappings, state),
        "commitments": [c.to_json() for c in commitments],
    }


def _targets(sla: SlaSummary):
    return [(t.value, t) for t in Target if sla[t].state is not None]


def _target(name: str, entry: TargetSummary, now: dt.datetime, state: TicketState, pause_statuses) -> dict:
    shown = target_state(entry, now)
    return {
        "target": name, "label": LABELS.get(name, name), "state": shown,
        "due": iso_utc(entry.due), "warning": iso_utc(entry.warning), "breached_at": iso_utc(entry.breached_at),
        "breached_by_seconds": _breached_by(entry, now, state.status) if shown == "breached" else None,
        "paused_since": iso_utc(_paused_since(state, pause_statuses)) if shown == "paused" else None,
        "target_seconds": entry.target_seconds, "elapsed_seconds": entry.elapsed_seconds,
    }


def _breached_by(entry: TargetSummary, now: dt.datetime, status: str) -> int | None:
    # An open ticket keeps running late by the wall clock; a solved one stopped where its clock stopped.
    if entry.due is not None and status not in SOLVED_STATUSES:
        return max(0, int((now - entry.due).total_seconds()))
    if entry.target_seconds:
        return max(0, entry.elapsed_seconds - entry.target_seconds)
    return None


def _paused_since(state: TicketState, pause_statuses) -> dt.datetime | None:
    """The start of the current run of pause statuses (pending then hold is one pause)."""
    since = None
    for row in sorted((r for r in state.history if isinstance(r, StatusRow)), key=lambda r: r.at):
        if row.status in pause_statuses:
            since = since or row.at
        else:
            since = None
    return since


def _owner(mappings: Mappings, level: int) -> dict:
    levels = mappings.escalation.levels
    if not levels:
        return {"level": level, "role": "?", "zendesk_group_id": None, "zendesk_assignee_id": None}
    owner = levels[min(level, len(levels)) - 1]
    return {"level": level, "role": owner.role, "why": TRIGGERS.get(level, "escalated from the level below"),
            "zendesk_group_id": owner.zendesk_group_id, "zendesk_assignee_id": owner.zendesk_assignee_id}


def _step(step) -> dict:
    return {"level": step.level, "owner": step.owner, "at": iso_utc(step.at),
            "why": [f"{TRIGGER_WORDS.get(t.kind, t.kind)}: {t.detail}" for t in step.triggers]
            or [TRIGGERS.get(step.level, "")],
            "acknowledged_at": iso_utc(step.acknowledged_at), "acknowledged_by": step.acknowledged_by,
            "reminders": step.reminders}


def _acknowledge(mappings: Mappings, state: TicketState) -> dict | None:
    """The current step, while nobody has acknowledged it (level 1 is the ticket arriving: nothing to take)."""
    last = state.escalation.last_step
    if last is None or last.acknowledged_at is not None or last.level != state.level or state.level < 2:
        return None
    return {"level": last.level, "owner": last.owner}
