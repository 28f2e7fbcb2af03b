"""Slack in a storm: SlackGateway.deliver_batch through the real slack-sdk against the fake Slack, the outbox's
Deferred outcome, stale warnings dropped at the breach, and Acknowledge all through the signed interactions route."""
import pytest
import datetime as dt

from sqlalchemy import select

from integration.core.digest import DigestItem
from integration.core.matrix import Step, Trigger
from integration.core.messages import ACK_ALL_ACTION, escalation_message, warning_message
from integration.core.state import Action, Decision, TicketState
from integration.mappings.loader import load_mappings
from integration.slack.gateway import ChannelPacer, SlackGateway
from integration.core.sla_summary import SlaSummary, TargetSummary
from integration.storage import outbox
from integration.storage.models import InboxEvent, OutboxAction, Ticket
from integration.storage.batch import save_decision
from integration.storage.repo import enqueue
from tests.harness import TEST_MAPPINGS
from tests.fakes.slack import fake_slack  # noqa: F401  (pytest fixture)
from tests.fakes.zendesk import fake_zendesk  # noqa: F401  (pytest fixture)
from tests.harness import fixture_body
from tests.slack_harness import button, send, slack_stack

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 3, 2, 14, 30, tzinfo=UTC)
MANAGERS, MANAGER = "C05SUPPMGRS", "U05SUPMGR01"


class Seconds:
    def __init__(self) -> None:
        self.at = 1000.0

    def __call__(self) -> float:
        return self.at


def gateway(fake_slack, seconds=None):
    fake_slack.accept_any_channel = True
    return SlackGateway(fake_slack.client(), ChannelPacer(monotonic=seconds or Seconds()),
                        dashboard_url="https://escalator.example", now=lambda: NOW)


def step_payload(ticket_id, channel, *, kind="step", level=2, priority="high", late=0):
    owner = load_mappings(TEST_MAPPINGS).escalation.owner(level)
    step = Step(level, owner, (Trigger("first_response_breached", "was due 14:15 UTC, over by 15m"),), NOW)
    url = f"https://acme.zendesk.com/agent/tickets/{ticket_id}"
    message = escalation_message(ticket_id=ticket_id, url=url, subject=f"Outage {ticket_id}",
                                 organization="Northwind", tier="enterprise", priority=priority, step=step,
                                 reminder=kind == "reminder")
    digest = DigestItem(kind, ticket_id, level, f"Outage {ticket_id}", url, "Northwind", "enterprise", priority,
                        "first-response target breached", late_by_seconds=late)
    return {"ticket_id": ticket_id, "channel": channel, **message, "digest": digest.to_json()}


def warning_payload(ticket_id, channel, due: dt.datetime):
    message = warning_message(ticket_id=ticket_id, url="u", subject="s", organization="o", tier="t",
                              target="first_response", due="due", percent=80, owner_role="Support Agent")
    digest = DigestItem("warning", ticket_id, 1, "s", "u", "o", "t", "high", "80% used", target="first_response",
                        due_at=due.isoformat())
    return {"ticket_id": ticket_id, "channel": channel, **message, "digest": digest.to_json()}


def claimed(action_id, payload, attempts=1):
    return outbox.Claimed(action_id, payload["ticket_id"], "slack", "post_message", payload, f"k{action_id}", attempts)


@pytest.mark.slow  # real time or a real browser/process: .ci/run runs it
def test_fifty_breaches_become_one_digest_per_channel_and_per_user(fake_slack):
    actions = [claimed(i, step_payload(40000 + i, MANAGERS, late=i)) for i in range(50)] + \
              [claimed(100 + i, step_payload(40000 + i, MANAGER, late=i)) for i in range(50)]
    outcomes = gateway(fake_slack).deliver_batch(actions)
    assert len(fake_slack.calls_to("chat.postMessage")) == 2
    for channel, ids in ((MANAGERS, range(50)), (MANAGER, range(100, 150))):
        (message,) = fake_slack.messages(channel)
        assert "50 tickets escalated to level 2" in message["blocks"][0]["text"]["text"]
        assert "#40049" in message["blocks"][1]["text"]["text"]  # the most overdue first
        details = {outcomes[i] for i in ids}
        assert details == {outbox.Delivered(f"posted to {channel} at ts {message['ts']} "
                                            f"(digest of 50 notifications)")}
        everything = " ".join(str(b) for b in message["blocks"])
        assert ACK_ALL_ACTION in everything and "https://escalator.example/?tickets=" in everything


