"""Customers in their own Slack channel: open, follow, escalate and rate tickets; nothing crosses customers."""
import datetime as dt
import re

import pytest
from sqlalchemy import select

from integration.core.signals import TicketSignal
from integration.storage.models import CsatRating, Ticket
from tests.fakes.slack import fake_slack, load_fixture  # noqa: F401
from tests.fakes.zendesk import fake_zendesk  # noqa: F401
from tests.harness import STAFF_CHANNEL
from tests.slack_harness import START, button, command, opened_in_channel, send, slack_stack


@pytest.fixture
def stack(database, tmp_path, fake_zendesk, fake_slack):
    fake_zendesk.seed_user(360000300004, name="Vera VP", email="vera@vendor.example", role="agent")
    built = slack_stack(database, tmp_path, fake_zendesk, fake_slack)
    yield built
    built.services.engine.dispose()


def known_ticket(stack, ticket_id, organization_id, status="open", subject="Exports fail"):
    created = START - dt.timedelta(minutes=5)
    signal = TicketSignal(ticket_id=ticket_id, kind="snapshot", at=created, created_at=created, status=status,
                          zendesk_priority="high", organization_id=organization_id, organization_known=True,
                          subject=subject, authoritative=True, source_key=f"seed-{ticket_id}")
    stack.services.ingestor.ingest(source="worker", dedup_key=f"seed-{ticket_id}", event_type="snapshot",
                                   payload={}, signal=signal)


def test_url_verification_is_answered(stack, fake_slack):
    response = send(stack, fake_slack, load_fixture("url_verification"))
    assert response.json == {"challenge": load_fixture("url_verification")["challenge"]}


def test_support_command_opens_a_ticket_and_answers_with_its_sla(stack, fake_slack, fake_zendesk):
    response = send(stack, fake_slack, command("Our exports stopped working this morning"))
    assert response.status_code == 200 and response.json["response_type"] == "ephemeral"
    assert "Opening a ticket" in response.json["text"]
    stack.drain()
    stack.clock.advance(seconds=2)
    stack.drain()
    (created,) = [c for c in fake_zendesk.calls_to("POST", "/api/v2/tickets.json")]
    assert created.json["ticket"]["organization_id"] == 1001
    assert created.json["ticket"]["requester"]["email"] == "maria.ops@northwind.example"
    assert created.headers["Idempotency-Key"] == "open-cmd-trigger-T1"
    reply = fake_slack.messages("C05NWLOGIST")[-1]
    assert re.match(r"Ticket #\d+ is open", reply["text"])
    body = reply["blocks"][0]["text"]["text"]
    assert "enterprise tier, high priority" in body  # "stopped working" → keyword rule for High
    assert "First response due <!date^" in body


def test_ticket_reaction_opens_a_ticket_from_the_message_once(stack, fake_slack, fake_zendesk):
    message = fake_slack.seed_message("C05NWLOGIST", "U0NWCUST01", "Data loss after last night's import")
    event = load_fixture("event_callback_reaction_added_ticket_external_user")
    event["event"]["item"]["ts"] = message["ts"]
    assert send(stack, fake_slack, event).status_code == 200
    assert send(stack, fake_slack, event, retry_num=1).status_code == 200  # Slack's retry of the same event
    other = {**event, "event_id": "Ev0SECONDREACT", "event": {**event["event"], "user": "U0AGENT001"}}
    send(stack, fake_slack, other)  # a second person reacting to the same message
    for _ in range(3):
        stack.drain()
        stack.clock.advance(seconds=2)
    posts = fake_zendesk.calls_to("POST", "/api/v2/tickets.json")
    assert len(posts) == 1
    assert "Data loss after last night's import" in posts[0].json["ticket"]["comment"]["body"]
    reply = fake_slack.messages("C05NWLOGIST")[-1]
    assert reply["thread_ts"] == message["ts"] and "critical priority" in reply["blocks"][0]["text"]["text"]


def test_status_lists_only_the_channels_own_open_tickets(stack, fake_slack):
    known_ticket(stack, 501, 1001, subject="Ours, open")
    known_ticket(stack, 502, 1001, status="solved", subject="Ours, solved")
    known_ticket(stack, 503, 1001, subject="Raised by email")
    known_ticket(stack, 504, 1001, subject="A colleague asked here")
    known_ticket(stack, 601, 1005, subject="Oscorp's secret")
    for ticket_id in (501, 502):
        opened_in_channel(stack, ticket_id)
    opened_in_channel(stack, 504, user="U0NWCUST02")
    text = send(stack, fake_slack, command("status")).json
    blob = str(text)
    assert "#501" in blob and "Ours, open" in blob and "#504" in blob  # opened in this channel, by anyone
    assert "#502" not in blob and "#601" not in blob and "Oscorp" not in blob
    assert "#503" not in blob and "Raised by email" not in blob  # the organization's other tickets stay out
    assert "https://acme.zendesk.com/hc/requests/501" in blob and "/agent/" not in blob


