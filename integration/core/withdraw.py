"""Escalations a corrected history shows were never earned: withdrawn, said so once, kept in the record.

A late or corrected event (or the audit log) can show that a breach we acted on never happened. The
level reached only because of it goes back to the highest level some standing reason still holds;
the step stays in the escalation record, marked withdrawn; its `escalation_level_N` tag goes; one
internal note says why; and the owner who was told of the escalation is told of the correction, once.
The step's Slack posts still waiting in the outbox are dropped, and the correction goes only where a post
may have arrived (nobody is told to disregard a message they never got). A priority the step raised goes
back to where the standing reasons put it.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

from integration.core.customers import Customer
from integration.core.escalation_record import StepRecord
from integration.core.matrix import TRIGGER_WORDS
from integration.core.sla.priority import Priority
from integration.core.sla.ticket import State, Target, TargetStatus
from integration.core.steps import step_post_keys
from integration.core.state import Action, TicketState
from integration.mappings.model import Mappings

BREACH_KINDS = {"first_response_breached": Target.FIRST_RESPONSE, "resolution_breached": Target.RESOLUTION}


@dataclass
class Correction:
    level: int
    zendesk: dict = field(default_factory=dict)  # remove_tags
    note: str | None = None
    slack: list[Action] = field(default_factory=list)
    drop: tuple[str, ...] = ()  # the withdrawn steps' posts: dropped if still unsent
    priority: Priority | None = None  # the priority the ticket goes back to, when a withdrawn step raised it


def _holds(step: StepRecord, sla: dict[Target, TargetStatus]) -> bool:
    if not step.triggers:
        return True
    return any(t.kind not in BREACH_KINDS or sla[BREACH_KINDS[t.kind]].state is State.BREACHED for t in step.triggers)


def withdraw_unearned(mappings: Mappings, state: TicketState, customer: Customer, sla: dict[Target, TargetStatus],
                      url: str, now: dt.datetime) -> tuple[TicketState, Correction | None]:
    standing = [s for s in state.escalation.steps if s.withdrawn_at is None]
    if state.level <= 1 or not standing:
        return state, None
    earned = max((s.level for s in standing if _holds(s, sla)), default=1)
    if earned >= state.level:
        return state, None
    gone = [s for s in standing if s.level > earned]
    why = "; ".join(sorted({f"{TRIGGER_WORDS[t.kind]} did not happen" for s in gone for t in s.triggers
                            if t.kind in BREACH_KINDS}))
    record = state.escalation.withdrawn(earned, now, why)
    owner = mappings.escalation.owner(earned)
    correction = Correction(level=earned, zendesk={"remove_tags": sorted({f"escalation_level_{s.level}" for s in gone})},
                            priority=priority_back(state, [s for s in standing if s.level <= earned], gone))
    lowered = (f" Its priority goes back to {correction.priority.value} (the escalation had raised it)."
               if correction.priority else "")
    correction.note = (f"Correction by Escalator: {why} — Zendesk's history, with every event at its own "
                       f"instant, shows it. The escalation to " + ", ".join(
                           f"level {s.level} ({s.owner}) at {s.at.astimezone(dt.timezone.utc):%Y-%m-%d %H:%M} UTC"
                           for s in gone) + f" is withdrawn; the ticket is back at level {earned}, {owner.role}."
                       f"{lowered} The earlier note stays for the record.")
    for step in gone:
        posts = step_post_keys(mappings, customer, state.id, state.tier, state.escalation, step)
        correction.drop += tuple(key for keys in posts.values() for key in keys)
        correction.slack += _told_otherwise(state.id, step, why, url, posts, customer.slack_channel_id)
    return replace(state, escalation=record, level=earned), correction


def priority_back(state: TicketState, standing: list[StepRecord], gone: list[StepRecord]) -> Priority | None:
    """What the ticket's priority goes back to when withdrawn steps had raised it: where it was before the first
    of them raised it, or the highest raise a standing step made. None when no withdrawn step raised it, or when
    the ticket no longer holds the raise (someone set the priority since: theirs stands)."""
    raises = [s for s in gone if s.raised_to]
    if not raises or state.priority != max((Priority(s.raised_to) for s in raises), key=lambda p: p.rank).value:
        return None
    kept = [Priority(s.raised_to) for s in standing if s.raised_to]
    return max([Priority(raises[0].raised_from), *kept], key=lambda p: p.rank)


def _told_otherwise(ticket_id: int, step: StepRecord, why: str, url: str, posts: dict[str, tuple[str, ...]],
                    customer_channel: str | None) -> list[Action]:
    """The correction, to each staff channel the step was posted to; sent only where a post may have arrived."""
    text = (f"Correction: ticket #{ticket_id} was escalated to level {step.level} ({step.owner}) at "
            f"{step.at.astimezone(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, but {why}. The escalation is "
            f"withdrawn; nothing is needed from you.")
    message = {"text": text, "blocks": [{"type": "section", "text": {
        "type": "mrkdwn", "text": f":leftwards_arrow_with_hook: {text.replace(f'#{ticket_id}', f'<{url}|#{ticket_id}>', 1)}"}}]}
    return [Action("slack", "post_message", {"ticket_id": ticket_id, "channel": channel, **message},
                   f"slack-{ticket_id}-L{step.level}-withdrawn-{step.at.isoformat()}-{channel}", retracts=keys)
            for channel, keys in posts.items() if channel != customer_channel]
