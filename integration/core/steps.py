"""What the escalation matrix does on one decision: the step, warnings, reminders, acknowledgements."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

from integration.core.context import Context
from integration.core.customers import Customer
from integration.core.digest import DigestItem
from integration.core.csat_follow_up import follow_up, missed_message
from integration.core.exclusions import current_exclusion
from integration.core.escalation_record import EscalationRecord, StepRecord, TriggerRecord
from integration.core.matrix import (CUSTOMER_SUCCESS_LEVEL, TRIGGER_WORDS, Step, Trigger, breach_triggers, due_warnings, manager_of,
                                    next_step, raised_priority, renotify_due)
from integration.mappings.model import Csm, Mappings, Owner
from integration.core.messages import customer_notice, escalation_message, warning_message
from integration.core.sla.priority import Priority
from integration.core.sla.ticket import State, Target, TargetStatus
from integration.core.zendesk_update import OwnerChange
from integration.core.state import LANE_ESCALATION, LANE_OTHER, Action, TicketState


@dataclass
class Plan:
    escalation: EscalationRecord
    level: int
    zendesk: OwnerChange | None = None  # a step's owner, level tag and priority raise
    note: str | None = None
    slack: list[Action] = field(default_factory=list)
    renotify_at: dt.datetime | None = None
    follow_up_due: dt.datetime | None = None  # an open CSAT follow-up: its timer


def plan_escalation(mappings: Mappings, ctx: Context, state: TicketState, customer: Customer,
                    sla: dict[Target, TargetStatus], signal, now: dt.datetime) -> Plan:
    plan = Plan(state.escalation, state.level)
    if signal.kind == "acknowledge":
        plan.escalation = plan.escalation.acknowledged(signal.ack_level, signal.actor, now)
    excluded = current_exclusion(state.history) is not None  # outside the SLA: no breach steps, no warnings
    breaches = [] if excluded else breach_triggers(sla, now)
    breaches += _follow_up(mappings, ctx, state, customer, signal, plan, now)
    step = next_step(mappings.escalation, state.level, breaches + _signal_triggers(mappings, signal), now)
    if step is not None:
        _take_step(mappings, ctx, state, customer, step, plan, now, _late_by(sla))
    if not excluded:
        _warn(mappings, ctx, state, customer, sla, plan, now)
    if signal.kind == "tick":
        _remind(mappings, ctx, state, customer, plan, now, _late_by(sla))
    every = dt.timedelta(minutes=mappings.escalation.renotify_minutes)
    plan.renotify_at = renotify_due(plan.escalation, state.status, every)
    return plan


def _follow_up(mappings, ctx, state, customer, signal, plan: Plan, now) -> list[Trigger]:
    every = dt.timedelta(seconds=mappings.escalation.csat_follow_up_seconds)
    change = follow_up(plan.escalation, signal, state.history, every, now)
    plan.escalation, plan.follow_up_due = change.record, change.timer_due
    if change.missed is None:
        return []
    up = min(state.level + 1, len(mappings.escalation.levels))
    csm = dedicated_csm(mappings, customer)
    told = _targets(mappings.escalation.owner(state.level)) + ((csm.slack_user_id,) if csm and csm.slack_user_id else ())
    message = missed_message(ticket_id=state.id, url=ctx.ticket_url(state.id), follow=change.missed, level=up)
    plan.slack += _posts(state.id, f"follow-up-missed-{change.missed.opened_at.isoformat()}",
                         tuple(dict.fromkeys(told)), message)
    due = change.missed.due.astimezone(dt.timezone.utc)
    return [Trigger("csat_follow_up_missed", f"{change.missed.rating}, reply was due {due:%Y-%m-%d %H:%M} UTC",
                    level=up)]


def _signal_triggers(mappings: Mappings, signal) -> list[Trigger]:
    triggers = []
    if signal.satisfaction == "bad":
        triggers.append(Trigger("dissatisfied", "Zendesk satisfaction rating: bad"))
    if signal.escalation_request is not None:
        kind = "executive" if signal.executive else "dissatisfied"
        triggers.append(Trigger(kind, f"escalation requested: {signal.escalation_request}", by=signal.actor))
    if signal.tags is not None and mappings.escalation.executive_tag in signal.tags:
        triggers.append(Trigger("executive", f"tag '{mappings.escalation.executive_tag}' on the ticket"))
    return triggers


def _take_step(mappings, ctx, state, customer, step: Step, plan: Plan, now, late_by: int) -> None:
    owner = step.owner
    plan.level = step.level
    plan.zendesk = _owner_fields(owner, Priority(state.priority), step.level)
    raised = plan.zendesk.raise_priority
    record = StepRecord(level=step.level, owner=owner.role, at=now, notified_at=now,
                        triggers=tuple(TriggerRecord(t.kind, t.detail, t.by) for t in step.triggers),
                        raised_from=state.priority if raised else None, raised_to=raised.value if raised else None)
    plan.escalation = plan.escalation.with_step(record)
    plan.note = _step_note(step, owner)
    csm = dedicated_csm(mappings, customer) if step.level == CUSTOMER_SUCCESS_LEVEL else None
    if csm is not None:
        plan.zendesk = replace(plan.zendesk, assignee_id=csm.zendesk_user_id)
        plan.note += f" Assigned to the organization's dedicated CSM (assignee {csm.zendesk_user_id})."
    message = escalation_message(ticket_id=state.id, url=ctx.ticket_url(state.id), subject=state.subject,
                                 organization=_org_name(customer), tier=state.tier, priority=state.priority,
                                 step=step)
    digest = _digest("step", ctx, state, customer, step.level, _why(step), late_by_seconds=late_by)
    staff, customer_channel = step_audience(mappings, customer, state.tier, step.level)
    key = step_key(plan.escalation, record)
    plan.slack += _posts(state.id, key, staff, message, digest)
    if customer_channel:
        notice = customer_notice(ticket_id=state.id, level=step.level, role=owner.role)
        plan.slack += _posts(state.id, f"{key}-customer", (customer_channel,), notice)


def step_audience(mappings: Mappings, customer: Customer, tier: str | None, level: int) -> tuple[tuple[str, ...], str | None]:
    """Who a step to `level` tells: the owner's channels (and the dedicated CSM at Customer Success), and the
    customer's channel when the owner is customer-visible and the tier has one."""
    owner = mappings.escalation.owner(level)
    csm = dedicated_csm(mappings, customer) if level == CUSTOMER_SUCCESS_LEVEL else None
    mention = (csm.slack_user_id,) if csm is not None and csm.slack_user_id else ()
    shown = owner.customer_visible and tier in mappings.tiers and mappings.tiers[tier].slack_channel
    return tuple(dict.fromkeys(_targets(owner) + mention)), (customer.slack_channel_id if shown else None) or None


