"""Many tickets waiting go out as one Update Many job; each ticket's result is handled on its own."""
import datetime as dt

import pytest
from sqlalchemy import select

from integration.core.signals import TicketSignal
from integration.storage.models import OutboxAction
from tests.fakes.zendesk import fake_zendesk  # noqa: F401  (pytest fixture)
from tests.harness import Clock, build_stack, mappings_for_tests

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 3, 2, 14, 6, tzinfo=UTC)
TICKETS = [51001, 51002, 51003, 51004, 51005]


@pytest.fixture
def stack(database, tmp_path, fake_zendesk):
    fake_zendesk.set_job_delay(0.05)
    for ticket_id in TICKETS:
        fake_zendesk.seed_user(ticket_id + 1000, email=f"r{ticket_id}@northwind.example", role="end-user",
                               organization_id=1001)
        fake_zendesk.seed_ticket(ticket_id, subject=f"Outage {ticket_id}", requester_id=ticket_id + 1000,
                                 organization_id=1001, priority="urgent", status="open",
                                 created_at="2026-03-02T14:00:00Z", updated_at="2026-03-02T14:00:00Z")
    built = build_stack(database, mappings_for_tests(tmp_path), fake_zendesk, Clock(NOW))
    for ticket_id in TICKETS:  # as the worker's read of each ticket: five SLA updates wait
        created = NOW - dt.timedelta(minutes=6)
        signal = TicketSignal(ticket_id=ticket_id, kind="snapshot", at=created, created_at=created, status="open",
                              zendesk_priority="urgent", organization_id=1001, organization_known=True,
                              authoritative=True, source_key=f"seed-{ticket_id}")
        built.services.ingestor.ingest(source="worker", dedup_key=f"seed-{ticket_id}", event_type="snapshot",
                                       payload={}, signal=signal)
    yield built
    built.services.engine.dispose()


def outcomes(stack):
    with stack.services.sessions() as session:
        return {r.ticket_id: (r.status, r.last_error) for r in session.scalars(
            select(OutboxAction).where(OutboxAction.kind == "update_ticket"))}


def notes(fake, ticket_id):
    return [c["body"] for c in fake.comments(ticket_id) if not c["public"]]


def test_five_waiting_updates_cost_one_stamp_read_one_job_and_its_polls(stack, fake_zendesk):
    stack.worker.run_once()
    assert {t: status for t, (status, _) in outcomes(stack).items()} == {t: "done" for t in TICKETS}
    assert [c.path for c in fake_zendesk.calls if c.method == "PUT"] == ["/api/v2/tickets/update_many.json"]
    (job_put,) = [c for c in fake_zendesk.calls if c.method == "PUT"]
    sent = job_put.json["tickets"]
    assert sorted(t["id"] for t in sent) == TICKETS
    assert all(t["safe_update"] and t["updated_stamp"] == "2026-03-02T14:00:00Z" for t in sent)
    assert len(fake_zendesk.calls_to("GET", "/api/v2/tickets/show_many.json")) == 1
    for ticket_id in TICKETS:
        assert len(notes(fake_zendesk, ticket_id)) == 1
        assert "sla_tier_enterprise" in fake_zendesk.ticket(ticket_id)["tags"]


def test_each_item_of_a_job_gets_its_own_outcome(stack, fake_zendesk):
    fake_zendesk.seed_ticket(51006)  # not ours; just makes ids move
    fake_zendesk.reject_ticket(51002, status=422)  # closed in Zendesk meanwhile
    # Someone edits 51003 between our stamp read and the job: a stale stamp, the job says UpdateConflict.
    with stack.services.sessions.begin() as session:
        row = session.scalars(select(OutboxAction).where(OutboxAction.ticket_id == 51003)).one()
        row.payload = {**row.payload, "updated_stamp": "2026-03-02T13:00:00Z"}
    stack.worker.run_once()
    after = outcomes(stack)
    assert after[51001][0] == after[51004][0] == after[51005][0] == "done"
    assert after[51002][0] == "failed" and "51002" in after[51002][1]
    assert after[51003][0] == "pending" and "changed in Zendesk" in after[51003][1]
    stack.worker.run_once()  # a fresh stamp this time
    assert outcomes(stack)[51003][0] == "done"
    assert len(notes(fake_zendesk, 51003)) == 1 and notes(fake_zendesk, 51002) == []
