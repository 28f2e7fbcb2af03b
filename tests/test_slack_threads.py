"""A ticket's Slack thread mirrors the ticket both ways (issue 12), end to end: the real app and worker (run_forever
on the real clock), real zenpy and slack-sdk against the fakes, on SQLite and PostgreSQL."""
import copy
import datetime as dt
import itertools
import statistics
import threading
import time

import pytest
from sqlalchemy import select

from integration.storage.models import SlackThread
from tests.fakes.slack import fake_slack  # noqa: F401
from tests.fakes.zendesk import fake_zendesk  # noqa: F401
from tests.harness import STAFF_CHANNEL, Clock, build_stack, fixture_body, mappings_for_tests
from tests.slack_harness import command, send

UTC = dt.timezone.utc
CHANNEL, CUSTOMER, AGENT_ID = "C05NWLOGIST", "U0NWCUST01", 900101
EVENT_IDS = itertools.count(1)
LATENCY = {"zendesk_to_slack": [], "slack_to_zendesk": []}


class RealClock(Clock):
    def __call__(self) -> dt.datetime:
        return dt.datetime.now(UTC)


@pytest.fixture
def stack(database, tmp_path, fake_zendesk, fake_slack):
    fake_slack.accept_any_channel = True
    fake_zendesk.seed_user(AGENT_ID, name="Ana Agent", email="ana@acme-support.example", role="agent")
    clock = RealClock(dt.datetime.now(UTC))
    fake_zendesk.set_clock(clock)
    built = build_stack(database, mappings_for_tests(tmp_path), fake_zendesk, clock,
                        slack_bot_token=fake_slack.token, slack_api_url=fake_slack.base_url,
                        slack_signing_secret=fake_slack.signing_secret)
    stop = threading.Event()
    runner = threading.Thread(target=built.worker.run_forever, args=(stop,), daemon=True)
    runner.start()
    yield built
    stop.set()
    runner.join(timeout=10)
    built.services.engine.dispose()


def wait_for(check, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.02)
    raise AssertionError(f"nothing after {timeout} s")


def zendesk_event(kind: str, ticket_id: int, organization_id: int = 1001, status: str = "OPEN", **event) -> dict:
    name = {"comment_added": "ticket_comment_added_public_agent", "status_changed": "ticket_status_changed_solved",
            "organization_changed": "ticket_organization_changed"}[kind]
    body = copy.deepcopy(fixture_body(name))
    body["id"] = f"evt-{next(EVENT_IDS)}"
    body["time"] = dt.datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    body["detail"].update(id=str(ticket_id), organization_id=str(organization_id), status=status,
                          created_at="2026-03-02T14:00:00Z")
    body["event"].update(event)
    return body


def agent_comment(stack, ticket_id, text, *, public=True, html=None, organization_id=1001, repeat=False):
    comment = stack.fake.seed_comment(ticket_id, text, public=public, author_id=AGENT_ID,
                                      **({"html_body": html} if html else {}))
    body = zendesk_event("comment_added", ticket_id, organization_id, comment={
        "id": str(comment["id"]), "body": text, "is_public": public,
        "author": {"id": str(AGENT_ID), "is_staff": True, "name": "Ana Agent"}})
    sent = time.monotonic()
    assert stack.post(body).status_code == 200
    if repeat:  # Zendesk delivers an event more than once
        assert stack.post(body).status_code == 200
    return sent


def slack_event(event: dict, event_id: str | None = None) -> dict:
    return {"token": "x", "team_id": "T0HOSTTEAM", "api_app_id": "A0ESCALATR", "type": "event_callback",
            "event_id": event_id or f"Ev{next(EVENT_IDS):08d}", "event_time": int(time.time()),
            "event": {**event, "event_ts": event.get("ts")}}


def customer_reply(stack, fake_slack, thread_ts, text, files=None, retry=False):
    message = fake_slack.seed_thread_reply(CHANNEL, CUSTOMER, text, thread_ts, files)
    envelope = slack_event(message)
    sent = time.monotonic()
    assert send(stack, fake_slack, envelope).status_code == 200
    if retry:
        assert send(stack, fake_slack, envelope, retry_num=1).status_code == 200
    return sent, message


def bound_ts(stack, ticket_id):
    with stack.services.sessions() as session:
        return session.scalars(select(SlackThread.thread_ts).where(SlackThread.ticket_id == ticket_id,
                                                                   SlackThread.ended_at.is_(None))).first()


