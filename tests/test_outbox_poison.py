"""Poison outbox rows (issue 10): refused when built, or failed after one attempt with a stored error,
and never in the way of another ticket's work or a Slack answer."""
import datetime as dt

import pytest
from sqlalchemy import func, select

from integration.core.state import Action
from integration.storage import outbox
from integration.storage.models import InboxEvent, OutboxAction
from integration.storage.repo import PoisonAction, enqueue
from tests.fakes.slack import fake_slack, load_fixture  # noqa: F401
from tests.fakes.zendesk import fake_zendesk  # noqa: F401
from tests.slack_harness import button, command, send, slack_stack


@pytest.fixture
def stack(database, tmp_path, fake_zendesk, fake_slack):
    built = slack_stack(database, tmp_path, fake_zendesk, fake_slack)
    yield built
    built.services.engine.dispose()


def rows(stack, model):
    with stack.services.sessions() as session:
        return list(session.scalars(select(model).order_by(model.id)))


def insert_raw(stack, payload: dict, key: str) -> None:
    """A row as an older version (or a bug) could have left it: straight into the table, no checks."""
    now = stack.clock()
    with stack.services.sessions.begin() as session:
        session.add(OutboxAction(ticket_id=None, target="slack", kind="respond", payload=payload, lane=2,
                                 idempotency_key=key, status="pending", attempts=0, next_attempt_at=now,
                                 created_at=now, last_error=""))


@pytest.mark.parametrize("url", [5, "\ud800"])
def test_an_interaction_with_a_poison_response_url_is_refused_and_nothing_is_stored(stack, fake_slack, url):
    data = button("block_actions_csat_2", "501:2", response_url="https://hooks.slack.com/x")
    data["response_url"] = url
    response = send(stack, fake_slack, data)
    assert response.status_code == 400
    assert "response_url" in response.json["message"] or "surrogate" in response.json["message"]
    assert rows(stack, InboxEvent) == [] and rows(stack, OutboxAction) == []


def test_an_action_that_cannot_be_stored_is_refused_when_built(stack):
    bad = Action("slack", "respond", {"url": "https://hooks.slack.com/\ud800", "message": {}}, "respond-x")
    with stack.services.sessions.begin() as session, pytest.raises(PoisonAction, match="cannot be stored"):
        enqueue(session, bad, ticket_id=None, now=stack.clock())
    nan = Action("slack", "post_message", {"channel": "C1", "text": float("nan")}, "post-nan")
    with stack.services.sessions.begin() as session, pytest.raises(PoisonAction):
        enqueue(session, nan, ticket_id=None, now=stack.clock())
    assert rows(stack, OutboxAction) == []


def test_a_poison_row_fails_after_one_attempt_and_a_genuine_request_goes_out_in_the_same_round(stack, fake_slack,
                                                                                             fake_zendesk):
    insert_raw(stack, {"url": 5, "message": {"text": "hi"}}, "poison-int")
    insert_raw(stack, {"message": {"text": "hi"}}, "poison-missing")
    assert send(stack, fake_slack, command("Our exports stopped working")).status_code == 200
    stack.worker.run_once()  # one round: the poison rows and the /support request together
    by_key = {row.idempotency_key: row for row in rows(stack, OutboxAction)}
    for key in ("poison-int", "poison-missing"):
        assert by_key[key].status == "failed" and by_key[key].attempts == 1, by_key[key].last_error
        assert "Slack address" in by_key[key].last_error
    assert by_key["open-cmd-trigger-T1"].status == "done"
    assert len(fake_zendesk.calls_to("POST", "/api/v2/tickets.json")) == 1


class Raising:
    def __init__(self, exc):
        self.exc = exc

    def deliver(self, action):
        raise self.exc


@pytest.mark.parametrize("exc, status", [(TypeError("'int' object is not subscriptable"), "failed"),
                                         (UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates"), "failed"),
                                         (ConnectionError("reset"), "pending")])
def test_delivery_errors_are_classified_and_their_text_always_stores(stack, exc, status):
    insert_raw(stack, {"url": "https://hooks.slack.com/a", "message": {}}, "row")
    stack.worker.deliverers = {"slack": Raising(exc)}
    stack.worker.run_once()
    (row,) = rows(stack, OutboxAction)
    assert row.status == status and row.attempts == 1 and row.last_error


def test_a_failure_text_with_a_lone_surrogate_is_stored(stack):
    insert_raw(stack, {"url": "https://hooks.slack.com/a", "message": {}}, "row")
    with stack.services.sessions.begin() as session:
        (claimed,) = outbox.claim(session, stack.clock(), target="slack")
    with stack.services.sessions.begin() as session:
        assert outbox.record(session, claimed, outbox.Failed("refused \ud800\x00 here"), stack.clock(),
                             dt.timedelta(seconds=1))
    (row,) = rows(stack, OutboxAction)
    assert row.status == "failed" and "refused" in row.last_error and "\x00" not in row.last_error
    with stack.services.sessions() as session:
        assert session.scalar(select(func.count()).select_from(OutboxAction)) == 1