def step_key(record: EscalationRecord, step: StepRecord) -> str:
    """What a step's posts are keyed by: a level reached again after a withdrawal is a new escalation, told anew."""
    again = any(s.level == step.level and s.at < step.at for s in record.steps)
    return f"L{step.level}-{step.at.isoformat()}" if again else f"L{step.level}"


def step_post_keys(mappings: Mappings, customer: Customer, ticket_id: int, tier: str | None, record: EscalationRecord,
                   step: StepRecord) -> dict[str, tuple[str, ...]]:
    """channel -> the keys of every post a step made there (the step, its reminders, the customer's notice)."""
    staff, customer_channel = step_audience(mappings, customer, tier, step.level)
    key = step_key(record, step)
    reminded = _targets(mappings.escalation.owner(step.level))
    keys = {channel: (post_key(ticket_id, key, channel),) + tuple(
        post_key(ticket_id, f"{key}-remind-{n}", channel) for n in range(1, step.reminders + 1) if channel in reminded)
        for channel in staff}
    if customer_channel:
        keys[customer_channel] = (post_key(ticket_id, f"{key}-customer", customer_channel),)
    return keys


def post_key(ticket_id: int, key: str, channel: str) -> str:
    return f"slack-{ticket_id}-{key}-{channel}"


def _owner_fields(owner: Owner, priority: Priority, level: int) -> OwnerChange:
    return OwnerChange(level_tag=f"escalation_level_{level}", group_id=owner.zendesk_group_id or None,
                       assignee_id=owner.zendesk_assignee_id or None, raise_priority=raised_priority(priority, owner))


def dedicated_csm(mappings: Mappings, customer: Customer) -> Csm | None:
    """The organization's CSM, when its tier promises one."""
    org = customer.organization
    tier = mappings.tiers.get(customer.tier)
    return org.csm if org is not None and org.csm is not None and tier is not None and tier.dedicated_csm else None


