"""The decision on a ticket event: pure function of (mappings, stored state, signal, now)."""
from __future__ import annotations

import datetime as dt
from dataclasses import replace

from integration.core import compaction
from integration.core import history as rows
from integration.core import timeline
from integration.core.customers import Customer, match_customer
from integration.core.csat_follow_up import TIMER_KIND as FOLLOW_UP_TIMER
from integration.core.exclusions import current_exclusion, with_exclusion
from integration.core.context import Context
from integration.core.steps import plan_escalation
from integration.mappings.model import Mappings
from integration.core.notes import sla_note
from integration.core.customer_views import csat_prompt
from integration.core.priority_rules import PriorityDecision, settle_priority
from integration.core.signals import TicketSignal
from integration.core.sla.priority import Priority
from integration.core.sla_summary import SlaSummary
from integration.core.sla.ticket import State, Target, TargetStatus, compute_sla
from integration.core.statuses import SOLVED_STATUSES
from integration.core.state import LANE_ESCALATION, LANE_SLA, Action, Decision, TicketState, TimerSpec
from integration.core.withdraw import Correction, withdraw_unearned
from integration.core.zendesk_update import DesiredUpdate, desired_update, fetch_action

# Signals raised here (timers, Slack) about tickets we must already know: never a reason to read Zendesk.
LOCAL_KINDS = ("tick", "acknowledge", "escalation_request", "csat")
# Fields whose change is an "SLA change" for agents: each one gets exactly one internal note.
TAGS_AT = "tags_written_at"  # in TicketState.written: when we last changed the ticket's tags
PRIORITY_AT = "priority_written_at"  # ... and its priority
NOTED = ("tier", "priority", "first_response_due", "resolution_due", "resolution_paused", "excluded")


def decide(mappings: Mappings, state: TicketState | None, signal: TicketSignal, now: dt.datetime,
           ctx: Context = Context()) -> Decision:
    if state is None and signal.kind in LOCAL_KINDS:
        return Decision("ignored", f"ticket {signal.ticket_id} is not known")
    if state is None and not signal.authoritative:
        return Decision("refresh", "new ticket: reading its authoritative state from Zendesk",
                        actions=(fetch_action(signal.ticket_id, signal.source_key),))
    base = state or TicketState(id=signal.ticket_id, created_at=signal.created_at)
    at = max(timeline.second(signal.at or now), base.created_at)
    applied = apply_signal(base, signal, at)
    problem = timeline.status_contradiction(list(base.history), signal.transition, at) if state else None
    if signal.timeline is not None:
        applied = timeline.rebuild(mappings, applied, signal)
    applied = with_exclusion(mappings, applied, at)
    customer = match_customer(mappings, organization_id=applied.organization_id,
                              requester_email=applied.requester_email)
    compaction.require_fit(base, mappings, customer, _placed(signal, at, base.created_at), now)
    priority = settle(mappings, applied, customer)
    applied = _with_policy(applied, at, customer.tier, priority)
    if signal.timeline is None:
        placed, policy_problem = timeline.place_policy(mappings, applied, signal, at)
        applied, problem = replace(applied, history=placed), problem or policy_problem
    sla = _clock(mappings, customer, applied, now)
    applied, correction = withdraw_unearned(mappings, applied, customer, sla, ctx.ticket_url(applied.id), now)
    if correction is not None and correction.priority is not None:
        applied, sla = _lowered(mappings, applied, customer, correction.priority, now)
    decision = _finish(mappings, ctx, state, applied, customer, sla, signal, now, correction)
    decision = replace(decision, state=compaction.compact(mappings, customer, decision.state, now))
    return _read_audits(decision, signal, problem) if problem else decision


def _placed(signal: TicketSignal, at: dt.datetime, created_at: dt.datetime) -> list[dt.datetime]:
    """The instants the signal may put rows at (an audit log rewrites them all: from creation)."""
    if signal.timeline is not None:
        return [created_at]
    return [at] + [max(timeline.second(comment.at), created_at) for comment in signal.comments]


def _lowered(mappings: Mappings, state: TicketState, customer: Customer, priority: Priority,
             now: dt.datetime) -> tuple[TicketState, dict[Target, TargetStatus]]:
    """A withdrawn step's priority raise undone from now on: settled as if Zendesk held `priority` (the update
    that follows writes it), and the clock recomputed with it."""
    zendesk = mappings.priority.priority_to_zendesk[priority]
    lowered = _with_policy(state, now, customer.tier, settle(mappings, replace(state, zendesk_priority=zendesk), customer))
    return lowered, _clock(mappings, customer, lowered, now)


