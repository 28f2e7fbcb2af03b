"""Escalations a corrected history shows were never earned: withdrawn, said so once, kept in the record.

A late or corrected event (or the audit log) can show that a breach we acted on never happened. The
level reached only because of it goes back to the highest level some standing reason still holds;
the step stays in the escalation record, marked withdrawn; its `escalation_level_N` tag goes; one
internal note says why; and the owner who was told of the escalation is told of the correction, once.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

from integration.core.escalation_record import StepRecord
from integration.core.matrix import TRIGGER_WORDS
from integration.core.sla.ticket import State, Target, TargetStatus
from integration.core.state import Action, TicketState
from integration.mappings.model import Mappings

BREACH_KINDS = {"first_response_breached": Target.FIRST_RESPONSE, "resolution_breached": Target.RESOLUTION}


@dataclass
class Correction:
    level: int
    zendesk: dict = field(default_factory=dict)  # remove_tags
    note: str | None = None
    slack: list[Action] = field(default_factory=list)


def _holds(step: StepRecord, sla: dict[Target, TargetStatus]) -> bool:
    if not step.triggers:
        return True
    return any(t.kind not in BREACH_KINDS or sla[BREACH_KINDS[t.kind]].state is State.BREACHED for t in step.triggers)


def withdraw_unearned(mappings: Mappings, state: TicketState, sla: dict[Target, TargetStatus], url: str,
                      now: dt.datetime) -> tuple[TicketState, Correction | None]:
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
    correction = Correction(level=earned, zendesk={"remove_tags": sorted({f"escalation_level_{s.level}" for s in gone})})
    correction.note = (f"Correction by Escalator: {why} — Zendesk's history, with every event at its own "
                       f"instant, shows it. The escalation to " + ", ".join(
                           f"level {s.level} ({s.owner}) at {s.at.astimezone(dt.timezone.utc):%Y-%m-%d %H:%M} UTC"
                           for s in gone) + f" is withdrawn; the ticket is back at level {earned}, {owner.role}. "
                       "The earlier note stays for the record.")
    for step in gone:
        holder = mappings.escalation.owner(step.level)
        text = (f"Correction: ticket #{state.id} was escalated to level {step.level} ({step.owner}) at "
                f"{step.at.astimezone(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, but {why}. The escalation is "
                f"withdrawn; nothing is needed from you.")
        message = {"text": text, "blocks": [{"type": "section", "text": {
            "type": "mrkdwn", "text": f":leftwards_arrow_with_hook: {text.replace(f'#{state.id}', f'<{url}|#{state.id}>', 1)}"}}]}
        for channel in holder.slack_channel_ids + holder.slack_user_ids:
            correction.slack.append(Action("slack", "post_message", {"ticket_id": state.id, "channel": channel, **message},
                                           f"slack-{state.id}-L{step.level}-withdrawn-{step.at.isoformat()}-{channel}"))
    return replace(state, escalation=record, level=earned), correction
