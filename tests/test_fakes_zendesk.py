"""The fake Zendesk (tests/fakes/zendesk.py) driven by the real zenpy client.

These tests pin both the fake's Zendesk-like behaviour and what zenpy 2.0.57
actually does against it (request bodies, 429 handling, exceptions), which is
what docs/zendesk-facts.md reports.
"""

from __future__ import annotations

import base64
import json
import re
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests
from zenpy.lib.api_objects import Comment, Ticket, User
from zenpy.lib.exception import APIException, RatelimitBudgetExceeded, RecordNotFoundException

from tests.fakes.zendesk import (  # noqa: F401  (fake_zendesk is a fixture)
    FIXTURES_DIR,
    FakeZendesk,
    fake_zendesk,
    load_fixture,
    sign_webhook,
    webhook_headers,
)

T0 = datetime(2026, 3, 2, 14, 0, tzinfo=timezone.utc)


@pytest.fixture
def acme(fake_zendesk: FakeZendesk) -> FakeZendesk:
    """An account with one enterprise ticket (35436) and its requester."""
    fake_zendesk.set_clock(lambda: T0)
    fake_zendesk.seed_organization(1001, name="Acme Corp", external_id="ent-acme-corp")
    fake_zendesk.seed_user(2001, name="Jane Requester", email="jane@enterprise.example",
                           organization_id=1001)
    fake_zendesk.seed_ticket(
        35436, requester_id=2001, organization_id=1001, priority="high", status="open",
        tags=["enterprise"], created_at="2026-03-01T09:00:00Z",
        custom_fields=[{"id": 360001, "value": "l1"}, {"id": 360002, "value": "keep-me"}],
    )
    return fake_zendesk


def zenpy_error_body(exc: APIException) -> dict:
    """zenpy puts json.dumps(<Zendesk error body>) in str(exc)."""
    return json.loads(str(exc))


# -- reads ----------------------------------------------------------------------
def test_show_ticket_authenticates_with_email_slash_token(acme: FakeZendesk) -> None:
    zenpy = acme.client(disable_cache=True)

    ticket = zenpy.tickets(id=35436)

    assert (ticket.id, ticket.priority, ticket.organization_id) == (35436, "high", 1001)
    call = acme.calls_to("GET", "/api/v2/tickets/35436.json")[0]
    scheme, _, encoded = call.header("Authorization").partition(" ")
    assert scheme == "Basic"
    assert base64.b64decode(encoded).decode() == f"{acme.email}/token:{acme.token}"
    assert call.header("User-Agent") == "Zenpy/2.0.57"


def test_zenpy_caches_tickets_so_rereads_do_not_reach_zendesk(acme: FakeZendesk) -> None:
    cached = acme.client()
    fresh = acme.client(disable_cache=True)

    cached.tickets(id=35436), cached.tickets(id=35436)
    fresh.tickets(id=35436), fresh.tickets(id=35436)

    assert len(acme.calls_to("GET", "/api/v2/tickets/35436.json")) == 3


def test_show_many_users_organizations_and_search(acme: FakeZendesk) -> None:
    acme.seed_ticket(35437, organization_id=1001, status="solved")
    acme.seed_ticket(35438, organization_id=1001, status="pending")
    zenpy = acme.client(disable_cache=True)

    assert sorted(t.id for t in zenpy.tickets(ids=[35436, 35437, 99999])) == [35436, 35437]
    assert [u.id for u in zenpy.users.search(query="jane@enterprise.example")] == [2001]
    assert list(zenpy.users.search(query="nobody@example.com")) == []
    assert zenpy.users(id=2001).email == "jane@enterprise.example"
    assert zenpy.organizations(id=1001).external_id == "ent-acme-corp"
    open_ids = [r.id for r in zenpy.search(type="ticket", status_less_than="solved")]
    assert open_ids == [35436, 35438]
    assert acme.calls[-1].query["query"] == "type:ticket status<solved"