def _clock(mappings: Mappings, customer: Customer, state: TicketState, now: dt.datetime) -> dict[Target, TargetStatus]:
    return compute_sla(rows.to_clock_history(mappings, customer, state.created_at, list(state.history),
                                             state.checkpoint), now, mappings.escalation.warning_ratio)


def _read_audits(decision: Decision, signal: TicketSignal, problem: str) -> Decision:
    """Events that contradict our history (or leave a gap in it): Zendesk's audit log decides."""
    read = fetch_action(signal.ticket_id, f"{signal.source_key}:audits")
    return replace(decision, actions=decision.actions + (read,),
                   detail=f"{decision.detail}; reading the audit log: {problem}")


def apply_signal(state: TicketState, signal: TicketSignal, at: dt.datetime) -> TicketState:
    """Fold an event into the state. Events can arrive out of order: each is placed at its own instant
    (see integration.core.timeline), and the ticket's field snapshot only moves forward in time."""
    at = max(at, state.created_at)
    history = list(state.history)
    exact = signal.transition is not None and signal.transition.field == "status"
    if signal.status is not None and signal.timeline is None and \
            (exact or signal.status != rows.status_at(history, at)):
        row = rows.status_row(at, signal.status)
        if row not in history:
            history.append(row)
    for comment in signal.comments if signal.timeline is None else ():
        row = rows.comment_row(max(timeline.second(comment.at), state.created_at), comment.public, comment.by_agent)
        history = timeline.with_comment(history, row)
    changes: dict = {"history": tuple(history), "status": rows.status_at(history, None)}
    fields = _snapshot_fields(signal, state.written)
    if fields and (state.observed_at is None or at >= state.observed_at or signal.authoritative):
        changes |= fields | {"observed_at": max(at, state.observed_at or at)}
    return replace(state, **changes)


def _snapshot_fields(signal: TicketSignal, written: dict) -> dict:
    changes = {name: getattr(signal, name) for name in ("requester_email", "subject", "description")
               if getattr(signal, name) is not None}
    if signal.zendesk_priority is not None and _after_our_write(signal, written, PRIORITY_AT):
        changes["zendesk_priority"] = signal.zendesk_priority
    if signal.organization_known or signal.authoritative:
        changes["organization_id"] = signal.organization_id
    if signal.tags is not None and _after_our_write(signal, written, TAGS_AT):
        changes["tags"] = tuple(signal.tags)
    return changes


def _after_our_write(signal: TicketSignal, written: dict, key: str) -> bool:
    """An event from before we last wrote a field does not tell its value (our write is newer)."""
    return signal.authoritative or key not in written or signal.at is None or \
        signal.at >= rows.parse_iso(written[key])


def settle(mappings: Mappings, state: TicketState, customer: Customer) -> PriorityDecision:
    vips = customer.organization.vip_requesters if customer.organization else ()
    return settle_priority(mappings.priority, zendesk_priority=state.zendesk_priority, subject=state.subject,
                           description=state.description, requester_email=state.requester_email,
                           extra_vips=vips)


def _with_policy(state: TicketState, at: dt.datetime, tier: str, decision: PriorityDecision) -> TicketState:
    history = list(state.history)
    current = rows.current_policy(history)
    if current != (tier, decision.priority):
        # The first policy holds from creation; a later change holds from the event that caused it (never
        # before the latest row: an event's own instant is placed by timeline.place_policy).
        latest = max((r.at for r in rows.policies(history)), default=state.created_at)
        since = state.created_at if current is None else max(at, latest, state.created_at)
        history.append(rows.policy_row(since, tier, decision.priority))
    return replace(state, history=tuple(history), tier=tier, priority=decision.priority.value,
                   priority_reason=decision.reason)


