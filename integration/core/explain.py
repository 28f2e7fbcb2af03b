"""What the service would decide for a ticket, in plain JSON, so admins can check a mapping edit."""
from __future__ import annotations

import datetime as dt

from integration.core.clock_policy import policy_for
from integration.core.customers import match_customer
from integration.core.decide import apply_signal, decide, settle
from integration.core.signals import TicketSignal
from integration.core.sla.ticket import Target
from integration.core.state import TicketState
from integration.mappings.model import Mappings

TRIGGERS = {
    1: "ticket created",
    2: "first-response target breached",
    3: "resolution target breached",
    4: "customer dissatisfied (CSAT bad or below 4, or an escalation request)",
    5: "executive complaint",
}


def iso_utc(instant: dt.datetime | None) -> str | None:
    if instant is None:
        return None
    return instant.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def explain_ticket(
    mappings: Mappings,
    *,
    organization_id: int | None,
    zendesk_priority: str | None,
    created_at: dt.datetime,
    now: dt.datetime,
    subject: str = "",
    requester_email: str | None = None,
) -> dict:
    """decide() on a new ticket read from Zendesk with these fields: the answer is the service's own."""
    signal = TicketSignal(ticket_id=0, kind="snapshot", at=created_at, created_at=created_at, status="new",
                          zendesk_priority=zendesk_priority, organization_id=organization_id,
                          organization_known=True, requester_email=requester_email, subject=subject,
                          authoritative=True)
    state = decide(mappings, None, signal, now).state
    # decide writes the settled priority back to Zendesk; where it came from is judged on the ticket as read.
    read = apply_signal(TicketState(id=signal.ticket_id, created_at=created_at), signal, created_at)
    customer = match_customer(mappings, organization_id=read.organization_id, requester_email=read.requester_email)
    decision = settle(mappings, read, customer)
    tier = mappings.tiers[state.tier]
    calendar_name = tier.calendar_for(decision.priority)
    first, resolution = state.sla[Target.FIRST_RESPONSE], state.sla[Target.RESOLUTION]
    return {
        "organization": _organization(customer),
        "tier": state.tier,
        "priority": state.priority,
        "priority_source": decision.source,
        "priority_reason": state.priority_reason,
        "calendar": calendar_name,
        "calendar_runs_on_holidays": not mappings.calendars[calendar_name].closes_on_holidays,
        "timezone": customer.timezone,
        "holidays": _holidays(customer),
        "created_at": iso_utc(created_at),
        "first_response_target": tier.first_response[decision.priority].text,
        "resolution_target": tier.resolution[decision.priority].text,
        "first_response_due": iso_utc(first.due),
        "resolution_due": iso_utc(resolution.due),
        "first_response_warning": iso_utc(first.warning),
        "resolution_warning": iso_utc(resolution.warning),
        "resolution_starts": tier.resolution_starts,
        **_resolution_from_first_response(mappings, customer, decision.priority, tier, first.due),
        "warning_ratio": mappings.escalation.warning_ratio,
        "state_now": {"now": iso_utc(now), "first_response": first.state, "resolution": resolution.state},
        "escalation_path": _escalation_path(mappings, first.due, resolution.due),
        "mappings_fingerprint": mappings.fingerprint,
    }


def _resolution_from_first_response(mappings, customer, priority, tier, first_due) -> dict:
    """With resolution_starts: first_response the resolution due waits for the reply; show it for a reply at due."""
    if tier.resolution_starts != "first_response" or first_due is None:
        return {}
    policy = policy_for(mappings, customer, priority)
    return {"resolution_due_if_answered_at_first_response_due": iso_utc(policy.clock.add(first_due, policy.resolution))}


def _organization(customer) -> dict:
    org = customer.organization
    return {
        "zendesk_id": org.zendesk_id if org else None,
        "name": org.name if org else None,
        "matched_by": customer.matched_by,
        "slack_channel_id": customer.slack_channel_id,
    }


def _holidays(customer) -> dict:
    return {
        "country": customer.holiday_country,
        "subdivision": customer.holiday_subdivision,
        "extra_closed_dates": sorted(d.isoformat() for d in customer.closed_dates),
    }


def _escalation_path(mappings: Mappings, first_due, resolution_due) -> list[dict]:
    at = {2: iso_utc(first_due), 3: iso_utc(resolution_due)}
    path = []
    for owner in mappings.escalation.levels:
        path.append({
            "level": owner.level,
            "owner": owner.role,
            "reached_when": TRIGGERS.get(owner.level, "escalated from the level below"),
            "at": at.get(owner.level),
            "zendesk_group_id": owner.zendesk_group_id,
            "zendesk_assignee_id": owner.zendesk_assignee_id,
            "customer_told": owner.customer_visible,
        })
    return path
