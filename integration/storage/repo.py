"""Reading and writing tickets, inbox, outbox, timers and audit. One decision = one transaction."""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, replace

from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from integration.core.checkpoint import ClockCheckpoint
from integration.core.customer_views import AUDIENCE, OPENED_HERE, REQUESTER_ONLY
from integration.core.escalation_record import EscalationRecord
from integration.core.history import row_from_json, row_to_json
from integration.core.sla_summary import SlaSummary
from integration.core.sla.ticket import State, Target
from integration.core.state import Action, Decision, TicketState
from integration.core.zendesk_update import merge_updates
from integration.inbound import check_strings, storable
from integration.storage import history_archive
from integration.storage.models import CsatRating, InboxEvent, OutboxAction, SlackOrigin, Ticket, Timer

STATE_COLUMNS = ("organization_id", "requester_email", "subject", "description", "status", "zendesk_priority", "tier",
                 "priority", "priority_reason", "created_at", "written", "level", "version",
                 "mappings_fingerprint", "observed_at")


@dataclass(frozen=True)
class Recorded:
    inbox_id: int | None  # None: a duplicate delivery, already recorded


def dialect_insert(session: Session, model):
    """INSERT … ON CONFLICT DO NOTHING RETURNING id, in the database's own dialect (one statement)."""
    dialect = session.get_bind().dialect.name
    return (postgresql_insert if dialect == "postgresql" else sqlite_insert)(model)


def record_inbox(session: Session, *, source: str, dedup_key: str, event_type: str, ticket_id: int | None,
                 payload: dict, now: dt.datetime, outcome: str = "recorded", detail: str = "") -> Recorded:
    statement = dialect_insert(session, InboxEvent).values(
        source=source, dedup_key=dedup_key, event_type=event_type, ticket_id=ticket_id, received_at=now,
        payload=payload, outcome=outcome, detail=detail,
    ).on_conflict_do_nothing(index_elements=["source", "dedup_key"]).returning(InboxEvent.id)
    return Recorded(session.execute(statement).scalar_one_or_none())


def load_ticket(session: Session, ticket_id: int) -> TicketState | None:
    return load_tickets(session, [ticket_id]).get(ticket_id)


def load_tickets(session: Session, ticket_ids: list[int]) -> dict[int, TicketState]:
    return {ticket_id: state_of(row) for ticket_id, row in lock_tickets(session, ticket_ids).items()}


def lock_tickets(session: Session, ticket_ids: list[int]) -> dict[int, Ticket]:
    """The tickets' rows, locked in id order (the order every transaction takes them in)."""
    rows = session.scalars(_LOCK_TICKETS, {"ids": ticket_ids})
    kept = session.info.setdefault("escalator.tickets", {})  # the identity map holds rows only weakly
    for row in rows:
        kept[row.id] = row
    # Not there when locked: save_state adds them without asking again (a SELECT each, and an autoflush)
    session.info.setdefault("escalator.absent", set()).update(t for t in ticket_ids if t not in kept)
    return {ticket_id: kept[ticket_id] for ticket_id in ticket_ids if ticket_id in kept}


# Built once (the worker runs them every round); the ids bound per call.
_LOCK_TICKETS = (select(Ticket).where(Ticket.id.in_(bindparam("ids", expanding=True))).order_by(Ticket.id)
                 .with_for_update())
_TIMERS_OF = select(Timer).where(Timer.ticket_id.in_(bindparam("ids", expanding=True)))


def state_of(row: Ticket) -> TicketState:
    """What a decision reads: the live history and the clock checkpoint (never the archive)."""
    values = {name: getattr(row, name) for name in STATE_COLUMNS}
    return TicketState(id=row.id, history=tuple(row_from_json(r) for r in row.history), tags=tuple(row.tags),
                       sla=SlaSummary.from_json(row.sla), escalation=EscalationRecord.from_json(row.escalation),
                       checkpoint=ClockCheckpoint.from_json(row.clock_checkpoint), **values)


