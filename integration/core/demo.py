"""Sample Zendesk events for `escalator demo`: pure (mappings and `now` in, webhook bodies out).

Each sample ticket belongs to an organization of the mappings (one per tier that has one, plus an
unmapped organization for `default`) and was created "in the past" by just the right amount of its
own calendar's open time, so that when it arrives some tickets are on track, some warned (80%), some
breach a minute later, some breached long ago (escalated), some answered and some paused. Bodies use
Zendesk's event-subscription shape (`zen:event-type:ticket.*`), which the service applies without an
API read, so the demo works in dry-run. Sending and signing are the CLI's business.
"""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from integration.core.clock_policy import policy_for
from integration.core.customers import Customer, match_customer
from integration.core.priority_rules import settle_priority
from integration.core.sla.calendar import BusinessClock
from integration.core.sla.ticket import Policy
from integration.mappings.model import Mappings

UNMAPPED_ORGANIZATION_ID = 369999999999  # not in any organizations.yaml: gets the `default` entry
ZENDESK_PRIORITIES = ("urgent", "high", "normal", "low")
NAMESPACE = uuid.UUID("6f1c1f4e-2d1b-4f55-9a3e-5d0c7e0de300")
LATE_BY = dt.timedelta(seconds=40)  # "breaches within a minute": this much of the target is left


@dataclass(frozen=True)
class Scenario:
    name: str
    target: str  # which target the elapsed time is measured against: first_response | resolution
    fraction: float  # of that target used up when the ticket arrives (ignored for "breaches soon")
    replied: bool = False  # a public agent reply arrives (first response met)
    pending: bool = False  # then the ticket waits on the customer (resolution paused)


SCENARIOS = (
    Scenario("first response breached", "first_response", 1.5),
    Scenario("warning", "first_response", 0.9),
    Scenario("breaches within a minute", "first_response", 1.0),
    Scenario("on track", "first_response", 0.25),
    Scenario("resolution breached", "resolution", 1.2),
    Scenario("answered", "first_response", 0.6, replied=True),
    Scenario("waiting on the customer", "first_response", 0.6, replied=True, pending=True),
)
SUBJECTS = {
    "urgent": ("Checkout returns 502 for every customer", "All payments are failing since the deploy."),
    "high": ("CSV export stopped working", "Exports hang at 99% for all of our admins."),
    "normal": ("Dashboard widget shows stale numbers", "The revenue widget lags a day; refreshing helps."),
    "low": ("How do I rename a workspace?", "Looking for the setting to rename our workspace."),
}


@dataclass(frozen=True)
class SampleTicket:
    ticket_id: int
    organization_id: int
    organization: str  # name for people, "(unmapped → default)" for the default entry
    tier: str
    zendesk_priority: str
    priority: str  # ours, as the service will settle it
    scenario: str
    subject: str
    description: str
    created_at: dt.datetime
    replied_at: dt.datetime | None
    pending_at: dt.datetime | None


@dataclass(frozen=True)
class SampleEvent:
    ticket_id: int
    type: str  # ticket.created | ticket.comment_added | ticket.status_changed
    body: dict  # the webhook body, as Zendesk would send it


@dataclass(frozen=True)
class DemoPlan:
    tickets: tuple[SampleTicket, ...]
    events: tuple[SampleEvent, ...]  # in sending order
    tiers_without_organization: tuple[str, ...]  # tiers no sample can reach with these mappings


def build_plan(mappings: Mappings, now: dt.datetime, *, count: int, first_id: int) -> DemoPlan:
    if count < 1:
        raise ValueError("count must be at least 1")
    customers = _customers(mappings)
    tickets = tuple(_sample(mappings, now, customers, i, first_id + i) for i in range(count))
    events = tuple(event for ticket in tickets for event in events_for(ticket, now))
    reachable = {customer.tier for _, customer in customers}
    return DemoPlan(tickets, events, tuple(t for t in mappings.tiers if t not in reachable))


def _customers(mappings: Mappings) -> list[tuple[str, Customer]]:
    """One organization per tier (the first listed), then the default entry through an unmapped id."""
    chosen: dict[str, tuple[str, Customer]] = {}
    for org in mappings.organizations:
        if org.tier not in chosen:
            name = org.name or f"organization {org.zendesk_id}"
            chosen[org.tier] = (name, match_customer(mappings, organization_id=org.zendesk_id))
    ordered = [chosen[tier] for tier in mappings.tiers if tier in chosen]
    return ordered + [("(unmapped → default)", match_customer(mappings, organization_id=None))]


