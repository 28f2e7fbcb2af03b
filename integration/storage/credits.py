"""Credit requests in the database: each change, its audit entry and its Slack messages in one transaction."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from integration.core import credit_messages as texts
from integration.core.credits import (Breach, CreditError, CreditState, Eligibility, approve, changes, deny,
                                      billing_clock, investigation_due, mark_applied, organization_name,
                                      reminder_due)
from integration.core.state import Action
from integration.mappings.model import Mappings
from integration.storage import repo
from integration.storage.models import AuditEntry, CreditRequest


def state_of(row: CreditRequest) -> CreditState:
    return CreditState(id=row.id, organization_id=row.organization_id, month=row.month, status=row.status,
                       amount=None if row.amount is None else Decimal(row.amount), requested_at=row.requested_at,
                       investigation_due=row.investigation_due_at, decided_at=row.decided_at,
                       decided_by=row.decided_by, reason=row.reason, apply_due=row.apply_due_at,
                       applied_at=row.applied_at, invoice=row.invoice, reminded_at=row.reminded_at)


def _store(row: CreditRequest, state: CreditState) -> None:
    row.status, row.decided_at, row.decided_by, row.reason = state.status, state.decided_at, state.decided_by, \
        state.reason
    row.apply_due_at, row.applied_at, row.invoice, row.reminded_at = state.apply_due, state.applied_at, \
        state.invoice, state.reminded_at


def breaches_of(row: CreditRequest) -> tuple[Breach, ...]:
    return tuple(Breach.from_json(b) for b in row.breaches or ())


def find(session: Session, organization_id: int, month: str) -> CreditRequest | None:
    return session.scalars(select(CreditRequest).where(CreditRequest.organization_id == organization_id,
                                                       CreditRequest.month == month)).first()


def request_credit(sessions: sessionmaker[Session], mappings: Mappings, eligible: Eligibility, *, by: str, note: str, channel: str | None, now: dt.datetime) -> tuple[CreditState, bool]:
    """(the request, True) when recorded now; (the earlier one, False) when the month was already requested."""
    with sessions() as session:
        earlier = find(session, eligible.organization_id, eligible.month)
        if earlier is not None:
            return state_of(earlier), False
    try:
        with sessions.begin() as session:
            row = CreditRequest(organization_id=eligible.organization_id, month=eligible.month,
                                status="investigating", amount=str(eligible.amount),
                                breaches=[b.to_json() for b in eligible.breaches], note=note[:2000],
                                requested_by=by[:255], channel_id=channel, requested_at=now,
                                investigation_due_at=investigation_due(now))
            session.add(row)
            session.flush()
            state = state_of(row)
            _audit(session, state, {"status": [None, "investigating"], "amount": [None, row.amount],
                                    "breaches": [None, [b["ticket_id"] for b in row.breaches]]},
                   f"credit requested by {by}" + (f": {note[:200]}" if note else ""), now)
            message = texts.billing_request(state, organization_name(mappings, state.organization_id), eligible, note)
            _to_billing(session, mappings, message, f"credit-{state.id}-requested", now)
            return state, True
    except IntegrityError:  # a concurrent request for the same month won the unique row
        with sessions() as session:
            return state_of(find(session, eligible.organization_id, eligible.month)), False


def decide(sessions: sessionmaker[Session], mappings: Mappings, request_id: int, *, approved: bool, by: str,
           reason: str, now: dt.datetime) -> CreditState:
    def change(state: CreditState) -> CreditState:
        if approved:
            return approve(state, by, now, billing_clock(mappings, state.organization_id))
        return deny(state, by, reason, now)

    return _transition(sessions, mappings, request_id, change, now,
                       "approved" if approved else f"denied: {reason[:200]}", by)


def applied(sessions: sessionmaker[Session], mappings: Mappings, request_id: int, *, invoice: str, by: str,
            now: dt.datetime) -> CreditState:
    return _transition(sessions, mappings, request_id, lambda s: mark_applied(s, invoice, now), now,
                       f"applied on invoice {invoice[:100]}", by)


def _transition(sessions, mappings, request_id, change, now, what: str, by: str) -> CreditState:
    with sessions.begin() as session:
        row = session.scalars(select(CreditRequest).where(CreditRequest.id == request_id).with_for_update()).first()
        if row is None:
            raise CreditError(f"there is no credit request {request_id} (`escalator credits list` shows them)")
        before = state_of(row)
        after = change(before)
        _store(row, after)
        _audit(session, after, changes(before, after), f"credit {what} by {by}", now)
        name = organization_name(mappings, after.organization_id)
        if after.status == "approved":
            _to_billing(session, mappings, texts.billing_approved(after, name), f"credit-{after.id}-approved", now)
        else:
            _to_billing(session, mappings, texts.billing_note(f"Credit request #{after.id} ({name}, {after.month}) "
                                                              f"{what} by {by}."), f"credit-{after.id}-{after.status}",
                        now)
        if row.channel_id or _channel_of(mappings, after.organization_id):
            channel = row.channel_id or _channel_of(mappings, after.organization_id)
            outcome = texts.customer_outcome(after)
            repo.enqueue(session, Action("slack", "post_message", {"channel": channel, **outcome},
                                         f"credit-{after.id}-{after.status}-customer"), ticket_id=None, now=now)
        return after


def remind_overdue(sessions: sessionmaker[Session], mappings: Mappings, now: dt.datetime) -> int:
    """The worker's ticker: one reminder per overdue request per day, to billing. Returns how many."""
    with sessions.begin() as session:
        overdue = or_(and_(CreditRequest.status == "investigating", CreditRequest.investigation_due_at <= now),
                      and_(CreditRequest.status == "approved", CreditRequest.apply_due_at <= now))
        rows = session.scalars(select(CreditRequest).where(overdue).order_by(CreditRequest.id).with_for_update(skip_locked=True)).all()
        sent = 0
        for row in rows:
            state = state_of(row)
            kind = reminder_due(state, now)
            if kind is None:
                continue
            message = texts.billing_reminder(state, organization_name(mappings, state.organization_id), kind)
            _to_billing(session, mappings, message, f"credit-{state.id}-remind-{kind}-{now:%Y%m%dT%H%M}", now)
            _audit(session, state, {"reminded_at": [_iso(row.reminded_at), now.isoformat()]},
                   f"billing reminded: {'investigation' if kind == 'investigation' else 'application'} overdue", now)
            row.reminded_at = now
            sent += 1
        return sent


