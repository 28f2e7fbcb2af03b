"""The inbox as a queue: webhooks are recorded, the worker decides them in batches, woken at once."""
from __future__ import annotations

import pytest

import datetime as dt
import threading
import time

from sqlalchemy import select

from integration.config import Config
from integration.core.signals import TicketSignal
from integration.services import build_services
from integration.storage.models import AuditEntry, InboxEvent, Ticket
from tests.fakes.zendesk import fake_zendesk  # noqa: F401  (pytest fixture)
from tests.harness import Clock, build_stack, fixture_body, mappings_for_tests

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
CREATED = T0 - dt.timedelta(hours=1)


def seeded(database, tmp_path, tickets=(1, 2, 3)):
    clock = Clock(T0)
    services = build_services(Config(database_url=database, mappings_dir=str(mappings_for_tests(tmp_path))), clock)
    for ticket_id in tickets:
        signal = TicketSignal(ticket_id=ticket_id, kind="snapshot", at=CREATED, created_at=CREATED, status="open",
                              zendesk_priority="normal", organization_id=1001, organization_known=True,
                              authoritative=True, source_key=f"seed-{ticket_id}")
        assert services.ingestor.ingest(source="worker", dedup_key=f"seed-{ticket_id}", event_type="snapshot",
                                        payload={}, signal=signal).outcome == "applied"
    return services, clock


def status_event(services, ticket_id: int, status: str, minutes: int, key: str):
    signal = TicketSignal(ticket_id=ticket_id, kind="status", at=CREATED + dt.timedelta(minutes=minutes),
                          status=status, source_key=key)
    return services.ingestor.record(source="zendesk", dedup_key=key, event_type="status", payload={"k": key},
                                    signal=signal)


def inbox(services):
    with services.sessions() as session:
        return {r.dedup_key: (r.outcome, r.attempts, r.decide_after is None) for r in session.scalars(
            select(InboxEvent).where(InboxEvent.source == "zendesk"))}


def test_a_batch_decides_each_ticket_once_in_order_and_a_failing_ticket_alone(database, tmp_path):
    services, clock = seeded(database, tmp_path)
    assert status_event(services, 1, "pending", 1, "a").outcome == "queued"
    assert status_event(services, 2, "pending", 1, "b").outcome == "queued"
    assert status_event(services, 1, "open", 2, "c").outcome == "queued"
    assert status_event(services, 3, "pending", 1, "d").outcome == "queued"
    assert status_event(services, 3, "pending", 1, "d").outcome == "duplicate"
    assert {k: v[0] for k, v in inbox(services).items()} == dict.fromkeys("abcd", "queued")  # nothing decided yet
    with services.sessions.begin() as session:  # a row no decision can read (say, written by a buggy version)
        stored = session.get(Ticket, 2)
        good, stored.escalation = stored.escalation, {"steps": [{"level": "two"}]}
    assert services.ingestor.decide_queued() == 4  # every claimed event tried
    rows = inbox(services)
    assert rows["a"] == rows["c"] == rows["d"] == ("applied", 0, True)
    assert rows["b"][:2] == ("queued", 1)  # rolled back alone, to be tried again after a backoff
    with services.sessions() as session:
        statuses = {t.id: t.status for t in session.scalars(select(Ticket))}
        audited = set(session.scalars(select(AuditEntry.inbox_event_id).where(AuditEntry.ticket_id == 1)))
        events = set(session.scalars(select(InboxEvent.id).where(InboxEvent.dedup_key.in_(["a", "c"]))))
        assert len(events) == 2 and events <= audited  # both of ticket 1's events audited, each under its own row
    assert statuses == {1: "open", 2: "open", 3: "pending"}  # ticket 1: pending, then open, in the order they came
    assert status_event(services, 2, "solved", 3, "e").outcome == "queued"
    assert services.ingestor.decide_queued() == 0  # "e" waits behind "b" (its ticket's events keep their order)
    assert inbox(services)["e"] == ("queued", 0, False)
    with services.sessions.begin() as session:  # mended
        session.get(Ticket, 2).escalation = good
    clock.advance(seconds=3)  # past the backoff
    assert services.ingestor.decide_queued() == 2
    rows = inbox(services)
    assert rows["b"] == ("applied", 1, True) and rows["e"][::2] == ("applied", True)
    with services.sessions() as session:
        assert session.get(Ticket, 2).status == "solved"
    assert services.ingestor.decide_queued() == 0
    services.engine.dispose()


def test_an_event_that_never_decides_is_kept_and_marked_failed(database, tmp_path):
    services, clock = seeded(database, tmp_path, tickets=(1,))
    status_event(services, 1, "pending", 1, "a")
    with services.sessions.begin() as session:
        session.get(Ticket, 1).escalation = {"steps": [{"level": "two"}]}
    for _ in range(5):
        services.ingestor.decide_queued()
        clock.advance(seconds=60)
    assert inbox(services)["a"] == ("failed", 5, True)
    with services.sessions() as session:
        row = session.scalars(select(InboxEvent).where(InboxEvent.dedup_key == "a")).one()
        assert row.payload == {"k": "a"} and row.signal["status"] == "pending" and row.detail
    services.engine.dispose()


def run_worker(stack):
    stop = threading.Event()
    thread = threading.Thread(target=stack.worker.run_forever, args=(stop,), daemon=True)
    thread.start()
    return stop, thread


def decided_within(services, seconds: float) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        with services.sessions() as session:
            if session.scalar(select(InboxEvent.outcome).where(InboxEvent.source == "zendesk")) == "refresh":
                return time.monotonic() - started
        time.sleep(0.005)
    return None


@pytest.mark.slow  # real time or a real browser/process: .ci/run runs it
def test_the_worker_in_the_serving_process_is_woken_at_once(database, tmp_path, fake_zendesk):
    # A 30 s poll: only the wake-up can make the decision come fast.
    stack = build_stack(database, mappings_for_tests(tmp_path), fake_zendesk, Clock(T0), inbox_poll_seconds=30)
    stop, thread = run_worker(stack)
    try:
        time.sleep(0.3)  # the worker is idle, waiting
        assert stack.post(fixture_body("ticket_created")).json["outcome"] == "queued"
        took = decided_within(stack.services, 5)
        assert took is not None and took < 1.0, took
    finally:
        stop.set()
        thread.join(timeout=10)
        stack.services.engine.dispose()


def test_a_webhook_recorded_by_another_process_wakes_the_worker(database, tmp_path, fake_zendesk):
    """PostgreSQL: LISTEN/NOTIFY wakes it (the poll is 30 s). SQLite has no NOTIFY: the short poll finds it."""
    postgres = database.startswith("postgresql")
    mappings = mappings_for_tests(tmp_path)
    worker_side = build_stack(database, mappings, fake_zendesk, Clock(T0),
                              inbox_poll_seconds=30 if postgres else 0.2)
    web_side = build_stack(database, mappings, fake_zendesk, Clock(T0))  # its own services: another process's
    stop, thread = run_worker(worker_side)
    try:
        time.sleep(0.5)  # listening, idle
        assert web_side.post(fixture_body("ticket_created")).json["outcome"] == "queued"
        assert not worker_side.services.ingestor.wake.is_set() or postgres
        took = decided_within(worker_side.services, 5)
        assert took is not None and took < 1.0, took
    finally:
        stop.set()
        thread.join(timeout=10)
        worker_side.services.engine.dispose()
        web_side.services.engine.dispose()
