"""Inbound Slack requests for webhook tests: fixtures, wire encoding, signatures.

Re-exported by tests/fakes/slack.py. How fixtures map to wire formats:
tests/fixtures/slack/README.md; the signing rule: docs/slack-facts.md §2.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

FIXTURES_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "slack"


def load_fixture(name: str) -> dict[str, Any]:
    """Parsed tests/fixtures/slack/<name>(.json)."""
    path = FIXTURES_DIR / (name if name.endswith(".json") else f"{name}.json")
    return json.loads(path.read_text(encoding="utf-8"))


def form_body(fields: dict[str, Any]) -> bytes:
    """application/x-www-form-urlencoded body of a slash command."""
    return urlencode({k: "" if v is None else str(v) for k, v in fields.items()}).encode()


def interaction_body(payload: dict[str, Any]) -> bytes:
    """Interactivity body: a single form field `payload` holding the JSON."""
    return urlencode({"payload": json.dumps(payload, separators=(",", ":"))}).encode()


def encode_fixture(name_or_data: str | dict[str, Any]) -> tuple[bytes, str]:
    """(body, content type) as Slack would send the fixture: events (they have a
    "type" of url_verification/event_callback) as JSON, slash commands (they have
    "command") as form fields, interactions as payload=<json>."""
    data = load_fixture(name_or_data) if isinstance(name_or_data, str) else name_or_data
    if "command" in data:
        return form_body(data), "application/x-www-form-urlencoded"
    if data.get("type") in ("url_verification", "event_callback", "app_rate_limited"):
        return json.dumps(data).encode(), "application/json"
    return interaction_body(data), "application/x-www-form-urlencoded"


def sign_request(secret: str, body: bytes, timestamp: str) -> str:
    """X-Slack-Signature: "v0=" + hex(HMAC-SHA256(secret, "v0:{timestamp}:{body}"))."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def request_headers(secret: str, body: bytes, timestamp: str | int | None = None,
                    content_type: str = "application/json", retry_num: int | None = None,
                    retry_reason: str = "http_timeout") -> dict[str, str]:
    """Headers Slack sends with a signed request; retry_num adds X-Slack-Retry-Num
    and X-Slack-Retry-Reason like a redelivered event."""
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    headers = {
        "Content-Type": content_type,
        "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": sign_request(secret, body, timestamp),
    }
    if retry_num is not None:
        headers["X-Slack-Retry-Num"] = str(retry_num)
        headers["X-Slack-Retry-Reason"] = retry_reason
    return headers