def list_requests(session: Session, status: str | None = None, organization_id: int | None = None,
                  month: str | None = None) -> list[CreditRequest]:
    query = select(CreditRequest)
    if status:
        query = query.where(CreditRequest.status == status)
    if organization_id is not None:
        query = query.where(CreditRequest.organization_id == organization_id)
    if month:
        query = query.where(CreditRequest.month == month)
    return list(session.scalars(query.order_by(CreditRequest.id)))


def audit_of(session: Session, request_id: int) -> list[AuditEntry]:
    rows = session.scalars(select(AuditEntry).where(AuditEntry.ticket_id.is_(None)).order_by(AuditEntry.id))
    return [r for r in rows if (r.change or {}).get("credit_request") == request_id]


def _audit(session: Session, state: CreditState, change: dict, reason: str, now: dt.datetime) -> None:
    session.add(AuditEntry(ticket_id=None, at=now, inbox_event_id=None,
                           change={"credit_request": state.id, **change}, reason=reason))


def _to_billing(session: Session, mappings: Mappings, message: dict, key: str, now: dt.datetime) -> None:
    for channel in mappings.escalation.billing_slack_channel_ids:
        repo.enqueue(session, Action("slack", "post_message", {"channel": channel, **message}, f"{key}-{channel}"),
                     ticket_id=None, now=now)


def _channel_of(mappings: Mappings, organization_id: int) -> str | None:
    org = mappings.organization_by_id(organization_id)
    return org.slack_channel_id if org else None


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()
