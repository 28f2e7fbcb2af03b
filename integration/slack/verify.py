"""Slack request signatures (v0:timestamp:body) through slack-sdk's SignatureVerifier. Fails closed."""
from __future__ import annotations

import datetime as dt
import re
from typing import Callable, Mapping

from slack_sdk.signature import SignatureVerifier


class SlackSignatureError(Exception):
    pass


def verify_slack(secret: str | None, body: bytes, headers: Mapping[str, str],
                 now: Callable[[], dt.datetime]) -> None:
    if not secret:
        raise SlackSignatureError("no Slack signing secret configured")
    timestamp = headers.get("X-Slack-Request-Timestamp")
    signature = headers.get("X-Slack-Signature")
    if not timestamp or not signature:
        raise SlackSignatureError("missing X-Slack-Signature or X-Slack-Request-Timestamp")
    # slack-sdk raises instead of answering False on each of these: check them first, with the true reason.
    if len(timestamp) > 20 or not timestamp.isascii() or not timestamp.isdigit():
        raise SlackSignatureError(f"timestamp {timestamp[:30]!r} is not a number")
    if len(signature) > 100 or not re.fullmatch(r"v0=[0-9a-f]{64}", signature):
        raise SlackSignatureError(f"X-Slack-Signature {signature[:30]!r} is not v0=<64 hex digits>")
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        raise SlackSignatureError("body is not UTF-8, so its signature cannot be checked") from None
    # The verifier refuses requests older than 5 minutes against its clock: give it ours.
    verifier = SignatureVerifier(secret, clock=_Clock(now))
    if not verifier.is_valid(body=body, timestamp=timestamp, signature=signature):
        raise SlackSignatureError("signature does not match, or the timestamp is outside the 5-minute window")


class _Clock:
    def __init__(self, now: Callable[[], dt.datetime]) -> None:
        self._now = now

    def now(self) -> float:
        return self._now().timestamp()