def thread_posts(fake_slack, thread_ts):
    return [m for m in fake_slack.messages(CHANNEL) if m.get("bot_id") and m.get("thread_ts") == thread_ts]


def ticket_comments(fake_zendesk, ticket_id, author_id):
    return [c for c in fake_zendesk.comments(ticket_id) if c["author_id"] == author_id]


@pytest.mark.slow  # a whole conversation end to end: .ci/run runs it
def test_a_conversation_in_the_thread(stack, fake_slack, fake_zendesk):
    # 1. The customer opens a ticket with /support: our reply is the thread, and the binding is stored.
    send(stack, fake_slack, command("Exports fail since this morning"))
    ticket_id = wait_for(lambda: [t for t in fake_zendesk._state.tickets if t >= 50_000])[0]
    thread_ts = wait_for(lambda: bound_ts(stack, ticket_id))
    opener = fake_slack.message(CHANNEL, thread_ts)
    assert opener["text"].startswith(f"Ticket #{ticket_id}") and opener.get("thread_ts") is None
    customer = fake_zendesk.ticket(ticket_id)["requester_id"]

    # 2. The agent asks a question in Zendesk (the event delivered twice), and writes an internal note.
    sent = agent_comment(stack, ticket_id, "Which **export** fails?", repeat=True,
                         html="<p>Which <strong>export</strong> fails? See <a href=\"https://acme.example/kb\">the guide</a></p>")
    agent_comment(stack, ticket_id, "Internal: customer is on the old exporter", public=False)
    post = wait_for(lambda: thread_posts(fake_slack, thread_ts))[0]
    LATENCY["zendesk_to_slack"].append(post["posted_at"] - sent)
    assert post["text"] == "*Ana Agent*\nWhich *export* fails? See <https://acme.example/kb|the guide>"
    assert post["metadata"]["event_type"] == "escalator_mirror"

    # 3. The customer answers in the thread with a file (Slack retries the event); our own post's event comes back.
    fake_slack.seed_file("F0LOG0001", "export.log", b"line 1\nERROR timeout\n", user=CUSTOMER)
    files = [{"id": "F0LOG0001", "name": "export.log"}]
    sent, message = customer_reply(stack, fake_slack, thread_ts, "The *nightly* one, log attached", files, retry=True)
    assert send(stack, fake_slack, slack_event({**post, "channel": CHANNEL})).json["message"] == \
        "a bot's or our own message"
    answer = wait_for(lambda: [c for c in ticket_comments(fake_zendesk, ticket_id, customer) if "nightly" in c["body"]])
    (put,) = [c for c in fake_zendesk.calls_to("PUT", f"/api/v2/tickets/{ticket_id}.json")
              if "nightly" in str(c.json)]
    LATENCY["slack_to_zendesk"].append(put.at - sent)
    assert answer[0]["public"] is True and answer[0]["attachments"][0]["file_name"] == "export.log"
    assert fake_zendesk._state.upload_content[answer[0]["attachments"][0]["id"]] == b"line 1\nERROR timeout\n"
    # Zendesk's comment_added for the customer's comment does not come back to Slack.
    stack.post(zendesk_event("comment_added", ticket_id, comment={
        "id": str(answer[0]["id"]), "body": answer[0]["body"], "is_public": True,
        "author": {"id": str(customer), "is_staff": False, "name": "Maria Ops"}}))

    # 4. An outage in the middle: Slack fails once, then two agent replies go out late but in order.
    fake_slack.fail_next(1, status=503, method="chat.postMessage")
    agent_comment(stack, ticket_id, "Found it: a timeout in the exporter.")
    agent_comment(stack, ticket_id, "A fix is deployed.")
    wait_for(lambda: len(thread_posts(fake_slack, thread_ts)) >= 3, timeout=30)
    assert [p["text"].split("\n")[1] for p in thread_posts(fake_slack, thread_ts)] == [
        "Which *export* fails? See <https://acme.example/kb|the guide>", "Found it: a timeout in the exporter.",
        "A fix is deployed."]

    # 5. The agent solves it: one short line in the thread, with the Help Center link.
    fake_zendesk._state.tickets[ticket_id]["status"] = "solved"
    for _ in range(2):
        stack.post(zendesk_event("status_changed", ticket_id, status="SOLVED"))
    line = wait_for(lambda: [p for p in thread_posts(fake_slack, thread_ts) if p["text"].startswith("Solved")])
    assert f"https://{fake_zendesk.subdomain}.zendesk.com/hc/requests/{ticket_id}" in line[0]["text"]

    # 6. The customer reopens it from the thread; Zendesk fails once meanwhile (delayed, not lost).
    fake_zendesk.fail_next(1, status=503, method="PUT")
    customer_reply(stack, fake_slack, thread_ts, "Still broken for the weekly export")
    wait_for(lambda: fake_zendesk.ticket(ticket_id)["status"] == "open", timeout=30)
    assert [c["body"].split("\n")[0] for c in ticket_comments(fake_zendesk, ticket_id, customer)][-1] == \
        "Still broken for the weekly export"

    # 7. Closed: a reply opens a follow-up ticket, and the thread follows it.
    fake_zendesk._state.tickets[ticket_id]["status"] = "closed"
    customer_reply(stack, fake_slack, thread_ts, "It is back again")
    follow_up = wait_for(lambda: [t for t in fake_zendesk._state.tickets.values()
                                  if (t["via"]["source"].get("from") or {}).get("ticket_id") == ticket_id])[0]
    assert follow_up["organization_id"] == 1001 and follow_up["requester_id"] == customer
    wait_for(lambda: [p for p in thread_posts(fake_slack, thread_ts) if f"#{follow_up['id']}" in p["text"]])
    sent = agent_comment(stack, follow_up["id"], "Looking at the follow-up now.")
    post = wait_for(lambda: [p for p in thread_posts(fake_slack, thread_ts) if "follow-up now" in p["text"]])[0]
    LATENCY["zendesk_to_slack"].append(post["posted_at"] - sent)

    # Every Slack event and Zendesk event arrived at least twice for some message; nothing was doubled.
    texts = [p["text"] for p in thread_posts(fake_slack, thread_ts)]
    assert len(texts) == len(set(texts))
    bodies = [c["body"] for c in ticket_comments(fake_zendesk, ticket_id, customer)]
    assert len(bodies) == len(set(bodies)) and not any("Internal" in t for t in texts)
    print(f"\nmirror latency: Zendesk→Slack {LATENCY['zendesk_to_slack']}, Slack→Zendesk {LATENCY['slack_to_zendesk']}")
    assert max(LATENCY["zendesk_to_slack"] + LATENCY["slack_to_zendesk"]) < 2.0
    assert statistics.mean(LATENCY["zendesk_to_slack"]) < 2.0


