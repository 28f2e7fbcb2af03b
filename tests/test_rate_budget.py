"""The account-wide rate budget (storage/rate_budget.py) and Zendesk's view of it (zendesk/budget.py)."""
import datetime as dt
import logging
import threading


from integration.storage import rate_budget
from integration.storage.rate_budget import Budget
from integration.zendesk.budget import ACCOUNT, TICKET_UPDATE, ZendeskBudget

T0 = dt.datetime(2026, 3, 2, 14, 0, tzinfo=dt.timezone.utc)
S = dt.timedelta(seconds=1)


def take(sessions, budget, spend, at):
    with sessions.begin() as session:
        return rate_budget.take(session, budget, spend, at)


def test_never_more_than_the_limit_in_any_sliding_window(sessions):
    budget = Budget({"account": 3})
    assert [take(sessions, budget, {"account": 1}, T0 + n * S) for n in range(3)] == [dt.timedelta(0)] * 3
    # The fourth must wait until the first leaves the window: 60 s after it, 57 s from now.
    assert take(sessions, budget, {"account": 1}, T0 + 3 * S) == 57 * S
    assert take(sessions, budget, {"account": 1}, T0 + 59 * S) == S
    assert take(sessions, budget, {"account": 1}, T0 + 60 * S) == dt.timedelta(0)
    with sessions() as session:
        assert rate_budget.spent(session, "account", T0 + 60 * S) == 3


def test_taking_is_all_or_nothing_across_buckets(sessions):
    budget = Budget({"account": 10, "ticket_update": 1})
    assert take(sessions, budget, {"account": 1, "ticket_update": 1}, T0) == dt.timedelta(0)
    assert take(sessions, budget, {"account": 1, "ticket_update": 1}, T0 + S) == 59 * S
    with sessions() as session:
        assert rate_budget.spent(session, "account", T0 + S) == 1  # the refused request spent nothing


def test_a_hold_refuses_until_its_instant(sessions):
    budget = Budget({"account": 700})
    with sessions.begin() as session:
        rate_budget.hold(session, "account", T0 + 10 * S)
    assert take(sessions, budget, {"account": 1}, T0) == 10 * S
    assert take(sessions, budget, {"account": 1}, T0 + 10 * S) == dt.timedelta(0)


def test_concurrent_takers_never_overspend(sessions):
    budget = Budget({"account": 50})
    granted = []

    def taker():
        for _ in range(30):
            if take(sessions, budget, {"account": 1}, T0) == dt.timedelta(0):
                granted.append(1)

    threads = [threading.Thread(target=taker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(granted) == 50


def test_zendesk_headers_hold_a_nearly_spent_bucket(sessions):
    now = [T0]
    zendesk = ZendeskBudget(sessions, lambda: now[0], {ACCOUNT: 700, TICKET_UPDATE: 100})
    zendesk.observe({"X-Rate-Limit-Remaining": "650"})
    assert zendesk.spend(account=1) == dt.timedelta(0)
    zendesk.observe({"X-Rate-Limit-Remaining": "3", "ratelimit-reset": "12"})
    assert zendesk.spend(account=1) == 12 * S
    zendesk.observe({"Zendesk-RateLimit-tickets-update": "total=100; remaining=0; resets=40"})
    now[0] = T0 + 13 * S
    assert zendesk.spend(account=1) == dt.timedelta(0)
    assert zendesk.spend(account=1, ticket_update=1) == 27 * S


def test_throttling_is_logged_once_when_it_starts_and_once_when_it_ends(sessions, caplog):
    now = [T0]
    zendesk = ZendeskBudget(sessions, lambda: now[0], {ACCOUNT: 2, TICKET_UPDATE: 100})
    with caplog.at_level(logging.INFO, logger="escalator.zendesk"):
        waits = [zendesk.spend(account=1) for _ in range(50)]
        now[0] = T0 + 61 * S
        assert zendesk.spend(account=1) == dt.timedelta(0)
        assert zendesk.spend(account=1) == dt.timedelta(0)
    assert waits[:2] == [dt.timedelta(0)] * 2 and all(w > dt.timedelta(0) for w in waits[2:])
    lines = [r.getMessage() for r in caplog.records if r.name == "escalator.zendesk"]
    assert len(lines) == 2, lines
    assert "holding" in lines[0] and "available again" in lines[1]