def _finish(mappings: Mappings, ctx: Context, before: TicketState | None, after: TicketState, customer: Customer,
            sla: dict[Target, TargetStatus], signal: TicketSignal, now: dt.datetime,
            correction: Correction | None = None) -> Decision:
    after = replace(after, sla=SlaSummary.of(sla), mappings_fingerprint=mappings.fingerprint)
    plan = plan_escalation(mappings, ctx, after, customer, sla, signal, now)
    after = replace(after, level=plan.level, escalation=plan.escalation)
    update = desired_update(mappings, after, sla).with_owner(plan.zendesk, mappings)
    if correction is not None:
        update = _with_correction(update, correction)
    old_noted = _noted_values(before) if before else {}
    noted = _noted_values(after)
    change = _diff(before, after, update, old_noted, noted)
    timers = timers_for(sla, now) + ((TimerSpec("renotify", plan.renotify_at),) if plan.renotify_at else ()) + \
        ((TimerSpec(FOLLOW_UP_TIMER, plan.follow_up_due),) if plan.follow_up_due else ())
    if not change:
        return Decision("unchanged", "nothing to change", state=after, timers=timers)
    version = (before.version if before else 0) + 1
    # The tags and priority we write are newer than any earlier event's: remember when, so such an event cannot undo them.
    written_at = {TAGS_AT: rows.iso(now)} if update.additional_tags or update.remove_tags else {}
    written_at |= {PRIORITY_AT: rows.iso(now)} if update.priority else {}
    after = replace(after, version=version, zendesk_priority=update.priority or after.zendesk_priority,
                    tags=update.tags_after(after.tags), written={**after.written, **update.written, **written_at})
    note = "\n\n".join(filter(None, [
        sla_note(mappings, after, customer, sla, old_noted, noted) if noted != old_noted else None,
        correction.note if correction else None, plan.note]))
    lane = LANE_ESCALATION if plan.zendesk or correction else LANE_SLA
    actions = ((_update_action(after, update, note, lane),) if update.has_changes or note else ()) + \
        tuple(correction.slack if correction else ()) + tuple(plan.slack) + \
        _csat_prompt(mappings, before, after, customer)
    return Decision("applied", _reason(before, signal), state=after, actions=actions, change=change, timers=timers,
                    drop=correction.drop if correction else ())


def _with_correction(update: DesiredUpdate, correction: Correction) -> DesiredUpdate:
    removed = set(update.remove_tags) | set(correction.zendesk["remove_tags"])
    return replace(update, remove_tags=tuple(sorted(removed)),
                   additional_tags=tuple(t for t in update.additional_tags if t not in removed))


def _csat_prompt(mappings: Mappings, before: TicketState | None, after: TicketState,
                 customer: Customer) -> tuple[Action, ...]:
    """Customers with a Slack channel rate a ticket there when it becomes solved."""
    solved_now = after.status == "solved" and (before is None or before.status not in SOLVED_STATUSES)
    channel = customer.slack_channel_id
    if not solved_now or not channel or not mappings.tiers[after.tier].slack_channel:
        return ()
    message = csat_prompt(after.id, after.subject)
    return (Action("slack", "post_message", {"ticket_id": after.id, "channel": channel, **message},
                   f"csat-prompt-{after.id}-v{after.version}"),)


def _noted_values(state: TicketState) -> dict:
    first, resolution = state.sla.first_response, state.sla.resolution
    return {
        "tier": state.tier,
        "priority": state.priority,
        "first_response_due": rows.iso(first.due) if first.due else None,
        "resolution_due": rows.iso(resolution.due) if resolution.due else None,
        "resolution_paused": resolution.state == State.PAUSED.value,
        "excluded": getattr(current_exclusion(state.history), "reason", None),
    }


def _diff(before, after, update, old_noted, noted) -> dict:
    change = {k: [old_noted.get(k), noted[k]] for k in NOTED if old_noted.get(k) != noted[k]}
    for name in ("status", "organization_id", "level", "escalation"):
        old = getattr(before, name) if before else None
        if old != getattr(after, name):
            change[name] = [old, getattr(after, name)]
    if update.has_changes:
        change["zendesk_update"] = [None, update.api_fields()]
    return change


def _update_action(state: TicketState, update: DesiredUpdate, note: str | None, lane: int) -> Action:
    marker = f"esc-{state.id}-v{state.version}"
    payload = update.api_fields() | {"ticket_id": state.id}
    if note:
        payload["note"] = f"{note}\n\n(ref {marker})"
        payload["marker"] = marker
    return Action("zendesk", "update_ticket", payload, marker, lane)


def timers_for(sla: dict[Target, TargetStatus], now: dt.datetime) -> tuple[TimerSpec, ...]:
    specs = []
    for target, status in sla.items():
        if status.state is State.RUNNING and status.due is not None:
            specs.append(TimerSpec(f"{target.value}_warning", status.warning))
            specs.append(TimerSpec(f"{target.value}_breach", status.due))
    return tuple(specs)


def _reason(before: TicketState | None, signal: TicketSignal) -> str:
    origin = "API read" if signal.authoritative else f"webhook '{signal.kind}'"
    return f"{'new ticket' if before is None else 'ticket changed'} ({origin})"
