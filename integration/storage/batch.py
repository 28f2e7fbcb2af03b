"""Writing the decisions of many tickets together: the worker's batches (timers due at once, queued events).

Per statement kind, not per ticket: the ticket rows and their timers flushed together (the ORM sends them as
executemany), one SELECT of the Zendesk updates still queued for these tickets (a new update merges into
one, as `repo.enqueue` does), one INSERT for every new outbox row and one for the audit entries. A storm of
1,000 breaches is then some 25 statements a batch of 40 tickets instead of ten a ticket. If anything here
fails, the caller rolls the batch back and writes it again a ticket at a time (each in its savepoint), so
that one bad ticket only fails itself.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from integration.core.state import Action, Decision
from integration.core.zendesk_update import merge_updates
from integration.storage import repo
from integration.storage.inbox import INBOX
from integration.storage.models import AuditEntry, OutboxAction, Timer
from integration.storage.outbox import WITHDRAWN, drop_unsent, may_have_arrived

AUDIT = AuditEntry.__table__


@dataclass
class TicketBatch:
    """One ticket's decisions in a batch, in the order they were taken (inbox id None for a timer)."""

    ticket_id: int | None  # None: a decision with no state (a read to make), its actions name their ticket
    decided: list[tuple[int | None, Decision]] = field(default_factory=list)


def save_decision(session: Session, decision: Decision, *, inbox_id: int | None, now: dt.datetime) -> None:
    """One decision (an API read, a timer's fall-back, an admin's reset): a batch of one."""
    save_batch(session, [TicketBatch(decision.state.id if decision.state is not None else None,
                                     [(inbox_id, decision)])], now)


def save_batch(session: Session, batch: list[TicketBatch], now: dt.datetime,
               decided_at: dt.datetime | None = None) -> None:
    """With `decided_at`, the batch's inbox events were queued: the same UPDATE that records their outcomes takes
    them off the queue, at that instant."""
    tickets = [t for t in batch if any(d.state is not None for _, d in t.decided)]
    with session.no_autoflush:  # else each ticket not yet loaded would flush the rows before it, one by one
        for ticket in tickets:
            repo.save_state(session, [d.state for _, d in ticket.decided if d.state is not None][-1], now)
    session.flush()  # the ticket rows first: new tickets' timers and outbox rows refer to them
    outbox = _Outbox(session, [t.ticket_id for t in tickets], now)
    audits, outcomes, timers = [], [], []
    with session.no_autoflush:
        for ticket in batch:
            timed = max((i for i, (_, d) in enumerate(ticket.decided) if d.timers is not None), default=None)
            for i, (inbox_id, decision) in enumerate(ticket.decided):
                _consequences(session, outbox, replace(decision, timers=decision.timers if i == timed else None),
                              ticket.ticket_id, now, timers)
                if decision.change:
                    audits.append(_audit_row(decision, inbox_id, now))
                if inbox_id is not None:
                    outcomes.append({"row_id": inbox_id, "outcome": decision.outcome, "detail": decision.detail})
    session.flush()
    outbox.insert()
    if timers:
        session.execute(insert(Timer.__table__), timers)
    if audits:
        session.execute(insert(AUDIT), audits)
    if outcomes:
        dequeued = {"decide_after": None, "decided_at": decided_at} if decided_at is not None else {}
        session.execute(update(INBOX).where(INBOX.c.id == bindparam("row_id"))
                        .values(outcome=bindparam("outcome"), detail=bindparam("detail"), **dequeued), outcomes)


def _consequences(session: Session, outbox: _Outbox, decision: Decision, ticket_id: int, now: dt.datetime,
                  timers: list[dict]) -> None:
    if decision.state is not None:
        if "level" in decision.change and not repo.newly_breached(decision):
            repo.drop_stale_warnings(session, decision.state, now)
        if decision.timers is not None:
            repo.replace_timers(session, decision.state, decision.timers, new=timers)
    outbox.drop(decision.drop)
    for action in decision.actions:
        if not action.retracts or may_have_arrived(session, action.retracts):  # this batch's own rows: unsent
            outbox.add(action, ticket_id)


