"""A fake Slack Web API on a real socket, for the real slack_sdk WebClient.

    from tests.fakes.slack import fake_slack  # noqa: F401  (pytest fixture)

    def test_something(fake_slack):
        client = fake_slack.client()                     # real slack_sdk WebClient
        client.chat_postMessage(channel="C0STAFF01", text="Ticket #35436 breached",
                                blocks=[...])
        [msg] = fake_slack.messages("C0STAFF01")
        assert msg["blocks"][0]["type"] == "section"
        assert fake_slack.calls_to("chat.postMessage")[0].header("Authorization") == ...

The fixture starts the server on 127.0.0.1 (port 0) and seeds the standard
workspace (seed_workspace: the channels and users the fixtures in
tests/fixtures/slack/ refer to). Point production code at it with
`WebClient(base_url=fake.base_url, token=fake.token)` or the variables in
`fake.env`. The inbound helpers re-exported here (tests/fakes/slack_requests.py)
build signed Slack requests (events, slash commands, interactions) from those fixtures.
Shapes, error bodies and the facts behind them: docs/slack-facts.md.
"""

from __future__ import annotations

import copy
import itertools
import json
import threading
import time
from typing import Any, Callable, Iterator

import pytest

from tests.fakes.local_server import LocalServer
from tests.fakes.slack_requests import (
    FIXTURES_DIR,
    encode_fixture,
    form_body,
    interaction_body,
    load_fixture,
    request_headers,
    sign_request,
)
from tests.fakes.slack_server import Call, Fault, FakeSlackApp
from tests.fakes.slack_state import APP_ID, BOT_USER_ID, HOST_TEAM, SlackState

__all__ = ["Call", "FakeSlack", "fake_slack", "FIXTURES_DIR", "load_fixture", "encode_fixture",
           "form_body", "interaction_body", "sign_request", "request_headers",
           "HOST_TEAM", "CUSTOMER_TEAM", "BOT_USER_ID", "APP_ID"]

DEFAULT_TOKEN = "xoxb-fake-escalator-token"
DEFAULT_SIGNING_SECRET = "fake-slack-signing-secret"
CUSTOMER_TEAM = "T0NORTHWND"
PROXY_VARS = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy")



