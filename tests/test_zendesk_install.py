"""`escalator zendesk install` against the fake Zendesk: creates, then changes nothing; dry-run writes nothing."""
from __future__ import annotations

import json
import shutil
import stat

import pytest
import yaml
from click.testing import CliRunner

from integration.cli.zendesk import zendesk
from integration.mappings.loader import load_mappings
from integration.zendesk.install_files import InstallError, set_field_ids
from integration.zendesk.install_specs import TRIGGER_TEMPLATE, trigger_body
from tests.fakes.zendesk import FIXTURES_DIR, fake_zendesk  # noqa: F401  (pytest fixture)
from tests.harness import REPO, TEST_MAPPINGS

URL = "https://escalator.example.com"
EVENTS = ["zen:event-type:ticket.created", "zen:event-type:ticket.status_changed",
          "zen:event-type:ticket.priority_changed", "zen:event-type:ticket.comment_added",
          "zen:event-type:ticket.organization_changed"]
TITLES = ["Escalator: ticket created", "Escalator: ticket updated", "Escalator: public agent reply",
          "Escalator: satisfaction rated"]


@pytest.fixture
def mappings(fake_zendesk, tmp_path, monkeypatch):
    target = tmp_path / "mappings"
    shutil.copytree(TEST_MAPPINGS, target)
    for name, value in fake_zendesk.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("ZENDESK_WEBHOOK_SECRET", raising=False)
    monkeypatch.chdir(tmp_path)  # instance/zendesk_webhook_secret is relative, like the SQLite default
    return target


def install(mappings, *args):
    result = CliRunner().invoke(zendesk, ["install", "--url", URL, "--mappings", str(mappings), *args])
    assert result.exit_code == 0, result.output
    return result.output


def webhooks(fake):
    """(the trigger webhook, the event-subscription webhook)"""
    hooks = {h["name"]: h for h in fake.admin_objects("webhooks")}
    assert sorted(hooks) == ["Escalator", "Escalator events"] and len(fake.admin_objects("webhooks")) == 2
    return hooks["Escalator"], hooks["Escalator events"]


def writes(fake):
    return [(c.method, c.path) for c in fake.calls if c.method != "GET"]


def test_first_run_creates_everything_and_writes_ids_and_secret(fake_zendesk, mappings, tmp_path):
    output = install(mappings)

    fields = {f["title"]: f for f in fake_zendesk.admin_objects("ticket_fields") if f["removable"]}
    assert set(fields) == {"SLA tier", "First response due (UTC)", "Resolution due (UTC)"}
    assert {f["type"] for f in fields.values()} == {"text"}
    ids = yaml.safe_load((mappings / "zendesk.yaml").read_text())["fields"]
    assert ids == {"tier_field_id": fields["SLA tier"]["id"],
                   "first_response_due_field_id": fields["First response due (UTC)"]["id"],
                   "resolution_due_field_id": fields["Resolution due (UTC)"]["id"]}
    loaded = load_mappings(mappings).zendesk
    assert loaded.tier_field_id == fields["SLA tier"]["id"]
    assert "# text field: the organization's tier" in (mappings / "zendesk.yaml").read_text()

    hook, events = webhooks(fake_zendesk)
    assert {k: hook[k] for k in ("name", "endpoint", "http_method", "request_format", "status", "subscriptions")} == {
        "name": "Escalator", "endpoint": f"{URL}/webhooks/zendesk", "http_method": "POST",
        "request_format": "json", "status": "active", "subscriptions": ["conditional_ticket_events"]}
    assert {k: events[k] for k in ("endpoint", "http_method", "request_format", "status", "subscriptions")} == {
        "endpoint": f"{URL}/webhooks/zendesk", "http_method": "POST", "request_format": "json", "status": "active",
        "subscriptions": EVENTS}
    secret_file = tmp_path / "instance" / "zendesk_webhook_secret"
    secrets = [fake_zendesk.webhook_secret(hook["id"]), fake_zendesk.webhook_secret(events["id"])]
    assert secret_file.read_text().strip() == ",".join(secrets)
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert not any(secret in output for secret in secrets)
    assert 'export ZENDESK_WEBHOOK_SECRET="$(cat instance/zendesk_webhook_secret)"' in output

    triggers = {t["title"]: t for t in fake_zendesk.admin_objects("triggers")}
    assert sorted(triggers) == sorted(TITLES)
    events = {}
    for title, trigger in triggers.items():
        [action] = trigger["actions"]
        assert action["field"] == "notification_webhook" and action["value"][0] == hook["id"]
        events[title] = json.loads(action["value"][1])["event"]
    assert events == {TITLES[0]: "ticket_created", TITLES[1]: "ticket_updated",
                      TITLES[2]: "agent_replied_public", TITLES[3]: "satisfaction_rated"}
    assert {"field": "role", "operator": "is_not", "value": str(fake_zendesk.agent_id)} in \
        triggers[TITLES[1]]["conditions"]["all"]
    assert sorted(writes(fake_zendesk)) == sorted(
        [("POST", "/api/v2/ticket_fields.json")] * 3 + [("POST", "/api/v2/webhooks")] * 2
        + [("POST", "/api/v2/triggers.json")] * 4)


