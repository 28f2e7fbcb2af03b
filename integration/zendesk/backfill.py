"""`escalator backfill`: every unsolved Zendesk ticket through the normal decision path, resumably.

Source: the cursor-based incremental ticket export (`GET /api/v2/incremental/tickets/cursor.json`,
`start_time=0` first, then `cursor=`), chosen over search because its cursor encodes a position in
the stream (time + id) and never expires, so a run killed hours ago continues where it stopped; the
Export Search Results cursor expires after an hour and plain search stops at 1,000 results. The
export returns solved and closed tickets too: unsolved ones are decided, and so are solved/closed
ones Escalator already tracks (a ticket solved while the service was down stops its clock). A
ticket changed during the run comes back later in the stream and is decided again.

Per ticket this reads one thing: its comments with their authors side-loaded
(`comments.json?include=users`). The ticket itself and its requester come with the export page
(`include=users`), and every user seen is remembered for the run, so the 3+ calls of
`read_snapshot` (ticket, requester, comments, each new author) become one. The resulting
TicketSignal is the one read_snapshot builds (a test checks) and goes through Ingestor.ingest with
source "backfill" and dedup key `backfill:<id>:<updated_at>`: running it again changes nothing.

After each page the export cursor is stored in `backfill_progress` (migration 0002) in its own
transaction, so a rerun continues at the first page not finished; tickets of the interrupted page
that were already recorded are skipped before any call. A 429 waits Retry-After and goes on.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Iterable

from sqlalchemy import (BigInteger, Column, Integer, MetaData, String, Table, Text, delete, insert, inspect,
                        select, update)
from sqlalchemy.orm import Session, sessionmaker

from integration.storage.decisions import Ingestor, utcnow
from integration.core.signals import Comment, TicketSignal
from integration.core.statuses import OPEN_STATUSES, SOLVED_STATUSES
from integration.storage.models import InboxEvent, Ticket, UtcDateTime
from integration.zendesk.json_api import ZendeskApiError, ZendeskJson
from integration.zendesk.payloads import parse_time
from integration.zendesk.snapshot import AGENT_ROLES

STREAM = "zendesk_tickets"
SOURCE = "backfill"
EXPORT = "incremental/tickets/cursor.json"

# Not in models.Base (that file belongs to the core schema); created by migration 0002.
PROGRESS = Table(
    "backfill_progress", MetaData(),
    Column("name", String(32), primary_key=True),
    Column("cursor", Text),  # the export's after_cursor of the last finished page; NULL: start_time=0
    Column("pages", Integer, nullable=False),
    Column("tickets_read", BigInteger, nullable=False),
    Column("tickets_ingested", BigInteger, nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("completed_at", UtcDateTime),
)


@dataclass
class Progress:
    cursor: str | None = None
    pages: int = 0
    tickets_read: int = 0
    tickets_ingested: int = 0
    started_at: dt.datetime | None = None
    completed_at: dt.datetime | None = None


class ProgressStore:
    def __init__(self, sessions: sessionmaker[Session], name: str = STREAM) -> None:
        self.sessions, self.name = sessions, name

    def exists(self) -> bool:
        with self.sessions() as session:
            return inspect(session.get_bind()).has_table(PROGRESS.name)

    def load(self) -> Progress | None:
        with self.sessions() as session:
            row = session.execute(select(PROGRESS).where(PROGRESS.c.name == self.name)).mappings().first()
        if row is None:
            return None
        return Progress(row["cursor"], row["pages"], row["tickets_read"], row["tickets_ingested"],
                        row["started_at"], row["completed_at"])

    def save(self, progress: Progress, now: dt.datetime) -> None:
        values = {"cursor": progress.cursor, "pages": progress.pages, "tickets_read": progress.tickets_read,
                  "tickets_ingested": progress.tickets_ingested, "started_at": progress.started_at or now,
                  "updated_at": now, "completed_at": progress.completed_at}
        with self.sessions.begin() as session:
            done = session.execute(update(PROGRESS).where(PROGRESS.c.name == self.name).values(**values))
            if done.rowcount == 0:
                session.execute(insert(PROGRESS).values(name=self.name, **values))

    def clear(self) -> None:
        with self.sessions.begin() as session:
            session.execute(delete(PROGRESS).where(PROGRESS.c.name == self.name))


def signal_from_export(ticket: dict, users: dict[int, dict], comments: Iterable[dict], *,
                       source_key: str) -> TicketSignal:
    """The TicketSignal read_snapshot would build, from an exported ticket, its comments and known users."""
    requester = users.get(ticket.get("requester_id"))
    rating = ticket.get("satisfaction_rating")
    return TicketSignal(
        ticket_id=ticket["id"], kind="snapshot", at=parse_time(ticket["updated_at"], "ticket.updated_at"),
        created_at=parse_time(ticket["created_at"], "ticket.created_at"),
        status=ticket["status"], zendesk_priority=ticket.get("priority") or "",
        organization_id=ticket.get("organization_id"), organization_known=True,
        requester_email=((requester.get("email") or "").lower() or None) if requester is not None else None,
        subject=ticket.get("subject") or "", description=ticket.get("description") or "",
        comments=tuple(Comment(at=parse_time(c["created_at"], "comment.created_at"), public=bool(c.get("public")),
                               by_agent=(users.get(c.get("author_id")) or {}).get("role") in AGENT_ROLES)
                       for c in comments),
        tags=tuple(ticket.get("tags") or ()),
        satisfaction=rating.get("score") if isinstance(rating, dict) else None,
        authoritative=True, source_key=source_key,
    )


def dedup_key(ticket: dict) -> str:
    return f"{SOURCE}:{ticket['id']}:{ticket['updated_at']}"


@dataclass
class Summary:
    resumed_from: str = "start"  # start | interrupted run | completed run (changes since)
    pages: int = 0  # pages read by this run
    tickets_read: int = 0
    outcomes: Counter = field(default_factory=Counter)  # applied, unchanged, duplicate, skipped, …


class Backfill:
    def __init__(self, api: ZendeskJson, ingestor: Ingestor, sessions: sessionmaker[Session], *, batch: int = 1000,
                 now: Callable[[], dt.datetime] = utcnow, read_ahead: int = 4,
                 on_page: Callable[[Progress, Summary, int], None] = lambda progress, summary, read: None) -> None:
        self.api, self.ingestor, self.sessions = api, ingestor, sessions
        self.batch, self.now, self.on_page, self.read_ahead = batch, now, on_page, read_ahead
        self.store = ProgressStore(sessions)
        self.users: dict[int, dict] = {}

    def total_hint(self) -> int | None:
        """Zendesk's (approximate) ticket count: the length of the export, for a progress bar."""
        try:
            return int(self.api.get("tickets/count.json")["count"]["value"])
        except (ZendeskApiError, KeyError, TypeError, ValueError):
            return None

    def run(self, *, restart: bool = False) -> Summary:
        if restart:
            self.store.clear()
        progress = self.store.load()
        summary = Summary()
        if progress is None:
            progress = Progress(started_at=self.now())
        else:
            summary.resumed_from = "completed run (changes since)" if progress.completed_at else "interrupted run"
            progress.completed_at = None
        while True:
            params = {"per_page": self.batch, "include": "users", "exclude_deleted": "true"}
            params |= {"cursor": progress.cursor} if progress.cursor else {"start_time": 0}
            page = self.api.get(EXPORT, **params)
            tickets = page.get("tickets") or []
            self._remember(page.get("users"))
            ingested = self._page(tickets, summary)
            progress.pages += 1
            progress.tickets_read += len(tickets)
            progress.tickets_ingested += ingested
            progress.cursor = page.get("after_cursor") or progress.cursor
            end = bool(page.get("end_of_stream")) or not tickets
            if end:
                progress.completed_at = self.now()
            self.store.save(progress, self.now())
            summary.pages += 1
            summary.tickets_read += len(tickets)
            self.on_page(progress, summary, len(tickets))
            if end:
                return summary

    def _remember(self, users: list[dict] | None) -> None:
        for user in users or ():
            self.users[user["id"]] = {"role": user.get("role"), "email": user.get("email")}

    def _page(self, tickets: list[dict], summary: Summary) -> int:
        solved = [t["id"] for t in tickets if t.get("status") in SOLVED_STATUSES]
        with self.sessions() as session:
            known = set(session.scalars(select(Ticket.id).where(Ticket.id.in_(solved)))) if solved else set()
            keys = [dedup_key(t) for t in tickets]
            seen = set(session.scalars(select(InboxEvent.dedup_key).where(
                InboxEvent.source == SOURCE, InboxEvent.dedup_key.in_(keys)))) if keys else set()
        wanted = [t for t in tickets if t.get("status") in OPEN_STATUSES or t["id"] in known]
        todo = [t for t in wanted if dedup_key(t) not in seen]
        if len(todo) < len(wanted):  # decided by a run that was interrupted on this page: not read again
            summary.outcomes["duplicate"] += len(wanted) - len(todo)
        # Comments are read ahead on a few threads while this one decides, in the export's order.
        with ThreadPoolExecutor(max_workers=self.read_ahead, thread_name_prefix="backfill-read") as pool:
            try:
                reads = [pool.submit(self._comments, t["id"]) for t in todo]
                return self._decide(todo, reads, summary)
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)
                raise

    def _decide(self, tickets: list[dict], reads: list[Future], summary: Summary) -> int:
        ingested = 0
        for ticket, read in zip(tickets, reads):
            key = dedup_key(ticket)
            comments = read.result()
            if comments is None:
                summary.outcomes["skipped (deleted in Zendesk)"] += 1
                continue
            for user_id in {ticket.get("requester_id")} | {c.get("author_id") for c in comments}:
                self._user(user_id)
            signal = signal_from_export(ticket, self.users, comments, source_key=key)
            result = self.ingestor.ingest(source=SOURCE, dedup_key=key, event_type="snapshot",
                                          payload={"ticket_id": ticket["id"], "updated_at": ticket["updated_at"]},
                                          signal=signal)
            summary.outcomes[result.outcome] += 1
            ingested += 1
        return ingested

    def _comments(self, ticket_id: int) -> list[dict] | None:
        comments: list[dict] = []
        try:
            page = self.api.get(f"tickets/{ticket_id}/comments.json", include="users", **{"page[size]": 100})
            while True:
                comments.extend(page.get("comments") or [])
                self._remember(page.get("users"))
                following = (page.get("links") or {}).get("next")
                if not (page.get("meta") or {}).get("has_more") or not following:
                    return comments
                page = self.api.get(following)
        except ZendeskApiError as error:
            if error.status == 404:
                return None
            raise

    def _user(self, user_id: int | None) -> None:
        if user_id is None or user_id in self.users:
            return
        try:
            self._remember([self.api.get(f"users/{user_id}.json")["user"]])
        except ZendeskApiError as error:
            if error.status != 404:
                raise
            self.users[user_id] = {"role": None, "email": None}  # a deleted user: an end user for the clock
