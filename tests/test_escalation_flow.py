"""The matrix end to end, on time and once: webhook → decide → timers → worker → Zendesk (+ Slack outbox)."""
import datetime as dt

import pytest
from sqlalchemy import select

from integration.storage.models import OutboxAction, Ticket
from tests.fakes.zendesk import fake_zendesk  # noqa: F401  (pytest fixture)
from tests.harness import Clock, build_stack, fixture_body, mappings_for_tests
from tests.slack_harness import opened_in_channel

UTC = dt.timezone.utc
START = dt.datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


def seed(fake, ticket_id=35436, created=START, **fields):
    fake.seed_user(2001, name="Dana", email="dana@northwind.example", role="end-user", organization_id=1001)
    stamp = created.strftime("%Y-%m-%dT%H:%M:%SZ")
    fake.seed_ticket(ticket_id, subject="SSO login broken", description="SSO fails", requester_id=2001,
                     organization_id=1001, priority="urgent", status="open", created_at=stamp, updated_at=stamp,
                     **fields)


@pytest.fixture
def make_stack(database, tmp_path, fake_zendesk):
    stacks = []

    def make(now=START, **config):
        stack = build_stack(database, mappings_for_tests(tmp_path), fake_zendesk, Clock(now), **config)
        stacks.append(stack)
        return stack

    yield make
    for stack in stacks:
        stack.services.engine.dispose()


def created_event(ticket_id=35436, at=START):
    return fixture_body("ticket_created", id=f"created-{ticket_id}", detail__id=str(ticket_id),
                        time=at.strftime("%Y-%m-%dT%H:%M:%SZ"))


def slack_posts(stack, ticket_id=35436):
    with stack.services.sessions() as session:
        rows = session.scalars(select(OutboxAction).where(OutboxAction.target == "slack",
                                                          OutboxAction.ticket_id == ticket_id)
                               .order_by(OutboxAction.id)).all()
    return [(row.payload["channel"], row.payload["text"]) for row in rows]


def level(stack, ticket_id=35436):
    with stack.services.sessions() as session:
        return session.get(Ticket, ticket_id).level


def escalation_notes(fake, ticket_id=35436):
    return [c["body"] for c in fake.comments(ticket_id) if not c["public"] and "Escalated" in c["body"]]


def test_a_ticket_created_in_the_past_escalates_at_once_to_customer_success(make_stack, fake_zendesk):
    seed(fake_zendesk, created=START - dt.timedelta(hours=3))  # enterprise critical: 15m / 2h, both gone
    stack = make_stack()
    opened_in_channel(stack, 35436)  # opened from the customer's channel: the channel hears of it
    stack.post(created_event(at=START - dt.timedelta(hours=3)))
    stack.drain()
    assert level(stack) == 3
    ticket = fake_zendesk.ticket(35436)
    assert ticket["group_id"] == 360000200003
    assert {"escalation_level_3", "sla_first_response_breached", "sla_resolution_breached"} <= set(ticket["tags"])
    (note,) = escalation_notes(fake_zendesk)
    assert "level 3, Customer Success" in note
    assert "first-response target breached: was due 2026-03-02 11:15 UTC, over by 2h45m" in note
    assert "resolution target breached: was due 2026-03-02 13:00 UTC, over by 1h00m" in note
    posts = slack_posts(stack)
    assert [channel for channel, _ in posts] == ["C05CUSTSUCC", "C05NWLOGIST"]  # owner, then the customer
    assert "escalated to level 3 (Customer Success)" in posts[0][1]
    assert "A senior support lead now owns #35436" in posts[1][1] and "Customer Success" not in posts[1][1]


def test_warning_then_breach_fire_on_time_and_once(make_stack, fake_zendesk):
    seed(fake_zendesk)
    stack = make_stack(now=START + dt.timedelta(seconds=30))
    stack.post(created_event())
    stack.drain()
    assert level(stack) == 1 and slack_posts(stack) == []
    stack.clock.set(START + dt.timedelta(minutes=11, seconds=59))  # warning at 80% of 15m = 12:00
    stack.drain()
    assert slack_posts(stack) == []
    stack.clock.set(START + dt.timedelta(minutes=12, seconds=1))
    stack.drain()
    warnings = slack_posts(stack)
    assert [c for c, _ in warnings] == ["C05SUPPMGRS", "U05SUPMGR01"]  # the manager of level 1
    assert "80% of its first response target used" in warnings[0][1]
    stack.clock.set(START + dt.timedelta(minutes=15, seconds=1))
    for _ in range(3):
        stack.drain()
    assert level(stack) == 2
    posts = slack_posts(stack)
    assert [c for c, _ in posts[2:]] == ["C05SUPPMGRS", "U05SUPMGR01"]
    assert len(escalation_notes(fake_zendesk)) == 1
    assert fake_zendesk.ticket(35436)["group_id"] == 360000200002


