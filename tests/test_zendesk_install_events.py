"""The event-subscription webhook `escalator zendesk install` adds beside the trigger one, and the service
accepting a delivery signed with either webhook's secret (ZENDESK_WEBHOOK_SECRET, comma-separated)."""
from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner

from integration.cli.zendesk import zendesk
from tests.fakes.zendesk import fake_zendesk  # noqa: F401  (pytest fixture)
from tests.harness import Clock, build_stack, fixture_body, mappings_for_tests
from tests.test_zendesk_install import EVENTS, URL, install, mappings, webhooks, writes  # noqa: F401

NOW = dt.datetime(2026, 3, 2, 14, 6, tzinfo=dt.timezone.utc)


def session_and_base(fake):
    return fake.client().tickets.session, fake.base_url + "/api/v2"


def test_an_earlier_install_gains_only_the_events_webhook_and_both_secrets(fake_zendesk, mappings, tmp_path):
    session, base = session_and_base(fake_zendesk)
    old = session.post(f"{base}/webhooks", json={"webhook": {
        "name": "Escalator", "endpoint": f"{URL}/webhooks/zendesk", "http_method": "POST", "request_format": "json",
        "status": "active", "subscriptions": ["conditional_ticket_events"]}}).json()["webhook"]
    secret_file = tmp_path / "instance" / "zendesk_webhook_secret"
    secret_file.parent.mkdir()
    secret_file.write_text(fake_zendesk.webhook_secret(old["id"]) + "\n")
    fake_zendesk.clear_calls()

    output = install(mappings)

    hook, events = webhooks(fake_zendesk)
    assert hook["id"] == old["id"] and events["subscriptions"] == EVENTS
    assert sorted(c for c in writes(fake_zendesk) if "webhooks" in c[1]) == [
        ("POST", "/api/v2/webhooks"), ("PUT", f"/api/v2/webhooks/{old['id']}")]  # the description is ours now
    assert secret_file.read_text().strip() == \
        f"{fake_zendesk.webhook_secret(hook['id'])},{fake_zendesk.webhook_secret(events['id'])}"
    assert 'webhook "Escalator events": created' in output
    assert "ZENDESK_WEBHOOK_SECRET here is not set to the webhooks' secrets" in output


def test_subscriptions_compare_as_a_set_and_a_removed_one_is_restored(fake_zendesk, mappings):
    install(mappings)
    session, base = session_and_base(fake_zendesk)
    _, events = webhooks(fake_zendesk)
    session.patch(f"{base}/webhooks/{events['id']}",
                  json={"webhook": {"subscriptions": list(reversed(EVENTS))}}).raise_for_status()
    fake_zendesk.clear_calls()
    assert 'webhook "Escalator events": unchanged' in install(mappings)
    assert writes(fake_zendesk) == []

    session.patch(f"{base}/webhooks/{events['id']}", json={"webhook": {"subscriptions": EVENTS[:2]}})
    fake_zendesk.clear_calls()
    assert 'webhook "Escalator events": would update subscriptions' in install(mappings, "--dry-run")
    assert writes(fake_zendesk) == []
    install(mappings)
    assert writes(fake_zendesk) == [("PUT", f"/api/v2/webhooks/{events['id']}")]
    assert sorted(webhooks(fake_zendesk)[1]["subscriptions"]) == sorted(EVENTS)


def test_an_events_webhook_connected_to_triggers_is_named_not_changed(fake_zendesk, mappings):
    session, base = session_and_base(fake_zendesk)
    session.post(f"{base}/webhooks", json={"webhook": {
        "name": "Escalator events", "endpoint": "https://elsewhere.example.com/", "http_method": "POST",
        "request_format": "json", "status": "active", "subscriptions": ["conditional_ticket_events"]}})
    fake_zendesk.clear_calls()

    result = CliRunner().invoke(zendesk, ["install", "--url", URL, "--mappings", str(mappings)])

    assert result.exit_code == 1
    assert 'webhook "Escalator events"' in result.output and "connected to triggers" in result.output
    # the trigger webhook was created before; the admin's is left as it was
    assert [c for c in writes(fake_zendesk) if "webhooks" in c[1]] == [("POST", "/api/v2/webhooks")]
    theirs = [h for h in fake_zendesk.admin_objects("webhooks") if h["name"] == "Escalator events"]
    assert [h["endpoint"] for h in theirs] == ["https://elsewhere.example.com/"]


def test_install_says_when_the_environment_already_holds_both_secrets(fake_zendesk, mappings, monkeypatch):
    install(mappings)
    hook, events = webhooks(fake_zendesk)
    both = f" {fake_zendesk.webhook_secret(events['id'])} , {fake_zendesk.webhook_secret(hook['id'])}"
    monkeypatch.setenv("ZENDESK_WEBHOOK_SECRET", fake_zendesk.webhook_secret(hook["id"]))
    assert "lacks one of the webhooks' secrets" in install(mappings)
    monkeypatch.setenv("ZENDESK_WEBHOOK_SECRET", both)
    assert "already holds both webhooks' secrets" in install(mappings)


def test_the_route_accepts_either_webhooks_secret_and_refuses_any_other(database, fake_zendesk, mappings, tmp_path):
    install(mappings)
    hook, events = webhooks(fake_zendesk)
    configured = (tmp_path / "instance" / "zendesk_webhook_secret").read_text().strip()
    stack = build_stack(database, mappings_for_tests(tmp_path / "service"), fake_zendesk, Clock(NOW),
                        zendesk_webhook_secret=configured)
    try:
        by_trigger = stack.post(fixture_body("trigger_ticket_created"), secret=fake_zendesk.webhook_secret(hook["id"]))
        by_event = stack.post(fixture_body("ticket_status_changed"), secret=fake_zendesk.webhook_secret(events["id"]))
        assert (by_trigger.status_code, by_event.status_code) == (200, 200), (by_trigger.json, by_event.json)
        for wrong in ("not-a-secret-of-ours", configured, ""):
            response = stack.post(fixture_body("ticket_priority_changed"), secret=wrong)
            assert response.status_code == 401 and "does not match" in response.json["message"]
    finally:
        stack.services.engine.dispose()


@pytest.mark.parametrize("configured", [",", " , "])
def test_a_secret_list_without_a_secret_refuses_everything(database, fake_zendesk, tmp_path, configured):
    stack = build_stack(database, mappings_for_tests(tmp_path), fake_zendesk, Clock(NOW),
                        zendesk_webhook_secret=configured)
    try:
        response = stack.post(fixture_body("ticket_created"), secret="")
        assert response.status_code == 401 and "no webhook secret" in response.json["message"]
    finally:
        stack.services.engine.dispose()
