"""POST /webhooks/zendesk: verification fails closed, bad input gets a clear 4xx and stores nothing."""
import datetime as dt
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from integration.app import create_app
from integration.config import Config
from integration.services import build_services
from integration.storage.models import InboxEvent, OutboxAction
from integration.zendesk.signature import sign
from tests.harness import SECRET, Clock, fixture_body, mappings_for_tests

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 3, 2, 14, 6, tzinfo=UTC)
STAMP = "2026-03-02T14:06:00Z"


@pytest.fixture
def app_for(tmp_path):
    built = []

    def make(**config):
        url = f"sqlite:///{tmp_path}/hooks-{len(built)}.db"
        from integration.storage.db import upgrade

        upgrade(url)
        settings = Config(database_url=url, mappings_dir=str(mappings_for_tests(tmp_path / str(len(built)))),
                          **config)
        services = build_services(settings, Clock(NOW))
        built.append(services)
        return create_app(settings, services=services)

    yield make
    for services in built:
        services.engine.dispose()


@pytest.fixture
def app(app_for):
    return app_for(zendesk_webhook_secret=SECRET)


def stored(app) -> tuple[int, int]:
    services = app.extensions["escalator.services"]
    with services.sessions() as session:
        return (session.scalar(select(func.count()).select_from(InboxEvent)),
                session.scalar(select(func.count()).select_from(OutboxAction)))


def post(app, raw: bytes, *, signature=None, stamp=STAMP, extra=None):
    headers = {"Content-Type": "application/json"}
    if stamp is not None:
        headers["X-Zendesk-Webhook-Signature-Timestamp"] = stamp
    if signature is not False:
        headers["X-Zendesk-Webhook-Signature"] = signature or sign(SECRET, stamp or "", raw)
    headers.update(extra or {})
    return app.test_client().post("/webhooks/zendesk", data=raw, headers=headers)


RAW = json.dumps(fixture_body("ticket_created")).encode()


def test_signed_event_is_accepted(app):
    response = post(app, RAW)
    assert response.status_code == 200 and response.json["outcome"] == "queued"
    assert stored(app) == (1, 0)  # recorded only: the worker decides
    services = app.extensions["escalator.services"]
    assert services.ingestor.decide_queued() == 1
    assert stored(app) == (1, 1)  # decided: the ticket is read from the API first
    with services.sessions() as session:
        assert session.scalar(select(InboxEvent.outcome)) == "refresh"


@pytest.mark.parametrize("kwargs, raw, reason", [
    ({"signature": "dGFtcGVyZWQ="}, RAW, "does not match"),
    ({"signature": sign(SECRET, STAMP, RAW)}, RAW.replace(b"35436", b"35437"), "does not match"),
    ({"stamp": "2026-03-02T13:50:00Z"}, RAW, "outside the 5-minute window"),
    ({"signature": False}, RAW, "missing"),
    ({"stamp": None}, RAW, "missing"),
    ({"signature": "AAAA"}, b"", "does not match"),
])
def test_bad_signatures_are_refused_with_401_and_nothing_is_stored(app, kwargs, raw, reason):
    response = post(app, raw, **kwargs)
    assert response.status_code == 401
    assert reason in response.json["message"]
    assert stored(app) == (0, 0)


def test_without_a_secret_nothing_is_processed(app_for):
    app = app_for()
    response = post(app, RAW)
    assert response.status_code == 503 and "not configured" in response.json["message"]
    assert stored(app) == (0, 0)


def test_the_development_flag_accepts_unsigned_webhooks_and_says_so(app_for, caplog):
    app = app_for(insecure_dev_webhooks=True)
    response = post(app, RAW, signature=False)
    assert response.status_code == 200
    assert "UNSIGNED" in caplog.text


def test_body_over_the_limit_gets_413(app):
    raw = b'{"pad": "' + b"x" * (256 * 1024) + b'"}'
    response = post(app, raw)
    assert response.status_code == 413 and "larger than 262144 bytes" in response.json["message"]
    assert stored(app) == (0, 0)


@pytest.mark.parametrize("raw, message", [
    (b"", "malformed payload"),
    (b"{not json", "malformed payload"),
    (b"[1,2,3]", "JSON object"),
    (json.dumps({"type": "zen:event-type:ticket.created", "id": "x", "time": STAMP,
                 "detail": {"id": "abc"}}).encode(), "not a numeric id"),
])
def test_malformed_bodies_get_400_with_a_message(app, raw, message):
    response = post(app, raw)
    assert response.status_code == 400
    assert message in response.json["message"]
    assert stored(app) == (0, 0)


def test_an_event_we_ignore_gets_200_and_is_recorded_as_ignored(app):
    raw = json.dumps({"id": "u-1", "type": "zen:event-type:user.created", "time": STAMP, "detail": {}}).encode()
    response = post(app, raw)
    assert response.status_code == 200 and response.json["outcome"] == "ignored"
    assert stored(app) == (1, 0)


bodies = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=200).map(str.encode),
    st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
                 lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
                     st.sampled_from(["id", "type", "time", "detail", "event", "schema", "ticket", "status",
                                      "created_at", "priority", "organization_id", "comment"]), inner, max_size=5),
                 max_leaves=15).map(lambda value: json.dumps(value).encode()),
)


@pytest.mark.slow
@settings(max_examples=1000, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
          deadline=None)
@given(raw=bodies)
def test_a_thousand_malformed_bodies_never_give_5xx_and_store_nothing(app, raw):
    before = stored(app)
    response = post(app, raw)
    assert response.status_code < 500
    if response.status_code != 200:
        assert stored(app) == before
