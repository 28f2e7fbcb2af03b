"""Placing what an event says at the instant Zendesk says it happened, and rebuilding from the audit log.

Three kinds of statement reach a decision:
- a transition (`status_changed`, `priority_changed`, `organization_changed`): the field took this value
  at this instant. It is always recorded, even when it equals what we believed on arrival: a late event
  inserted before it later must not erase it. Its `previous` value is checked against what our history
  says held just before; a mismatch (a gap, or events that contradict each other) asks for the audit log.
- an observation (any other event's ticket values): the ticket had these values at the event's instant.
  Recorded only where our history says otherwise (the change happened at or before that instant).
- the audit log (the worker's API read): Zendesk's own record of every value and comment; it replaces
  the status, policy and comment rows up to the read.

Instants are kept to the second: the audit log has seconds, events have nanoseconds, and both must
name the same instant for the same change.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import replace

from integration.core import history as rows
from integration.core.customers import match_customer
from integration.core.history import HistoryRow, PolicyRow
from integration.core.priority_rules import settle_priority
from integration.core.signals import TicketSignal, Transition
from integration.core.sla.priority import Priority
from integration.core.state import TicketState
from integration.mappings.model import Mappings

POLICY_FIELDS = ("priority", "organization")


def second(instant: dt.datetime) -> dt.datetime:
    return instant.astimezone(dt.timezone.utc).replace(microsecond=0)


def policy_of(mappings: Mappings, state: TicketState, zendesk_priority: str | None,
              organization_id: int | None) -> tuple[str, Priority]:
    """(tier, priority) for the ticket with these Zendesk values (its subject and requester as they are now)."""
    customer = match_customer(mappings, organization_id=organization_id, requester_email=state.requester_email)
    vips = customer.organization.vip_requesters if customer.organization else ()
    decision = settle_priority(mappings.priority, zendesk_priority=zendesk_priority, subject=state.subject,
                               description=state.description, requester_email=state.requester_email,
                               extra_vips=vips)
    return customer.tier, decision.priority


def place_policy(mappings: Mappings, state: TicketState, signal: TicketSignal,
                 at: dt.datetime) -> tuple[tuple[HistoryRow, ...], str | None]:
    """The policy the event's own values give, placed at its instant; and a contradiction, if any."""
    if signal.zendesk_priority is None or not signal.organization_known or not rows.policies(state.history):
        return state.history, None
    history = list(state.history)
    want = policy_of(mappings, state, signal.zendesk_priority, signal.organization_id)
    transition = signal.transition if signal.transition and signal.transition.field in POLICY_FIELDS else None
    if transition is not None or rows.policy_at(history, at) != want:
        row = rows.policy_row(at, *want)
        if row not in history:
            history.append(row)
    problem = None
    if transition is not None and transition.previous_known:
        values = {"priority": signal.zendesk_priority, "organization": signal.organization_id,
                  transition.field: transition.previous}
        before = rows.policy_before(history, at)
        was = policy_of(mappings, state, values["priority"], values["organization"])
        if before is not None and before != was:
            problem = (f"Zendesk says the {transition.field} was {transition.previous!r} before {rows.iso(at)}, "
                       f"which gives {was[0]}/{was[1].value}; our history says {before[0]}/{before[1].value}")
    return tuple(history), problem


def status_contradiction(history: list[HistoryRow], transition: Transition | None, at: dt.datetime) -> str | None:
    if transition is None or transition.field != "status" or not transition.previous_known:
        return None
    before = rows.status_before(history, at)
    if _same_clock(before) == _same_clock(transition.previous):
        return None
    return f"Zendesk says the status was {transition.previous!r} before {rows.iso(at)}; our history says {before!r}"


def with_comment(history: list[HistoryRow], row: rows.CommentRow) -> list[HistoryRow]:
    """Only the earliest public agent reply can move a clock (it stops the first response): internal notes,
    end-user comments and later replies are not kept, so a long conversation does not grow what every
    decision reads and replays (the inbox keeps every event for audit)."""
    if not (row.public and row.by_agent):
        return history
    replies = [r for r in history if isinstance(r, rows.CommentRow) and r.public and r.by_agent]
    if replies and min(r.at for r in replies) <= row.at:
        return history
    return [r for r in history if r not in replies] + [row]


def _same_clock(status) -> object:
    # new and open differ only in assignment: a missed new -> open is no gap worth a read
    return "open" if status == "new" else status


def rebuild(mappings: Mappings, state: TicketState, signal: TicketSignal) -> TicketState:
    """The history as Zendesk's audit log tells it; rows we hold from after the log's last entry are kept."""
    timeline = signal.timeline or ()
    created = state.created_at
    last = max((second(t.at) for t in timeline), default=created)
    rebuilt: list[HistoryRow] = []
    values: dict = {"status": "new", "priority": "", "organization": None}
    policy = None
    for at in sorted({max(second(t.at), created) for t in timeline}):
        changes = [t for t in timeline if max(second(t.at), created) == at]
        for change in changes:
            values[change.field] = change.current
        if any(c.field == "status" for c in changes):
            rebuilt.append(rows.status_row(at, values["status"]))
        wanted = policy_of(mappings, state, values["priority"], values["organization"])
        if wanted != policy:
            rebuilt.append(rows.policy_row(created if policy is None else at, *wanted))
            policy = wanted
    for comment in signal.comments:
        rebuilt = with_comment(rebuilt, rows.comment_row(max(second(comment.at), created), comment.public,
                                                         comment.by_agent))
    later = [r for r in state.history if r.at > last and r not in rebuilt]
    return replace(state, history=tuple(rebuilt + later), status=rows.status_at(rebuilt + later, None))
