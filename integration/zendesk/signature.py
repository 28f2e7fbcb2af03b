"""Zendesk webhook signatures: base64(HMAC-SHA256(secret, timestamp + raw body)). Fails closed.

ZENDESK_WEBHOOK_SECRET may hold several secrets, comma-separated: each Zendesk webhook has its own
(the trigger webhook and the event-subscription one), and a rotation needs the old and the new.
"""
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


def webhook_secrets(configured: str | None) -> tuple[str, ...]:
    """The secrets in a ZENDESK_WEBHOOK_SECRET value: comma-separated, blanks around them ignored."""
    return tuple(part.strip() for part in (configured or "").split(",") if part.strip())


def verify(secret: str | None, signature: str | None, timestamp: str | None, body: bytes,
           now: dt.datetime) -> None:
    candidates = webhook_secrets(secret)
    if not candidates:
        raise SignatureError("no webhook secret configured")
    if not signature or not timestamp:
        raise SignatureError("missing X-Zendesk-Webhook-Signature or X-Zendesk-Webhook-Signature-Timestamp")
    if len(signature) > 200 or not signature.isascii():
        raise SignatureError("X-Zendesk-Webhook-Signature is not base64")  # compare_digest raises on non-ASCII
    stamped = _parse_timestamp(timestamp)
    given = signature.strip().encode()
    matched = False
    for candidate in candidates:  # every one compared, so the time taken says nothing about which matched
        matched |= hmac.compare_digest(sign(candidate, timestamp, body).encode(), given)
    if not matched:
        raise SignatureError("signature does not match the body")
    if abs(now - stamped) > MAX_AGE:
        raise SignatureError(f"timestamp {timestamp} is outside the {int(MAX_AGE.total_seconds() // 60)}-minute window")


def _parse_timestamp(text: str) -> dt.datetime:
    shown = repr(text[:40])
    if len(text) > 64 or not text.isascii():
        raise SignatureError(f"timestamp {shown} is not ISO-8601")
    try:
        stamped = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise SignatureError(f"timestamp {shown} is not ISO-8601") from None
    if stamped.tzinfo is None:
        raise SignatureError(f"timestamp {shown} has no timezone")
    if not 1970 < stamped.year < 9999:  # the window arithmetic would overflow
        raise SignatureError(f"timestamp {shown} is outside the 5-minute window")
    return stamped