def test_a_members_private_ticket_looks_unknown_to_the_channel_but_not_to_them(stack, fake_slack):
    known_ticket(stack, 503, 1001, subject="Raised by email")
    known_ticket(stack, 505, 1001, subject="Mine, from another channel")
    opened_in_channel(stack, 505, channel="C0OTHERCHAN", user="U0NWCUST01")
    for ticket_id in (503, 505):
        other = send(stack, fake_slack, command(f"status #{ticket_id}", user="U0NWCUST02", trigger=f"o{ticket_id}"))
        unknown = send(stack, fake_slack, command("status #999999", user="U0NWCUST02", trigger=f"u{ticket_id}"))
        assert other.json == _renumbered(unknown.json, "999999", str(ticket_id))
    mine = send(stack, fake_slack, command("status #505", trigger="mine")).json  # the member's own ticket
    assert "Mine, from another channel" in str(mine) and "hc/requests/505" in str(mine)


def test_every_command_about_a_foreign_ticket_answers_like_an_unknown_one(stack, fake_slack):
    known_ticket(stack, 601, 1005, subject="Oscorp's secret")
    for verb in ("status #{}", "escalate #{} please hurry"):
        foreign = send(stack, fake_slack, command(verb.format(601), trigger=f"f-{verb[:3]}")).json
        unknown = send(stack, fake_slack, command(verb.format(999999), trigger=f"u-{verb[:3]}")).json
        assert foreign == _renumbered(unknown, "999999", "601")
        assert "can't find ticket #601" in foreign["text"]
    with stack.services.sessions() as session:
        assert session.get(Ticket, 601).level == 1  # the foreign escalation did nothing


def test_every_button_about_a_foreign_ticket_answers_like_an_unknown_one(stack, fake_slack):
    known_ticket(stack, 601, 1005)
    for name, value, action_id in (("block_actions_escalate", "{}", None), ("block_actions_csat_2", "{}:2", None)):
        answers = []
        for ticket in ("601", "999999"):
            url = fake_slack.response_url(f"R-{name}-{ticket}")
            send(stack, fake_slack, button(name, value.format(ticket), response_url=url, trigger=f"{name}{ticket}",
                                           action_id=action_id))
            stack.drain()
            answers.append(fake_slack.responses(f"R-{name}-{ticket}"))
        assert answers[0] == _renumbered(answers[1], "999999", "601")
        assert "can't find ticket #601" in answers[0][0]["text"]
    with stack.services.sessions() as session:
        assert session.get(Ticket, 601).level == 1
        assert session.scalars(select(CsatRating)).all() == []


def test_escalate_command_reaches_the_vp_and_confirms_in_channel(stack, fake_slack, fake_zendesk):
    fake_zendesk.seed_ticket(501, subject="Exports fail", organization_id=1001, status="open")
    known_ticket(stack, 501, 1001)
    opened_in_channel(stack, 501)
    answer = send(stack, fake_slack, command("escalate #501 nobody answers")).json
    assert answer["response_type"] == "in_channel"
    assert answer["text"] == "Escalation of ticket #501 received: the team is told now and will follow up."
    assert stack.decided(source="slack") == "applied"
    with stack.services.sessions() as session:
        assert session.get(Ticket, 501).level == 4  # the VP holds it; the customer is not told the title
    stack.drain()
    notices = [m["text"] for m in fake_slack.messages("C05NWLOGIST")]
    assert notices == ["A senior support lead now owns #501 and will follow up with you directly."]
    notes = [c["body"] for c in fake_zendesk.comments(501) if not c["public"]]
    assert any("escalation requested: nobody answers (by U0NWCUST01)" in n for n in notes)


