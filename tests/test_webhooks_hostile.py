"""Issue 10's reproductions, one per class: each got a 5xx before; now a 4xx with the true reason, nothing stored."""
import json
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from integration.storage.models import InboxEvent, OutboxAction
from tests.fakes.slack import fake_slack  # noqa: F401
from tests.fakes.slack_requests import request_headers
from tests.fakes.zendesk import fake_zendesk  # noqa: F401
from tests.harness import fixture_body
from tests.slack_harness import ROUTES, button, command, send, slack_stack

BIG = "9223372036854775808"  # 2^63: past our BIGINT columns


@pytest.fixture
def stack(database, tmp_path, fake_zendesk, fake_slack):
    built = slack_stack(database, tmp_path, fake_zendesk, fake_slack)
    yield built
    built.services.engine.dispose()


def nothing_stored(stack):
    with stack.services.sessions() as session:
        return not session.scalars(select(InboxEvent)).all() and not session.scalars(select(OutboxAction)).all()


def signed_raw(stack, fake_slack, route: str, body: bytes, content_type: str, **headers):
    sent = request_headers(fake_slack.signing_secret, body, int(stack.clock().timestamp()), content_type)
    sent.update(headers)
    return stack.client.post(ROUTES[route], data=body, headers=sent)


def interaction(payload) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


@pytest.mark.parametrize("header", ["X-Slack-Signature", "X-Slack-Request-Timestamp"])
@pytest.mark.parametrize("value", ["v0=é", "é", " ", "v0=" + "a" * 10000])
def test_slack_verification_never_raises(stack, fake_slack, header, value):
    body = urlencode(command("status")).encode()
    response = signed_raw(stack, fake_slack, "command", body, "application/x-www-form-urlencoded", **{header: value})
    assert response.status_code == 401
    expected = "not a number" if header == "X-Slack-Request-Timestamp" else "not v0="
    assert expected in response.json["message"] or "missing" in response.json["message"]


@pytest.mark.parametrize("header", ["X-Zendesk-Webhook-Signature", "X-Zendesk-Webhook-Signature-Timestamp"])
@pytest.mark.parametrize("value", ["é", "ü" * 5000, "\x7f"])
def test_zendesk_verification_never_raises(stack, header, value):
    response = stack.post(fixture_body("ticket_created"), headers={header: value})
    assert response.status_code == 401 and "signature refused" in response.json["message"]
    assert nothing_stored(stack)


def test_a_non_utf8_signed_slack_body_gets_the_true_reason(stack, fake_slack):
    response = signed_raw(stack, fake_slack, "command", b"command=%2Fsupport&text=\xff\xfe",
                          "application/x-www-form-urlencoded")
    assert response.status_code == 401 and "not UTF-8" in response.json["message"]


@pytest.mark.parametrize("payload", [1, None, {"type": "block_actions", "actions": 5},
                                     {"type": "block_actions", "actions": [5]},
                                     {"type": "block_actions", "user": "u", "actions": []},
                                     {"type": "block_actions", "channel": "c", "actions": []},
                                     {"type": "block_actions", "user": {"id": {}}, "actions": []},
                                     {"type": "block_actions", "event_id": "x", "trigger_id": "\ud800"}])
def test_interactions_of_the_wrong_shape_get_400(stack, fake_slack, payload):
    response = signed_raw(stack, fake_slack, "interaction", interaction(payload), "application/x-www-form-urlencoded")
    assert response.status_code == 400 and response.json["outcome"] == "malformed"
    assert nothing_stored(stack)


@pytest.mark.parametrize("body", [{"type": "event_callback", "event": "x"},
                                  {"type": "event_callback", "event_id": "\ud800", "event": {}},
                                  {"type": "event_callback", "event_id": "E1", "event": {
                                      "type": "reaction_added", "reaction": "ticket",
                                      "item": {"type": "message", "channel": 5, "ts": "1.2"}}}])
def test_events_of_the_wrong_shape_get_400(stack, fake_slack, body):
    raw = json.dumps(body).encode()
    response = signed_raw(stack, fake_slack, "event", raw, "application/json")
    assert response.status_code == 400
    assert nothing_stored(stack)


@pytest.mark.parametrize("route, content_type", [("event", "application/json"),
                                                 ("interaction", "application/x-www-form-urlencoded")])
def test_deep_nesting_is_refused_before_parsing(stack, fake_slack, route, content_type):
    raw = b"[" * 1000 if route == "event" else urlencode({"payload": "[" * 1000}).encode()
    response = signed_raw(stack, fake_slack, route, raw, content_type)
    assert response.status_code == 400 and "nested deeper" in response.json["message"]


def test_deep_nesting_to_zendesk_is_refused(stack):
    response = stack.post(b"[" * 1000)
    assert response.status_code == 400 and "nested deeper" in response.json["message"]


@pytest.mark.parametrize("text", [f"status #{BIG}", f"who #{BIG}", f"escalate #{BIG} now please"])
def test_slack_ticket_numbers_past_63_bits_are_refused(stack, fake_slack, text):
    response = send(stack, fake_slack, command(text))
    assert response.status_code == 200 and "#123" in response.json["text"]  # the usage, not a lookup
    assert nothing_stored(stack)


def test_an_acknowledge_value_past_63_bits_is_refused(stack, fake_slack):
    response = send(stack, fake_slack, button("block_actions_acknowledge", f"{BIG}:1", channel="C05SUPPSTAFF"))
    assert response.status_code == 200 and "malformed value" in response.json["message"]
    assert nothing_stored(stack)


@pytest.mark.parametrize("changes", [{"detail__id": BIG}, {"detail__id": 10**20}, {"detail__organization_id": BIG},
                                     {"id": "\ud800"}, {"detail__subject": "a\x00b"}, {"time": "0001-01-01T00:00:00+01:00"}])
def test_zendesk_events_with_hostile_fields_get_400(stack, changes):
    response = stack.post(json.dumps(fixture_body("ticket_created", **changes)).encode())
    assert response.status_code == 400 and response.json["outcome"] == "malformed"
    assert nothing_stored(stack)


def test_a_zendesk_trigger_id_past_63_bits_gets_400(stack):
    body = {"schema": "escalator.zendesk.trigger/1", "event": "ticket_updated", "ticket": {"id": 10**20}}
    response = stack.post(json.dumps(body).encode())
    assert response.status_code == 400 and "numeric id" in response.json["message"]
    assert nothing_stored(stack)


def test_wrong_content_type_is_refused(stack):
    response = stack.post(fixture_body("ticket_created"), headers={"Content-Type": "text/plain"})
    assert response.status_code == 415 and nothing_stored(stack)
