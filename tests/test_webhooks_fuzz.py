"""Fuzzing every inbound route (issue 10): mutations of every field of every real fixture, random JSON, form
and raw bodies, signed and unsigned → never a 5xx, never a traceback, nothing stored for a refused request.

The quick profile runs in `make test`; the long one (over 100,000 bodies) is marked slow, so `.ci/run` runs it.
Both go through the Flask test client (no HTTP), on SQLite, with the worker idle: the routes only record.
"""
from __future__ import annotations

import json
import os
import logging
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from integration.storage.models import InboxEvent, OutboxAction
from integration.zendesk.signature import sign
from tests.fakes.slack import fake_slack  # noqa: F401
from tests.fakes.slack_requests import request_headers
from tests.fakes.zendesk import fake_zendesk  # noqa: F401
from tests.db import database_url
from tests.harness import SECRET
from tests.slack_harness import ROUTES, slack_stack

FIXTURES = Path(__file__).parent / "fixtures"
ZENDESK = [json.loads(p.read_text()) for p in sorted((FIXTURES / "zendesk").glob("*.json"))]
SLACK = {p.stem: json.loads(p.read_text()) for p in sorted((FIXTURES / "slack").glob("*.json"))}
COMMANDS = [v for k, v in SLACK.items() if k.startswith("command_")]
EVENTS = [v for k, v in SLACK.items() if k.startswith(("event_callback", "url_verification"))]
INTERACTIONS = [v for k, v in SLACK.items() if k.startswith("block_actions")]
BATCH = 10
QUICK, LONG = 80, int(os.environ.get("FUZZ_LONG_EXAMPLES", 25_500))  # per route: 4 routes → ~320, ~102,000

hostile_text = st.one_of(
    st.text(max_size=30),
    st.text(st.characters(codec=None, categories=("Cs", "Cc", "Lo", "So", "Nd")), max_size=10),  # lone surrogates
    st.sampled_from(["9223372036854775808", "#9223372036854775807", "-1", "0", "1e400", "NaN", "\x00", "é",
                     "2026-03-02T14:05:31Z", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00",
                     "https://hooks.slack.com/x", "javascript:alert(1)", "C05NWLOGIST", "U0NWCUST01",
                     "501:2", "1:9223372036854775808", "ticket", "reaction_added", "block_actions", "event_callback",
                     "/support", "status #1", "escalate #1 why", "who #1", "csat_rate_1", "ack_step", "[" * 200]),
)
scalars = st.one_of(st.none(), st.booleans(), hostile_text, st.floats(allow_nan=False),
                    st.integers(min_value=-2**70, max_value=2**70), st.sampled_from([2**63, 2**63 - 1, 10**20, -1, 0]))
json_values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                            st.dictionaries(hostile_text, inner, max_size=4)),
                           max_leaves=12)


def paths(document, prefix=()):
    yield prefix
    if isinstance(document, dict):
        for key, value in document.items():
            yield from paths(value, prefix + (key,))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            yield from paths(value, prefix + (index,))


def mutated(document, path, value, delete: bool):
    copy = json.loads(json.dumps(document))
    if not path:
        return value
    node = copy
    for key in path[:-1]:
        node = node[key]
    if delete and isinstance(node, dict):
        node.pop(path[-1], None)
    else:
        node[path[-1]] = value
    return copy


@st.composite
def mutation_of(draw, documents):
    document = draw(st.sampled_from(documents))
    path = draw(st.sampled_from(list(paths(document))))
    return mutated(document, path, draw(json_values), draw(st.booleans()))


def as_json(document) -> bytes:
    return json.dumps(document).encode()  # ensure_ascii: lone surrogates travel as \ud800 escapes


raw_bytes = st.one_of(st.binary(max_size=200), st.just(b"[" * 1000), st.just(b"{" * 50 + b"}" * 50),
                      st.just(b'{"a": NaN}'), st.just(b"\xff\xfe{}"))
json_bodies = {
    "zendesk": st.one_of(mutation_of(ZENDESK).map(as_json), json_values.map(as_json), raw_bytes),
    "event": st.one_of(mutation_of(EVENTS).map(as_json), json_values.map(as_json), raw_bytes),
}


def form(document) -> bytes:
    if isinstance(document, dict):
        return urlencode({str(k): v if isinstance(v, str) else json.dumps(v) for k, v in document.items()},
                         errors="surrogatepass").encode()
    return urlencode({"payload": json.dumps(document)}).encode()


