"""The fake Zendesk's bulk jobs, safe updates, rate-limit enforcement and held writes, driven by zenpy.

What these pin is reported in docs/zendesk-facts.md (sections 1 and 3).
"""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests
from zenpy.lib.api_objects import Comment, JobStatus, Ticket
from zenpy.lib.exception import APIException, RecordNotFoundException, TooManyValuesException

from tests.fakes.zendesk import FakeZendesk, fake_zendesk  # noqa: F401  (fixture)

T0 = datetime(2026, 3, 2, 14, 0, tzinfo=timezone.utc)
CONFLICT = {"error": "UpdateConflict",
            "description": "Safe Update prevented the update due to outdated ticket data. "
                           "Please fetch the latest ticket data and try again."}


@pytest.fixture
def acme(fake_zendesk: FakeZendesk) -> FakeZendesk:
    fake_zendesk.set_clock(lambda: T0)
    fake_zendesk.seed_organization(1001, name="Acme Corp")
    for ticket_id in (35436, 35437, 35438):
        fake_zendesk.seed_ticket(ticket_id, organization_id=1001, priority="high")
    fake_zendesk.seed_ticket(35440, status="closed")
    return fake_zendesk


def raw(fake: FakeZendesk, method: str, path: str, **kwargs: object) -> requests.Response:
    return requests.request(method, f"{fake.base_url}{path}", auth=(f"{fake.email}/token", fake.token),
                            timeout=5, **kwargs)


def notes(fake: FakeZendesk, ticket_id: int, body: str) -> int:
    return sum(c["body"] == body for c in fake.comments(ticket_id))


# -- update_many + job statuses -------------------------------------------------------
def test_zenpy_bulk_update_is_a_job_with_per_item_results(acme: FakeZendesk) -> None:
    zenpy = acme.client(disable_cache=True)
    stale = acme.ticket(35437)["updated_at"]
    zenpy.tickets.update(Ticket(id=35437, priority="low"))  # moves updated_at past `stale`

    job = zenpy.tickets.update([
        Ticket(id=35436, priority="urgent", comment=Comment(body="bulk [esc:1]", public=False)),
        Ticket(id=35437, status="pending", safe_update=True, updated_stamp=stale),
        Ticket(id=35440, comment=Comment(body="too late", public=False)),
        Ticket(id=99999, priority="low"),
    ])

    [call] = acme.calls_to("PUT", "/api/v2/tickets/update_many.json")
    assert call.json == {"tickets": [
        {"id": 35436, "priority": "urgent", "comment": {"body": "bulk [esc:1]", "public": False}},
        {"id": 35437, "status": "pending", "safe_update": True, "updated_stamp": stale},
        {"id": 35440, "comment": {"body": "too late", "public": False}},
        {"id": 99999, "priority": "low"},
    ]}
    assert isinstance(job, JobStatus)
    assert (job.status, job.total, job.progress, job.results, job.message) == ("queued", 4, 0, None, None)
    assert len(job.id) == 32 and job.url.endswith(f"/api/v2/job_statuses/{job.id}.json")

    acme.wait_for_jobs()
    done = zenpy.job_status(id=job.id)
    assert (done.status, done.progress, done.total) == ("completed", 4, 4)
    ok, conflict, closed, missing = done.results
    assert (ok.id, ok.action, ok.success, ok.status) == (35436, "update", True, "Updated")
    assert (conflict.id, conflict.index, conflict.error, conflict.success) == (35437, 1, "UpdateConflict", None)
    assert conflict.details == CONFLICT["description"]
    assert (closed.error, closed.details) == ("TicketUpdateFailed", "Status: closed prevents ticket update")
    assert (missing.id, missing.index, missing.error) == (99999, 3, "RecordNotFound")
    assert acme.ticket(35436)["priority"] == "urgent" and notes(acme, 35436, "bulk [esc:1]") == 1
    assert acme.ticket(35437)["status"] == "open"
    assert notes(acme, 35440, "too late") == 0


