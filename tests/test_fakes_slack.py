"""The fake Slack (tests/fakes/slack.py) driven by the real slack_sdk WebClient.

These tests pin both the fake's Slack-like behaviour and what slack_sdk 3.47
actually does against it (URLs, bodies, retry handlers, exceptions), plus
Slack's published signing test vector and the request fixtures; together they
back the [tested] marks in docs/slack-facts.md.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timezone
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import ConnectionErrorRetryHandler
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler, ServerErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from tests.fakes.slack import (  # noqa: F401  (fake_slack is a fixture)
    FIXTURES_DIR,
    HOST_TEAM,
    FakeSlack,
    encode_fixture,
    fake_slack,
    load_fixture,
    request_headers,
    sign_request,
)
from tests.fakes.slack_state import block_problem

SECTION = [{"type": "section", "text": {"type": "mrkdwn", "text": "*#35436* breached"}}]


def api_error(exc: pytest.ExceptionInfo[SlackApiError]) -> tuple[int, str]:
    return exc.value.response.status_code, exc.value.response["error"]


# -- URLs and auth ------------------------------------------------------------------
@pytest.mark.parametrize("suffix", ["/api/", "/api"])
def test_base_url_gets_a_trailing_slash_and_method_is_joined(fake_slack: FakeSlack,
                                                             suffix: str) -> None:
    client = WebClient(token=fake_slack.token, base_url=fake_slack.root_url + suffix)

    assert client.base_url == fake_slack.root_url + "/api/"
    assert client.auth_test()["team_id"] == HOST_TEAM
    assert fake_slack.calls[-1].path == "/api/auth.test"


def test_bearer_token_is_sent_and_checked(fake_slack: FakeSlack) -> None:
    fake_slack.client().auth_test()
    assert fake_slack.calls_to("auth.test")[0].header("Authorization") == f"Bearer {fake_slack.token}"

    with pytest.raises(SlackApiError) as wrong:
        fake_slack.client(token="xoxb-wrong").chat_postMessage(channel="C0STAFF01", text="x")
    with pytest.raises(SlackApiError) as missing:
        WebClient(base_url=fake_slack.base_url).auth_test()

    assert api_error(wrong) == (200, "invalid_auth")  # Slack reports API errors with HTTP 200
    assert api_error(missing) == (200, "not_authed")
    assert fake_slack.messages("C0STAFF01") == []


# -- chat.postMessage ---------------------------------------------------------------
def test_post_message_with_blocks_returns_increasing_ts_and_is_recorded(fake_slack: FakeSlack) -> None:
    client = fake_slack.client()

    first = client.chat_postMessage(channel="C0STAFF01", text="Ticket #35436 breached", blocks=SECTION)
    second = client.chat_postMessage(channel="C0STAFF01", text="reply", thread_ts=first["ts"])

    assert (first["ok"], first["channel"], first["ts"]) == (True, "C0STAFF01", "1717000000.000100")
    assert second["ts"] == "1717000000.000200"
    assert first["message"]["blocks"] == SECTION and first["message"]["bot_id"]
    posted = fake_slack.messages("C0STAFF01")
    assert [(m["ts"], m["text"], m["blocks"], m["thread_ts"]) for m in posted] == [
        ("1717000000.000100", "Ticket #35436 breached", SECTION, None),
        ("1717000000.000200", "reply", None, "1717000000.000100"),
    ]
    call = fake_slack.calls_to("chat.postMessage")[0]
    assert call.content_type == "application/json"  # chat_* methods send a JSON body
    assert call.args["blocks"] == SECTION and call.blocks == SECTION


def test_blocks_as_a_form_encoded_json_string_are_accepted(fake_slack: FakeSlack) -> None:
    fake_slack.client().api_call("chat.postMessage", params={
        "channel": "C0STAFF01", "text": "x", "blocks": json.dumps(SECTION)})

    call = fake_slack.calls_to("chat.postMessage")[0]
    assert call.content_type == "application/x-www-form-urlencoded"
    assert fake_slack.messages("C0STAFF01")[0]["blocks"] == SECTION


def test_blocks_without_text_post_but_slack_sdk_warns(fake_slack: FakeSlack) -> None:
    with pytest.warns(UserWarning, match="top-level `text` argument is missing"):
        fake_slack.client().chat_postMessage(channel="C0STAFF01", blocks=SECTION)
    assert fake_slack.messages("C0STAFF01")[0]["text"] == ""


def _button(action_id: str) -> dict:
    return {"type": "button", "action_id": action_id, "value": "35436:2",
            "text": {"type": "plain_text", "text": "Go"}}


@pytest.mark.parametrize("payload, error", [
    ({"channel": "C0STAFF01"}, "no_text"),
    ({"channel": "C0STAFF01", "text": "x" * 40_001}, "msg_too_long"),
    ({"channel": "C0STAFF01", "text": "x", "blocks": {"type": "section"}}, "invalid_blocks_format"),
    ({"channel": "C0STAFF01", "text": "x", "blocks": "[not json"}, "invalid_blocks_format"),
    ({"channel": "C0STAFF01", "text": "x", "blocks": [{"text": "no type"}]}, "invalid_blocks"),
    ({"channel": "C0STAFF01", "text": "x", "blocks": SECTION * 51}, "invalid_blocks"),
    ({"channel": "C0STAFF01", "text": "x", "blocks": [
        {"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}]}, "invalid_blocks"),
    ({"channel": "C0STAFF01", "text": "x", "blocks": [
        {"type": "section", "text": {"type": "mrkdwn", "text": "s" * 3001}}]}, "invalid_blocks"),
    ({"channel": "C0STAFF01", "text": "x", "blocks": [
        {"type": "actions", "elements": [_button("csat_rate"), _button("csat_rate")]}]},
     "invalid_blocks"),
    ({"channel": "C0NOSUCH1", "text": "x"}, "channel_not_found"),
])
def test_post_message_is_refused_like_slack(fake_slack: FakeSlack, payload: dict, error: str) -> None:
    with pytest.raises(SlackApiError) as exc:
        fake_slack.client().api_call("chat.postMessage", json=payload)

    assert api_error(exc) == (200, error)
    assert fake_slack.calls_to("chat.postMessage")[0].error == error
    assert all(fake_slack.messages(c) == [] for c in ("C0STAFF01", "C0NOSUCH1"))


def test_archived_channel_not_a_member_and_accept_any_channel(fake_slack: FakeSlack) -> None:
    fake_slack.seed_channel("C0ARCHIVE1", "old", is_archived=True)
    fake_slack.seed_channel("C0NOTMEMB1", "elsewhere", is_member=False)
    client = fake_slack.client()

    for channel, error in [("C0ARCHIVE1", "is_archived"), ("C0NOTMEMB1", "not_in_channel")]:
        with pytest.raises(SlackApiError) as exc:
            client.chat_postMessage(channel=channel, text="x")
        assert api_error(exc) == (200, error)

    fake_slack.accept_any_channel = True
    assert client.chat_postMessage(channel="C0ANYTHING", text="x")["ok"]
    assert len(fake_slack.messages("C0ANYTHING")) == 1


def test_the_fixture_messages_pass_block_validation() -> None:
    for path in sorted(FIXTURES_DIR.glob("block_actions_*.json")):
        assert block_problem(load_fixture(path.name)["message"]["blocks"]) is None, path.name


# -- other methods --------------------------------------------------------------------
def test_ephemeral_update_and_reaction(fake_slack: FakeSlack) -> None:
    client = fake_slack.client()
    ts = client.chat_postMessage(channel="C05NWLOGIST", text="Escalated", blocks=SECTION)["ts"]

    eph = client.chat_postEphemeral(channel="C05NWLOGIST", user="U0NWCUST01", text="Only you")
    updated = client.chat_update(channel="C05NWLOGIST", ts=ts, text="Acknowledged by Sam")
    client.reactions_add(channel="C05NWLOGIST", timestamp=ts, name="eyes")

    assert eph["message_ts"] and fake_slack.ephemerals("C05NWLOGIST")[0]["user"] == "U0NWCUST01"
    assert (updated["ts"], updated["text"]) == (ts, "Acknowledged by Sam")
    [message] = fake_slack.messages("C05NWLOGIST")  # the ephemeral is not a channel message
    assert message["text"] == "Acknowledged by Sam" and message["edited"]["ts"] > ts
    assert message["blocks"] == SECTION  # chat.update without blocks keeps them
    assert message["history"] == [{"text": "Escalated", "blocks": SECTION}]
    assert message["reactions"] == [{"name": "eyes", "users": ["U0ESCBOT01"], "count": 1}]
    for call, error in [
        (lambda: client.chat_update(channel="C05NWLOGIST", ts="1.000000", text="x"), "message_not_found"),
        (lambda: client.reactions_add(channel="C05NWLOGIST", timestamp=ts, name="eyes"), "already_reacted"),
        (lambda: client.chat_postEphemeral(channel="C05NWLOGIST", user="U0NOBODY1", text="x"),
         "user_not_in_channel"),
    ]:
        with pytest.raises(SlackApiError) as exc:
            call()
        assert exc.value.response["error"] == error


def test_users_info_and_lookup_by_email(fake_slack: FakeSlack) -> None:
    client = fake_slack.client()

    user = client.users_info(user="U0NWCUST01")["user"]
    by_email = client.users_lookupByEmail(email="dana.agent@acme-support.example")["user"]

    now_offset = datetime.now(timezone.utc).astimezone(ZoneInfo("America/Chicago")).utcoffset()
    assert (user["team_id"], user["tz"], user["tz_offset"]) == (
        "T0NORTHWND", "America/Chicago", int(now_offset.total_seconds()))
    assert user["profile"]["email"] == "maria.ops@northwind.example"
    assert (by_email["id"], by_email["team_id"]) == ("U0AGENT001", HOST_TEAM)
    assert fake_slack.calls_to("users.info")[0].args == {"user": "U0NWCUST01"}  # form-encoded
    for call, error in [(lambda: client.users_info(user="U0NOBODY1"), "user_not_found"),
                        (lambda: client.users_lookupByEmail(email="x@y.example"), "users_not_found")]:
        with pytest.raises(SlackApiError) as exc:
            call()
        assert exc.value.response["error"] == error


def test_conversations_info_tells_shared_and_im_channels(fake_slack: FakeSlack) -> None:
    client = fake_slack.client()

    shared = client.conversations_info(channel="C05NWLOGIST")["channel"]
    staff = client.conversations_info(channel="C0STAFF01")["channel"]
    dm = client.conversations_info(channel="D0DMAGENT01")["channel"]

    assert (shared["is_ext_shared"], shared["context_team_id"]) == (True, HOST_TEAM)
    assert shared["shared_team_ids"] == [HOST_TEAM, "T0NORTHWND"]
    assert (staff["is_ext_shared"], staff["is_im"]) == (False, False)
    assert (dm["is_im"], dm["user"]) == (True, "U0AGENT001")
    with pytest.raises(SlackApiError) as exc:
        client.conversations_info(channel="C0NOSUCH1")
    assert api_error(exc) == (200, "channel_not_found")


def test_response_url_records_what_the_app_sends_back(fake_slack: FakeSlack) -> None:
    url = fake_slack.response_url("R1")

    response = WebhookClient(url).send(text="Ticket #35436 is open", response_type="ephemeral")

    assert (response.status_code, response.body) == (200, "ok")
    assert fake_slack.responses("R1") == [{"text": "Ticket #35436 is open",
                                           "response_type": "ephemeral"}]
    assert fake_slack.calls_to("response")[0].path == "/response/R1"


# -- 429, 5xx, timeouts and slack_sdk's retry handlers ------------------------------
def test_default_client_retries_only_connection_errors(fake_slack: FakeSlack) -> None:
    handlers = fake_slack.client().retry_handlers
    assert [type(h) for h in handlers] == [ConnectionErrorRetryHandler]
    assert handlers[0].max_retry_count == 1


def test_429_without_a_handler_raises_with_status_and_retry_after(fake_slack: FakeSlack) -> None:
    fake_slack.rate_limit_next(1, retry_after=7, method="chat.postMessage")

    with pytest.raises(SlackApiError) as exc:
        fake_slack.client().chat_postMessage(channel="C0STAFF01", text="x")

    assert api_error(exc) == (429, "ratelimited")
    assert exc.value.response.headers["Retry-After"] == "7"
    assert exc.value.response.headers["retry-after"] == "7"  # slack_sdk adds both spellings
    assert len(fake_slack.calls_to("chat.postMessage")) == 1
    assert fake_slack.messages("C0STAFF01") == []


def test_rate_limit_handler_waits_retry_after_then_succeeds(fake_slack: FakeSlack) -> None:
    fake_slack.rate_limit_next(1, retry_after=1, method="chat.postMessage")
    client = fake_slack.client(retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)])

    start = time.monotonic()
    response = client.chat_postMessage(channel="C0STAFF01", text="x")
    elapsed = time.monotonic() - start

    assert response["ok"] and len(fake_slack.messages("C0STAFF01")) == 1
    assert [c.status for c in fake_slack.calls_to("chat.postMessage")] == [429, 200]
    assert 1.0 <= elapsed < 2.5  # sleeps int(Retry-After) + random() seconds
    calls = fake_slack.calls_to("chat.postMessage")
    assert calls[1].at - calls[0].at >= 1.0


def test_rate_limit_handler_gives_up_after_max_retry_count(fake_slack: FakeSlack) -> None:
    fake_slack.rate_limit_next(3, retry_after=0, method="chat.postMessage")
    client = fake_slack.client(retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)])

    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel="C0STAFF01", text="x")

    assert api_error(exc) == (429, "ratelimited")
    assert len(fake_slack.calls_to("chat.postMessage")) == 3  # 1 attempt + 2 retries


def test_http_500_raises_slack_api_error_with_non_json_body(fake_slack: FakeSlack) -> None:
    fake_slack.fail_next(1, 500)

    with pytest.raises(SlackApiError) as exc:
        fake_slack.client().chat_postMessage(channel="C0STAFF01", text="x")

    status, error = api_error(exc)
    assert status == 500
    assert error == "Received a response in a non-JSON format: Internal Server Error"


def test_server_error_handler_retries_500_and_503_only(fake_slack: FakeSlack) -> None:
    client = fake_slack.client(retry_handlers=[ServerErrorRetryHandler(max_retry_count=1)])

    fake_slack.fail_next(1, 503)
    assert client.chat_postMessage(channel="C0STAFF01", text="after 503")["ok"]
    fake_slack.fail_next(1, 502)
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel="C0STAFF01", text="after 502")

    assert exc.value.response.status_code == 502
    assert [c.status for c in fake_slack.calls_to("chat.postMessage")] == [503, 200, 502]


def test_handlers_share_one_attempt_counter_per_call(fake_slack: FakeSlack) -> None:
    fake_slack.rate_limit_next(1, retry_after=0, method="chat.postMessage")
    fake_slack.fail_next(1, 500, method="chat.postMessage")
    client = fake_slack.client(retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1),
                                               ServerErrorRetryHandler(max_retry_count=1)])

    with pytest.raises(SlackApiError) as exc:  # the 429 retry used up the 500 handler's budget
        client.chat_postMessage(channel="C0STAFF01", text="x")

    assert exc.value.response.status_code == 500
    assert [c.status for c in fake_slack.calls_to("chat.postMessage")] == [429, 500]


def test_internal_error_comes_with_http_200_and_no_handler_retries_it(fake_slack: FakeSlack) -> None:
    fake_slack.fail_next(1, error="internal_error")
    client = fake_slack.client(retry_handlers=[ServerErrorRetryHandler(max_retry_count=2),
                                               RateLimitErrorRetryHandler(max_retry_count=2)])

    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel="C0STAFF01", text="x")

    assert api_error(exc) == (200, "internal_error")
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


def test_read_timeout_raises_timeout_error_after_slack_posted(fake_slack: FakeSlack) -> None:
    fake_slack.delay_next(1, 3.0, method="chat.postMessage")  # processes, then stalls

    with pytest.raises(TimeoutError):
        fake_slack.client(timeout=1).chat_postMessage(channel="C0STAFF01", text="x")

    # Not retried by the default ConnectionErrorRetryHandler, yet the message exists:
    # a blind retry by our worker would post it twice.
    assert len(fake_slack.calls_to("chat.postMessage")) == 1
    assert len(fake_slack.messages("C0STAFF01")) == 1


# -- pacing, concurrency, reset -------------------------------------------------------
def test_post_times_and_enforced_pacing_per_channel() -> None:
    now = [100.0]
    with FakeSlack(clock=lambda: now[0]) as fake:
        fake.seed_workspace()
        fake.enforce_pacing(per_second=1.0, burst=2, retry_after=1)
        client = fake.client()
        client.chat_postMessage(channel="C0STAFF01", text="1")
        client.chat_postMessage(channel="C0STAFF01", text="2")
        with pytest.raises(SlackApiError) as exc:
            client.chat_postMessage(channel="C0STAFF01", text="3")
        other = client.chat_postMessage(channel="C05NWLOGIST", text="other channel")
        now[0] += 1.0
        client.chat_postMessage(channel="C0STAFF01", text="3 again")

        assert api_error(exc) == (429, "ratelimited")
        assert exc.value.response.headers["Retry-After"] == "1"
        assert other["ok"]
        assert fake.post_times("C0STAFF01") == [100.0, 100.0, 101.0]
        assert [m["text"] for m in fake.messages("C0STAFF01")] == ["1", "2", "3 again"]


def test_concurrent_posts_get_unique_increasing_ts(fake_slack: FakeSlack) -> None:
    client = fake_slack.client()

    def post(n: int) -> None:
        for i in range(5):
            client.chat_postMessage(channel="C0STAFF01", text=f"{n}-{i}")

    threads = [threading.Thread(target=post, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    stamps = [m["ts"] for m in fake_slack.messages("C0STAFF01")]
    assert len(stamps) == 40 and stamps == sorted(stamps) and len(set(stamps)) == 40
    assert len(fake_slack.calls_to("chat.postMessage")) == 40


def test_reset_forgets_data_switches_and_calls(fake_slack: FakeSlack) -> None:
    fake_slack.client().chat_postMessage(channel="C0STAFF01", text="x")
    fake_slack.fail_next(5)

    fake_slack.reset()

    assert fake_slack.calls == [] and fake_slack.messages("C0STAFF01") == []
    with pytest.raises(SlackApiError) as exc:  # no fault left, but no channel either
        fake_slack.client().chat_postMessage(channel="C0STAFF01", text="x")
    assert api_error(exc) == (200, "channel_not_found")
    fake_slack.seed_workspace()
    assert fake_slack.client().chat_postMessage(channel="C0STAFF01", text="x")["ts"] == \
        "1717000000.000100"


# -- request signing ----------------------------------------------------------------
# Slack's published example ("Verifying requests from Slack",
# https://docs.slack.dev/authentication/verifying-requests-from-slack/).
VECTOR_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
VECTOR_TIMESTAMP = "1531420618"
VECTOR_BODY = (
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow"
    "&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner"
    "&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands"
    "%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
    "&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
VECTOR_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"


class FixedClock:
    def __init__(self, now: float):
        self._now = now

    def now(self) -> float:
        return self._now


def test_slack_published_signature_vector() -> None:
    headers = {"X-Slack-Request-Timestamp": VECTOR_TIMESTAMP, "X-Slack-Signature": VECTOR_SIGNATURE}
    at = int(VECTOR_TIMESTAMP)

    assert sign_request(VECTOR_SECRET, VECTOR_BODY.encode(), VECTOR_TIMESTAMP) == VECTOR_SIGNATURE
    verifier = SignatureVerifier(VECTOR_SECRET, clock=FixedClock(at))
    assert verifier.generate_signature(timestamp=VECTOR_TIMESTAMP, body=VECTOR_BODY) == VECTOR_SIGNATURE
    assert verifier.is_valid_request(VECTOR_BODY.encode(), headers)
    assert not verifier.is_valid_request(VECTOR_BODY + "&x=1", headers)
    assert not SignatureVerifier("another-secret", clock=FixedClock(at)).is_valid_request(
        VECTOR_BODY, headers)
    # the window is +-300 s inclusive (abs(now - ts) > 300 fails)
    for skew, valid in [(300, True), (-300, True), (301, False), (-301, False)]:
        assert SignatureVerifier(VECTOR_SECRET, clock=FixedClock(at + skew)).is_valid_request(
            VECTOR_BODY, headers) is valid
    assert not verifier.is_valid_request(VECTOR_BODY, {"X-Slack-Signature": VECTOR_SIGNATURE})
    # header names are matched case-insensitively
    assert verifier.is_valid_request(VECTOR_BODY, {k.lower(): v for k, v in headers.items()})


def test_signature_verifier_raises_on_a_non_numeric_timestamp() -> None:
    """A forged X-Slack-Request-Timestamp makes is_valid_request raise instead of
    returning False: the webhook must catch ValueError and answer 401, not 500."""
    verifier = SignatureVerifier(VECTOR_SECRET, clock=FixedClock(int(VECTOR_TIMESTAMP)))
    for bad in ("abc", "", "1.5e9"):
        with pytest.raises(ValueError):
            verifier.is_valid_request(VECTOR_BODY, {"X-Slack-Request-Timestamp": bad,
                                                    "X-Slack-Signature": VECTOR_SIGNATURE})
    with pytest.raises(ValueError, match="must not be empty"):
        SignatureVerifier("  ")


# -- request fixtures ---------------------------------------------------------------
FIXTURES = sorted(p.stem for p in FIXTURES_DIR.glob("*.json"))
COMMAND_FIELDS = {"token", "team_id", "team_domain", "channel_id", "channel_name", "user_id",
                  "user_name", "command", "text", "api_app_id", "is_enterprise_install",
                  "response_url", "trigger_id"}


def test_fixture_set_is_complete() -> None:
    assert {
        "url_verification", "event_callback_reaction_added_ticket",
        "event_callback_reaction_added_ticket_external_user", "event_callback_message_channels",
        "command_support_open", "command_support_status", "command_support_status_id",
        "command_support_escalate", "command_support_who", "command_support_dm",
        "block_actions_acknowledge", "block_actions_take_ownership", "block_actions_csat_2",
        "block_actions_escalate",
    } <= set(FIXTURES)


@pytest.mark.parametrize("name", FIXTURES)
def test_fixture_encodes_signs_and_decodes_back(name: str) -> None:
    data = load_fixture(name)
    body, content_type = encode_fixture(name)
    headers = request_headers("s3cret", body, timestamp=1772460000, content_type=content_type)

    assert SignatureVerifier("s3cret", clock=FixedClock(1772460010)).is_valid_request(body, headers)
    if name.startswith("command_"):
        assert content_type == "application/x-www-form-urlencoded"
        decoded = {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
        assert decoded == data and set(data) == COMMAND_FIELDS and data["command"] == "/support"
    elif name.startswith("block_actions_"):
        assert content_type == "application/x-www-form-urlencoded"
        [payload] = parse_qs(body.decode())["payload"]
        assert json.loads(payload) == data and data["type"] == "block_actions"
        assert {"id", "username", "team_id"} <= set(data["user"])
        assert {"action_id", "block_id", "value", "type"} <= set(data["actions"][0])
        assert data["container"]["message_ts"] == data["message"]["ts"]
    elif name.startswith("view_submission_"):
        assert content_type == "application/x-www-form-urlencoded"
        [payload] = parse_qs(body.decode())["payload"]
        assert json.loads(payload) == data and data["type"] == "view_submission"
        assert {"callback_id", "private_metadata", "state"} <= set(data["view"])
    else:
        assert content_type == "application/json" and json.loads(body) == data


def test_fixture_values_the_app_relies_on() -> None:
    commands = {n: load_fixture(n)["text"] for n in FIXTURES if n.startswith("command_")}
    assert commands["command_support_open"] == "Our exports fail since this morning"
    assert commands["command_support_status_id"] == "status #35436"
    assert commands["command_support_escalate"] == "escalate #35436 nobody answers"
    assert load_fixture("command_support_dm")["channel_id"].startswith("D")
    actions = {n: load_fixture(n)["actions"][0] for n in FIXTURES if n.startswith("block_actions_")}
    assert (actions["block_actions_acknowledge"]["action_id"],
            actions["block_actions_acknowledge"]["value"]) == ("escalation_acknowledge", "35436:2")
    assert (actions["block_actions_csat_2"]["action_id"],
            actions["block_actions_csat_2"]["value"]) == ("csat_rate", "35436:2")
    assert load_fixture("url_verification")["challenge"]


def test_slack_connect_fixtures_carry_the_external_team() -> None:
    ours = load_fixture("event_callback_reaction_added_ticket")
    theirs = load_fixture("event_callback_reaction_added_ticket_external_user")
    message = load_fixture("event_callback_message_channels")

    for event in (ours, theirs, message):
        assert event["is_ext_shared_channel"] is True
        assert event["authorizations"][0]["team_id"] == HOST_TEAM  # the installation: us
        assert event["event"].get("channel", event["event"].get("item", {}).get("channel")) \
            == "C05NWLOGIST"
    assert ours["event"]["user"] == "U0AGENT001" and ours["team_id"] == HOST_TEAM
    assert theirs["event"]["user"] == "U0NWCUST01" and theirs["team_id"] == "T0NORTHWND"
    assert message["event"]["user_team"] == message["event"]["source_team"] == "T0NORTHWND"
    assert load_fixture("command_support_open")["team_id"] == "T0NORTHWND"
    assert load_fixture("block_actions_csat_2")["user"]["team_id"] == "T0NORTHWND"
    assert load_fixture("block_actions_acknowledge")["user"]["team_id"] == HOST_TEAM


def test_request_headers_mark_retries() -> None:
    headers = request_headers("s", b"{}", timestamp=1, retry_num=2)
    assert (headers["X-Slack-Retry-Num"], headers["X-Slack-Retry-Reason"]) == ("2", "http_timeout")
    assert "X-Slack-Retry-Num" not in request_headers("s", b"{}", timestamp=1)