def test_a_single_breach_reads_exactly_as_before(fake_slack):
    payload = step_payload(35436, MANAGERS)
    outcomes = gateway(fake_slack).deliver_batch([claimed(1, payload), claimed(2, step_payload(35437, MANAGER))])
    (message,) = fake_slack.messages(MANAGERS)
    assert (message["text"], message["blocks"]) == (payload["text"], payload["blocks"])
    assert outcomes[1] == outbox.Delivered(f"posted to {MANAGERS} at ts {message['ts']}")
    assert len(fake_slack.messages(MANAGER)) == 1


def test_reminders_of_one_round_group_per_channel_and_the_channel_gets_one_message_a_round(fake_slack):
    seconds = Seconds()
    slack = gateway(fake_slack, seconds)
    actions = [claimed(1, step_payload(1, MANAGERS)), claimed(2, step_payload(2, MANAGERS, kind="reminder")),
               claimed(3, step_payload(3, MANAGERS, kind="reminder"))]
    outcomes = slack.deliver_batch(actions)
    assert isinstance(outcomes[1], outbox.Delivered) and not outcomes[1].detail.endswith("notifications)")
    assert outcomes[2] == outcomes[3] == outbox.Deferred(dt.timedelta(seconds=1),
                                                         "pacing: one message per second per channel")
    seconds.at += 1
    outcomes = slack.deliver_batch(actions[1:])
    assert outcomes[2] == outcomes[3] and outcomes[2].detail.endswith("(digest of 2 notifications)")
    reminder = fake_slack.messages(MANAGERS)[-1]
    assert "Reminder: 2 escalations at level 2 still unacknowledged" in reminder["blocks"][0]["text"]["text"]


def test_slack_errors_give_every_row_of_the_digest_the_same_outcome(fake_slack):
    slack = gateway(fake_slack)
    fake_slack.rate_limit_next(1, retry_after=30)
    outcomes = slack.deliver_batch([claimed(i, step_payload(i, MANAGERS)) for i in (1, 2, 3)])
    assert set(outcomes.values()) == {outbox.RetryLater("Slack rate limited the post", after=dt.timedelta(seconds=30))}


def test_a_warning_already_past_due_is_dropped_not_posted(fake_slack):
    outcomes = gateway(fake_slack).deliver_batch([
        claimed(1, warning_payload(1, MANAGERS, NOW - dt.timedelta(seconds=1))),
        claimed(2, warning_payload(2, MANAGER, NOW + dt.timedelta(minutes=3)))])
    assert outcomes[1] == outbox.Delivered("dropped: already past due")
    assert fake_slack.messages(MANAGERS) == [] and len(fake_slack.messages(MANAGER)) == 1


def test_a_pacing_deferral_is_not_an_attempt(sessions, fake_slack):
    with sessions.begin() as session:
        for ticket in (1, 2):
            enqueue(session, Action("slack", "post_message", step_payload(ticket, MANAGERS), f"s-{ticket}"),
                    ticket_id=ticket, now=NOW)
        session.execute(OutboxAction.__table__.update().values(last_error="earlier: Slack answered 500"))
    slack = gateway(fake_slack)
    slack.pacer.wait_for(MANAGERS)  # the channel's slot for this second is taken
    with sessions.begin() as session:
        actions = outbox.claim(session, NOW, 100)
    outcomes = slack.deliver_batch(actions)
    with sessions.begin() as session:
        for action in actions:
            outbox.record(session, action, outcomes[action.id], NOW, dt.timedelta(minutes=5))
    with sessions() as session:
        rows = session.scalars(select(OutboxAction)).all()
    assert [(r.status, r.attempts, r.last_error, r.lease_until) for r in rows] == \
        [("pending", 0, "earlier: Slack answered 500", None)] * 2
    assert {r.next_attempt_at for r in rows} == {NOW + dt.timedelta(seconds=1)}


def breached_state(level=2, first="breached"):
    sla = SlaSummary(first_response=TargetSummary(first), resolution=TargetSummary("running"))
    return TicketState(id=7, created_at=NOW, tier="enterprise", priority="high", level=level, sla=sla)


