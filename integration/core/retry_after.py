"""Reading a Retry-After header (seconds), one rule for every vendor: Zendesk and Slack both send it on 429."""
from __future__ import annotations

from typing import Mapping


def retry_after(headers: Mapping, *, missing: float, unreadable: float) -> float:
    """The wait a response asks for; `missing` without the header, `unreadable` when it is not a number.
    Header names are matched case-insensitively; slack-sdk gives each value as a list."""
    for key, value in headers.items():
        if key.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) and value else value
            try:
                return max(0.0, float(raw))
            except (TypeError, ValueError):
                return unreadable
    return missing
