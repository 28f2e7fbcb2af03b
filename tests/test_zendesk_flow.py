"""The Zendesk side end to end: signed webhook → inbox → decide → outbox → worker → zenpy → fake Zendesk."""
import datetime as dt

import pytest
from sqlalchemy import func, select

from integration.storage.models import AuditEntry, InboxEvent, OutboxAction, Ticket
from tests.fakes.zendesk import fake_zendesk  # noqa: F401  (pytest fixture)
from tests.harness import Clock, build_stack, fixture_body, mappings_for_tests

UTC = dt.timezone.utc
CREATED = "2026-03-02T14:05:31Z"


@pytest.fixture
def stack(database, tmp_path, fake_zendesk):
    fake_zendesk.seed_user(2001, name="Dana Requester", email="dana@northwind.example", role="end-user",
                           organization_id=1001)
    fake_zendesk.seed_ticket(35436, subject="SSO login broken for all users", description="SSO fails",
                             requester_id=2001, organization_id=1001, priority="urgent", status="new",
                             created_at=CREATED, updated_at=CREATED)
    clock = Clock(dt.datetime(2026, 3, 2, 14, 6, tzinfo=UTC))
    built = build_stack(database, mappings_for_tests(tmp_path), fake_zendesk, clock)
    yield built
    built.services.engine.dispose()


def notes(fake, ticket_id=35436):
    return [c for c in fake.comments(ticket_id) if not c["public"]]


def field(ticket, field_id):
    return {f["id"]: f["value"] for f in ticket["custom_fields"]}.get(field_id)


def count(stack, model, *where):
    with stack.services.sessions() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def test_new_ticket_gets_priority_tier_due_times_tags_and_one_note(stack):
    response = stack.post(fixture_body("ticket_created"))
    assert response.status_code == 200, response.json
    assert stack.decided(response) == "refresh"  # decided only after reading the ticket from the API
    stack.drain()
    ticket = stack.fake.ticket(35436)
    assert ticket["priority"] == "urgent"
    assert field(ticket, 9001) == "enterprise"
    assert field(ticket, 9002) == "2026-03-02T14:20:31Z"  # enterprise critical: 15m on 24x7
    assert field(ticket, 9003) == "2026-03-02T16:05:31Z"  # 2h
    assert "sla_tier_enterprise" in ticket["tags"]
    (note,) = notes(stack.fake)
    assert "enterprise tier, critical priority" in note["body"]
    assert "first response 15m, resolution 2h, on the 24x7 calendar (America/New_York)" in note["body"]
    assert "(ref esc-35436-v1)" in note["body"]


def test_the_same_delivery_three_times_changes_state_once_and_notes_once(stack):
    body = fixture_body("ticket_created")
    outcomes = [stack.post(body).json["outcome"] for _ in range(3)]
    assert outcomes == ["queued", "duplicate", "duplicate"]
    assert stack.decided() == "refresh"
    stack.drain()
    stack.clock.set(dt.datetime(2026, 3, 2, 14, 33, tzinfo=UTC))
    stack.post(fixture_body("ticket_status_changed"))
    for _ in range(2):
        assert stack.post(fixture_body("ticket_status_changed")).json["outcome"] == "duplicate"
    stack.drain()
    assert len(notes(stack.fake)) == 2  # one for the new SLA, one for the pause
    assert count(stack, AuditEntry) == 2
    assert count(stack, InboxEvent) == 3  # 2 webhooks + 1 API read


def test_our_own_update_coming_back_as_a_webhook_changes_nothing(stack):
    stack.post(fixture_body("ticket_created"))
    stack.drain()
    puts = len(stack.fake.calls_to("PUT", "/api/v2/tickets/35436.json"))
    echo = fixture_body("ticket_priority_changed", id="echo-of-our-update", detail__id="35436", detail__priority="URGENT",
                        detail__status="NEW", detail__organization_id="1001", time="2026-03-02T14:05:59Z",
                        detail__tags=["sso", "enterprise", "sla_tier_enterprise"])
    assert stack.decided(stack.post(echo)) == "unchanged"
    stack.drain()
    assert len(stack.fake.calls_to("PUT", "/api/v2/tickets/35436.json")) == puts
    assert len(notes(stack.fake)) == 1


