"""Slack request signatures (v0:timestamp:body) through slack-sdk's SignatureVerifier. Fails closed."""
from __future__ import annotations

import datetime as dt
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
    # The verifier refuses requests older than 5 minutes against its clock: give it ours.
    verifier = SignatureVerifier(secret, clock=_Clock(now))
    try:
        valid = verifier.is_valid(body=body, timestamp=timestamp, signature=signature)
    except ValueError:  # slack-sdk raises on a non-numeric timestamp instead of answering False
        raise SlackSignatureError(f"timestamp {timestamp!r} is not a number") from None
    if not valid:
        raise SlackSignatureError("signature does not match, or the timestamp is outside the 5-minute window")


class _Clock:
    def __init__(self, now: Callable[[], dt.datetime]) -> None:
        self._now = now

    def now(self) -> float:
        return self._now().timestamp()