def test_comments_follow_cursor_pagination(acme: FakeZendesk) -> None:
    for i in range(249):
        acme.seed_comment(35436, f"comment {i}", public=i % 2 == 0,
                          created_at=(T0 + timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ"))
    zenpy = acme.client(disable_cache=True)

    comments = list(zenpy.tickets.comments(35436))

    assert len(comments) == 250  # the seeded description + 249
    assert comments[0].plain_body == "Something is broken"
    assert [c.plain_body for c in comments[-2:]] == ["comment 247", "comment 248"]
    pages = acme.calls_to("GET", "/api/v2/tickets/35436/comments.json")
    assert len(pages) == 3
    assert pages[0].query["page[size]"] == "100" and "page[after]" not in pages[0].query
    assert "page[after]" in pages[2].query


def test_comments_offset_pagination_gives_next_page_like_zendesk(acme: FakeZendesk) -> None:
    for i in range(3):
        acme.seed_comment(35436, f"comment {i}")
    auth = (f"{acme.email}/token", acme.token)
    url = f"{acme.base_url}/api/v2/tickets/35436/comments.json?per_page=2"

    first = requests.get(url, auth=auth, timeout=5).json()
    second = requests.get(first["next_page"], auth=auth, timeout=5).json()

    assert first["count"] == 4 and len(first["comments"]) == 2 and first["previous_page"] is None
    assert first["next_page"].startswith(acme.base_url)
    assert [c["plain_body"] for c in second["comments"]] == ["comment 1", "comment 2"]
    assert second["next_page"] is None


# -- writes ---------------------------------------------------------------------
def test_update_with_fresh_ticket_sends_only_what_changed_and_zendesk_merges(acme: FakeZendesk) -> None:
    acme.set_clock(lambda: T0 + timedelta(minutes=5))
    zenpy = acme.client(disable_cache=True)

    audit = zenpy.tickets.update(Ticket(
        id=35436,
        priority="urgent",
        additional_tags=["escalator_l2"],
        custom_fields=[{"id": 360001, "value": "l2"}],
        comment=Comment(body="Escalated to the support manager [esc:35436:l2]", public=False),
    ))

    [call] = acme.calls_to("PUT", "/api/v2/tickets/35436.json")
    assert call.json == {"ticket": {
        "id": 35436,
        "priority": "urgent",
        "additional_tags": ["escalator_l2"],
        "custom_fields": [{"id": 360001, "value": "l2"}],
        "comment": {"body": "Escalated to the support manager [esc:35436:l2]", "public": False},
    }}
    ticket = acme.ticket(35436)
    assert ticket["priority"] == "urgent"
    assert ticket["tags"] == ["enterprise", "escalator_l2"]
    assert ticket["custom_fields"] == [{"id": 360001, "value": "l2"}, {"id": 360002, "value": "keep-me"}]
    assert ticket["updated_at"] == "2026-03-02T14:05:00Z"
    note = acme.comments(35436)[-1]
    assert (note["public"], note["author_id"]) == (False, acme.agent_id)
    # zenpy returns a TicketAudit for {"ticket", "audit"} responses
    assert audit.ticket.priority == "urgent"
    assert {e["field_name"] for e in audit.audit.events if e["type"] == "Change"} == \
        {"priority", "tags", "360001"}


def test_update_of_a_fetched_ticket_sends_whole_lists(acme: FakeZendesk) -> None:
    """Mutating lists of a fetched ticket sends the full list (race-prone);
    merely reading custom_fields[0] marks every custom field dirty."""
    zenpy = acme.client(disable_cache=True)

    ticket = zenpy.tickets(id=35436)
    ticket.tags.append("escalator_l2")
    zenpy.tickets.update(ticket)
    ticket = zenpy.tickets(id=35436)
    _ = ticket.custom_fields[0]
    zenpy.tickets.update(ticket)

    first, second = (c.json for c in acme.calls_to("PUT", "/api/v2/tickets/35436.json"))
    assert first == {"ticket": {"id": 35436, "tags": ["enterprise", "escalator_l2"]}}
    assert second == {"ticket": {"id": 35436, "custom_fields": [
        {"id": 360001, "value": "l1"}, {"id": 360002, "value": "keep-me"}]}}


def test_tags_replace_add_remove(acme: FakeZendesk) -> None:
    zenpy = acme.client(disable_cache=True)

    zenpy.tickets.update(Ticket(id=35436, tags=["a", "b"]))
    zenpy.tickets.update(Ticket(id=35436, additional_tags=["c", "a"], remove_tags=["b"]))
    zenpy.tickets.add_tags(35436, ["d"])  # PUT /tickets/{id}/tags.json adds

    assert acme.ticket(35436)["tags"] == ["a", "c", "d"]
    assert acme.calls_to("PUT", "/api/v2/tickets/35436/tags.json")[0].json == {"tags": ["d"]}


def test_create_ticket_finds_requester_by_email(acme: FakeZendesk) -> None:
    zenpy = acme.client(disable_cache=True)

    audit = zenpy.tickets.create(Ticket(
        subject="Escalation test", priority="urgent",
        requester=User(email="jane@enterprise.example", name="Jane"),  # a dict would crash
        comment=Comment(body="Created by Escalator", public=False),
    ))

    created = acme.ticket(audit.ticket.id)
    assert (created["requester_id"], created["organization_id"], created["status"]) == (2001, 1001, "new")
    assert [c["public"] for c in acme.comments(created["id"])] == [False]
    assert acme.calls_to("POST", "/api/v2/tickets.json")[0].json["ticket"]["requester"] == \
        {"email": "jane@enterprise.example", "name": "Jane"}


def test_create_honours_idempotency_key(acme: FakeZendesk) -> None:
    """zenpy cannot set per-request headers, so this uses requests directly."""
    auth = (f"{acme.email}/token", acme.token)
    url = f"{acme.base_url}/api/v2/tickets.json"
    body = {"ticket": {"subject": "Once", "comment": {"body": "only once"}}}
    headers = {"Idempotency-Key": "esc-35436-create"}

    first = requests.post(url, json=body, headers=headers, auth=auth, timeout=5)
    again = requests.post(url, json=body, headers=headers, auth=auth, timeout=5)
    other = requests.post(url, json={"ticket": {"subject": "Else", "comment": {"body": "x"}}},
                          headers=headers, auth=auth, timeout=5)

    assert (first.status_code, first.headers["x-idempotency-lookup"]) == (201, "miss")
    assert (again.status_code, again.headers["x-idempotency-lookup"]) == (201, "hit")
    assert again.json()["ticket"]["id"] == first.json()["ticket"]["id"]
    assert other.status_code == 400 and other.json()["error"] == "IdempotentRequestError"
    assert sum(t == "Once" for t in (acme.ticket(i)["subject"] for i in (35436, first.json()["ticket"]["id"]))) == 1


def test_create_without_comment_is_record_invalid(acme: FakeZendesk) -> None:
    zenpy = acme.client(disable_cache=True)

    with pytest.raises(APIException) as excinfo:
        zenpy.tickets.create(Ticket(subject="no body"))

    assert excinfo.value.response.status_code == 422
    assert zenpy_error_body(excinfo.value)["details"]["description"][0]["error"] == "BlankValue"


def test_safe_update_with_stale_stamp_is_409(acme: FakeZendesk) -> None:
    zenpy = acme.client(disable_cache=True)

    with pytest.raises(APIException) as excinfo:
        zenpy.tickets.update(Ticket(id=35436, status="pending", safe_update=True,
                                    updated_stamp="2020-01-01T00:00:00Z"))

    assert excinfo.value.response.status_code == 409
    assert acme.ticket(35436)["status"] == "open"


# -- errors ---------------------------------------------------------------------
def test_422_is_api_exception_with_zendesk_body(acme: FakeZendesk) -> None:
    acme.reject_ticket(35436, details={"status": [{"description": "Status: invalid transition",
                                                    "error": "InvalidValue"}]})
    zenpy = acme.client(disable_cache=True)

    with pytest.raises(APIException) as excinfo:
        zenpy.tickets.update(Ticket(id=35436, status="solved"))

    exc = excinfo.value
    assert type(exc) is APIException
    assert exc.response.status_code == 422
    body = zenpy_error_body(exc)
    assert body["error"] == "RecordInvalid"
    assert body["description"] == "Record validation errors"
    assert body["details"]["status"][0]["description"] == "Status: invalid transition"
    assert acme.ticket(35436)["status"] == "open"


def test_closed_ticket_refuses_updates(acme: FakeZendesk) -> None:
    acme.seed_ticket(35440, status="closed")
    zenpy = acme.client(disable_cache=True)

    with pytest.raises(APIException) as excinfo:
        zenpy.tickets.update(Ticket(id=35440, comment=Comment(body="late", public=False)))

    assert "closed prevents ticket update" in zenpy_error_body(excinfo.value)["details"]["status"][0]["description"]


def test_404_is_record_not_found(acme: FakeZendesk) -> None:
    zenpy = acme.client(disable_cache=True)

    with pytest.raises(RecordNotFoundException) as excinfo:
        zenpy.tickets(id=99999)

    assert excinfo.value.response.status_code == 404
    assert zenpy_error_body(excinfo.value) == {"error": "RecordNotFound", "description": "Not found"}


def test_wrong_token_is_401(acme: FakeZendesk) -> None:
    zenpy = acme.client(token="not-the-token", disable_cache=True)

    with pytest.raises(APIException) as excinfo:
        zenpy.tickets(id=35436)

    assert excinfo.value.response.status_code == 401
    assert zenpy_error_body(excinfo.value) == {"error": "Couldn't authenticate you"}


def test_429_with_ratelimit_budget_raises_instead_of_sleeping(acme: FakeZendesk) -> None:
    acme.rate_limit_next(1, retry_after=30)
    zenpy = acme.client(ratelimit_budget=1, disable_cache=True)

    started = time.monotonic()
    with pytest.raises(RatelimitBudgetExceeded) as excinfo:
        zenpy.tickets(id=35436)

    assert time.monotonic() - started < 2
    assert len(acme.calls) == 1
    assert not hasattr(excinfo.value, "response")  # Retry-After is lost
    assert zenpy.tickets.ratelimit_budget == 0  # spent for good: the budget never refills


def test_429_without_budget_sleeps_retry_after_then_retries(acme: FakeZendesk) -> None:
    acme.rate_limit_next(1, retry_after=1)
    zenpy = acme.client(disable_cache=True)

    started = time.monotonic()
    ticket = zenpy.tickets(id=35436)

    assert ticket.id == 35436
    assert time.monotonic() - started >= 1.0
    assert [c.status for c in acme.calls] == [429, 200]


def test_429_text_plain_without_retry_after_is_http_error(acme: FakeZendesk) -> None:
    acme.rate_limit_next(1, retry_after=None)
    zenpy = acme.client(disable_cache=True)

    with pytest.raises(requests.HTTPError) as excinfo:
        zenpy.tickets(id=35436)

    assert excinfo.value.response.status_code == 429
    assert excinfo.value.response.headers["Content-Type"].startswith("text/plain")
    assert excinfo.value.response.text == "Too Many Requests"


def test_429_hook_bounds_waiting_and_keeps_retry_after(acme: FakeZendesk) -> None:
    """The pattern docs/zendesk-facts.md recommends: a requests response hook."""

    class RateLimited(Exception):
        def __init__(self, retry_after: str | None):
            super().__init__(retry_after)
            self.retry_after = retry_after

    def raise_on_429(response: requests.Response, *args: object, **kwargs: object) -> None:
        if response.status_code == 429:
            raise RateLimited(response.headers.get("Retry-After"))

    acme.rate_limit_next(1, retry_after=17)
    zenpy = acme.client(disable_cache=True)
    zenpy.tickets.session.hooks["response"].append(raise_on_429)

    with pytest.raises(RateLimited) as excinfo:
        zenpy.tickets.update(Ticket(id=35436, priority="urgent"))

    assert excinfo.value.retry_after == "17"
    assert len(acme.calls) == 1 and acme.ticket(35436)["priority"] == "high"


def test_500_text_plain_is_http_error_and_json_is_api_exception(acme: FakeZendesk) -> None:
    zenpy = acme.client(disable_cache=True)
    acme.fail_next(1, 500)
    acme.fail_next(1, 500, body={"error": "InternalError", "description": "boom"})

    with pytest.raises(requests.HTTPError) as plain:
        zenpy.tickets(id=35436)
    with pytest.raises(APIException) as structured:
        zenpy.tickets(id=35436)

    assert plain.value.response.status_code == 500
    assert structured.value.response.status_code == 500
    assert zenpy.tickets(id=35436).id == 35436


def test_503_is_retried_by_zenpy_adapter_for_get_but_not_post(acme: FakeZendesk) -> None:
    zenpy = acme.client(disable_cache=True)
    acme.fail_next(4, 503, method="GET")
    acme.fail_next(4, 503, method="POST")

    with pytest.raises(requests.exceptions.RetryError):
        zenpy.tickets(id=35436)
    with pytest.raises(requests.HTTPError) as post:
        zenpy.tickets.create(Ticket(subject="x", comment=Comment(body="y")))

    assert [c.method for c in acme.calls] == ["GET"] * 4 + ["POST"]
    assert post.value.response.status_code == 503


def test_read_timeout_on_put_is_retried_and_duplicates_the_note(acme: FakeZendesk) -> None:
    """Zenpy's own adapter retries a timed-out PUT three times; each one was applied."""
    zenpy = acme.client(timeout=0.2, disable_cache=True)
    acme.delay_next(4, seconds=0.6, method="PUT")

    with pytest.raises(requests.exceptions.ConnectionError) as excinfo:
        zenpy.tickets.update(Ticket(id=35436, comment=Comment(body="note [esc:1]", public=False)))

    assert "Read timed out" in str(excinfo.value)
    deadline = time.monotonic() + 5
    while len([c for c in acme.comments(35436) if c["body"] == "note [esc:1]"]) < 4:
        assert time.monotonic() < deadline, acme.comments(35436)
        time.sleep(0.05)
    assert len(acme.calls_to("PUT", "/api/v2/tickets/35436.json")) == 4


def test_read_timeout_without_adapter_is_read_timeout(acme: FakeZendesk) -> None:
    zenpy = acme.client(timeout=0.2, production_adapter=False, disable_cache=True)
    acme.delay_next(1, seconds=0.6, when="before")

    with pytest.raises(requests.exceptions.ReadTimeout):
        zenpy.tickets(id=35436)

    assert len(acme.calls) == 1


# -- the fake's own plumbing ------------------------------------------------------
def test_switches_can_target_one_path_and_reset_forgets_everything(acme: FakeZendesk) -> None:
    zenpy = acme.client(disable_cache=True)
    acme.fail_next(1, 500, path="/api/v2/users/")

    assert zenpy.tickets(id=35436).id == 35436
    with pytest.raises(requests.HTTPError):
        zenpy.users(id=2001)

    acme.reset()
    assert acme.calls == []
    with pytest.raises(RecordNotFoundException):
        zenpy.tickets(id=35436)
    assert acme.user(acme.agent_id)["email"] == acme.email


def test_server_is_reachable_only_while_running() -> None:
    fake = FakeZendesk().start()
    url = f"{fake.base_url}/api/v2/tickets/1.json"
    assert requests.get(url, timeout=5).status_code == 401
    fake.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(url, timeout=1)


# -- webhook fixtures ---------------------------------------------------------------
EVENT_FIXTURES = sorted(p.stem for p in FIXTURES_DIR.glob("ticket_*.json"))
TRIGGER_FIXTURES = sorted(p.stem for p in FIXTURES_DIR.glob("trigger_*.json"))
STATUSES = {"NEW", "OPEN", "PENDING", "HOLD", "SOLVED", "CLOSED"}
PRIORITIES = {"LOW", "NORMAL", "HIGH", "URGENT", None}


def test_fixture_sets_are_complete() -> None:
    assert {"ticket_created", "ticket_status_changed", "ticket_priority_changed",
            "ticket_comment_added_public_agent", "ticket_comment_added_internal",
            "ticket_comment_added_end_user"} <= set(EVENT_FIXTURES)
    assert {"trigger_ticket_created", "trigger_ticket_updated",
            "trigger_ticket_updated_localized_es", "trigger_ticket_updated_empty_fields",
            "trigger_satisfaction_rated_bad", "trigger_agent_replied_public"} <= set(TRIGGER_FIXTURES)


@pytest.mark.parametrize("name", EVENT_FIXTURES)
def test_event_subscription_fixtures_have_zendesk_envelope(name: str) -> None:
    payload = load_fixture(name)

    assert set(payload) == {"account_id", "detail", "event", "id", "subject", "time",
                            "type", "zendesk_event_version"}
    assert payload["type"].startswith("zen:event-type:ticket.")
    assert payload["subject"] == f"zen:ticket:{payload['detail']['id']}"
    assert isinstance(payload["account_id"], int) and isinstance(payload["detail"]["id"], str)
    assert payload["detail"]["status"] in STATUSES
    assert payload["detail"]["priority"] in PRIORITIES
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z", payload["time"])
    if payload["type"].endswith(("status_changed", "priority_changed")):
        assert payload["event"]["current"] == payload["detail"][payload["type"].split(".")[-1][:-8]]


def test_comment_fixtures_distinguish_public_internal_and_end_user() -> None:
    def comment(name: str) -> dict:
        return load_fixture(name)["event"]["comment"]

    assert (comment("ticket_comment_added_public_agent")["is_public"],
            comment("ticket_comment_added_public_agent")["author"]["is_staff"]) == (True, True)
    assert comment("ticket_comment_added_internal")["is_public"] is False
    assert (comment("ticket_comment_added_end_user")["is_public"],
            comment("ticket_comment_added_end_user")["author"]["is_staff"]) == (True, False)


def _render(template: str, values: dict[str, str]) -> dict:
    return json.loads(re.sub(r"\{\{\s*([^}]+?)\s*\}\}", lambda m: values[m.group(1)], template))


@pytest.mark.parametrize("name", TRIGGER_FIXTURES)
def test_trigger_fixtures_are_renderings_of_the_template(name: str) -> None:
    template = (FIXTURES_DIR / "trigger_template.json.txt").read_text(encoding="utf-8")
    placeholders = re.findall(r"\{\{\s*([^}]+?)\s*\}\}", template)
    payload = load_fixture(name)

    def leaves(obj: dict, prefix: str = "") -> dict[str, object]:
        out: dict[str, object] = {}
        for key, value in obj.items():
            out.update(leaves(value, f"{prefix}{key}.") if isinstance(value, dict) else {prefix + key: value})
        return out

    rendered = _render(template, {p: f"<{p}>" for p in placeholders})
    assert leaves(rendered).keys() == leaves(payload).keys()
    assert all(isinstance(v, str) for v in leaves(payload).values())  # every placeholder quoted
    assert payload["event"] in {"ticket_created", "ticket_updated", "agent_replied_public",
                                "satisfaction_rated"}
    for stamp in (payload["ticket"]["created_at"], payload["ticket"]["updated_at"]):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\dZ", stamp)  # minute precision, as rendered


def test_template_stays_valid_json_when_everything_renders_empty() -> None:
    template = (FIXTURES_DIR / "trigger_template.json.txt").read_text(encoding="utf-8")

    payload = _render(template, __import__("collections").defaultdict(str))

    assert payload["ticket"]["id"] == "" and payload["organization"]["id"] == ""


def test_localized_fixture_differs_only_in_words() -> None:
    es = load_fixture("trigger_ticket_updated_localized_es")

    assert (es["ticket"]["priority"], es["ticket"]["status"]) == ("Urgente", "En espera")
    assert es["requester"]["locale"] == "es"
    assert es["ticket"]["id"].isdigit() and es["organization"]["id"] == "1003"


def test_webhook_signature_matches_zendesk_algorithm() -> None:
    body = b'{"type":"zen:event-type:ticket.created"}'
    secret = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ=="

    # vector computed independently with:
    # printf '%s' "$TS$BODY" | openssl dgst -sha256 -hmac "$SECRET" -binary | base64
    assert sign_webhook(secret, body, "2024-05-02T10:15:00Z") == \
        "sERp3rVgqXAolB/+bOT7pYq3c0vcencXybFV0tuYqfk="
    headers = webhook_headers(secret, body, "2024-05-02T10:15:00Z")
    assert headers["X-Zendesk-Webhook-Signature-Timestamp"] == "2024-05-02T10:15:00Z"
    assert headers["X-Zendesk-Webhook-Signature"] == "sERp3rVgqXAolB/+bOT7pYq3c0vcencXybFV0tuYqfk="