@pytest.mark.slow  # real time or a real browser/process: .ci/run runs it
def test_isolation_a_moved_ticket_ends_its_thread_and_staff_channels_are_not_mirrored(stack, fake_slack, fake_zendesk):
    message = fake_slack.seed_message(CHANNEL, CUSTOMER, "Data loss after last night's import")
    reaction = slack_event({"type": "reaction_added", "user": CUSTOMER, "reaction": "ticket",
                            "item": {"type": "message", "channel": CHANNEL, "ts": message["ts"]}})
    send(stack, fake_slack, reaction)
    ticket_id = wait_for(lambda: [t for t in fake_zendesk._state.tickets if t >= 50_000])[0]
    opened = wait_for(lambda: thread_posts(fake_slack, message["ts"]))
    assert opened[0]["text"].startswith(f"Ticket #{ticket_id}")

    # The ticket moves to Oscorp: the Northwind thread gets one neutral line, then nothing of Oscorp's.
    fake_zendesk._state.tickets[ticket_id]["organization_id"] = 1005
    stack.post(zendesk_event("organization_changed", ticket_id, organization_id=1005))
    wait_for(lambda: len(thread_posts(fake_slack, message["ts"])) == 2)
    agent_comment(stack, ticket_id, "Oscorp's private answer", organization_id=1005)
    reply = fake_slack.seed_thread_reply(CHANNEL, CUSTOMER, "hello?", message["ts"])
    assert send(stack, fake_slack, slack_event(reply)).json["message"] == "not a ticket's thread: ignored"
    time.sleep(1.5)
    posts = thread_posts(fake_slack, message["ts"])
    assert [p["text"] for p in posts][1] == "This ticket is no longer followed in this channel."
    assert len(posts) == 2 and "Oscorp" not in str(fake_slack.messages(CHANNEL))

    # A staff channel's threads are never mirrored; deletions are ignored.
    staff = fake_slack.seed_thread_reply(STAFF_CHANNEL, "U0AGENT001", "internal chat", "1717000000.000100")
    assert send(stack, fake_slack, slack_event(staff)).json["message"] == "not a customer's channel: not mirrored"
    deleted = slack_event({"type": "message", "subtype": "message_deleted", "channel": CHANNEL, "ts": "1.2",
                           "deleted_ts": "1.1"})
    assert send(stack, fake_slack, deleted).json["message"] == "deletions are not mirrored"