def test_pending_warnings_are_dropped_when_the_breach_is_decided(sessions):
    warning = warning_payload(7, MANAGERS, NOW + dt.timedelta(minutes=1))
    with sessions.begin() as session:
        save_decision(session, Decision("applied", "new", state=breached_state(level=1, first="running"),
                                        actions=(Action("slack", "post_message", warning, "warn-1"),
                                                 Action("slack", "post_message", {**warning, "channel": MANAGER},
                                                        "warn-2")),
                                        change={"level": [None, 1]}), inbox_id=None, now=NOW)
        in_flight = session.scalars(select(OutboxAction).where(OutboxAction.idempotency_key == "warn-2")).one()
        in_flight.lease_until = NOW + dt.timedelta(seconds=60)  # a worker is posting it right now
    step = Action("slack", "post_message", step_payload(7, MANAGERS), "step-1")
    with sessions.begin() as session:
        save_decision(session, Decision("applied", "breach", state=breached_state(), actions=(step,),
                                        change={"level": [1, 2]}), inbox_id=None, now=NOW)
    with sessions() as session:
        rows = {r.idempotency_key: r for r in session.scalars(select(OutboxAction))}
    assert (rows["warn-1"].status, rows["warn-1"].last_error) == \
        ("dropped", "dropped: the first response target was breached before it was sent")
    assert rows["warn-2"].status == rows["step-1"].status == "pending"
    assert outbox.claim(sessions(), NOW + dt.timedelta(minutes=2), 10)  # a dropped row blocks nothing behind it


def test_acknowledge_all_acknowledges_every_listed_step_like_the_single_button(database, tmp_path, fake_zendesk,
                                                                             fake_slack):
    stack = slack_stack(database, tmp_path, fake_zendesk, fake_slack)
    fake_zendesk.seed_user(2001, email="dana@northwind.example", role="end-user", organization_id=1001)
    created = (stack.clock() - dt.timedelta(minutes=20)).strftime("%Y-%m-%dT%H:%M:%SZ")
    for ticket in (35436, 35437, 35438):
        fake_zendesk.seed_ticket(ticket, subject="SSO", description="x", requester_id=2001, organization_id=1001,
                                 priority="urgent", status="open", created_at=created, updated_at=created)
        stack.post(fixture_body("ticket_created", detail__id=str(ticket), id=f"evt-{ticket}", time=created))
    stack.drain()
    with stack.services.sessions() as session:
        posts = session.scalars(select(OutboxAction).where(OutboxAction.ticket_id == 35436,
                                                           OutboxAction.target == "slack")).all()
    digests = {p.payload["channel"]: DigestItem.from_json(p.payload["digest"]) for p in posts}
    assert set(digests) == {MANAGERS, MANAGER}
    assert digests[MANAGERS] == DigestItem(
        "step", 35436, 2, "SSO", "https://acme.zendesk.com/agent/tickets/35436",
        "Northwind Logistics", "enterprise", "critical",
        "first-response target breached (was due 2026-03-02 13:55 UTC, over by 5m)", late_by_seconds=300)
    value = "35436:2,35437:2"
    refused = send(stack, fake_slack, button("block_actions_acknowledge", value, channel="C05NWLOGIST",
                                             action_id=ACK_ALL_ACTION, trigger="B0"))
    assert refused.status_code == 200 and "works only where digests are posted" in refused.json["message"]
    response = send(stack, fake_slack, button("block_actions_acknowledge", value, channel=MANAGERS,
                                              action_id=ACK_ALL_ACTION))
    assert response.status_code == 200
    assert response.json["message"] == ("acknowledged #35436 level 2: queued; "
                                        "acknowledged #35437 level 2: queued")
    stack.services.ingestor.decide_queued()
    with stack.services.sessions() as session:
        decided = session.scalars(select(InboxEvent.outcome).where(InboxEvent.source == "slack",
                                                                   InboxEvent.event_type == "acknowledge")).all()
    assert decided == ["applied", "applied"]
    with stack.services.sessions() as session:
        steps = {t: session.get(Ticket, t).escalation["steps"][-1] for t in (35436, 35437, 35438)}
    assert steps[35436]["acknowledged_by"] == steps[35437]["acknowledged_by"] == "U0MANAGER1"
    assert "acknowledged_at" not in steps[35438]
    stack.services.engine.dispose()
