"""The support contract end to end: webhook → worker → fake Zendesk (+ Slack outbox), on both backends.

Brandt (fixture organization 1002): pro, 24x7, Berlin, dedicated CSM 360000400102 / U05CSMBRAND.
Northwind (1001): enterprise, 24x7, no CSM.
"""
import datetime as dt

import pytest
from sqlalchemy import select

from integration.storage.models import OutboxAction, Ticket, Timer
from tests.fakes.zendesk import fake_zendesk  # noqa: F401  (pytest fixture)
from tests.harness import Clock, build_stack, fixture_body, mappings_for_tests

UTC = dt.timezone.utc
START = dt.datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


@pytest.fixture
def make_stack(database, tmp_path, fake_zendesk):
    stacks = []

    def make(now=START):
        stack = build_stack(database, mappings_for_tests(tmp_path), fake_zendesk, Clock(now))
        stacks.append(stack)
        return stack

    yield make
    for stack in stacks:
        stack.services.engine.dispose()


def seed(fake, organization_id, created, ticket_id=35436, **fields):
    fake.seed_user(2001, name="Dana", email="dana@customer.example", role="end-user", organization_id=organization_id)
    stamp = created.strftime("%Y-%m-%dT%H:%M:%SZ")
    fake.seed_ticket(ticket_id, subject="Exports fail", description="Exports fail", requester_id=2001,
                     organization_id=organization_id, priority="urgent", status="open", created_at=stamp,
                     updated_at=stamp, **fields)


def created(at, ticket_id=35436):
    return fixture_body("ticket_created", id=f"created-{ticket_id}-{at.isoformat()}", detail__id=str(ticket_id),
                        time=at.strftime("%Y-%m-%dT%H:%M:%SZ"))


def slack_channels(stack, ticket_id=35436):
    with stack.services.sessions() as session:
        rows = session.scalars(select(OutboxAction).where(OutboxAction.target == "slack",
                                                          OutboxAction.ticket_id == ticket_id)
                               .order_by(OutboxAction.id)).all()
    return [(row.payload["channel"], row.payload["text"]) for row in rows]


def ticket_row(stack, ticket_id=35436):
    with stack.services.sessions() as session:
        return session.get(Ticket, ticket_id)


def test_the_customer_success_step_assigns_brandts_csm_in_zendesk(make_stack, fake_zendesk):
    # pro critical: first response 30m, resolution 4h; created 5 h ago, both breached: level 3
    seed(fake_zendesk, 1002, START - dt.timedelta(hours=5))
    fake_zendesk.seed_user(360000400102, name="Carla CSM", email="csm.brandt@leadfly.example", role="agent")
    stack = make_stack()
    stack.post(created(START - dt.timedelta(hours=5)))
    stack.drain()
    assert ticket_row(stack).level == 3
    ticket = fake_zendesk.ticket(35436)
    assert (ticket["group_id"], ticket["assignee_id"]) == (360000200003, 360000400102)
    assert [c for c, _ in slack_channels(stack)] == ["C05CUSTSUCC", "U05CSMBRAND"]
    note = [c["body"] for c in fake_zendesk.comments(35436) if "Escalated" in c["body"]][0]
    assert "Assigned to the organization's dedicated CSM (assignee 360000400102)" in note


def test_an_exclusion_tag_keeps_a_breached_clock_from_escalating(make_stack, fake_zendesk):
    seed(fake_zendesk, 1001, START - dt.timedelta(hours=3), tags=["sla_excluded_force_majeure"])
    stack = make_stack()
    stack.post(created(START - dt.timedelta(hours=3)))
    stack.drain()
    row = ticket_row(stack)
    assert row.level == 1 and slack_channels(stack) == []
    assert (row.sla["first_response"]["state"], row.sla["resolution"]["state"]) == ("paused", "paused")
    note = "\n".join(c["body"] for c in fake_zendesk.comments(35436) if not c["public"])
    assert "Excluded from the SLA since 2026-03-02 11:00 UTC: force majeure (tag sla_excluded_force_majeure)" in note


def test_a_bad_rating_opens_a_follow_up_that_a_missed_deadline_escalates(make_stack, fake_zendesk):
    seed(fake_zendesk, 1002, START, satisfaction_rating={"score": "bad", "comment": "slow"})
    fake_zendesk.seed_user(360000300004, name="Vera VP", email="vera@vendor.example", role="agent")
    stack = make_stack(now=START + dt.timedelta(seconds=30))
    stack.post(fixture_body("trigger_satisfaction_rated_bad", ticket={"id": "35436"}))
    stack.drain()
    assert ticket_row(stack).level == 4
    with stack.services.sessions() as session:
        (timer,) = session.scalars(select(Timer).where(Timer.ticket_id == 35436, Timer.kind == "csat_follow_up"))
        # rated as of the ticket's last update in Zendesk (START), due 24 h later
        assert timer.due_at.replace(tzinfo=UTC) == START + dt.timedelta(hours=24)
    stack.clock.set(START + dt.timedelta(hours=24, seconds=1))
    stack.drain()
    row = ticket_row(stack)
    assert row.level == 5
    assert row.escalation["follow_ups"][0]["missed_at"].startswith("2026-03-03T14:00:00")
    posts = slack_channels(stack)
    missed = [c for c, text in posts if "nobody answered the customer" in text]
    assert missed == ["C05CSLEADER", "U05VPCS0001", "U05CSMBRAND"]  # the level-4 owner and the CSM
    step = [c for c, text in posts if "escalated to level 5" in text and "CSAT follow-up missed" in text]
    assert step == ["C05EXECESC", "U05CRO00001", "U05CEO00001"]
