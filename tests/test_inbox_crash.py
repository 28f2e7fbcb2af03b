"""A real `escalator worker` killed with SIGKILL between claiming a queued webhook and deciding it: the event
stays queued, and the restarted worker decides it once."""
import datetime as dt
import os
import signal
import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from integration.core.signals import TicketSignal
from integration.storage.models import AuditEntry, InboxEvent
from tests.fakes.zendesk import fake_zendesk  # noqa: F401  (pytest fixture)
from tests.harness import Clock, build_stack, fixture_body, mappings_for_tests, start_worker_process, wait_for

UTC = dt.timezone.utc
CREATED = dt.datetime(2026, 3, 2, 14, 5, 31, tzinfo=UTC)


def start_worker(env):
    return start_worker_process(env)


def queued_row(stack):
    with stack.services.sessions() as session:
        return session.scalars(select(InboxEvent).where(InboxEvent.source == "zendesk")).one()


class TicketHeld:
    """Another transaction holds ticket 35436 (PostgreSQL: its row; SQLite: the one write lock), so the worker
    stops inside its decision: after the claim on PostgreSQL, at the claim on SQLite."""

    def __init__(self, database: str) -> None:
        self.database = database

    def __enter__(self):
        if self.database.startswith("sqlite"):
            self.connection = sqlite3.connect(self.database.split("///", 1)[1], isolation_level=None)
            self.connection.execute("BEGIN IMMEDIATE")
        else:
            self.engine = create_engine(self.database)
            self.connection = self.engine.connect()
            self.connection.execute(text("SELECT id FROM tickets WHERE id = 35436 FOR UPDATE"))
        return self

    def worker_is_waiting(self) -> bool:
        if self.database.startswith("sqlite"):
            time.sleep(1.5)  # the worker's claim is queued behind our write lock by then
            return True
        with self.engine.connect() as probe:
            return bool(probe.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                          "AND wait_event_type = 'Lock' AND query ILIKE '%tickets%'")))

    def __exit__(self, *exc):
        if self.database.startswith("sqlite"):
            self.connection.execute("ROLLBACK")
            self.connection.close()
        else:
            self.connection.rollback()
            self.connection.close()
            self.engine.dispose()


def thread_niceness(pid: int) -> set[int]:
    """The nice value of each of a process's threads (field 19 of /proc/<pid>/task/<tid>/stat)."""
    values = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        stat = (task / "stat").read_text()
        values.add(int(stat[stat.rfind(")") + 2:].split()[16]))
    return values


@pytest.mark.slow  # subprocesses and a SIGKILL; tests/test_inbox_queue.py covers the rules in-process
def test_sigkill_between_claim_and_decision_then_restart_decides_once(database, tmp_path, fake_zendesk):
    mappings = mappings_for_tests(tmp_path)
    stack = build_stack(database, mappings, fake_zendesk, Clock(dt.datetime(2026, 3, 2, 14, 33, tzinfo=UTC)))
    seed = TicketSignal(ticket_id=35436, kind="snapshot", at=CREATED, created_at=CREATED, status="open",
                        zendesk_priority="urgent", organization_id=1001, organization_known=True, authoritative=True,
                        source_key="seed")
    assert stack.services.ingestor.ingest(source="worker", dedup_key="seed", event_type="snapshot", payload={},
                                          signal=seed).outcome == "applied"
    assert stack.post(fixture_body("ticket_status_changed")).json["outcome"] == "queued"
    env = {**{k: v for k, v in os.environ.items() if k != "DELIVERY_NICE"}, **fake_zendesk.env,
           "DATABASE_URL": database, "MAPPINGS_DIR": str(mappings), "ZENDESK_WEBHOOK_SECRET": "x",
           "INBOX_POLL_SECONDS": "0.1"}
    with TicketHeld(database) as held:
        first = start_worker(env)
        try:
            assert wait_for(held.worker_is_waiting), "the worker never reached the decision"
            os.kill(first.pid, signal.SIGKILL)
            first.wait(timeout=10)
        finally:
            first.kill()
    row = queued_row(stack)
    assert (row.outcome, row.decide_after is not None, row.decided_at) == ("queued", True, None)
    second = start_worker(env)
    try:
        assert wait_for(lambda: queued_row(stack).decided_at is not None), "the restarted worker did not decide it"
        # DELIVERY_NICE (10 by default): the delivery loop's thread is lower, the deciding thread is not.
        assert thread_niceness(second.pid) == {os.nice(0), min(os.nice(0) + 10, 19)}
        time.sleep(1.0)  # a few more rounds: nothing is decided again
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=10)
    row = queued_row(stack)
    assert (row.outcome, row.decide_after, row.attempts) == ("applied", None, 0)
    with stack.services.sessions() as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)
                              .where(AuditEntry.inbox_event_id == row.id)) == 1
    stack.services.engine.dispose()
