"""Escalation notifications through the real slack-sdk client to the fake Slack: outages lose nothing, order holds."""
import datetime as dt

import pytest
from sqlalchemy import select

from integration.storage.models import OutboxAction
from tests.fakes.slack import fake_slack  # noqa: F401  (pytest fixture)
from tests.fakes.zendesk import fake_zendesk  # noqa: F401  (pytest fixture)
from tests.harness import Clock, build_stack, fixture_body, mappings_for_tests
from tests.slack_harness import opened_in_channel

UTC = dt.timezone.utc
START = dt.datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


@pytest.fixture
def stack(database, tmp_path, fake_zendesk, fake_slack):
    fake_slack.accept_any_channel = True
    fake_zendesk.seed_user(2001, email="dana@northwind.example", role="end-user", organization_id=1001)
    fake_zendesk.seed_user(360000300004, name="Vera VP", email="vera@vendor.example", role="agent")
    created = (START - dt.timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    fake_zendesk.seed_ticket(35436, subject="SSO <b>broken</b> & @here", description="SSO fails", requester_id=2001,
                             organization_id=1001, priority="urgent", status="open", created_at=created,
                             updated_at=created)
    built = build_stack(database, mappings_for_tests(tmp_path), fake_zendesk, Clock(START),
                        slack_bot_token=fake_slack.token, slack_api_url=fake_slack.base_url)
    yield built
    built.services.engine.dispose()


def run_for(stack, seconds: int, step: int = 5):
    for _ in range(seconds // step):
        stack.clock.advance(seconds=step)
        stack.drain()


def slack_statuses(stack):
    with stack.services.sessions() as session:
        return [r.status for r in session.scalars(select(OutboxAction).where(OutboxAction.target == "slack"))]


def test_escalation_message_reaches_the_owner_channel_with_buttons(stack, fake_slack):
    opened_in_channel(stack, 35436)
    stack.post(fixture_body("ticket_created"))
    stack.drain()
    run_for(stack, 10)
    (message,) = fake_slack.messages("C05CUSTSUCC")
    assert "escalated to level 3 (Customer Success)" in message["text"]
    head = message["blocks"][0]["text"]["text"]
    assert "<https://acme.zendesk.com/agent/tickets/35436|#35436>" in head
    assert "SSO &lt;b&gt;broken&lt;/b&gt; &amp; @here" in head  # the customer's subject cannot inject markup
    buttons = [e["action_id"] for e in message["blocks"][2]["elements"]]
    assert buttons == ["escalation_acknowledge", "escalation_take_ownership"]
    facts = " ".join(f["text"] for f in message["blocks"][1]["fields"])
    assert "Northwind Logistics" in facts and "enterprise" in facts and "first-response target breached" in facts
    (notice,) = fake_slack.messages("C05NWLOGIST")
    assert notice["text"] == "A senior support lead now owns #35436 and will follow up with you directly."
    assert "Customer Success" not in str(notice["blocks"]) and "level" not in str(notice["blocks"])
    assert "actions" not in [b["type"] for b in notice["blocks"]]  # customers get no staff buttons


def test_a_ticket_not_opened_in_the_customer_channel_is_never_announced_there(stack, fake_slack):
    stack.post(fixture_body("ticket_created"))  # raised by email: the shared channel must not learn of it
    stack.drain()
    run_for(stack, 10)
    assert len(fake_slack.messages("C05CUSTSUCC")) == 1
    assert fake_slack.messages("C05NWLOGIST") == [] and fake_slack.ephemerals("C05NWLOGIST") == []


def test_slack_down_then_rate_limiting_delays_but_loses_nothing_and_keeps_order(database, tmp_path, fake_zendesk,
                                                                                 fake_slack):
    fake_slack.accept_any_channel = True
    fake_zendesk.seed_user(2001, email="dana@northwind.example", role="end-user", organization_id=1001)
    stamp = START.strftime("%Y-%m-%dT%H:%M:%SZ")
    fake_zendesk.seed_ticket(35440, subject="Exports fail", description="x", requester_id=2001, organization_id=1001,
                             priority="urgent", status="open", created_at=stamp, updated_at=stamp)
    stack = build_stack(database, mappings_for_tests(tmp_path), fake_zendesk, Clock(START + dt.timedelta(seconds=5)),
                        slack_bot_token=fake_slack.token, slack_api_url=fake_slack.base_url)
    stack.post(fixture_body("ticket_created", detail__id="35440", time=stamp))
    stack.drain()
    # The warning's posts fail, then are rate limited for 10 minutes: the escalation that falls due
    # meanwhile must wait behind them (order per ticket), not overtake them.
    fake_slack.fail_next(2, status=500)
    fake_slack.rate_limit_next(2, retry_after=600)
    run_for(stack, 16 * 60, step=60)  # the warning (12m) and the breach (15m) fall due while Slack fails
    assert "pending" in slack_statuses(stack)
    run_for(stack, 30 * 60, step=30)
    # The warning still waiting when the breach was decided is dropped, not sent late beside the breach.
    assert sorted(slack_statuses(stack)) == ["done"] * 4 + ["dropped"] * 2
    texts = [m["text"] for m in fake_slack.messages("C05SUPPMGRS")]
    assert len(texts) == 2  # escalation, and the reminder 30 minutes after it, in that order
    assert texts[0].startswith("Ticket #35440 escalated to level 2")
    assert texts[1].startswith("Reminder: Ticket #35440 escalated to level 2")
    assert len(fake_slack.calls_to("chat.postMessage")) > 4  # the failures really happened and were retried
    stack.services.engine.dispose()