def test_ids_form_polling_show_many_and_applied_without_polling(acme: FakeZendesk) -> None:
    zenpy = acme.client(disable_cache=True)
    acme.set_job_delay(0.4)
    stamp = acme.ticket(35437)["updated_at"]
    zenpy.tickets.update(Ticket(id=35437, priority="low"))

    first = raw(acme, "PUT", "/api/v2/tickets/update_many.json?ids=35436,35437",
                json={"ticket": {"additional_tags": ["bulk"], "updated_stamp": stamp}}).json()["job_status"]
    second = raw(acme, "PUT", "/api/v2/tickets/update_many?ids=35438",
                 json={"ticket": {"status": "pending"}}).json()["job_status"]

    assert zenpy.job_status(id=first["id"]).status == "queued"
    assert acme.ticket(35438)["status"] == "open"
    deadline = time.monotonic() + 5
    while zenpy.job_status(id=first["id"]).status != "completed":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    # updated_stamp alone makes a bulk item a safe update: 35436 still has that stamp, 35437 moved on
    results = zenpy.job_status(id=first["id"]).results
    assert [(r.id, r.success, getattr(r, "error", None)) for r in results] == \
        [(35436, True, None), (35437, None, "UpdateConflict")]
    acme.wait_for_jobs()
    assert acme.ticket(35438)["status"] == "pending"  # nobody polled the second job
    many = zenpy.job_status(ids=[first["id"], second["id"], "0123abcd"])
    assert [j.id for j in many["job_statuses"]] == [first["id"], second["id"]]
    assert all(j.status == "completed" for j in many["job_statuses"])
    with pytest.raises(RecordNotFoundException):
        zenpy.job_status(id="ffffffffffffffffffffffffffffffff")


def test_more_than_100_tickets_is_400_and_a_failed_job_applies_nothing(acme: FakeZendesk) -> None:
    zenpy = acme.client(disable_cache=True)

    with pytest.raises(TooManyValuesException) as excinfo:
        zenpy.tickets.update([Ticket(id=35436 + i, priority="low") for i in range(101)])
    acme.fail_next_job(message="Internal error")
    job = zenpy.tickets.update([Ticket(id=35436, priority="low")])
    acme.wait_for_jobs()

    assert excinfo.value.response.status_code == 400
    assert acme.jobs()[0]["status"] == "failed" and zenpy.job_status(id=job.id).message == "Internal error"
    assert acme.ticket(35436)["priority"] == "high"


# -- safe updates ------------------------------------------------------------------------
def test_two_updates_in_the_same_second_still_move_updated_at(acme: FakeZendesk) -> None:
    zenpy = acme.client(disable_cache=True)
    seen = zenpy.tickets(id=35436).updated_at  # the clock is frozen at T0

    first = zenpy.tickets.update(Ticket(id=35436, priority="urgent")).ticket.updated_at
    with pytest.raises(APIException) as excinfo:
        zenpy.tickets.update(Ticket(id=35436, status="pending", safe_update=True, updated_stamp=seen))
    second = zenpy.tickets.update(Ticket(id=35436, status="pending", safe_update=True,
                                         updated_stamp=first)).ticket.updated_at

    assert seen == "2026-03-02T14:00:00Z" < first == "2026-03-02T14:00:01Z" < second
    assert excinfo.value.response.status_code == 409
    assert json.loads(str(excinfo.value)) == CONFLICT
    assert [t.updated_at for t in zenpy.tickets(ids=[35436])] == [second]  # show_many carries it
    acme.set_clock(lambda: T0 + timedelta(hours=1))
    assert zenpy.tickets.update(Ticket(id=35436, priority="low")).ticket.updated_at == "2026-03-02T15:00:00Z"