def test_an_edit_in_the_thread_adds_a_short_follow_up(stack, fake_slack, fake_zendesk):
    message = fake_slack.seed_message(CHANNEL, CUSTOMER, "Exports are slow")
    send(stack, fake_slack, slack_event({"type": "reaction_added", "user": CUSTOMER, "reaction": "ticket",
                                         "item": {"type": "message", "channel": CHANNEL, "ts": message["ts"]}}))
    ticket_id = wait_for(lambda: [t for t in fake_zendesk._state.tickets if t >= 50_000])[0]
    wait_for(lambda: thread_posts(fake_slack, message["ts"]))
    customer = fake_zendesk.ticket(ticket_id)["requester_id"]
    _, reply = customer_reply(stack, fake_slack, message["ts"], "It takes 10 minutes")
    edit = slack_event({"type": "message", "subtype": "message_changed", "channel": CHANNEL,
                        "message": {**reply, "text": "It takes 20 minutes", "edited": {"user": CUSTOMER}},
                        "previous_message": reply, "ts": "1717000099.000100"})
    send(stack, fake_slack, edit)
    send(stack, fake_slack, edit, retry_num=1)
    wait_for(lambda: any("edited: It takes 20 minutes" in c["body"]
                         for c in ticket_comments(fake_zendesk, ticket_id, customer)))
    time.sleep(0.5)
    bodies = [c["body"].split("\n")[0] for c in ticket_comments(fake_zendesk, ticket_id, customer)]
    assert bodies[-2:] == ["It takes 10 minutes", "edited: It takes 20 minutes"]


def test_status_names_the_tickets_thread(stack, fake_slack, fake_zendesk):
    send(stack, fake_slack, command("Exports fail since this morning"))
    ticket_id = wait_for(lambda: [t for t in fake_zendesk._state.tickets if t >= 50_000])[0]
    thread_ts = wait_for(lambda: bound_ts(stack, ticket_id))
    wait_for(lambda: send(stack, fake_slack, command(f"status #{ticket_id}", trigger="S1")).json["text"]
             != f"I could not find ticket #{ticket_id}")
    answer = send(stack, fake_slack, command(f"status #{ticket_id}", trigger="S2")).json
    assert f"<!date^{thread_ts.split('.')[0]}^" in answer["blocks"][-1]["elements"][0]["text"]
    assert f"<#{CHANNEL}>" in answer["blocks"][-1]["elements"][0]["text"]


@pytest.mark.slow  # real time or a real browser/process: .ci/run runs it
def test_auto_ticket_channels_open_a_ticket_for_each_new_message(database, tmp_path, fake_zendesk, fake_slack):
    mappings = mappings_for_tests(tmp_path)
    organizations = mappings / "organizations.yaml"
    organizations.write_text(organizations.read_text().replace("slack_channel_id: C05NWLOGIST",
                                                               "slack_channel_id: C05NWLOGIST\n    auto_ticket: true"))
    assert "auto_ticket: true" in organizations.read_text()
    fake_slack.accept_any_channel = True
    clock = RealClock(dt.datetime.now(UTC))
    built = build_stack(database, mappings, fake_zendesk, clock, slack_bot_token=fake_slack.token,
                        slack_api_url=fake_slack.base_url, slack_signing_secret=fake_slack.signing_secret)
    message = fake_slack.seed_message(CHANNEL, CUSTOMER, "Our invoices are missing")
    envelope = slack_event({**message, "channel": CHANNEL})
    assert send(built, fake_slack, envelope).json["message"] == "opening a ticket"
    assert send(built, fake_slack, envelope, retry_num=1).json["message"] == "duplicate"
    for _ in range(3):
        built.drain()
        time.sleep(1.1)  # the channel's pace
    (created,) = fake_zendesk.calls_to("POST", "/api/v2/tickets.json")
    assert "Our invoices are missing" in created.json["ticket"]["comment"]["body"]
    assert thread_posts(fake_slack, message["ts"])[0]["text"].startswith("Ticket #")
    built.services.engine.dispose()