def _sample(mappings: Mappings, now: dt.datetime, customers: list[tuple[str, Customer]], i: int,
            ticket_id: int) -> SampleTicket:
    scenario = SCENARIOS[i % len(SCENARIOS)]
    zendesk_priority = ZENDESK_PRIORITIES[i % len(ZENDESK_PRIORITIES)]
    subject, description = SUBJECTS[zendesk_priority]
    priority = settle_priority(mappings.priority, zendesk_priority=zendesk_priority, subject=subject,
                               description=description).priority
    name, customer = customers[i % len(customers)]
    policy = policy_for(mappings, customer, priority)
    if scenario.name == "breaches within a minute" and not policy.clock.is_open(now):
        # Only a running clock can breach in the next minute: take a customer whose clock runs now.
        for name, customer in customers:
            policy = policy_for(mappings, customer, priority)
            if policy.clock.is_open(now):
                break
    created = created_for(policy, scenario, now)
    replied = _after(policy.clock, created, policy.first_response * 0.5) if scenario.replied else None
    pending = replied + dt.timedelta(minutes=1) if replied and scenario.pending else None
    org_id = customer.organization.zendesk_id if customer.organization else UNMAPPED_ORGANIZATION_ID
    return SampleTicket(ticket_id, org_id, name, customer.tier, zendesk_priority, priority.value, scenario.name,
                        subject, description, created, replied, pending)


def created_for(policy: Policy, scenario: Scenario, now: dt.datetime) -> dt.datetime:
    """The creation instant at which `scenario.fraction` of the target's open time is used up by `now`."""
    length = policy.first_response if scenario.target == "first_response" else policy.resolution
    wanted = length - LATE_BY if scenario.name == "breaches within a minute" else length * scenario.fraction
    return before(policy.clock, now, wanted)


def before(clock: BusinessClock, now: dt.datetime, open_time: dt.timedelta) -> dt.datetime:
    """The latest instant from which `open_time` of the clock's open time has passed by `now` (to the second)."""
    if clock.always_open:
        return (now - open_time).replace(microsecond=0)
    early = now - max(open_time, dt.timedelta(hours=1))
    while clock.elapsed(early, now) < open_time:
        early -= now - early  # double the window until it holds enough open time
    late = now
    while late - early > dt.timedelta(seconds=1):
        middle = early + (late - early) / 2
        if clock.elapsed(middle, now) >= open_time:
            early = middle
        else:
            late = middle
    return early.replace(microsecond=0)


def _after(clock: BusinessClock, start: dt.datetime, open_time: dt.timedelta) -> dt.datetime:
    return clock.add(start, open_time).replace(microsecond=0)


def events_for(ticket: SampleTicket, now: dt.datetime) -> list[SampleEvent]:
    events = [_event(ticket, "created", ticket.created_at, "NEW", {})]
    if ticket.replied_at:
        comment = {"comment": {"id": str(ticket.ticket_id * 10 + 1), "is_public": True,
                               "body": "Thanks for the report, we are on it and will update you shortly.",
                               "author": {"id": "900101", "is_staff": True, "name": "Ana Agent"}}}
        events.append(_event(ticket, "comment_added", ticket.replied_at, "OPEN", comment))
    if ticket.pending_at:
        events.append(_event(ticket, "status_changed", ticket.pending_at, "PENDING",
                             {"current": "PENDING", "previous": "OPEN"}))
    return [e for e in events if e.body["time"] <= _iso(now)]


def _event(ticket: SampleTicket, kind: str, at: dt.datetime, status: str, event: dict) -> SampleEvent:
    detail = {
        "id": str(ticket.ticket_id), "created_at": _iso(ticket.created_at), "updated_at": _iso(at),
        "status": status, "priority": ticket.zendesk_priority.upper(), "organization_id": str(ticket.organization_id),
        "subject": ticket.subject, "description": ticket.description, "tags": ["escalator_demo"],
        "type": "INCIDENT" if ticket.zendesk_priority == "urgent" else "QUESTION",
        "requester_id": "2001", "via": {"channel": "web_form"},
    }
    body = {
        "account_id": 10441986, "detail": detail, "event": event,
        "id": str(uuid.uuid5(NAMESPACE, f"{ticket.ticket_id}:{kind}:{_iso(at)}")),
        "subject": f"zen:ticket:{ticket.ticket_id}", "time": _iso(at),
        "type": f"zen:event-type:ticket.{kind}", "zendesk_event_version": "2022-11-06",
    }
    return SampleEvent(ticket.ticket_id, f"ticket.{kind}", body)


def _iso(at: dt.datetime) -> str:
    return at.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