def save_state(session: Session, state: TicketState, now: dt.datetime) -> None:
    kept = session.info.setdefault("escalator.tickets", {})
    row = kept.get(state.id)
    if row is None and state.id not in session.info.get("escalator.absent", ()):
        row = session.get(Ticket, state.id)
    if row is None:
        row = kept[state.id] = Ticket(id=state.id)
        session.info.get("escalator.absent", set()).discard(state.id)
        session.add(row)
    write_state(row, state, now)
    if state.archived:
        session.flush()  # the ticket's row first: the archive refers to it
        history_archive.append(session, state, now)


def write_state(row: Ticket, state: TicketState, now: dt.datetime) -> None:
    for name in STATE_COLUMNS:
        setattr(row, name, getattr(state, name))
    row.history, row.tags, row.updated_at = [row_to_json(r) for r in state.history], list(state.tags), now
    row.clock_checkpoint = state.checkpoint.to_json() if state.checkpoint else None
    row.sla, row.escalation = state.sla.to_json(), state.escalation.to_json()
    row.first_response_state, row.resolution_state = state.sla.first_response.state, state.sla.resolution.state
    row.nearest_due_at = state.sla.nearest_due()


def record_rating(session: Session, state: TicketState, signal, now: dt.datetime) -> None:
    """Keep every CSAT rating for the reports: Slack scores, and Zendesk's survey when it changes."""
    if signal.csat is not None:
        session.add(CsatRating(ticket_id=state.id, organization_id=state.organization_id, source="slack",
                               score=signal.csat, rated_by=signal.actor, rated_by_team=signal.actor_team, at=now))
    elif signal.satisfaction in ("good", "bad"):
        last = session.scalars(select(CsatRating).where(CsatRating.ticket_id == state.id,
                                                        CsatRating.source == "zendesk")
                               .order_by(CsatRating.id.desc()).limit(1)).first()
        if last is None or last.zendesk_score != signal.satisfaction:
            session.add(CsatRating(ticket_id=state.id, organization_id=state.organization_id, source="zendesk",
                                   zendesk_score=signal.satisfaction, at=now))


def enqueue(session: Session, action: Action, *, ticket_id: int | None, now: dt.datetime) -> bool:
    """Add an outbox row; an action already there (same idempotency key) is not added twice, and a Zendesk
    update joins the ticket's queued one when that one has not been attempted yet."""
    refuse_unstorable(action)
    action = addressed(session, action, ticket_id)
    if action is None:
        return False
    if action.kind == "update_ticket" and ticket_id is not None and _merge_into_queued(session, action, ticket_id, now):
        return True
    statement = dialect_insert(session, OutboxAction).values(
        ticket_id=ticket_id, target=action.target, kind=action.kind, payload=action.payload, lane=action.lane,
        expires_at=action.expires_at,
        idempotency_key=action.idempotency_key, status="pending", attempts=0, next_attempt_at=now, created_at=now,
        last_error="",
    ).on_conflict_do_nothing(index_elements=["idempotency_key"]).returning(OutboxAction.id)
    return session.execute(statement).scalar_one_or_none() is not None


def newly_breached(decision: Decision) -> bool:
    update = decision.change.get("zendesk_update", [None, {}])[1] or {}
    return any(tag.startswith("sla_") and tag.endswith("_breached") for tag in update.get("additional_tags", ()))


class PoisonAction(ValueError):
    """An action whose payload could never be stored or sent: refused when built, never queued."""


def refuse_unstorable(action: Action) -> None:
    try:
        json.dumps(action.payload, ensure_ascii=False, allow_nan=False).encode("utf-8")
        check_strings(action.payload)
    except (TypeError, ValueError) as exc:
        raise PoisonAction(f"{action.target}/{action.kind} {action.idempotency_key[:60]!r}: "
                           f"payload cannot be stored ({storable(str(exc), 120)})") from None


def addressed(session: Session, action: Action, ticket_id: int | None) -> Action | None:
    """A customer-channel message for a restricted audience: addressed to its requester, or not sent at all
    when the ticket was not opened in that channel (the channel must not learn of it)."""
    audience = action.payload.get(AUDIENCE)
    if audience not in (REQUESTER_ONLY, OPENED_HERE):
        return action
    origin = session.get(SlackOrigin, ticket_id) if ticket_id is not None else None
    if origin is None or origin.channel_id != action.payload.get("channel"):
        return None
    if audience == REQUESTER_ONLY:
        if not origin.user_id:
            return None
        return replace(action, payload={**action.payload, "ephemeral_user": origin.user_id})
    return action