def test_pending_pauses_resolution_and_clears_its_due_time(stack):
    stack.post(fixture_body("ticket_created"))
    stack.drain()
    stack.clock.set(dt.datetime(2026, 3, 2, 14, 33, tzinfo=UTC))
    assert stack.decided(stack.post(fixture_body("ticket_status_changed"))) == "applied"
    stack.drain()
    ticket = stack.fake.ticket(35436)
    assert field(ticket, 9003) is None
    last = notes(stack.fake)[-1]["body"]
    assert "Resolution: paused" in last and "Resolution clock paused: no → yes" in last


def test_public_agent_reply_meets_first_response_without_a_new_note(stack):
    stack.post(fixture_body("ticket_created"))
    stack.drain()
    stack.clock.set(dt.datetime(2026, 3, 2, 14, 21, tzinfo=UTC))
    stack.post(fixture_body("ticket_comment_added_public_agent"))
    stack.drain()
    with stack.services.sessions() as session:
        sla = session.get(Ticket, 35436).sla
    assert sla["first_response"]["state"] == "met"
    assert len(notes(stack.fake)) == 1


def test_zendesk_failing_then_recovering_delivers_everything_once(stack):
    stack.post(fixture_body("ticket_created"))
    stack.fake.fail_next(3, status=500, method="PUT")
    stack.drain()
    assert notes(stack.fake) == []
    with stack.services.sessions() as session:
        action = session.scalars(select(OutboxAction).where(OutboxAction.kind == "update_ticket")).one()
        assert action.status == "pending" and "500" in action.last_error
    for _ in range(6):  # backoff grows (2 s, 4 s, 8 s …); stay well inside the 15-minute target
        stack.clock.advance(minutes=1)
        stack.drain()
    assert len(notes(stack.fake)) == 1
    assert count(stack, OutboxAction, OutboxAction.status == "done") == 2  # the read and the update


def test_429_retry_after_is_honoured_without_blocking(stack):
    stack.post(fixture_body("ticket_created"))
    stack.drain(rounds=1)  # the read
    stack.fake.rate_limit_next(1, retry_after=30)
    stack.drain()
    with stack.services.sessions() as session:
        action = session.scalars(select(OutboxAction).where(OutboxAction.kind == "update_ticket")).one()
        assert action.status == "pending"
        assert action.next_attempt_at == stack.clock() + dt.timedelta(seconds=30)
    stack.clock.advance(seconds=29)
    stack.drain()
    assert notes(stack.fake) == []
    stack.clock.advance(seconds=1)
    stack.drain()
    assert len(notes(stack.fake)) == 1


def test_unprocessable_update_is_recorded_as_failed_and_not_retried(stack):
    stack.post(fixture_body("ticket_created"))
    stack.fake.reject_ticket(35436, status=422)
    stack.drain()
    stack.clock.advance(minutes=10)
    stack.drain()
    with stack.services.sessions() as session:
        action = session.scalars(select(OutboxAction).where(OutboxAction.kind == "update_ticket")).one()
    assert action.status == "failed" and "422" in action.last_error and action.attempts == 1


def test_crash_after_zendesk_accepted_the_update_does_not_note_twice(stack):
    from integration.storage import outbox

    stack.post(fixture_body("ticket_created"))
    stack.drain(rounds=1)  # decided "refresh"; the read delivered and queued for a decision
    stack.worker.inbox()  # the read decided: its update waits in the outbox
    with stack.services.sessions.begin() as session:
        (claimed,) = outbox.claim(session, stack.clock())
    stack.worker.deliverers["zendesk"].deliver(claimed)  # reached Zendesk; the worker "dies" before recording
    assert len(notes(stack.fake)) == 1
    stack.clock.advance(seconds=61)  # the lease runs out
    stack.drain()
    assert len(notes(stack.fake)) == 1
    with stack.services.sessions() as session:
        action = session.get(OutboxAction, claimed.id)
    assert action.status == "done" and "already applied" in action.last_error