def test_a_public_agent_reply_before_the_breach_cancels_it(make_stack, fake_zendesk):
    seed(fake_zendesk)
    stack = make_stack(now=START + dt.timedelta(seconds=30))
    stack.post(created_event())
    stack.drain()
    reply_at = START + dt.timedelta(minutes=10)
    stack.clock.set(reply_at)
    stack.post(fixture_body("ticket_comment_added_public_agent", id="reply-1", time=reply_at.isoformat()))
    stack.drain()
    stack.clock.set(START + dt.timedelta(minutes=40))
    stack.drain()
    assert level(stack) == 1 and escalation_notes(fake_zendesk) == []
    assert slack_posts(stack) == []  # no warning either: it was met before 80%


def test_pending_pauses_resolution_so_it_does_not_escalate(make_stack, fake_zendesk):
    seed(fake_zendesk)
    stack = make_stack(now=START + dt.timedelta(seconds=30))
    stack.post(created_event())
    stack.drain()
    stack.post(fixture_body("ticket_comment_added_public_agent", id="reply-1",
                            time=(START + dt.timedelta(minutes=5)).isoformat()))
    pending_at = START + dt.timedelta(minutes=30)
    stack.clock.set(pending_at)
    stack.post(fixture_body("ticket_status_changed", id="pending-1", time=pending_at.isoformat()))
    stack.drain()
    stack.clock.set(START + dt.timedelta(hours=5))  # resolution (2h) would have been breached if running
    stack.drain()
    assert level(stack) == 1
    with stack.services.sessions() as session:
        assert session.get(Ticket, 35436).sla["resolution"]["state"] == "paused"


def test_satisfaction_bad_reaches_the_vp(make_stack, fake_zendesk):
    seed(fake_zendesk, satisfaction_rating={"score": "bad", "comment": "slow"})
    fake_zendesk.seed_user(360000300004, name="Vera VP", email="vera@vendor.example", role="agent")
    stack = make_stack(now=START + dt.timedelta(seconds=30))
    stack.post(fixture_body("trigger_satisfaction_rated_bad", ticket={"id": "35436"}))
    stack.drain()
    assert level(stack) == 4
    assert fake_zendesk.ticket(35436)["assignee_id"] == 360000300004
    assert "customer dissatisfied: Zendesk satisfaction rating: bad" in escalation_notes(fake_zendesk)[0]


def test_the_executive_tag_goes_straight_to_the_top(make_stack, fake_zendesk):
    seed(fake_zendesk, tags=["executive_complaint"])
    stack = make_stack(now=START + dt.timedelta(seconds=30))
    stack.post(created_event())
    stack.drain()
    assert level(stack) == 5
    assert "escalation_level_5" in fake_zendesk.ticket(35436)["tags"]
    # Raised by email, so the customer's shared channel is not told (README, Slack: privacy).
    assert [c for c, _ in slack_posts(stack)] == ["C05EXECESC", "U05CRO00001", "U05CEO00001"]


def test_an_unacknowledged_step_is_renotified(make_stack, fake_zendesk):
    seed(fake_zendesk, created=START - dt.timedelta(minutes=20))
    stack = make_stack()
    stack.post(created_event(at=START - dt.timedelta(minutes=20)))
    stack.drain()
    assert level(stack) == 2
    first = len(slack_posts(stack))
    stack.clock.advance(minutes=29)
    stack.drain()
    assert len(slack_posts(stack)) == first
    stack.clock.advance(minutes=2)
    stack.drain()
    reminders = slack_posts(stack)[first:]
    assert [c for c, _ in reminders] == ["C05SUPPMGRS", "U05SUPMGR01"]
    assert reminders[0][1].startswith("Reminder: Ticket #35436 escalated to level 2")


def test_an_admin_can_reset_the_level_and_it_is_audited(make_stack, fake_zendesk, database, monkeypatch):
    from click.testing import CliRunner

    from integration.cli import cli
    from integration.storage.models import AuditEntry

    seed(fake_zendesk, tags=["executive_complaint"])
    stack = make_stack(now=START + dt.timedelta(seconds=30))
    stack.post(created_event())
    stack.drain()
    monkeypatch.setenv("DATABASE_URL", database)
    result = CliRunner().invoke(cli, ["escalation", "reset", "35436", "--level", "1", "--reason", "tagged by mistake"])
    assert result.exit_code == 0 and "level 5 → 1" in result.output
    assert level(stack) == 1
    with stack.services.sessions() as session:
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry.change == {"level": [5, 1]} and "tagged by mistake" in entry.reason
    again = CliRunner().invoke(cli, ["escalation", "reset", "35436", "--level", "1", "--reason", "x"])
    assert again.exit_code == 1 and "reset only lowers it" in again.output
