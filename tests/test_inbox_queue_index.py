"""The worker's queue reads read the undecided events only, however many decided ones the inbox keeps: the claim
(migration 0011) and the held_back check (0012).

Before, the claim (ORDER BY id LIMIT n over decide_after IS NOT NULL) walked the primary key from the first
event ever received: 11 ms a claim with 6,600 rows kept, and growing with every webhook."""
from __future__ import annotations

import datetime as dt
from functools import partial

from alembic import command
from sqlalchemy import create_engine, insert, inspect, text

from integration.storage import inbox
from integration.storage.db import alembic_config, upgrade
from integration.storage.inbox import INBOX
from tests.db import plan_of

T0 = dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.timezone.utc)


def fill(sessions, decided: int, undecided: int, tickets: int = 50, analyze: bool = True) -> None:
    rows = [dict(source="zendesk", dedup_key=f"k{n}", event_type="ticket.status_changed", ticket_id=n % tickets + 1,
                 received_at=T0, payload={}, outcome="applied" if n < decided else "queued", detail="",
                 signal={"ticket_id": n % tickets + 1} if n >= decided else None, attempts=0,
                 decide_after=None if n < decided else T0, decided_at=T0 if n < decided else None)
            for n in range(decided + undecided)]
    with sessions.begin() as session:
        session.execute(insert(INBOX), rows)
        if analyze and session.bind.dialect.name == "postgresql":  # as autovacuum does once rows change
            session.execute(text("ANALYZE inbox_events"))


def inbox_indexes(database: str) -> set[str]:
    engine = create_engine(database)
    try:
        return {index["name"] for index in inspect(engine).get_indexes("inbox_events")}
    finally:
        engine.dispose()


def claim_plan(sessions) -> str:
    with sessions.begin() as session:
        claimed, plan = plan_of(session, lambda: inbox.claim(session, T0, 200), "inbox_events")
    assert len(claimed) == 3
    return plan


def test_a_claim_reads_the_queue_index_not_every_event_ever_received(sessions):
    fill(sessions, decided=3000, undecided=3)
    plan = claim_plan(sessions)
    assert "ix_inbox_queue" in plan, plan
    assert "inbox_events_pkey" not in plan, plan


def test_migration_0011_goes_down_and_up_again(database):
    indexes = partial(inbox_indexes, database)
    assert {"ix_inbox_queue"} <= indexes() and "ix_inbox_undecided" not in indexes()
    command.downgrade(alembic_config(database), "0010")
    assert {"ix_inbox_undecided"} <= indexes() and "ix_inbox_queue" not in indexes()
    upgrade(database)
    assert {"ix_inbox_queue"} <= indexes() and "ix_inbox_undecided" not in indexes()


def test_held_back_reads_the_queued_events_of_the_claimed_tickets_only(sessions):
    # Tickets with long histories (every event they ever had), three queued events, and no statistics yet: the
    # first minutes of a deploy, or a bench. Before migration 0012 PostgreSQL intersected the ticket index with
    # every id below the claim (6 ms a round at 9,000 events), and SQLite read each ticket's whole history.
    fill(sessions, decided=3000, undecided=3, tickets=3, analyze=False)
    with sessions.begin() as session:
        claimed = inbox.claim(session, T0, 200)
        waiting, plan = plan_of(session, lambda: inbox.held_back(session, claimed), "inbox_events")
    assert len(claimed) == 3 and waiting == set()
    assert "ix_inbox_queue_ticket" in plan, plan
    assert "inbox_events_pkey" not in plan and "ix_inbox_events_ticket_id" not in plan, plan


def test_migration_0012_goes_down_and_up_again(database):
    indexes = partial(inbox_indexes, database)
    assert "ix_inbox_queue_ticket" in indexes()
    command.downgrade(alembic_config(database), "0011")
    assert "ix_inbox_queue_ticket" not in indexes() and "ix_inbox_queue" in indexes()
    upgrade(database)
    assert "ix_inbox_queue_ticket" in indexes()


def test_a_ticket_whose_events_two_claims_split_waits_in_both(sessions):
    # Two workers claiming at once: one took events 1 and 3 of ticket 1, the other (or a retry's wait) has 2.
    fill(sessions, decided=0, undecided=6, tickets=2, analyze=False)  # ticket 1: ids 1, 3, 5; ticket 2: 2, 4, 6
    with sessions.begin() as session:
        queued = {row.id: row for row in inbox.claim(session, T0, 200)}
        assert inbox.held_back(session, [queued[1], queued[5]]) == {1}  # 3 is outside, between them
        assert inbox.held_back(session, [queued[3]]) == {1}  # 1 is outside, before it
        assert inbox.held_back(session, [queued[1], queued[2]]) == set()  # nothing older outside either claim
