"""Slack's inbound requests: verify the raw bytes, then parse, then dispatch through a table of handlers.

Handlers only record and decide (no outbound call), so Slack gets its answer well inside 3 seconds.
"""
from __future__ import annotations

import json
import logging
from urllib.parse import parse_qs

from flask import Blueprint, current_app, jsonify, request

from integration.messages import ACK_ACTION
from integration.signals import TicketSignal
from integration.slack.verify import SlackSignatureError, verify_slack

log = logging.getLogger("escalator.webhooks.slack")
MAX_BODY_BYTES = 64 * 1024

blueprint = Blueprint("slack_webhooks", __name__)


@blueprint.post("/webhooks/slack/interactions")
def interactions():
    services = current_app.extensions["escalator.services"]
    body, refusal = _verified_body(services)
    if refusal:
        return refusal
    try:
        payload = json.loads(parse_qs(body.decode())["payload"][0])
    except (KeyError, IndexError, ValueError, UnicodeDecodeError):
        return _answer(services, 400, "expected a form field 'payload' holding JSON", "malformed")
    if payload.get("type") != "block_actions":
        return _answer(services, 200, f"'{payload.get('type')}' interactions are not handled", "ignored")
    messages = [ACTION_HANDLERS.get(a.get("action_id"), _unknown_action)(services, payload, a)
                for a in payload.get("actions", [])]
    return _answer(services, 200, "; ".join(messages) or "no actions", "handled")


def _acknowledge(services, payload: dict, action: dict) -> str:
    try:
        ticket_id, level = (int(part) for part in str(action.get("value", "")).split(":"))
    except ValueError:
        return f"malformed value {action.get('value')!r}"
    user = (payload.get("user") or {}).get("id")
    signal = TicketSignal(ticket_id=ticket_id, kind="acknowledge", at=None, actor=user, ack_level=level)
    result = services.ingestor.ingest(source="slack", dedup_key=f"ack:{ticket_id}:{level}:{user}",
                                      event_type="acknowledge", payload=payload, signal=signal)
    return f"acknowledged #{ticket_id} level {level}: {result.outcome}"


def _unknown_action(services, payload: dict, action: dict) -> str:
    return f"action {action.get('action_id')!r} is not handled"


ACTION_HANDLERS = {ACK_ACTION: _acknowledge}


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
