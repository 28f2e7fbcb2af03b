"""Driving the Slack routes like Slack does: signed requests built from the recorded-shape fixtures."""
from __future__ import annotations

import copy
import datetime as dt

from tests.fakes.slack import encode_fixture, load_fixture, request_headers
from tests.harness import Clock, build_stack, mappings_for_tests

UTC = dt.timezone.utc
START = dt.datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
ROUTES = {"command": "/webhooks/slack/commands", "event": "/webhooks/slack/events",
          "interaction": "/webhooks/slack/interactions"}


def slack_stack(database, tmp_path, fake_zendesk, fake_slack, now=START):
    fake_slack.accept_any_channel = True
    clock = Clock(now)
    fake_zendesk.set_clock(clock)  # tickets created through the API carry the test's time
    return build_stack(database, mappings_for_tests(tmp_path), fake_zendesk, clock,
                       slack_bot_token=fake_slack.token, slack_api_url=fake_slack.base_url,
                       slack_signing_secret=fake_slack.signing_secret)


def send(stack, fake_slack, data: dict, *, retry_num=None, stamp=None, secret=None):
    body, content_type = encode_fixture(data)
    kind = "command" if "command" in data else ("event" if data.get("type") in ("event_callback",
                                                                             "url_verification") else "interaction")
    ts = int(stamp if stamp is not None else stack.clock().timestamp())
    headers = request_headers(secret or fake_slack.signing_secret, body, ts, content_type, retry_num=retry_num)
    return stack.client.post(ROUTES[kind], data=body, headers=headers)


def command(text: str, channel="C05NWLOGIST", user="U0NWCUST01", trigger="T1") -> dict:
    data = load_fixture("command_support_open")
    data.update(text=text, channel_id=channel, user_id=user, trigger_id=f"trigger-{trigger}")
    return data


def button(name: str, value: str, channel="C05NWLOGIST", response_url=None, trigger="B1", action_id=None) -> dict:
    data = copy.deepcopy(load_fixture(name))
    data["actions"][0]["value"] = value
    if action_id:
        data["actions"][0]["action_id"] = action_id
    data["channel"]["id"] = channel
    data["container"]["channel_id"] = channel
    data["trigger_id"] = f"trigger-{trigger}"
    if response_url:
        data["response_url"] = response_url
    return data


def opened_in_channel(stack, ticket_id: int, channel="C05NWLOGIST", user="U0NWCUST01") -> None:
    """As if `user` had opened the ticket from `channel` (what TicketOpener records)."""
    from integration.storage.models import SlackOrigin

    with stack.services.sessions.begin() as session:
        session.merge(SlackOrigin(ticket_id=ticket_id, channel_id=channel, user_id=user, opened_at=stack.clock()))