form_bodies = {
    "command": st.one_of(mutation_of(COMMANDS).map(form), json_values.map(form), raw_bytes,
                         st.sampled_from([b"command=%2Fsupport&text=%ff", b"command=%2Fsupport&text=%ed%a0%80",
                                          b"&&&==&", b"command=%2Fsupport&text=" + b"%23" * 3000])),
    "interaction": st.one_of(mutation_of(INTERACTIONS).map(lambda d: form({"payload": json.dumps(d)})),
                             json_values.map(lambda d: form({"payload": json.dumps(d)})), raw_bytes),
}
CONTENT = {"zendesk": "application/json", "event": "application/json",
           "command": "application/x-www-form-urlencoded", "interaction": "application/x-www-form-urlencoded"}


class Tracebacks(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        if record.exc_info or record.levelno >= logging.CRITICAL:
            self.records.append(record)


@pytest.fixture
def stack(tmp_path, fake_zendesk, fake_slack):
    # SQLite only, for speed: the reproductions in test_webhooks_hostile run each class on PostgreSQL too.
    with database_url("sqlite", tmp_path) as url:
        built = slack_stack(url, tmp_path, fake_zendesk, fake_slack)
    handler = Tracebacks()
    logging.getLogger().addHandler(handler)
    built.tracebacks = handler
    yield built
    logging.getLogger().removeHandler(handler)
    built.services.engine.dispose()


def stored(stack) -> tuple[int, int]:
    counts = select(select(func.count()).select_from(InboxEvent).scalar_subquery(),
                    select(func.count()).select_from(OutboxAction).scalar_subquery())
    with stack.services.engine.connect() as connection:
        return tuple(connection.execute(counts).one())


def post(stack, fake_slack, route: str, body: bytes, signed: bool, content_type: str):
    if route == "zendesk":
        stamp = stack.clock().strftime("%Y-%m-%dT%H:%M:%SZ")
        headers = {"Content-Type": content_type, "X-Zendesk-Webhook-Signature-Timestamp": stamp,
                   "X-Zendesk-Webhook-Signature": sign(SECRET if signed else "not-the-secret", stamp, body)}
        return stack.client.post("/webhooks/zendesk", data=body, headers=headers)
    secret = fake_slack.signing_secret if signed else "not-the-secret"
    headers = request_headers(secret, body, int(stack.clock().timestamp()), content_type)
    return stack.client.post(ROUTES[route], data=body, headers=headers)


def fuzz(stack, fake_slack, route: str, examples: int, batch: int = 1) -> int:
    bodies = {**json_bodies, **form_bodies}[route]
    # Mostly signed (the interesting paths), some unsigned, some with a wrong content type.
    content = st.sampled_from([CONTENT[route]] * 8 + ["text/plain", "application/json; charset=utf-8"])
    seen, counts = [], [stored(stack)]

    one = st.tuples(bodies, st.sampled_from([True] * 9 + [False]), content)

    # Several bodies per example: Hypothesis's own bookkeeping per example costs more than a request.
    @settings(max_examples=max(1, examples // batch), deadline=None, database=None,
              phases=(Phase.generate, Phase.shrink), suppress_health_check=list(HealthCheck))
    @given(requests=st.lists(one, min_size=batch, max_size=batch))
    def check(requests):
        for body, signed, content_type in requests:
            check_one(body, signed, content_type)

    def check_one(body, signed, content_type):
        response = post(stack, fake_slack, route, body, signed, content_type)
        seen.append(response.status_code)
        assert response.status_code < 500, (response.status_code, body[:300])
        assert not stack.tracebacks.records, [r.getMessage() for r in stack.tracebacks.records]
        counts.append(stored(stack))  # one query per body: the previous body's count is this one's "before"
        if response.status_code >= 400:
            assert counts[-1] == counts[-2], (response.status_code, body[:300])
            assert response.json["message"]

    check()
    print(route, {code: seen.count(code) for code in sorted(set(seen))})
    return len(seen)


ALL_ROUTES = ("zendesk", "event", "command", "interaction")


@pytest.mark.parametrize("route", ALL_ROUTES)
def test_fuzz_quick(stack, fake_slack, route):
    assert fuzz(stack, fake_slack, route, QUICK) >= QUICK


@pytest.mark.slow
@pytest.mark.parametrize("route", ALL_ROUTES)
def test_fuzz_long(stack, fake_slack, route):
    started = time.monotonic()
    count = fuzz(stack, fake_slack, route, LONG, batch=BATCH)
    print(f"fuzzed {route}: {count} bodies in {time.monotonic() - started:.0f}s")
    assert count >= LONG