def test_second_run_changes_nothing_and_only_reads(fake_zendesk, mappings, tmp_path):
    install(mappings)
    yaml_before = (mappings / "zendesk.yaml").read_bytes()
    secret_file = tmp_path / "instance" / "zendesk_webhook_secret"
    secret_stamp = secret_file.stat().st_mtime_ns
    fake_zendesk.clear_calls()

    output = install(mappings)

    assert fake_zendesk.calls and {c.method for c in fake_zendesk.calls} == {"GET"}
    lines = [line for line in output.splitlines()
             if line.startswith(("ticket field", "webhook", "signing secret", "trigger", str(mappings)))]
    assert len(lines) == 3 + 1 + 2 + 1 + 4, output  # fields, zendesk.yaml, webhooks, secrets, triggers
    assert all(": unchanged" in line for line in lines), output
    assert "done: 0 change(s)" in output
    assert "`escalator zendesk app package --url https://" in output  # the agents' sidebar app comes next
    assert (mappings / "zendesk.yaml").read_bytes() == yaml_before
    assert secret_file.stat().st_mtime_ns == secret_stamp


def test_dry_run_on_a_fresh_account_writes_nothing(fake_zendesk, mappings, tmp_path):
    yaml_before = (mappings / "zendesk.yaml").read_bytes()

    output = install(mappings, "--dry-run")

    assert writes(fake_zendesk) == []
    assert (mappings / "zendesk.yaml").read_bytes() == yaml_before
    assert not (tmp_path / "instance").exists()
    assert output.count("would create") == 3 + 2 + 4
    assert "would set tier_field_id (id of the new field)" in output
    assert "nothing was changed" in output


