"""Plain JSON calls to the Zendesk API on zenpy's session, shared by `zendesk install` and `backfill`.

The session is the one `build_zenpy` gives zenpy (auth, and the 429 hook raising ZendeskRateLimited);
URLs honour ZENPY_FORCE_* through api_url. Plain JSON rather than zenpy's objects: callers compare
and page through raw API shapes.
"""
from __future__ import annotations

import time
from typing import Any, Callable, Iterator

import requests
import tenacity

from integration.config import Config
from integration.zendesk.client import ZendeskRateLimited, api_url, build_zenpy


class ZendeskCallError(Exception):
    """A Zendesk call failed for good (after the retries it is allowed)."""


class ZendeskApiError(ZendeskCallError):
    def __init__(self, method: str, path: str, status: int, body: str) -> None:
        super().__init__(f"Zendesk answered {method} {path} with {status}: {body[:500]}")
        self.status = status


class ZendeskJson:
    """JSON calls on zenpy's session (auth + the 429 hook), honouring ZENPY_FORCE_* through api_url.

    A 429 waits Retry-After and tries again (saying so through `on_wait`); a GET that fails
    transiently (5xx, connection, timeout) is retried with backoff; writes are never repeated blindly.
    """

    def __init__(self, session: requests.Session, subdomain: str | None, *, timeout: float = 30.0,
                 sleep: Callable[[float], None] = time.sleep,
                 on_wait: Callable[[str], None] = lambda message: None, get_retries: int = 5) -> None:
        self.session, self.subdomain, self.timeout = session, subdomain, timeout
        self.sleep, self.on_wait, self.get_retries = sleep, on_wait, get_retries

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else api_url(self.subdomain, path)

    def request(self, method: str, path: str, *, params: dict | None = None, body: Any = None) -> Any:
        where, transient = f"{method} {path.split('?')[0]}", [0]

        def retry(state: tenacity.RetryCallState) -> bool:
            # 429s are waited out however many come; other transient failures get `get_retries` more tries.
            exc = state.outcome.exception()
            if isinstance(exc, ZendeskRateLimited):
                return True
            if exc is None or not _transient(exc, method):
                return False
            transient[0] += 1
            return transient[0] <= self.get_retries

        def wait(state: tenacity.RetryCallState) -> float:
            exc = state.outcome.exception()
            return exc.retry_after if isinstance(exc, ZendeskRateLimited) else min(2 ** (transient[0] - 1), 30)

        retrying = tenacity.Retrying(retry=retry, wait=wait, sleep=self.sleep, reraise=True,
                                     before_sleep=lambda state: self.on_wait(_waiting(state, where)))
        try:
            return retrying(self._once, method, path, params, body)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise ZendeskCallError(f"{method} {path}: {exc.__class__.__name__}: {exc}") from exc

    def _once(self, method: str, path: str, params: dict | None, body: Any) -> Any:
        response = self.session.request(method, self.url(path), params=params, json=body, timeout=self.timeout)
        if response.status_code >= 400:
            raise ZendeskApiError(method, path.split("?")[0], response.status_code, response.text)
        return response.json() if response.content else None

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params or None)

    def items(self, path: str, key: str, **params: Any) -> Iterator[dict]:
        """Every item of a list, following cursor (`meta.has_more` + `links.next`) or offset (`next_page`)."""
        page = self.get(path, **params)
        while True:
            yield from page.get(key) or []
            links, meta = page.get("links") or {}, page.get("meta") or {}
            following = links.get("next") if meta.get("has_more") else page.get("next_page")
            if not following:
                return
            page = self.get(following)


def _transient(exc: BaseException, method: str) -> bool:
    """A GET that failed transiently (5xx, connection, timeout) is tried again; writes are never repeated blindly."""
    failed = isinstance(exc, (requests.ConnectionError, requests.Timeout)) or \
        (isinstance(exc, ZendeskApiError) and exc.status >= 500)
    return failed and method == "GET"


def _waiting(state: tenacity.RetryCallState, where: str) -> str:
    exc, delay = state.outcome.exception(), state.upcoming_sleep
    if isinstance(exc, ZendeskRateLimited):
        return f"Zendesk rate limit: waiting {delay:g}s (Retry-After) before {where}"
    why = f"HTTP {exc.status}" if isinstance(exc, ZendeskApiError) else exc.__class__.__name__
    return f"{why} on {where}: trying again in {delay:g}s"


def build_json_api(config: Config, *, sleep: Callable[[float], None] = time.sleep,
                   on_wait: Callable[[str], None] = lambda message: None) -> ZendeskJson:
    """ZendeskJson on zenpy's session for this configuration's account."""
    session = build_zenpy(config).tickets.session
    return ZendeskJson(session, config.zendesk_subdomain, sleep=sleep, on_wait=on_wait)
