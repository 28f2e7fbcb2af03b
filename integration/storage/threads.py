"""Tickets' Slack threads: the bindings, and recording what Zendesk or Slack says into the outbox (one transaction)."""
from __future__ import annotations

import datetime as dt
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from integration.core.state import Action
from integration.core.threads import SlackMessage, ThreadView, slack_reply_action, zendesk_event_actions
from integration.storage import inbox, repo
from integration.storage.inbox import Queued
from integration.storage.models import SlackThread

SOURCE = "thread"  # inbox rows of the mirror, apart from the SLA decisions' own


def bind(session: Session, *, ticket_id: int, organization_id: int, channel_id: str, thread_ts: str | None,
         now: dt.datetime) -> SlackThread:
    """The ticket's one active thread (a second open of the same ticket keeps the first binding)."""
    current = active(session, ticket_id)
    if current is not None:
        return current
    row = SlackThread(ticket_id=ticket_id, organization_id=organization_id, channel_id=channel_id,
                      thread_ts=thread_ts, created_at=now, ended_reason="")
    session.add(row)
    session.flush()
    return row


def active(session: Session, ticket_id: int) -> SlackThread | None:
    return session.scalars(select(SlackThread).where(SlackThread.ticket_id == ticket_id,
                                                     SlackThread.ended_at.is_(None))
                           .order_by(SlackThread.id.desc()).limit(1)).first()


def by_thread(session: Session, channel_id: str, thread_ts: str) -> SlackThread | None:
    return session.scalars(select(SlackThread).where(SlackThread.channel_id == channel_id,
                                                     SlackThread.thread_ts == thread_ts,
                                                     SlackThread.ended_at.is_(None))
                           .order_by(SlackThread.id.desc()).limit(1)).first()


def end(row: SlackThread, reason: str, now: dt.datetime) -> None:
    row.ended_at, row.ended_reason = now, reason


def view(row: SlackThread) -> ThreadView:
    return ThreadView(row.ticket_id, row.organization_id, row.channel_id, row.thread_ts, row.last_status)


class Threads:
    def __init__(self, sessions: sessionmaker[Session], now: Callable[[], dt.datetime]) -> None:
        self.sessions, self.now = sessions, now

    def thread_of(self, ticket_id: int) -> ThreadView | None:
        with self.sessions() as session:
            row = active(session, ticket_id)
            return view(row) if row else None

    def from_slack(self, dedup_key: str, message: SlackMessage, organization_id: int, envelope: dict) -> str:
        """A customer's message in a bound thread of their own organization's channel."""
        now = self.now()
        with self.sessions.begin() as session:
            row = by_thread(session, message.channel, message.thread_ts)
            if row is None or row.organization_id != organization_id:
                return "not a ticket's thread: ignored"
            recorded = repo.record_inbox(session, source="slack", dedup_key=dedup_key, event_type="thread_message",
                                         ticket_id=row.ticket_id, payload=envelope, now=now, outcome="queued")
            if recorded.inbox_id is None:
                return "duplicate"
            enqueued = repo.enqueue(session, slack_reply_action(view(row), message), ticket_id=row.ticket_id,
                                    now=now)
            return f"mirrored to ticket #{row.ticket_id}" if enqueued else "duplicate"

    def follow(self, closed_id: int, follow_up_id: int) -> None:
        """A reply to a closed ticket opened a follow-up: the thread now speaks for the follow-up."""
        now = self.now()
        with self.sessions.begin() as session:
            row = active(session, closed_id)
            if row is None:
                return
            end(row, f"closed; continued as ticket #{follow_up_id}", now)
            session.flush()
            bind(session, ticket_id=follow_up_id, organization_id=row.organization_id, channel_id=row.channel_id,
                 thread_ts=row.thread_ts, now=now)

    def mark_ours(self, comment_id: int | str, ticket_id: int) -> None:
        """A comment we created from Slack: its comment_added event must not come back to the thread."""
        with self.sessions.begin() as session:
            first_time(session, f"zc:{comment_id}", "comment_from_slack", ticket_id, self.now())

    def enqueue(self, action: Action, ticket_id: int) -> bool:
        with self.sessions.begin() as session:
            return repo.enqueue(session, action, ticket_id=ticket_id, now=self.now())


def mirror_zendesk(session: Session, dedup_key: str, event_type: str, document: dict, ticket_id: int,
                   now: dt.datetime) -> int:
    """A Zendesk event subscription body: what it means for the ticket's thread (the worker calls this as it
    decides the event, in the same transaction). Repeats change nothing."""
    row = active(session, ticket_id)
    if row is None:
        return 0
    comment = ((document.get("event") or {}).get("comment") or {}).get("id")
    keys = [dedup_key] + ([f"zc:{comment}"] if comment else [])
    if not all(first_time(session, key, event_type, ticket_id, now) for key in keys):
        return 0
    actions, status = zendesk_event_actions(event_type, document, view(row))
    for action in actions:
        repo.enqueue(session, action, ticket_id=ticket_id, now=now)
    if status == "ended":
        end(row, f"the ticket moved to organization {(document.get('detail') or {}).get('organization_id')}", now)
    elif status:
        row.last_status = status
    return len(actions)


def mirror_to_threads(session: Session, decided: list[Queued], now: dt.datetime) -> int:
    """The worker's batch of decided events: Zendesk ticket events of tickets with an active thread are mirrored
    to it (one query finds them; only their bodies are read)."""
    events = [q for q in decided if q.source == "zendesk" and q.event_type.startswith("ticket.")]
    if not events:
        return 0
    threaded = set(session.scalars(select(SlackThread.ticket_id).where(
        SlackThread.ticket_id.in_({q.ticket_id for q in events}), SlackThread.ended_at.is_(None))))
    events = [q for q in events if q.ticket_id in threaded]
    bodies = inbox.payloads(session, [q.id for q in events])
    return sum(mirror_zendesk(session, q.dedup_key, q.event_type, bodies[q.id], q.ticket_id, now) for q in events)


def first_time(session: Session, key: str, event_type: str, ticket_id: int, now: dt.datetime) -> bool:
    return repo.record_inbox(session, source=SOURCE, dedup_key=key[:128], event_type=event_type,
                             ticket_id=ticket_id, payload={}, now=now, outcome="recorded").inbox_id is not None
