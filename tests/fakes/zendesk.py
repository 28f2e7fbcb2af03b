"""A fake Zendesk Support API on a real socket, for the real zenpy client.

    from tests.fakes.zendesk import fake_zendesk  # noqa: F401  (pytest fixture)

    def test_something(fake_zendesk):
        fake_zendesk.seed_ticket(35436, organization_id=1001, priority="high")
        zenpy = fake_zendesk.client()                  # real zenpy, production adapter
        zenpy.tickets.update(Ticket(id=35436, additional_tags=["escalated_l2"]))
        assert fake_zendesk.ticket(35436)["tags"] == ["escalated_l2"]
        assert fake_zendesk.calls_to("PUT", "/api/v2/tickets/35436.json")[0].json == {...}

The fixture starts the server on 127.0.0.1 (port 0) and points zenpy at it with
ZENPY_FORCE_NETLOC / ZENPY_FORCE_SCHEME (read by zenpy on every request, so the
order of client creation and fixture setup does not matter). Shapes, error
bodies and the facts behind them: docs/zendesk-facts.md. Admin objects (ticket
fields, webhooks, triggers): tests/fakes/zendesk_admin.py; the incremental
ticket export and bulk seeding: tests/fakes/zendesk_export.py.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import pytest

from tests.fakes.local_server import LocalServer
from tests.fakes.zendesk_bulk import BulkMixin
from tests.fakes.zendesk_export import seed_tickets
from tests.fakes.zendesk_limits import LimitsMixin
from tests.fakes.zendesk_server import Call, Fault, FakeZendeskApp
from tests.fakes.zendesk_state import ZendeskState, record_invalid

__all__ = ["Call", "FakeZendesk", "fake_zendesk", "load_fixture", "FIXTURES_DIR",
           "webhook_headers", "sign_webhook"]

FIXTURES_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "zendesk"
DEFAULT_EMAIL = "escalator-bot@example.com"
DEFAULT_TOKEN = "fake-zendesk-token"
AGENT_ID = 900001



class FakeZendesk(LocalServer, LimitsMixin, BulkMixin):
    """Fake Zendesk account + HTTP server. All public methods are thread-safe. Rate-limit
    enforcement and call-log analysis: tests/fakes/zendesk_limits.py; jobs: zendesk_bulk.py."""
    server_name = "fake-zendesk"

    def __init__(self, subdomain: str = "acme", email: str = DEFAULT_EMAIL,
                 token: str = DEFAULT_TOKEN, clock: Callable[[], datetime] | None = None):
        self.subdomain = subdomain
        self.email = email
        self.token = token
        self._lock = threading.RLock()
        self._clock = clock or (lambda: datetime.now(timezone.utc))
        self._state = ZendeskState(subdomain, lambda: self._clock())
        self._app = FakeZendeskApp(self._state, email, token, self._lock)
        self._seed_agent()

    # -- lifecycle -----------------------------------------------------------

    @property
    def netloc(self) -> str:
        """Value for ZENPY_FORCE_NETLOC."""
        return f"127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"http://{self.netloc}"

    @property
    def env(self) -> dict[str, str]:
        """Environment for code that builds its own client (integration config)."""
        return {"ZENDESK_SUBDOMAIN": self.subdomain, "ZENDESK_EMAIL": self.email,
                "ZENDESK_API_TOKEN": self.token, "ZENPY_FORCE_NETLOC": self.netloc,
                "ZENPY_FORCE_SCHEME": "http"}

    def set_clock(self, clock: Callable[[], datetime]) -> None:
        """Make created_at/updated_at come from `clock` (aware datetimes)."""
        self._clock = clock

    def client(self, *, production_adapter: bool = True, **kwargs: Any) -> Any:
        """A real zenpy.Zenpy for this account. Requires ZENPY_FORCE_* in the
        environment (the fixture sets them). With production_adapter=True the
        HTTPAdapter zenpy mounts for https:// (urllib3 Retry: total=3, retries
        413/503 and read errors on idempotent methods) is also mounted for http://,
        so the fake sees what Zendesk would see."""
        from requests.adapters import HTTPAdapter
        from zenpy import Zenpy

        kwargs.setdefault("subdomain", self.subdomain)
        kwargs.setdefault("email", self.email)
        kwargs.setdefault("token", self.token)
        zenpy = Zenpy(**kwargs)
        if production_adapter:
            zenpy.tickets.session.mount("http://", HTTPAdapter(**Zenpy.http_adapter_kwargs()))
        return zenpy

    # -- seeding and inspection ----------------------------------------------
    def _seed_agent(self) -> None:
        self._state.add_user(AGENT_ID, {"name": "Escalator Bot", "email": self.email,
                                        "role": "admin"})
        self._app.agent_id = AGENT_ID

    @property
    def agent_id(self) -> int:
        """User id the API token authenticates as (author of API comments)."""
        return AGENT_ID

    def seed_organization(self, org_id: int | None = None, **fields: Any) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._state.add_organization(org_id, fields))

    def seed_user(self, user_id: int | None = None, **fields: Any) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._state.add_user(user_id, fields))

    def seed_ticket(self, ticket_id: int | None = None, **fields: Any) -> dict[str, Any]:
        """Add a ticket. Any ticket field may be given (created_at in the past for
        SLA tests, custom_fields, tags, satisfaction_rating...); `description`
        becomes the first public comment, authored by the requester."""
        with self._lock:
            return copy.deepcopy(self._state.add_ticket(ticket_id, fields))

    def seed_comment(self, ticket_id: int, body: str, *, public: bool = True,
                     author_id: int | None = None, created_at: str | None = None,
                     **fields: Any) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._state.add_comment(ticket_id, {
                "body": body, "public": public, "author_id": author_id,
                "created_at": created_at, **fields}))

    def seed_tickets(self, rows: Iterable[dict[str, Any]]) -> int:
        """Bulk-add tickets (each row: "id" plus any ticket fields, as for seed_ticket) without
        copying them back: 10,000 take well under a second. Returns how many were added."""
        with self._lock:
            return seed_tickets(self._state, rows)

    def admin_objects(self, kind: str) -> list[dict[str, Any]]:
        """Copies of "ticket_fields", "webhooks" or "triggers" (tests/fakes/zendesk_admin.py)."""
        with self._lock:
            return copy.deepcopy(list(getattr(self._state, kind).values()))

    def webhook_secret(self, webhook_id: str) -> str:
        with self._lock:
            return self._state.webhook_secrets[webhook_id]

    def ticket(self, ticket_id: int) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._state.tickets[ticket_id])

    def comments(self, ticket_id: int) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._state.comments[ticket_id])

    def user(self, user_id: int) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._state.users[user_id])

    def organization(self, org_id: int) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._state.organizations[org_id])

    # -- switches ------------------------------------------------------------
    def fail_next(self, n: int = 1, status: int = 500, *, method: str | None = None,
                  path: str | None = None, body: str | bytes | dict | None = None,
                  headers: dict[str, str] | None = None) -> None:
        """Answer the next n matching requests with `status` (default text/plain
        body; pass a dict for a JSON body). method/path (prefix) narrow the match."""
        reason = {500: "Internal Server Error", 502: "Bad Gateway",
                  503: "Service Unavailable", 504: "Gateway Timeout"}.get(status, "Error")
        content_type = "text/plain; charset=utf-8"
        if isinstance(body, dict):
            body, content_type = json.dumps(body), "application/json; charset=utf-8"
        self._add(Fault("fail", n, method, path, status=status, headers=dict(headers or {}),
                        body=reason if body is None else body, content_type=content_type))

    def rate_limit_next(self, n: int = 1, retry_after: int | str | None = 1, *,
                        method: str | None = None, path: str | None = None,
                        body: str | dict = "Too Many Requests") -> None:
        """Answer the next n matching requests with 429 and Retry-After (omitted
        when None). Body is text/plain unless a dict is given."""
        headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
        content_type = "text/plain; charset=utf-8"
        if isinstance(body, dict):
            body, content_type = json.dumps(body), "application/json; charset=utf-8"
        self._add(Fault("rate_limit", n, method, path, status=429, headers=headers,
                        body=body, content_type=content_type))

    def delay_next(self, n: int = 1, seconds: float = 1.0, *, method: str | None = None,
                   path: str | None = None, when: str = "after") -> None:
        """Delay the next n matching requests by `seconds` to force client timeouts.
        when="after" (default): process the request, then stall the response, like
        a slow Zendesk that did apply the write. when="before": stall, then process.
        Either way the stall holds no lock: other requests are served meanwhile."""
        assert when in ("before", "after")
        self._add(Fault("delay", n, method, path, seconds=seconds, when=when))

    def hold_next(self, n: int = 1, seconds: float = 1.0, *, method: str | None = "PUT",
                  path: str | None = None) -> None:
        """Hold the next n matching requests (default: PUTs) for `seconds`, then apply them and
        answer: a client that timed out meanwhile finds the write applied later, like a slow
        Zendesk. Same as delay_next(when="before")."""
        self.delay_next(n, seconds, method=method, path=path, when="before")

    def reject_ticket(self, ticket_id: int, status: int = 422,
                      details: dict[str, Any] | None = None) -> None:
        """Make every write to `ticket_id` fail with a Zendesk error body."""
        if status == 422:
            body = record_invalid(details or {"base": [{
                "description": f"Ticket {ticket_id} could not be updated", "error": "InvalidValue"}]}).body
        elif status == 404:
            body = {"error": "RecordNotFound", "description": "Not found"}
        else:
            body = {"error": "Forbidden", "description": "You do not have access to this page."}
        with self._lock:
            self._state.rejected[ticket_id] = (status, body)

    def accept_ticket(self, ticket_id: int) -> None:
        with self._lock:
            self._state.rejected.pop(ticket_id, None)

    def _add(self, fault: Fault) -> None:
        with self._lock:
            self._app.faults.append(fault)

    # -- call log ------------------------------------------------------------
    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._app.calls)

    def calls_to(self, method: str, path: str) -> list[Call]:
        """Calls with this method and exact path (query string excluded)."""
        return [c for c in self.calls if c.method == method and c.path == path]

    def clear_calls(self) -> None:
        with self._lock:
            self._app.calls.clear()

    def reset(self) -> None:
        """Forget all data, switches and calls (the server keeps running)."""
        with self._lock:
            self._app.faults.clear()
            self._app.calls.clear()
            self._app.fail_jobs.clear()
            self._app.limiter, self._app.job_delay, self._app.monotonic = None, 0.2, time.monotonic
            fresh = ZendeskState(self.subdomain, lambda: self._clock())
            self._state.__dict__.update(fresh.__dict__)
            self._seed_agent()


@pytest.fixture
def fake_zendesk(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeZendesk]:
    """A running FakeZendesk; zenpy is pointed at it through the environment."""
    fake = FakeZendesk().start()
    monkeypatch.setenv("ZENPY_FORCE_NETLOC", fake.netloc)
    monkeypatch.setenv("ZENPY_FORCE_SCHEME", "http")
    try:
        yield fake
    finally:
        fake.stop()


# -- webhook payload helpers ------------------------------------------------
def load_fixture(name: str) -> dict[str, Any]:
    """Parsed tests/fixtures/zendesk/<name>(.json)."""
    path = FIXTURES_DIR / (name if name.endswith(".json") else f"{name}.json")
    return json.loads(path.read_text(encoding="utf-8"))


def sign_webhook(secret: str, body: bytes, timestamp: str) -> str:
    """X-Zendesk-Webhook-Signature: base64(HMAC-SHA256(secret, timestamp + body))."""
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def webhook_headers(secret: str, body: bytes, timestamp: str | None = None,
                    webhook_id: str = "01HZX3P5S6V7W8Y9ZA0B1C2D3E") -> dict[str, str]:
    """Headers Zendesk sends with a signed webhook request."""
    timestamp = timestamp or datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "Content-Type": "application/json",
        "User-Agent": "Zendesk Webhook",
        "X-Zendesk-Webhook-Id": webhook_id,
        "X-Zendesk-Webhook-Signature-Timestamp": timestamp,
        "X-Zendesk-Webhook-Signature": sign_webhook(secret, body, timestamp),
    }