def _merge_into_queued(session: Session, action: Action, ticket_id: int, now: dt.datetime) -> bool:
    # Never into a row that was attempted: its note may already be on the ticket under its own marker.
    row = session.scalars(select(OutboxAction).where(
        OutboxAction.target == action.target, OutboxAction.kind == action.kind, OutboxAction.ticket_id == ticket_id,
        OutboxAction.status == "pending", OutboxAction.attempts == 0, OutboxAction.claim_token.is_(None))
        .order_by(OutboxAction.id.desc()).limit(1).with_for_update(skip_locked=True)).first()
    if row is None or action.idempotency_key in (row.idempotency_key, *row.payload.get("merged_keys", ())):
        return row is not None
    row.payload = merge_updates(row.payload, action.payload, action.idempotency_key)
    row.lane = min(row.lane, action.lane)
    row.next_attempt_at = min(row.next_attempt_at, now)
    return True


def drop_stale_warnings(session: Session, state: TicketState, now: dt.datetime) -> int:
    """Warnings still waiting to go out for a target now breached, or for a level since left, would only mislead."""
    breached = {target.value for target in Target if state.sla[target].state == State.BREACHED.value}
    if not breached and state.level <= 1:
        return 0
    rows = session.scalars(select(OutboxAction).where(
        OutboxAction.target == "slack", OutboxAction.ticket_id == state.id, OutboxAction.status == "pending",
        OutboxAction.lease_until.is_(None) | (OutboxAction.lease_until < now))
        .with_for_update(skip_locked=True)).all()  # a row a worker is claiming right now is left to it
    dropped = 0
    for row in rows:
        digest = (row.payload or {}).get("digest") or {}
        if digest.get("kind") != "warning":
            continue
        if digest.get("target") in breached:
            reason = f"dropped: the {digest['target'].replace('_', ' ')} target was breached before it was sent"
        elif state.level > digest.get("level", state.level):
            reason = f"dropped: the ticket moved to level {state.level} before it was sent"
        else:
            continue
        row.status, row.done_at, row.last_error, row.lease_until = "dropped", now, reason, None
        dropped += 1
    return dropped


def preload_timers(session: Session, ticket_ids: list[int]) -> None:
    """Read the timers of a batch of locked tickets in one query, for their decisions to replace. A ticket not
    stored yet has none (a transaction storing it meanwhile makes ours fail on its row, and the batch run again):
    its first decision asks for them no more."""
    loaded: dict[int, list[Timer]] = {ticket_id: [] for ticket_id in ticket_ids}
    for timer in session.scalars(_TIMERS_OF, {"ids": ticket_ids}) if ticket_ids else ():
        loaded[timer.ticket_id].append(timer)
    session.info["escalator.timers"] = loaded


def replace_timers(session: Session, state: TicketState, specs, new: list[dict] | None = None) -> None:
    """The ticket's timers as the decision wants them; new ones added to the session, or to `new` for the
    caller to insert in one statement with a batch's others."""
    wanted = {spec.kind: spec for spec in specs}
    preloaded = session.info.get("escalator.timers", {}).pop(state.id, None)
    rows = preloaded if preloaded is not None else session.scalars(select(Timer).where(Timer.ticket_id == state.id))
    existing = {t.kind: t for t in rows}
    for kind, timer in existing.items():
        if kind not in wanted and timer.fired_at is None:
            session.delete(timer)
    for kind, spec in wanted.items():
        timer = existing.get(kind)
        if timer is None:
            values = {"ticket_id": state.id, "kind": kind, "due_at": spec.due_at, "ticket_version": state.version}
            session.add(Timer(**values)) if new is None else new.append(values)
        elif timer.due_at != spec.due_at or timer.fired_at is None:
            if timer.due_at != spec.due_at:
                timer.fired_at = None  # a new due time is a new promise: it fires again
            timer.due_at, timer.ticket_version = spec.due_at, state.version


def jsonable(value):
    if hasattr(value, "to_json"):
        return jsonable(value.to_json())
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value
