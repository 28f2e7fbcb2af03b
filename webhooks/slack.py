"""Slack's inbound requests: verify the raw bytes, then parse and validate, then dispatch through a table.

Handlers only record and decide (no outbound call), so Slack gets its answer well inside 3 seconds.
"""
from __future__ import annotations

import functools
import logging

from flask import Blueprint, current_app, jsonify, request

from integration.slack.actions import handle_actions
from integration.slack.credits import view_submission
from integration.slack.handlers import handle_command, handle_event
from integration.slack.payloads import PayloadError, parse_command, parse_event, parse_interaction
from integration.slack.thread_events import handle_message
from integration.slack.verify import SlackSignatureError, verify_slack

log = logging.getLogger("escalator.webhooks.slack")
MAX_BODY_BYTES = 64 * 1024
FORM = "application/x-www-form-urlencoded"

blueprint = Blueprint("slack_webhooks", __name__)


def verified(parse, mimetype: str):
    """Every Slack route: the raw body is verified before anything is parsed (fails closed), then validated."""

    def wrap(route):
        @functools.wraps(route)
        def checked():
            services = current_app.extensions["escalator.services"]
            body, refusal = _verified_body(services)
            if refusal:
                return refusal
            if request.mimetype != mimetype:
                return _answer(services, 415, f"expected {mimetype}, not {request.mimetype or 'none'}", "malformed")
            try:
                parsed = parse(body)
            except PayloadError as exc:
                log.info("refused a Slack request to %s: %s", request.path, exc)
                return _answer(services, 400, f"malformed: {exc}", "malformed")
            return route(services, parsed)

        return checked

    return wrap


@blueprint.post("/webhooks/slack/commands")
@verified(parse_command, FORM)
def commands(services, form: dict):
    if form["command"] != "/support":
        return _answer(services, 200, f"unknown command {form['command']!r}", "ignored")
    services.metrics.count_webhook("slack", "command")
    # Slack shows this body to the user (ephemeral unless it says in_channel).
    return jsonify(handle_command(services, form)), 200


@blueprint.post("/webhooks/slack/events")
@verified(parse_event, "application/json")
def events(services, parsed: tuple[dict, dict]):
    envelope, document = parsed
    if envelope["type"] == "url_verification":
        return jsonify(challenge=envelope["challenge"]), 200
    if envelope["type"] != "event_callback":
        return _answer(services, 200, f"'{envelope['type']}' is not handled", "ignored")
    # Slack retries (X-Slack-Retry-Num) carry the same event_id: the inbox answers them as duplicates.
    if envelope["event"]["type"] == "message":
        return _answer(services, 200, handle_message(services, document), "handled")
    return _answer(services, 200, handle_event(services, envelope, document), "handled")


@blueprint.post("/webhooks/slack/interactions")
@verified(parse_interaction, FORM)
def interactions(services, payload: dict):
    if payload["type"] == "view_submission" and payload["view"] is not None:
        services.metrics.count_webhook("slack", "handled")
        problem = view_submission(services, payload)  # Slack closes the modal on an empty 200
        return (jsonify(problem), 200) if problem else ("", 200)
    if payload["type"] != "block_actions":
        return _answer(services, 200, f"'{payload['type']}' interactions are not handled", "ignored")
    return _answer(services, 200, handle_actions(services, payload), "handled")


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
