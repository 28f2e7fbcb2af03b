"""Building the zenpy client: our own session, no hidden retries, 429 turned into Retry-After."""
from __future__ import annotations

import os
import threading
import time
from typing import Callable

import requests
from zenpy import Zenpy

from integration.config import Config


class ZendeskRateLimited(Exception):
    def __init__(self, retry_after: float) -> None:
        super().__init__(f"Zendesk rate limited the request (Retry-After {retry_after:g}s)")
        self.retry_after = retry_after


def parse_retry_after(value: str | None, default: float = 60.0) -> float:
    try:
        return max(0.0, float(value)) if value is not None else default
    except ValueError:
        return default


def _raise_on_429(response: requests.Response, *args, **kwargs) -> None:
    # zenpy sleeps and retries a 429 forever; raising here hands the wait to the outbox instead.
    if response.status_code == 429:
        raise ZendeskRateLimited(parse_retry_after(response.headers.get("Retry-After")))


def api_url(subdomain: str | None, path: str) -> str:
    """A Zendesk API URL honouring zenpy's own ZENPY_FORCE_NETLOC / ZENPY_FORCE_SCHEME, read per call as zenpy does."""
    scheme = os.environ.get("ZENPY_FORCE_SCHEME", "https")
    netloc = os.environ.get("ZENPY_FORCE_NETLOC") or f"{subdomain}.zendesk.com"
    return f"{scheme}://{netloc}/api/v2/{path}"


def build_zenpy(config: Config, timeout: float = 15.0) -> Zenpy:
    # Our own session: zenpy's default one retries a timed-out PUT, which can add a note twice.
    session = requests.Session()
    session.hooks["response"].append(_raise_on_429)
    return Zenpy(subdomain=config.zendesk_subdomain, email=config.zendesk_email, token=config.zendesk_api_token,
                 session=session, disable_cache=True, timeout=timeout)


class TokenBucket:
    """Zendesk allows 100 ticket updates a minute per account; we keep under it."""

    def __init__(self, per_minute: int = 90, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.capacity, self.rate, self.monotonic = per_minute, per_minute / 60.0, monotonic
        self.tokens, self.stamp, self.lock = float(per_minute), monotonic(), threading.Lock()

    def take(self) -> float:
        """0 when a token was taken, else the seconds to wait for one."""
        with self.lock:
            now = self.monotonic()
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens >= 1:
                self.tokens -= 1
                return 0.0
            return (1 - self.tokens) / self.rate