# -- rate-limit enforcement --------------------------------------------------------------
def test_enforced_limits_slide_answer_429_with_retry_after_and_have_no_effect(acme: FakeZendesk) -> None:
    now = [1000.0]
    acme.enforce_rate_limits(account_per_minute=5, ticket_updates_per_minute=3,
                             per_ticket_updates_per_10_minutes=2, clock=lambda: now[0])

    def put(ticket_id: int, body: str) -> requests.Response:
        now[0] += 1
        return raw(acme, "PUT", f"/api/v2/tickets/{ticket_id}.json", json={"ticket": {"comment": {"body": body}}})

    first, second, per_ticket = put(35436, "a"), put(35436, "b"), put(35436, "c")
    other, over_updates = put(35437, "d"), put(35438, "e")
    now[0] += 1
    gets = [raw(acme, "GET", "/api/v2/tickets/35436.json") for _ in range(3)]

    assert first.headers["X-Rate-Limit"] == "5" and first.headers["X-Rate-Limit-Remaining"] == "4"
    assert first.headers["Zendesk-RateLimit-tickets-update"] == "total=3; remaining=2; resets=60"
    assert [r.status_code for r in (second, per_ticket, other, over_updates)] == [200, 429, 200, 429]
    assert per_ticket.headers["Retry-After"] == "598"  # 10-minute window of ticket 35436, first at 1001
    assert over_updates.headers["Retry-After"] == "56"  # 60 s window, first at 1001, now 1005
    assert per_ticket.json() == {"error": "APIRateLimitExceeded",
                                 "description": "Number of allowed updates of this ticket per 10 minutes exceeded"}
    assert [r.status_code for r in gets] == [200, 200, 429] and gets[2].headers["Retry-After"] == "55"
    assert gets[1].headers["X-Rate-Limit-Remaining"] == "0"
    assert notes(acme, 35436, "c") == 0 and notes(acme, 35438, "e") == 0  # refused = not applied
    now[0] = 1062.0  # the requests at 1001 and 1002 left the window
    assert raw(acme, "GET", "/api/v2/tickets/35436.json").headers["X-Rate-Limit-Remaining"] == "1"
    assert [r.limit for r in acme.rate_limit_log()] == ["per_ticket", "ticket_updates", "account"]
    assert acme.count_429() == 3
    assert acme.max_requests_in_any_window(60, predicate=lambda c: c.status != 429) == 5
    assert acme.max_requests_in_any_window(60) == 8
    assert [c.at for c in acme.calls][:2] == [1001.0, 1002.0]


def test_job_limit_text_plain_switch_and_zenpy_hook(acme: FakeZendesk) -> None:
    acme.enforce_rate_limits(max_jobs=1, json_body=False)
    acme.set_job_delay(3)
    zenpy = acme.client(disable_cache=True)

    def raise_on_429(response: requests.Response, *args: object, **kwargs: object) -> None:
        if response.status_code == 429:
            raise RuntimeError(response.headers["Retry-After"], response.text)

    zenpy.tickets.session.hooks["response"].append(raise_on_429)
    queued = zenpy.tickets.update([Ticket(id=35436, priority="low")])
    with pytest.raises(RuntimeError) as excinfo:
        zenpy.tickets.update([Ticket(id=35437, priority="low")])

    assert queued.status == "queued"
    retry_after, text = excinfo.value.args
    assert 1 <= int(retry_after) <= 3 and text == "Too Many Requests"
    assert acme.rate_limit_log()[0].limit == "jobs" and len(acme.jobs()) == 1


# -- held writes ---------------------------------------------------------------------------
def test_held_put_times_out_then_applies_while_other_requests_are_served(acme: FakeZendesk) -> None:
    slow = acme.client(timeout=0.3, production_adapter=False, disable_cache=True)
    reader = acme.client(disable_cache=True)
    acme.hold_next(1, seconds=1.0)
    errors: list[BaseException] = []

    def write() -> None:
        try:
            slow.tickets.update(Ticket(id=35436, comment=Comment(body="note [esc:9]", public=False)))
        except BaseException as exc:  # noqa: BLE001  (inspected below)
            errors.append(exc)

    writer = threading.Thread(target=write)
    writer.start()
    while not acme.calls_to("PUT", "/api/v2/tickets/35436.json"):
        time.sleep(0.01)
    started = time.monotonic()
    assert reader.tickets(id=35436).id == 35436
    assert time.monotonic() - started < 0.5  # served while the PUT is held
    assert not any("[esc:9]" in (c.body or "") for c in reader.tickets.comments(ticket=35436))
    writer.join(5)

    assert isinstance(errors[0], requests.exceptions.ReadTimeout)
    deadline = time.monotonic() + 3
    while notes(acme, 35436, "note [esc:9]") == 0:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert any("[esc:9]" in (c.body or "") for c in reader.tickets.comments(ticket=35436))


def test_held_put_with_zenpys_adapter_doubles_the_note(acme: FakeZendesk) -> None:
    zenpy = acme.client(timeout=0.3, disable_cache=True)
    acme.hold_next(1, seconds=0.8)

    zenpy.tickets.update(Ticket(id=35436, comment=Comment(body="note [esc:7]", public=False)))  # retry wins

    assert notes(acme, 35436, "note [esc:7]") == 1
    time.sleep(0.8)
    assert notes(acme, 35436, "note [esc:7]") == 2
    assert len(acme.calls_to("PUT", "/api/v2/tickets/35436.json")) == 2