def test_only_what_drifted_is_updated_and_dry_run_only_reports_it(fake_zendesk, mappings):
    install(mappings)
    zenpy_session = fake_zendesk.client().tickets.session
    base = fake_zendesk.base_url + "/api/v2"
    [field] = [f for f in fake_zendesk.admin_objects("ticket_fields") if f["title"] == "SLA tier"]
    zenpy_session.put(f"{base}/ticket_fields/{field['id']}.json",
                      json={"ticket_field": {"title": "Tier (renamed by an admin)"}}).raise_for_status()
    trigger = next(t for t in fake_zendesk.admin_objects("triggers") if t["title"] == TITLES[2])
    zenpy_session.put(f"{base}/triggers/{trigger['id']}.json", json={"trigger": {"active": False}}).raise_for_status()
    hook, _ = webhooks(fake_zendesk)
    zenpy_session.patch(f"{base}/webhooks/{hook['id']}",
                        json={"webhook": {"endpoint": "https://old.example.com/hook"}}).raise_for_status()
    fake_zendesk.clear_calls()

    preview = install(mappings, "--dry-run")
    assert writes(fake_zendesk) == []
    assert 'ticket field "SLA tier": would update title' in preview
    assert f'trigger "{TITLES[2]}": would update active' in preview
    assert 'webhook "Escalator": would update endpoint' in preview

    output = install(mappings)
    assert sorted(writes(fake_zendesk)) == sorted([
        ("PUT", f"/api/v2/ticket_fields/{field['id']}.json"), ("PUT", f"/api/v2/webhooks/{hook['id']}"),
        ("PUT", f"/api/v2/triggers/{trigger['id']}.json")])
    assert [c.json for c in fake_zendesk.calls if c.method == "PUT" and "triggers" in c.path] == [
        {"trigger": {"active": True}}]
    assert webhooks(fake_zendesk)[0]["endpoint"] == f"{URL}/webhooks/zendesk"
    assert output.count(": unchanged") == 2 + 1 + 1 + 1 + 3  # 2 fields, zendesk.yaml, events hook, secrets, 3 triggers
    fake_zendesk.clear_calls()
    install(mappings)
    assert writes(fake_zendesk) == []


def test_rate_limit_waits_retry_after_and_goes_on(fake_zendesk, mappings, monkeypatch):
    waits = []
    monkeypatch.setattr("integration.cli.zendesk.time.sleep", waits.append)
    fake_zendesk.rate_limit_next(1, retry_after=7, method="POST", path="/api/v2/triggers.json")

    output = install(mappings)

    assert waits == [7.0]
    assert "Zendesk rate limit: waiting 7s (Retry-After)" in output
    assert len(fake_zendesk.admin_objects("triggers")) == 4


def test_existing_field_ids_in_yaml_are_kept_and_comments_keep_their_column(fake_zendesk, mappings):
    text = (mappings / "zendesk.yaml").read_text()
    new, changed = set_field_ids(text, {"tier_field_id": 360012345678})
    assert changed == ["tier_field_id: null → 360012345678"]
    before = next(line for line in text.splitlines() if "tier_field_id" in line)
    after = next(line for line in new.splitlines() if "tier_field_id" in line)
    assert after.index("#") == before.index("#") and after.strip().startswith("tier_field_id: 360012345678 ")
    assert set_field_ids(new, {"tier_field_id": 360012345678}) == (new, [])
    with pytest.raises(InstallError):
        set_field_ids("fields: {}\n", {"tier_field_id": 1})


def test_yaml_that_would_not_validate_is_not_written(fake_zendesk, mappings):
    (mappings / "tiers.yaml").write_text((mappings / "tiers.yaml").read_text() + "\nnot_a_key: 1\n")
    before = (mappings / "zendesk.yaml").read_bytes()

    result = CliRunner().invoke(zendesk, ["install", "--url", URL, "--mappings", str(mappings)])

    assert result.exit_code == 1
    assert "would not validate" in result.output and "tiers.yaml" in result.output
    assert (mappings / "zendesk.yaml").read_bytes() == before


def test_refuses_a_non_https_url_and_missing_credentials(fake_zendesk, mappings, monkeypatch):
    result = CliRunner().invoke(zendesk, ["install", "--url", "http://escalator.example.com"])
    assert result.exit_code == 2 and "https" in result.output
    monkeypatch.delenv("ZENDESK_API_TOKEN")
    result = CliRunner().invoke(zendesk, ["install", "--url", URL])
    assert result.exit_code == 1 and "ZENDESK_API_TOKEN" in result.output
    assert fake_zendesk.calls == []


def test_trigger_body_is_the_documented_template():
    template = (FIXTURES_DIR / "trigger_template.json.txt").read_text()
    assert TRIGGER_TEMPLATE.strip() == template.strip()
    assert TRIGGER_TEMPLATE.strip() in (REPO / "README.md").read_text()
    assert json.loads(trigger_body("agent_replied_public"))["event"] == "agent_replied_public"
