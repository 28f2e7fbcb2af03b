"""Slack's inbound requests: verify the raw bytes, then parse, then dispatch through a table of handlers.

Handlers only record and decide (no outbound call), so Slack gets its answer well inside 3 seconds.
"""
from __future__ import annotations

import functools
import json
import logging
from urllib.parse import parse_qs

from flask import Blueprint, current_app, jsonify, request

from integration.core.digest import parse_ack_all
from integration.core.messages import ACK_ACTION, ACK_ALL_ACTION, TAKE_ACTION
from integration.core.signals import TicketSignal
from integration.core.state import Action
from integration.slack.binding import bind_channel
from integration.slack.handlers import handle_command, handle_csat, handle_customer_escalate, handle_event
from integration.slack.thread_events import handle_message
from integration.slack.verify import SlackSignatureError, verify_slack
from integration.core.customer_views import CSAT_ACTION, ESCALATE_ACTION

log = logging.getLogger("escalator.webhooks.slack")
MAX_BODY_BYTES = 64 * 1024

blueprint = Blueprint("slack_webhooks", __name__)


def verified(route):
    """Every Slack route: the raw body is verified before anything is parsed (fails closed)."""

    @functools.wraps(route)
    def checked():
        services = current_app.extensions["escalator.services"]
        body, refusal = _verified_body(services)
        return refusal if refusal else route(services, body)

    return checked


@blueprint.post("/webhooks/slack/commands")
@verified
def commands(services, body: bytes):
    form = {key: values[0] for key, values in parse_qs(body.decode("utf-8", "replace")).items()}
    if form.get("command") != "/support":
        return _answer(services, 200, f"unknown command {form.get('command')!r}", "ignored")
    services.metrics.count_webhook("slack", "command")
    # Slack shows this body to the user (ephemeral unless it says in_channel).
    return jsonify(handle_command(services, form)), 200


@blueprint.post("/webhooks/slack/events")
@verified
def events(services, body: bytes):
    try:
        envelope = json.loads(body)
    except ValueError:
        return _answer(services, 400, "body is not JSON", "malformed")
    if not isinstance(envelope, dict):
        return _answer(services, 400, "body is not a JSON object", "malformed")
    if envelope.get("type") == "url_verification":
        return jsonify(challenge=envelope.get("challenge", "")), 200
    if envelope.get("type") != "event_callback":
        return _answer(services, 200, f"'{envelope.get('type')}' is not handled", "ignored")
    # Slack retries (X-Slack-Retry-Num) carry the same event_id: the inbox answers them as duplicates.
    if (envelope.get("event") or {}).get("type") == "message":
        return _answer(services, 200, handle_message(services, envelope), "handled")
    return _answer(services, 200, handle_event(services, envelope), "handled")


@blueprint.post("/webhooks/slack/interactions")
@verified
def interactions(services, body: bytes):
    try:
        payload = json.loads(parse_qs(body.decode())["payload"][0])
    except (KeyError, IndexError, ValueError, UnicodeDecodeError):
        return _answer(services, 400, "expected a form field 'payload' holding JSON", "malformed")
    if payload.get("type") != "block_actions":
        return _answer(services, 200, f"'{payload.get('type')}' interactions are not handled", "ignored")
    messages = [_handler_for(a.get("action_id"))(services, payload, a) for a in payload.get("actions", [])]
    return _answer(services, 200, "; ".join(messages) or "no actions", "handled")


def _acknowledge(services, payload: dict, action: dict) -> str:
    try:
        ticket_id, level = (int(part) for part in str(action.get("value", "")).split(":"))
    except ValueError:
        return f"malformed value {action.get('value')!r}"
    return _acknowledge_step(services, payload, ticket_id, level)


def _acknowledge_all(services, payload: dict, action: dict) -> str:
    """A digest's button: each listed step is acknowledged exactly as its own Acknowledge button would."""
    if not _staff_side(services.mappings.current, payload):
        return "Acknowledge all works only where digests are posted: staff and escalation channels, direct messages"
    try:
        pairs = parse_ack_all(str(action.get("value", "")))
    except ValueError:
        return f"malformed value {str(action.get('value'))[:60]!r}"
    return "; ".join(_acknowledge_step(services, payload, ticket_id, level) for ticket_id, level in pairs)


def _staff_side(mappings, payload: dict) -> bool:
    """Digests go to staff channels, the matrix owners' channels and DMs; never to a customer's shared channel."""
    channel = (payload.get("channel") or {}).get("id") or (payload.get("container") or {}).get("channel_id") or ""
    owners = {c for level in mappings.escalation.levels for c in level.slack_channel_ids}
    return channel.startswith("D") or channel in owners or bind_channel(mappings, channel).kind == "staff"


def _acknowledge_step(services, payload: dict, ticket_id: int, level: int) -> str:
    user = (payload.get("user") or {}).get("id")
    signal = TicketSignal(ticket_id=ticket_id, kind="acknowledge", at=None, actor=user, ack_level=level)
    result = services.ingestor.ingest(source="slack", dedup_key=f"ack:{ticket_id}:{level}:{user}",
                                      event_type="acknowledge", payload=payload, signal=signal)
    return f"acknowledged #{ticket_id} level {level}: {result.outcome}"


def _take_ownership(services, payload: dict, action: dict) -> str:
    """Acknowledge now; the worker finds the Zendesk agent with this Slack user's email and assigns the ticket."""
    answer = _acknowledge(services, payload, action)
    try:
        ticket_id, level = (int(part) for part in str(action.get("value", "")).split(":"))
    except ValueError:
        return answer
    user = (payload.get("user") or {}).get("id")
    work = Action("open", "take_ownership", {"ticket_id": ticket_id, "level": level, "user": user,
                                             "response_url": payload.get("response_url")},
                  f"take-{ticket_id}-{level}-{user}")
    services.ingestor.enqueue_action(source="slack", dedup_key=f"take:{payload.get('trigger_id')}", action=work,
                                     payload={"ticket_id": ticket_id, "user": user})
    return f"{answer}; assigning it to you in Zendesk"


def _unknown_action(services, payload: dict, action: dict) -> str:
    return f"action {action.get('action_id')!r} is not handled"


ACTION_HANDLERS = {ACK_ACTION: _acknowledge, ACK_ALL_ACTION: _acknowledge_all, TAKE_ACTION: _take_ownership, ESCALATE_ACTION: handle_customer_escalate, CSAT_ACTION: handle_csat}


def _handler_for(action_id: str | None):
    # CSAT buttons are csat_rate_1 … csat_rate_5 (Slack wants distinct action ids within one block).
    base = CSAT_ACTION if (action_id or "").startswith(CSAT_ACTION) else action_id
    return ACTION_HANDLERS.get(base, _unknown_action)


def _verified_body(services):
    if (request.content_length or 0) > MAX_BODY_BYTES:
        return None, _answer(services, 413, f"body larger than {MAX_BODY_BYTES} bytes", "too_large")
    body = request.get_data(cache=False)
    if len(body) > MAX_BODY_BYTES:
        return None, _answer(services, 413, f"body larger than {MAX_BODY_BYTES} bytes", "too_large")
    try:
        verify_slack(services.config.slack_signing_secret, body, request.headers, services.now)
    except SlackSignatureError as exc:
        status = 503 if not services.config.slack_signing_secret else 401
        return None, _answer(services, status, f"refused: {exc}", "unauthorized")
    return body, None


def _answer(services, status: int, message: str, outcome: str):
    services.metrics.count_webhook("slack", outcome)
    return jsonify(status="ok" if status < 400 else "error", message=message, outcome=outcome), status
