"""The Zendesk app's API (/api/v1) with token auth, and `escalator api-token`, on SQLite and PostgreSQL."""
import datetime as dt

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from integration.app import create_app
from integration.cli import cli
from integration.config import Config
from integration.services import build_services
from integration.storage import api_tokens
from integration.storage.api_tokens import ApiToken
from tests.harness import Clock, mappings_for_tests
from tests.sidebar_seed import NOW, seed


@pytest.fixture
def api(database, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database)
    clock = Clock(NOW)
    config = Config(database_url=database, mappings_dir=str(mappings_for_tests(tmp_path)))
    services = build_services(config, clock)
    seed(services)
    created = CliRunner().invoke(cli, ["api-token", "create", "--name", "zendesk-app"])
    assert created.exit_code == 0, created.output
    token = created.stdout.splitlines()[0]
    client = create_app(config, services=services).test_client()
    yield client, token, services, clock
    services.engine.dispose()


def get(client, path, token):
    return client.get(path, headers={"Authorization": f"Bearer {token}"})


def test_no_token_a_wrong_one_or_a_revoked_one_gets_401(api):
    client, token, _, _ = api
    missing = client.get("/api/v1/tickets/101/sla")
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert get(client, "/api/v1/tickets/101/sla", "esc_" + "x" * 43).status_code == 401
    assert client.get("/api/v1/queue", headers={"Authorization": f"Basic {token}"}).status_code == 401
    assert get(client, "/api/v1/tickets/101/sla", token).status_code == 200
    revoked = CliRunner().invoke(cli, ["api-token", "revoke", "zendesk-app"])
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    refused = get(client, "/api/v1/tickets/101/sla", token)
    assert refused.status_code == 401 and refused.json == {"error": "unknown or revoked token"}
    for path in ("/api/v1/queue", "/api/v1/tickets/101/sla"):
        assert get(client, path, token).status_code == 401
    assert client.post("/api/v1/tickets/103/acknowledge", json={"level": 3, "user": {"id": 1}},
                       headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_unknown_ticket_is_404_and_a_bad_token_is_401_before_that(api):
    client, token, _, _ = api
    response = get(client, "/api/v1/tickets/999/sla", token)
    assert response.status_code == 404 and "999" in response.json["error"]
    assert get(client, "/api/v1/tickets/abc/sla", token).status_code == 404
    assert get(client, "/api/v1/tickets/999/sla", "nope").status_code == 401


def test_the_token_is_stored_hashed_with_its_uses_recorded(api, database):
    client, token, services, clock = api
    with services.sessions() as session:
        row = session.scalar(select(ApiToken))
        assert row.token_hash == api_tokens.digest(token) and row.token_hash != token and row.last_used_at is None
        dumped = " ".join(str(value) for value in session.execute(text("SELECT * FROM api_tokens")).one())
    assert token not in dumped and token[8:] not in dumped  # only the first 8 characters, as a hint
    get(client, "/api/v1/queue", token)
    with services.sessions() as session:
        assert session.scalar(select(ApiToken.last_used_at)) == NOW
    listing = CliRunner().invoke(cli, ["api-token", "list"])
    assert "zendesk-app" in listing.output and token[:8] + "…" in listing.output and token not in listing.output


def test_a_ticket_s_sla_for_the_sidebar(api):
    client, token, _, _ = api
    breached = get(client, "/api/v1/tickets/103/sla", token)
    assert breached.headers["Cache-Control"] == "no-store"
    view = breached.json
    assert (view["state"], view["tier"], view["priority"], view["level"]) == ("breached", "enterprise", "critical", 3)
    assert view["priority_source"] == "Zendesk priority field" and view["priority_reason"] == "Zendesk priority 'urgent'"
    assert view["organization"] == {"name": "Northwind Logistics", "timezone": "America/New_York"}
    first, resolution = view["targets"]
    assert (first["state"], first["due"], first["breached_by_seconds"]) == ("breached", "2026-03-16T12:15:00Z", 9900)
    assert (resolution["state"], resolution["breached_by_seconds"]) == ("breached", 3600)
    assert view["owner"]["role"] == "Customer Success" and view["owner"]["why"] == "resolution target breached"
    assert [s["level"] for s in view["steps"]] == [3]
    assert view["steps"][0]["why"][0].startswith("first-response target breached: was due 2026-03-16 12:15 UTC")
    assert view["acknowledge"] == {"level": 3, "owner": "Customer Success"}
    assert {c["kind"] for c in view["commitments"]} == {"customer_told", "reminder"}
    states = {i: get(client, f"/api/v1/tickets/{i}/sla", token).json for i in (101, 102, 104, 105, 106)}
    assert {i: v["state"] for i, v in states.items()} == {101: "on track", 102: "warning", 104: "paused",
                                                          105: "met", 106: "on track"}
    paused = states[104]["targets"][1]
    assert (paused["state"], paused["paused_since"], paused["due"]) == ("paused", "2026-03-16T14:00:00Z", None)
    assert states[104]["organization"]["timezone"] == "Asia/Kolkata"
    assert states[105]["commitments"][0]["kind"] == "csat_follow_up"
    assert (states[106]["priority"], states[106]["priority_source"]) == ("high", "VIP requester")
    assert states[101]["subject"] == "Fresh <script>alert(1)</script>" and states[101]["acknowledge"] is None


def test_the_queue_is_the_dashboard_list_with_filters(api):
    client, token, _, _ = api
    everything = get(client, "/api/v1/queue", token).json
    assert [t["id"] for t in everything["tickets"]] == [102, 101, 106, 103, 104]  # nearest breach first; solved gone
    assert everything["filters"]["tiers"] == ["enterprise", "growth", "pro", "scale", "starter"]
    assert {"id": 1003, "name": "Chowringhee Analytics"} in everything["filters"]["organizations"]
    ids = lambda query: [t["id"] for t in get(client, f"/api/v1/queue?{query}", token).json["tickets"]]  # noqa: E731
    assert ids("tier=growth") == [104]
    assert ids("level=3") == [103]
    assert ids("organization=chowringhee%20analytics") == ids("organization=1003") == [104]
    assert ids("organization=1001&level=1") == [102, 101, 106]
    assert ids("organization=unmapped") == []
    for bad in ("tier=platinum", "level=9", "level=x", "organization=Nobody%20Inc"):
        response = get(client, f"/api/v1/queue?{bad}", token)
        assert response.status_code == 400 and response.json["error"], bad


def test_acknowledge_takes_the_current_step_as_slack_does(api):
    client, token, services, clock = api
    clock.advance(minutes=5)
    headers = {"Authorization": f"Bearer {token}"}
    body = {"level": 3, "user": {"id": 424242, "name": "Ana Agent"}}
    assert client.post("/api/v1/tickets/999/acknowledge", json=body, headers=headers).status_code == 404
    assert client.post("/api/v1/tickets/103/acknowledge", json={"level": 3}, headers=headers).status_code == 400
    assert client.post("/api/v1/tickets/103/acknowledge", data="x", headers=headers).status_code == 400
    wrong = client.post("/api/v1/tickets/103/acknowledge", json={**body, "level": 2}, headers=headers)
    assert wrong.status_code == 409
    done = client.post("/api/v1/tickets/103/acknowledge", json=body, headers=headers)
    assert done.status_code == 200 and done.json["outcome"] == "applied"
    step = done.json["ticket"]["steps"][-1]
    assert step["acknowledged_by"] == "Ana Agent (Zendesk user 424242)"
    assert step["acknowledged_at"] == (NOW + dt.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert done.json["ticket"]["acknowledge"] is None
    assert "reminder" not in {c["kind"] for c in done.json["ticket"]["commitments"]}  # nothing left to re-notify
    again = client.post("/api/v1/tickets/103/acknowledge", json=body, headers=headers)
    assert again.status_code == 409
    assert client.post("/api/v1/tickets/101/acknowledge", json={**body, "level": 1}, headers=headers).status_code == 409


def test_api_token_commands_refuse_bad_input(api):
    runner = CliRunner()
    duplicate = runner.invoke(cli, ["api-token", "create", "--name", "zendesk-app"])
    assert duplicate.exit_code == 1 and "exists already" in duplicate.output
    assert runner.invoke(cli, ["api-token", "create", "--name", "  "]).exit_code == 1
    assert runner.invoke(cli, ["api-token", "revoke", "nobody"]).exit_code == 1
    second = runner.invoke(cli, ["api-token", "create", "--name", "ops-script"])
    assert second.exit_code == 0 and second.stdout.startswith("esc_")
    listing = runner.invoke(cli, ["api-token", "list"]).output
    assert "zendesk-app" in listing and "ops-script" in listing