def test_solved_ticket_gets_csat_buttons_and_a_low_rating_escalates(stack, fake_slack, fake_zendesk):
    fake_zendesk.seed_ticket(501, subject="Exports fail", organization_id=1001, status="open")
    known_ticket(stack, 501, 1001)
    opened_in_channel(stack, 501)
    solved = TicketSignal(ticket_id=501, kind="snapshot", at=START, created_at=START - dt.timedelta(minutes=5),
                          status="solved", zendesk_priority="high", organization_id=1001, organization_known=True,
                          subject="Exports fail", authoritative=True, source_key="solve-501")
    stack.services.ingestor.ingest(source="worker", dedup_key="solve-501", event_type="snapshot", payload={},
                                   signal=solved)
    stack.drain()
    assert fake_slack.messages("C05NWLOGIST") == []  # nothing the whole channel sees
    (prompt,) = fake_slack.ephemerals("C05NWLOGIST")
    assert prompt["user"] == "U0NWCUST01" and "Ticket #501 is solved. How did we do?" == prompt["text"]
    values = [e["value"] for e in prompt["blocks"][1]["elements"]]
    assert values == ["501:1", "501:2", "501:3", "501:4", "501:5"]
    colleague = button("block_actions_csat_2", "501:1", response_url=fake_slack.response_url("R-other"),
                       action_id="csat_rate_1", trigger="other")
    colleague["user"]["id"] = "U0NWCUST02"
    send(stack, fake_slack, colleague)
    stack.drain()
    assert "can't find ticket #501" in fake_slack.responses("R-other")[0]["text"]  # as if it did not exist
    url = fake_slack.response_url("R-csat")
    send(stack, fake_slack, button("block_actions_csat_2", "501:2", response_url=url, action_id="csat_rate_2"))
    stack.drain()
    assert "Thanks for rating ticket #501 2/5" in fake_slack.responses("R-csat")[0]["text"]
    with stack.services.sessions() as session:
        (rating,) = session.scalars(select(CsatRating)).all()
        assert (rating.score, rating.rated_by, rating.rated_by_team) == (2, "U0NWCUST01", "T0NORTHWND")
        assert session.get(Ticket, 501).level == 4
    notices = [m["text"] for m in fake_slack.messages("C05NWLOGIST")]
    assert notices == ["A senior support lead now owns #501 and will follow up with you directly."]


def test_a_ticket_raised_by_email_gets_no_csat_prompt_in_the_channel(stack, fake_slack):
    known_ticket(stack, 503, 1001, subject="Private matter")
    solved = TicketSignal(ticket_id=503, kind="snapshot", at=START, created_at=START - dt.timedelta(minutes=5),
                          status="solved", zendesk_priority="high", organization_id=1001, organization_known=True,
                          subject="Private matter", authoritative=True, source_key="solve-503")
    stack.services.ingestor.ingest(source="worker", dedup_key="solve-503", event_type="snapshot", payload={},
                                   signal=solved)
    stack.drain()
    assert fake_slack.messages("C05NWLOGIST") == [] and fake_slack.ephemerals("C05NWLOGIST") == []


def test_the_opened_reply_links_to_the_help_center_request_page(stack, fake_slack):
    send(stack, fake_slack, command("Our exports stopped working"))
    for _ in range(2):
        stack.drain()
        stack.clock.advance(seconds=2)
    reply = str(fake_slack.messages("C05NWLOGIST")[-1]["blocks"])
    assert "https://acme.zendesk.com/hc/requests/" in reply and "/agent/tickets/" not in reply


def test_who_is_for_staff_channels_which_see_every_organization(stack, fake_slack):
    known_ticket(stack, 601, 1005)
    staff = send(stack, fake_slack, command("who #601", channel=STAFF_CHANNEL, user="U0AGENT001")).json
    assert "level 1, Support Agent" in staff["text"] and "Timers:" in str(staff["blocks"])
    customer = send(stack, fake_slack, command("who #601")).json
    assert "for staff channels" in customer["text"]


@pytest.mark.parametrize("channel, words", [
    ("D0DMAGENT01", "not in direct messages"),
    ("C0UNBOUND99", "not linked to a support account"),
])
def test_unbound_channels_and_direct_messages_get_a_helpful_refusal(stack, fake_slack, channel, words):
    answer = send(stack, fake_slack, command("status", channel=channel)).json
    assert words in answer["text"] and answer["response_type"] == "ephemeral"


def test_replayed_request_with_an_old_timestamp_is_refused(stack, fake_slack):
    old = stack.clock().timestamp() - 6 * 60
    response = send(stack, fake_slack, command("status"), stamp=old)
    assert response.status_code == 401


def test_slacks_published_signature_vector_passes_our_verification():
    from integration.slack.verify import verify_slack

    body = ("token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
            "&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
            "&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
            "&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c").encode()
    headers = {"X-Slack-Request-Timestamp": "1531420618",
               "X-Slack-Signature": "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"}
    at = dt.datetime.fromtimestamp(1531420618 + 10, dt.timezone.utc)
    verify_slack("8f742231b10e8888abcd99yyyzzz85a5", body, headers, lambda: at)


def _renumbered(value, old: str, new: str):
    import json

    return json.loads(json.dumps(value).replace(old, new))
