"""Building the zenpy client: our own session, no hidden retries, 429 turned into Retry-After."""
from __future__ import annotations

import os
from typing import Callable

import requests
from zenpy import Zenpy

from integration.config import Config
from integration.core.retry_after import retry_after


class ZendeskRateLimited(Exception):
    def __init__(self, retry_after: float) -> None:
        super().__init__(f"Zendesk rate limited the request (Retry-After {retry_after:g}s)")
        self.retry_after = retry_after


def _raise_on_429(response: requests.Response, *args, **kwargs) -> None:
    # zenpy sleeps and retries a 429 forever; raising here hands the wait to the outbox instead.
    if response.status_code == 429:
        raise ZendeskRateLimited(retry_after(response.headers, missing=60.0, unreadable=60.0))


def api_url(subdomain: str | None, path: str) -> str:
    """A Zendesk API URL honouring zenpy's own ZENPY_FORCE_NETLOC / ZENPY_FORCE_SCHEME, read per call as zenpy does."""
    scheme = os.environ.get("ZENPY_FORCE_SCHEME", "https")
    netloc = os.environ.get("ZENPY_FORCE_NETLOC") or f"{subdomain}.zendesk.com"
    return f"{scheme}://{netloc}/api/v2/{path}"


def build_zenpy(config: Config, timeout: float = 15.0,
                on_response: Callable[[requests.Response], None] | None = None) -> Zenpy:
    # Our own session: zenpy's default one retries a timed-out PUT, which can add a note twice.
    session = requests.Session()
    if on_response is not None:
        session.hooks["response"].append(lambda response, *args, **kwargs: on_response(response))
    session.hooks["response"].append(_raise_on_429)
    return Zenpy(subdomain=config.zendesk_subdomain, email=config.zendesk_email, token=config.zendesk_api_token,
                 session=session, disable_cache=True, timeout=timeout)
