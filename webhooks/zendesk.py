"""POST /webhooks/zendesk: verify the raw bytes, parse, then record (one INSERT). The worker decides (and mirrors
the event to the ticket's Slack thread); no outbound call."""
from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify, request

from integration.zendesk.payloads import PayloadError, parse_body
from integration.zendesk.signature import SignatureError, verify

log = logging.getLogger("escalator.webhooks.zendesk")
MAX_BODY_BYTES = 256 * 1024  # Zendesk's own webhook bodies are far smaller; anything larger is not ours

blueprint = Blueprint("zendesk_webhooks", __name__)


@blueprint.post("/webhooks/zendesk")
def receive():
    services = current_app.extensions["escalator.services"]
    status, message, outcome = _handle(services)
    services.metrics.count_webhook("zendesk", outcome)
    body = {"status": "ok" if status < 400 else "error", "message": message, "outcome": outcome}
    return jsonify(body), status


def _handle(services) -> tuple[int, str, str]:
    if (request.content_length or 0) > MAX_BODY_BYTES:
        return 413, f"body larger than {MAX_BODY_BYTES} bytes", "too_large"
    body = request.stream.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        return 413, f"body larger than {MAX_BODY_BYTES} bytes", "too_large"
    refusal = _refuse_unverified(services, body)
    if refusal:
        return refusal
    if request.mimetype != "application/json":
        return 415, f"expected application/json, not {request.mimetype or 'no content type'}", "malformed"
    try:
        parsed = parse_body(body)
    except PayloadError as exc:
        log.info("refused a Zendesk webhook: %s", exc)
        return 400, f"malformed payload: {exc}", "malformed"
    result = services.ingestor.record(source="zendesk", dedup_key=parsed.dedup_key, event_type=parsed.event_type,
                                      payload=parsed.document, signal=parsed.signal,
                                      ignore_reason=parsed.ignore_reason)
    return 200, result.detail, result.outcome


def _refuse_unverified(services, body: bytes) -> tuple[int, str, str] | None:
    config = services.config
    if not config.zendesk_webhook_secret:
        if config.insecure_dev_webhooks:
            log.warning("accepting an UNSIGNED Zendesk webhook (ESCALATOR_INSECURE_DEV_WEBHOOKS is set)")
            return None
        log.error("refusing a Zendesk webhook: ZENDESK_WEBHOOK_SECRET is not set")
        return 503, "webhook secret not configured on this server; nothing was processed", "unconfigured"
    try:
        verify(config.zendesk_webhook_secret, request.headers.get("X-Zendesk-Webhook-Signature"),
               request.headers.get("X-Zendesk-Webhook-Signature-Timestamp"), body, services.now())
    except SignatureError as exc:
        return 401, f"signature refused: {exc}", "unauthorized"
    return None
