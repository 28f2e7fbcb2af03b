"""The Slack app manifest asks for exactly what the service uses."""
from pathlib import Path

import yaml

from integration.app import create_app
from tests.harness import TEST_MAPPINGS

MANIFEST = yaml.safe_load((Path(__file__).parent.parent / "slack" / "manifest.yaml").read_text())


def test_manifest_urls_are_our_routes(tmp_path):
    app = create_app({"database_url": f"sqlite:///{tmp_path}/m.db", "mappings_dir": str(TEST_MAPPINGS)})
    routes = {rule.rule for rule in app.url_map.iter_rules()}
    settings = MANIFEST["settings"]
    urls = [settings["event_subscriptions"]["request_url"], settings["interactivity"]["request_url"],
            MANIFEST["features"]["slash_commands"][0]["url"]]
    assert [url.split("example.com", 1)[1] for url in urls] == [
        "/webhooks/slack/events", "/webhooks/slack/interactions", "/webhooks/slack/commands"]
    assert all(url.split("example.com", 1)[1] in routes for url in urls)


def test_manifest_subscribes_to_the_events_we_handle_and_the_scopes_we_call():
    assert MANIFEST["settings"]["event_subscriptions"]["bot_events"] == ["reaction_added", "message.channels",
                                                                           "message.groups"]
    assert MANIFEST["features"]["slash_commands"][0]["command"] == "/support"
    assert set(MANIFEST["oauth_config"]["scopes"]["bot"]) == {
        "chat:write", "chat:write.public", "commands", "reactions:read", "channels:history", "groups:history",
        "users:read", "users:read.email", "files:read"}