def _audit_row(decision: Decision, inbox_id: int | None, now: dt.datetime) -> dict:
    state = decision.state
    return {"ticket_id": state.id, "at": now, "inbox_event_id": inbox_id, "change": repo.jsonable(decision.change),
            "reason": decision.detail, "mappings_fingerprint": state.mappings_fingerprint}


# Each ticket's Zendesk update still waiting unattempted (built once; the ticket ids bound per batch).
_QUEUED_UPDATES = (select(OutboxAction).where(
    OutboxAction.target == "zendesk", OutboxAction.kind == "update_ticket",
    OutboxAction.ticket_id.in_(bindparam("ids", expanding=True)), OutboxAction.status == "pending",
    OutboxAction.attempts == 0, OutboxAction.claim_token.is_(None))
    .order_by(OutboxAction.id).with_for_update(skip_locked=True))


class _Outbox:
    """The batch's new outbox rows, with each ticket's Zendesk update merged into the one already queued."""

    def __init__(self, session: Session, ticket_ids: list[int], now: dt.datetime) -> None:
        self.session, self.now = session, now
        self.rows: dict[str, dict] = {}  # idempotency key -> new row
        self.queued: dict[int, OutboxAction | dict] = {}  # ticket -> its update waiting unattempted
        if ticket_ids:
            for row in session.scalars(_QUEUED_UPDATES, {"ids": ticket_ids}):
                self.queued[row.ticket_id] = row  # the newest one wins, as in repo._merge_into_queued

    def add(self, action: Action, ticket_id: int | None) -> None:
        repo.refuse_unstorable(action)
        action = repo.addressed(self.session, action, ticket_id)
        if action is None or action.idempotency_key in self.rows:
            return
        if action.kind == "update_ticket" and ticket_id is not None and ticket_id in self.queued:
            self._merge(self.queued[ticket_id], action)
            return
        row = {"ticket_id": ticket_id if ticket_id is not None else action.payload.get("ticket_id"),
               "target": action.target, "kind": action.kind, "payload": action.payload, "lane": action.lane,
               "expires_at": action.expires_at, "idempotency_key": action.idempotency_key, "status": "pending",
               "attempts": 0, "next_attempt_at": self.now, "created_at": self.now, "last_error": "", "done_at": None}
        self.rows[action.idempotency_key] = row
        if action.kind == "update_ticket" and ticket_id is not None:
            self.queued[ticket_id] = row

    def drop(self, keys: tuple[str, ...]) -> None:
        """Posts of a withdrawn escalation still unsent: dropped, whether queued before or in this batch."""
        for key in keys:
            if key in self.rows and self.rows[key]["status"] == "pending":
                self.rows[key] |= {"status": "dropped", "done_at": self.now, "last_error": f"dropped: {WITHDRAWN}"}
        drop_unsent(self.session, keys, self.now, WITHDRAWN)

    def _merge(self, row: OutboxAction | dict, action: Action) -> None:
        get = row.get if isinstance(row, dict) else lambda name: getattr(row, name)
        payload = get("payload")
        if action.idempotency_key in (get("idempotency_key"), *payload.get("merged_keys", ())):
            return
        merged = {"payload": merge_updates(payload, action.payload, action.idempotency_key),
                  "lane": min(get("lane"), action.lane), "next_attempt_at": min(get("next_attempt_at"), self.now)}
        if isinstance(row, dict):
            row.update(merged)
        else:
            for name, value in merged.items():
                setattr(row, name, value)

    def insert(self) -> None:
        if self.rows:
            self.session.execute(repo.dialect_insert(self.session, OutboxAction.__table__)
                                 .on_conflict_do_nothing(index_elements=["idempotency_key"]), list(self.rows.values()))