class FakeSlack(LocalServer):
    """Fake Slack workspace + Web API server. All public methods are thread-safe."""
    server_name = "fake-slack"

    def __init__(self, token: str = DEFAULT_TOKEN, signing_secret: str = DEFAULT_SIGNING_SECRET,
                 clock: Callable[[], float] = time.monotonic):
        self.token = token
        self.signing_secret = signing_secret
        self._clock = clock
        self._lock = threading.RLock()
        self._state = SlackState(clock)
        self._app = FakeSlackApp(self._state, {token}, self._lock)
        self._response_ids = itertools.count(1)

    # -- lifecycle -----------------------------------------------------------

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """WebClient base_url, like Slack's "https://slack.com/api/" (trailing slash)."""
        return f"{self.root_url}/api/"

    @property
    def env(self) -> dict[str, str]:
        """Environment for code that builds its own client (integration config)."""
        return {"SLACK_BOT_TOKEN": self.token, "SLACK_SIGNING_SECRET": self.signing_secret,
                "SLACK_API_URL": self.base_url}

    def client(self, **kwargs: Any) -> Any:
        """A real slack_sdk.WebClient for this workspace (kwargs override, e.g.
        retry_handlers=[...], timeout=1, token="xoxb-wrong")."""
        from slack_sdk import WebClient

        kwargs.setdefault("token", self.token)
        kwargs.setdefault("base_url", self.base_url)
        return WebClient(**kwargs)

    def response_url(self, response_id: str | None = None) -> str:
        """A response_url (as in a slash command or interaction payload) served by
        this fake; what the app POSTs there is kept in responses(response_id)."""
        response_id = response_id or f"R{next(self._response_ids):04d}"
        return f"{self.root_url}/response/{response_id}"

    # -- seeding -------------------------------------------------------------
    def seed_channel(self, channel_id: str, name: str | None = None, is_ext_shared: bool = False,
                     is_im: bool = False, **fields: Any) -> dict[str, Any]:
        """Add a conversation. fields: is_private, is_archived, is_member (False ->
        chat.postMessage answers not_in_channel), user (the other side of an IM),
        host_team, shared_team_ids, or any extra conversations.info field."""
        with self._lock:
            return copy.deepcopy(self._state.add_channel(
                channel_id, name, is_ext_shared=is_ext_shared, is_im=is_im, **fields))

    def seed_user(self, user_id: str, team_id: str = HOST_TEAM, tz: str = "Europe/Berlin",
                  email: str | None = None, **fields: Any) -> dict[str, Any]:
        """Add a user (users.info / users.lookupByEmail). tz_offset is computed from
        tz for the current instant; fields: name, real_name, is_bot, deleted, ..."""
        with self._lock:
            return copy.deepcopy(self._state.add_user(user_id, team_id=team_id, tz=tz,
                                                      email=email, **fields))

    def seed_message(self, channel_id: str, user_id: str, text: str) -> dict[str, Any]:
        """A message posted by a person (conversations.history returns it)."""
        with self._lock:
            return self._state.add_user_message(channel_id, user_id, text)

    def seed_file(self, file_id: str, name: str, content: bytes, **fields: Any) -> dict[str, Any]:
        """A file a person shared (files.info, and its url_private_download on this server)."""
        with self._lock:
            self._state.root_url = self.root_url
            return self._state.add_file(file_id, name, content, **fields)

    def seed_thread_reply(self, channel_id: str, user_id: str, text: str, thread_ts: str,
                          files: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """A person's reply in a thread; returns the message as a `message` event carries it."""
        with self._lock:
            return self._state.add_thread_reply(channel_id, user_id, text, thread_ts, files)

    def seed_workspace(self) -> None:
        """The channels and users that tests/fixtures/slack/*.json refer to."""
        self.seed_channel("C05NWLOGIST", "ext-northwind-support", is_ext_shared=True,
                          shared_team_ids=[HOST_TEAM, CUSTOMER_TEAM])
        self.seed_channel("C0STAFF01", "support-escalations")
        self.seed_channel("D0DMAGENT01", is_im=True, user="U0AGENT001")
        self.seed_user("U0AGENT001", email="dana.agent@acme-support.example", name="dana.agent",
                       real_name="Dana Agent")
        self.seed_user("U0MANAGER1", email="sam.manager@acme-support.example",
                       name="sam.manager", real_name="Sam Manager", tz="Europe/London")
        self.seed_user("U0NWCUST01", team_id=CUSTOMER_TEAM, tz="America/Chicago",
                       email="maria.ops@northwind.example", name="maria.ops",
                       real_name="Maria Ops")

    @property
    def accept_any_channel(self) -> bool:
        return self._state.accept_any_channel

    @accept_any_channel.setter
    def accept_any_channel(self, value: bool) -> None:
        """True: post to unknown channel ids (and ephemeral to unknown users)."""
        with self._lock:
            self._state.accept_any_channel = value

    # -- switches ------------------------------------------------------------
    def fail_next(self, n: int = 1, status: int | None = None, *, error: str | None = None,
                  method: str | None = None, body: str | bytes | dict | None = None,
                  headers: dict[str, str] | None = None) -> None:
        """Fail the next n matching calls (method: "chat.postMessage", "response", ...).
        error only: HTTP 200 {"ok": false, "error": error} (how Slack reports
        internal_error, fatal_error...). status (default 500): that HTTP status with
        a text/plain reason body, or {"ok": false, "error": error} when error given."""
        if status is None:
            status = 200 if error is not None else 500
        reason = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
                  504: "Gateway Timeout"}.get(status, "Error")
        content_type = "text/plain; charset=utf-8"
        if body is None and error is not None:
            body = {"ok": False, "error": error}
        if isinstance(body, dict):
            body, content_type = json.dumps(body), "application/json; charset=utf-8"
        self._add(Fault("fail", n, method, status=status, headers=dict(headers or {}),
                        body=reason if body is None else body, content_type=content_type))

    def rate_limit_next(self, n: int = 1, retry_after: int | str | None = 1, *,
                        method: str | None = None) -> None:
        """Answer the next n matching calls with 429, {"ok": false, "error":
        "ratelimited"} and Retry-After (omitted when None)."""
        headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
        self._add(Fault("rate_limit", n, method, status=429, headers=headers,
                        body=json.dumps({"ok": False, "error": "ratelimited"}),
                        content_type="application/json; charset=utf-8"))

    def delay_next(self, n: int = 1, seconds: float = 1.0, *, method: str | None = None,
                   when: str = "after") -> None:
        """Stall the next n matching calls by `seconds` to force client timeouts.
        when="after" (default): process, then stall (Slack did post the message);
        when="before": stall, then process."""
        assert when in ("before", "after")
        self._add(Fault("delay", n, method, seconds=seconds, when=when))

    def enforce_pacing(self, per_second: float | None = 1.0, burst: int = 3,
                       retry_after: int = 1) -> None:
        """Answer chat.postMessage with 429 ratelimited when a channel's token
        bucket (per_second refill, `burst` capacity) is empty. None turns it off."""
        with self._lock:
            self._state.pacing = None if per_second is None else (per_second, burst, retry_after)
            self._state._buckets.clear()

    def _add(self, fault: Fault) -> None:
        with self._lock:
            self._app.faults.append(fault)

    # -- inspection ----------------------------------------------------------
    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._app.calls)

    def calls_to(self, method: str) -> list[Call]:
        """Calls of one Slack API method ("chat.postMessage"), in arrival order."""
        return [c for c in self.calls if c.method == method]

    def clear_calls(self) -> None:
        with self._lock:
            self._app.calls.clear()

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """Messages posted to `channel`, oldest first: ts, text, blocks, thread_ts,
        posted_at (clock at acceptance), edited/history after chat.update, reactions."""
        with self._lock:
            return [{"blocks": None, "thread_ts": None, **copy.deepcopy(m)}
                    for m in self._state.messages.get(channel, [])]

    def message(self, channel: str, ts: str) -> dict[str, Any]:
        return next(m for m in self.messages(channel) if m["ts"] == ts)

    def post_times(self, channel: str) -> list[float]:
        """posted_at of each accepted chat.postMessage in `channel` (pacing checks)."""
        return [m["posted_at"] for m in self.messages(channel)]

    def ephemerals(self, channel: str) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._state.ephemerals.get(channel, []))

    def views(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(v) for v in self._state.views]

    def responses(self, response_id: str) -> list[dict[str, Any]]:
        """Bodies POSTed to response_url(response_id), oldest first."""
        with self._lock:
            return copy.deepcopy(self._state.responses.get(response_id, []))

    def reset(self) -> None:
        """Forget all data, switches and calls (the server keeps running; call
        seed_workspace() again for the standard channels and users)."""
        with self._lock:
            self._app.faults.clear()
            self._app.calls.clear()
            self._state.__dict__.update(SlackState(self._clock).__dict__)


@pytest.fixture
def fake_slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSlack]:
    """A running FakeSlack with the standard workspace seeded. Proxy variables are
    removed: WebClient would send even 127.0.0.1 requests through HTTPS_PROXY."""
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)
    fake = FakeSlack().start()
    fake.seed_workspace()
    try:
        yield fake
    finally:
        fake.stop()
