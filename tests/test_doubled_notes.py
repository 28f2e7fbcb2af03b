"""Exactly one note under any timing (issue 9): the two ways a note got doubled, reproduced.

(a) A PUT times out on our side and Zendesk applies it later, after our retry was sent.
(b) Two workers on one database, a PUT slower than the lease: the second must never take over a row the
    first still holds, and the first must never record over the second.
"""
import datetime as dt
import threading
import time

import pytest

from sqlalchemy import select

from integration.core.signals import TicketSignal
from integration.runtime import build_worker
from integration.storage.models import OutboxAction
from tests.fakes.zendesk import fake_zendesk  # noqa: F401  (pytest fixture)
from tests.harness import Clock, build_stack, fixture_body, mappings_for_tests

UTC = dt.timezone.utc
CREATED = "2026-03-02T14:05:31Z"


def _seed(fake, ticket_id: int) -> None:
    fake.seed_user(2000 + ticket_id, email=f"dana{ticket_id}@northwind.example", role="end-user",
                   organization_id=1001)
    fake.seed_ticket(ticket_id, subject=f"SSO broken {ticket_id}", description="SSO fails",
                     requester_id=2000 + ticket_id, organization_id=1001, priority="urgent", status="new",
                     created_at=CREATED, updated_at=CREATED)


def _notes(fake, ticket_id: int) -> list[str]:
    return [c["body"] for c in fake.comments(ticket_id) if not c["public"]]


def _statuses(stack) -> list[str]:
    with stack.services.sessions() as session:
        return list(session.scalars(select(OutboxAction.status).where(OutboxAction.kind == "update_ticket")))


@pytest.mark.slow  # real time or a real browser/process: .ci/run runs it
def test_a_put_applied_after_our_timeout_and_after_our_retry_leaves_one_note(database, tmp_path, fake_zendesk):
    _seed(fake_zendesk, 35436)
    clock = Clock(dt.datetime(2026, 3, 2, 14, 6, tzinfo=UTC))
    stack = build_stack(database, mappings_for_tests(tmp_path), fake_zendesk, clock)  # zenpy timeout: 2 s
    stack.post(fixture_body("ticket_created"))
    # Zendesk holds the PUT 4 s and then applies it: our client gives up after 2 s.
    fake_zendesk.delay_next(1, seconds=4, method="PUT", when="before")
    stack.drain()  # reads the ticket, then the SLA update's PUT times out: it waits for its retry
    assert _statuses(stack) == ["pending"] and _notes(fake_zendesk, 35436) == []
    clock.advance(minutes=5)  # past the retry's backoff; the held PUT has not landed yet
    stack.worker.run_once()
    time.sleep(3)  # the held PUT lands now, after the retry
    notes = _notes(fake_zendesk, 35436)
    assert len(notes) == 1, notes
    puts = fake_zendesk.calls_to("PUT", "/api/v2/tickets/35436.json")
    assert len(puts) == 2 and puts[0].json["ticket"]["updated_stamp"] == puts[1].json["ticket"]["updated_stamp"]
    assert sorted(c.status for c in puts) == [200, 409]
    stack.services.engine.dispose()


@pytest.mark.slow  # real time, two workers: .ci/run runs it
def test_two_workers_with_puts_slower_than_the_lease_note_each_ticket_once(database, tmp_path, fake_zendesk):
    tickets = list(range(41001, 41013))
    for ticket_id in tickets:
        _seed(fake_zendesk, ticket_id)
    real = dt.datetime.now(UTC)
    clock = Clock(real)  # leases run on this clock: it follows real time below
    stack = build_stack(database, mappings_for_tests(tmp_path), fake_zendesk, clock, outbox_lease_seconds=3)
    created = real - dt.timedelta(minutes=1)  # no SLA timer falls due during the test
    for ticket_id in tickets:  # as the worker's read of each ticket would: twelve SLA updates wait
        signal = TicketSignal(ticket_id=ticket_id, kind="snapshot", at=created, created_at=created, status="new",
                              zendesk_priority="urgent", organization_id=1001, organization_known=True,
                              authoritative=True, source_key=f"seed-{ticket_id}")
        stack.services.ingestor.ingest(source="worker", dedup_key=f"seed-{ticket_id}", event_type="snapshot",
                                       payload={}, signal=signal)
    assert _statuses(stack) == ["pending"] * len(tickets)
    ticking = threading.Event()
    threading.Thread(target=_follow_real_time, args=(clock, real, ticking), daemon=True).start()
    fake_zendesk.delay_next(100, seconds=6, method="PUT", when="before")  # every PUT takes 6 s: twice the lease
    stop = threading.Event()
    workers = [build_worker(stack.services) for _ in range(2)]
    threads = [threading.Thread(target=w.run_forever, args=(stop, 0.1), daemon=True) for w in workers]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and set(_statuses(stack)) != {"done"}:
        time.sleep(0.2)
    stop.set()
    ticking.set()
    for thread in threads:
        thread.join(timeout=15)
    assert set(_statuses(stack)) == {"done"}
    assert {t: len(_notes(fake_zendesk, t)) for t in tickets} == {t: 1 for t in tickets}
    with stack.services.sessions() as session:
        attempts = list(session.scalars(select(OutboxAction.attempts).where(OutboxAction.kind == "update_ticket")))
    assert attempts == [1] * len(tickets)  # nobody took over a row still in flight
    stack.services.engine.dispose()


def _follow_real_time(clock: Clock, start: dt.datetime, stop: threading.Event) -> None:
    began = time.monotonic()
    while not stop.wait(0.05):
        clock.set(start + dt.timedelta(seconds=time.monotonic() - began))
