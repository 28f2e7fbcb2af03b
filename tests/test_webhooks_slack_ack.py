"""Acknowledging an escalation from Slack stops the reminders; requests are verified and fail closed."""
import datetime as dt
import hashlib
import hmac
import json
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from integration.storage.models import OutboxAction, Ticket
from tests.fakes.slack import fake_slack  # noqa: F401
from tests.fakes.zendesk import fake_zendesk  # noqa: F401
from tests.harness import Clock, build_stack, fixture_body, mappings_for_tests

UTC = dt.timezone.utc
START = dt.datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
SIGNING = "slack-signing-secret"


def signed(stack, payload: dict, secret=SIGNING, stamp=None):
    body = urlencode({"payload": json.dumps(payload)}).encode()
    ts = str(int(stamp if stamp is not None else stack.clock().timestamp()))
    digest = hmac.new(secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    return stack.client.post("/webhooks/slack/interactions", data=body, headers={
        "Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}"})


def ack(value="35436:2", user="U05SUPMGR01"):
    return {"type": "block_actions", "user": {"id": user, "team_id": "T0HOSTTEAM"},
            "actions": [{"action_id": "escalation_acknowledge", "value": value, "type": "button"}]}


@pytest.fixture
def escalated(database, tmp_path, fake_zendesk, fake_slack):
    fake_zendesk.seed_user(2001, email="dana@northwind.example", role="end-user", organization_id=1001)
    created = (START - dt.timedelta(minutes=20)).strftime("%Y-%m-%dT%H:%M:%SZ")
    fake_zendesk.seed_ticket(35436, subject="SSO", description="SSO fails", requester_id=2001, organization_id=1001,
                             priority="urgent", status="open", created_at=created, updated_at=created)
    fake_slack.accept_any_channel = True
    stack = build_stack(database, mappings_for_tests(tmp_path), fake_zendesk, Clock(START),
                        slack_signing_secret=SIGNING, slack_bot_token=fake_slack.token,
                        slack_api_url=fake_slack.base_url)
    stack.post(fixture_body("ticket_created", time=created))
    stack.drain()
    yield stack
    stack.services.engine.dispose()


def posts(stack):
    with stack.services.sessions() as session:
        return session.scalars(select(OutboxAction).where(OutboxAction.target == "slack")).all()


def test_acknowledge_records_who_and_when_and_stops_reminders(escalated):
    stack = escalated
    response = signed(stack, ack())
    assert response.status_code == 200 and "acknowledged #35436 level 2: queued" in response.json["message"]
    assert stack.decided(source="slack") == "applied"
    with stack.services.sessions() as session:
        step = session.get(Ticket, 35436).escalation["steps"][-1]
    assert step["acknowledged_by"] == "U05SUPMGR01" and step["acknowledged_at"] == START.isoformat()
    before = len(posts(stack))
    stack.clock.advance(hours=1)  # two reminder periods, still before the resolution target (START+1h40m)
    stack.drain()
    assert len(posts(stack)) == before


def test_without_acknowledgement_the_reminders_keep_coming(escalated):
    stack = escalated
    before = len(posts(stack))
    stack.clock.advance(minutes=31)
    stack.drain()
    assert len(posts(stack)) == before + 2


def test_bad_or_stale_signatures_are_refused(escalated):
    stack = escalated
    assert signed(stack, ack(), secret="wrong").status_code == 401
    assert signed(stack, ack(), stamp=stack.clock().timestamp() - 301).status_code == 401
    with stack.services.sessions() as session:
        assert "acknowledged_at" not in session.get(Ticket, 35436).escalation["steps"][-1]


def test_a_non_numeric_timestamp_is_refused_not_crashed(escalated):
    body = urlencode({"payload": json.dumps(ack())}).encode()
    response = escalated.client.post("/webhooks/slack/interactions", data=body, headers={
        "Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": "soon",
        "X-Slack-Signature": "v0=00"})
    assert response.status_code == 401 and "not a number" in response.json["message"]


def test_unknown_tickets_and_actions_are_answered_without_effect(escalated):
    stack = escalated
    response = signed(stack, ack("99999:2"))
    assert response.status_code == 200 and "queued" in response.json["message"]
    assert stack.decided(source="slack") == "ignored"
    other = {"type": "block_actions", "user": {"id": "U1"}, "actions": [{"action_id": "mystery", "value": "1"}]}
    assert "'mystery' is not handled" in signed(stack, other).json["message"]
    with stack.services.sessions() as session:
        assert session.scalars(select(OutboxAction).where(OutboxAction.kind == "fetch_ticket",
                                                          OutboxAction.ticket_id == 99999)).all() == []


def test_take_ownership_acknowledges_and_assigns_the_agent_with_the_same_email(escalated, fake_slack):
    stack = escalated
    stack.fake.seed_user(900777, name="Sam Manager", email="sam.manager@acme-support.example", role="agent")
    payload = ack(user="U0MANAGER1")
    payload["actions"][0]["action_id"] = "escalation_take_ownership"
    payload["response_url"] = fake_slack.response_url("R-take")
    payload["trigger_id"] = "take-1"
    response = signed(stack, payload)
    assert "assigning it to you in Zendesk" in response.json["message"]
    stack.drain()
    assert stack.fake.ticket(35436)["assignee_id"] == 900777
    notes = [c["body"] for c in stack.fake.comments(35436) if not c["public"]]
    assert "Sam Manager took ownership from Slack (escalation level 2)." in notes
    assert fake_slack.responses("R-take")[0]["text"] == "You now own ticket #35436 in Zendesk."
