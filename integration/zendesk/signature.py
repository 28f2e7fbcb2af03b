"""Zendesk webhook signatures: base64(HMAC-SHA256(secret, timestamp + raw body)). Fails closed."""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac

# Zendesk stamps each delivery (retries included) when it sends it; five minutes covers clock skew
# and slow networks while keeping a captured request from being replayed later.
MAX_AGE = dt.timedelta(minutes=5)


class SignatureError(Exception):
    pass


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def verify(secret: str | None, signature: str | None, timestamp: str | None, body: bytes,
           now: dt.datetime) -> None:
    if not secret:
        raise SignatureError("no webhook secret configured")
    if not signature or not timestamp:
        raise SignatureError("missing X-Zendesk-Webhook-Signature or X-Zendesk-Webhook-Signature-Timestamp")
    if not hmac.compare_digest(sign(secret, timestamp, body), signature.strip()):
        raise SignatureError("signature does not match the body")
    stamped = _parse_timestamp(timestamp)
    if abs(now - stamped) > MAX_AGE:
        raise SignatureError(f"timestamp {timestamp} is outside the {int(MAX_AGE.total_seconds() // 60)}-minute window")


def _parse_timestamp(text: str) -> dt.datetime:
    try:
        stamped = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise SignatureError(f"timestamp {text!r} is not ISO-8601") from None
    if stamped.tzinfo is None:
        raise SignatureError(f"timestamp {text!r} has no timezone")
    return stamped