def _step_note(step: Step, owner: Owner) -> str:
    reasons = "; ".join(f"{TRIGGER_WORDS[t.kind]}: {t.detail}" + (f" (by {t.by})" if t.by else "")
                        for t in step.triggers)
    holders = [f"group {owner.zendesk_group_id}"] * bool(owner.zendesk_group_id) + \
              [f"assignee {owner.zendesk_assignee_id}"] * bool(owner.zendesk_assignee_id)
    return (f"Escalated by Escalator to level {step.level}, {owner.role}. Why: {reasons}. "
            f"Owner now: {owner.role}" + (f" ({', '.join(holders)})" if holders else "") + ".")


def _warn(mappings, ctx, state, customer, sla, plan: Plan, now) -> None:
    manager = manager_of(mappings.escalation, plan.level)
    percent = round(mappings.escalation.warning_ratio * 100)
    for target in due_warnings(sla, plan.escalation, now):
        due = sla[target].due.astimezone(dt.timezone.utc)
        plan.escalation = plan.escalation.with_warning(target, sla[target].due)
        message = warning_message(ticket_id=state.id, url=ctx.ticket_url(state.id), subject=state.subject,
                                  organization=_org_name(customer), tier=state.tier, target=target.value,
                                  due=due.strftime("%Y-%m-%d %H:%M UTC"), percent=percent,
                                  owner_role=mappings.escalation.owner(plan.level).role)
        why = f"{percent}% of the {target.value.replace('_', ' ')} target used, due {due:%Y-%m-%d %H:%M UTC}"
        digest = _digest("warning", ctx, state, customer, plan.level, why, target=target.value,
                         due_at=sla[target].due.isoformat())
        plan.slack += _posts(state.id, f"warn-{target.value}-{due.isoformat()}", _targets(manager), message, digest,
                             expires_at=sla[target].due)


def _remind(mappings, ctx, state, customer, plan: Plan, now, late_by: int) -> None:
    every = dt.timedelta(minutes=mappings.escalation.renotify_minutes)
    due = renotify_due(plan.escalation, state.status, every)
    if due is None or due > now:
        return
    plan.escalation = plan.escalation.reminded(now)
    last = plan.escalation.last_step
    owner = mappings.escalation.owner(last.level)
    step = Step(last.level, owner, tuple(Trigger(t.kind, t.detail, t.by) for t in last.triggers), now)
    message = escalation_message(ticket_id=state.id, url=ctx.ticket_url(state.id), subject=state.subject,
                                 organization=_org_name(customer), tier=state.tier, priority=state.priority,
                                 step=step, reminder=True)
    digest = _digest("reminder", ctx, state, customer, step.level, _why(step), late_by_seconds=late_by)
    plan.slack += _posts(state.id, f"{step_key(plan.escalation, last)}-remind-{last.reminders}", _targets(owner), message,
                         digest)


def _targets(owner: Owner) -> tuple[str, ...]:
    return owner.slack_channel_ids + owner.slack_user_ids


def _posts(ticket_id: int, key: str, channels: tuple[str, ...], message: dict,
           digest: DigestItem | None = None, expires_at: dt.datetime | None = None) -> list[Action]:
    extra = {"digest": digest.to_json()} if digest else {}
    lane = LANE_ESCALATION if digest is not None and digest.kind == "step" else LANE_OTHER
    return [Action("slack", "post_message", {"ticket_id": ticket_id, "channel": channel, **message, **extra},
                   post_key(ticket_id, key, channel), lane, expires_at) for channel in channels]


def _digest(kind: str, ctx, state, customer, level: int, why: str, **extra) -> DigestItem:
    return DigestItem(kind, state.id, level, state.subject, ctx.ticket_url(state.id), _org_name(customer), state.tier,
                      state.priority, why, **extra)


def _why(step: Step) -> str:
    return "; ".join(f"{TRIGGER_WORDS[t.kind]} ({t.detail})" for t in step.triggers)


def _late_by(sla: dict[Target, TargetStatus]) -> int:
    overruns = [-s.remaining.total_seconds() for s in sla.values() if s.state is State.BREACHED]
    return max(0, int(max(overruns, default=0)))


def _org_name(customer: Customer) -> str:
    org = customer.organization
    return (org.name or str(org.zendesk_id)) if org else "unmapped organization"
