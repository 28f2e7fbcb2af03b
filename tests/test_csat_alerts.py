"""The daily CSAT alert through the database, the worker and the fake Slack, on both backends.

Hand computation, ratings recorded on Sun 1 Mar 2026 in each organization's local day:
- Brandt (Europe/Berlin, UTC+1, CSM U05CSMBRAND): Zendesk good 10:00 UTC (5), Slack 3 at 12:00 UTC, Slack 3 at
  22:30 UTC (23:30 local, still Sunday) → (5 + 3 + 3) / 3 = 3.67 < 4.0: alert to the CSM at 08:00 UTC Monday.
  A Slack 1 at 23:10 UTC is Monday in Berlin: not counted.
- Northwind (America/New_York, UTC−5, no CSM): Slack 2 at 15:00 UTC, Zendesk bad at 04:30 UTC Monday (23:30 Sunday
  local) → (2 + 1) / 2 = 1.50: alert to Customer Success's C05CUSTSUCC at 14:00 UTC Monday.
- Chowringhee (Asia/Kolkata): Slack 4 and Zendesk good on its Sunday → 4.50: checked, no alert.
- Pennyworth (Europe/London): no rating: checked, no alert.
"""
from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import select

from integration.core.context import Context
from integration.mappings.loader import load_mappings
from integration.storage import csat_alerts
from integration.storage.csat_alerts import DailyCsatAlerts, send_daily_alerts
from integration.storage.models import CsatAlert, CsatRating, OutboxAction
from tests.fakes.slack import fake_slack  # noqa: F401  (pytest fixture)
from tests.fakes.zendesk import fake_zendesk  # noqa: F401  (pytest fixture)
from tests.harness import ORG_IDS, TEST_MAPPINGS
from tests.slack_harness import slack_stack

UTC = dt.timezone.utc
MAPPINGS = load_mappings(TEST_MAPPINGS)
NORTHWIND, BRANDT, CHOWRINGHEE, PENNYWORTH = 360000000101, 360000000102, 360000000103, 360000000104
CONTEXT = Context("https://acme.zendesk.com")


def t(day, hour, minute=0):
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=UTC)


RATINGS = [  # (ticket, organization, at, Slack score, Zendesk score)
    (11, BRANDT, t(1, 10), None, "good"), (12, BRANDT, t(1, 12), 3, None), (13, BRANDT, t(1, 22, 30), 3, None),
    (14, BRANDT, t(1, 23, 10), 1, None),
    (21, NORTHWIND, t(1, 15), 2, None), (22, NORTHWIND, t(2, 4, 30), None, "bad"),
    (31, CHOWRINGHEE, t(1, 6), 4, None), (32, CHOWRINGHEE, t(1, 7), None, "good"),
]


def add_ratings(sessions, ids=None):
    with sessions.begin() as session:
        for ticket, org, at, score, zendesk in RATINGS:
            session.add(CsatRating(ticket_id=ticket, organization_id=(ids or {}).get(org, org),
                                   source="zendesk" if zendesk else "slack",
                                   score=score, zendesk_score=zendesk, at=at))


def alerts(sessions):
    with sessions() as session:
        checked = {(a.organization_id, a.day): (a.ratings, a.average, a.alerted)
                   for a in session.scalars(select(CsatAlert))}
        posts = [(o.payload["channel"], o.payload["text"]) for o in session.scalars(
            select(OutboxAction).where(OutboxAction.idempotency_key.like("csat-alert-%")).order_by(OutboxAction.id))]
    return checked, posts


def test_two_workers_send_each_organizations_alert_once(sessions, monkeypatch):
    add_ratings(sessions)
    assert send_daily_alerts(sessions, MAPPINGS, CONTEXT, t(2, 7, 59)) == 0  # only Kolkata's 09:00 has come
    assert alerts(sessions) == ({(CHOWRINGHEE, "2026-03-01"): (2, "4.50", False)}, [])

    # Two workers both find Berlin's Sunday unchecked and go for it at the same moment.
    results, barrier, check = [], threading.Barrier(2), csat_alerts._check

    def check_together(*args):
        barrier.wait(timeout=10)
        return check(*args)

    monkeypatch.setattr(csat_alerts, "_check", check_together)

    def worker():
        results.append(send_daily_alerts(sessions, MAPPINGS, CONTEXT, t(2, 8)))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    monkeypatch.undo()
    assert sorted(results) == [0, 1]  # Berlin's alert, queued by exactly one of them
    checked, posts = alerts(sessions)
    assert checked[(BRANDT, "2026-03-01")] == (3, "3.67", True)
    assert posts == [("U05CSMBRAND", "CSAT alert: Brandt Maschinenbau GmbH averaged 3.67 on Sun 01 Mar 2026 "
                                     "(below 4), 3 ratings:\n"
                                     "• 11:00 <https://acme.zendesk.com/agent/tickets/11|#11>: 5/5 (Zendesk good)\n"
                                     "• 13:00 <https://acme.zendesk.com/agent/tickets/12|#12>: 3/5 (Slack)\n"
                                     "• 23:30 <https://acme.zendesk.com/agent/tickets/13|#13>: 3/5 (Slack)")]

    assert send_daily_alerts(sessions, MAPPINGS, CONTEXT, t(2, 14)) == 1  # New York (London: checked, no rating)
    assert send_daily_alerts(sessions, MAPPINGS, CONTEXT, t(2, 23, 59)) == 0  # all done for the day
    checked, posts = alerts(sessions)
    assert checked[(PENNYWORTH, "2026-03-01")] == (0, None, False)
    assert checked[(NORTHWIND, "2026-03-01")] == (2, "1.50", True)
    assert [channel for channel, _ in posts] == ["U05CSMBRAND", "C05CUSTSUCC"]
    assert posts[1][1].startswith("CSAT alert: Northwind Logistics averaged 1.50 on Sun 01 Mar 2026 (below 4), "
                                  "2 ratings:\n• 10:00 ")
    # Tuesday: Monday's ratings (Berlin's Slack 1 at 00:10 local) alert again, once.
    assert send_daily_alerts(sessions, MAPPINGS, CONTEXT, t(3, 8)) == 1  # Berlin's Monday
    checked, posts = alerts(sessions)
    assert checked[(BRANDT, "2026-03-02")] == (1, "1.00", True) and len(posts) == 3


def test_the_ticker_looks_at_most_once_a_minute(sessions):
    add_ratings(sessions)
    second = dt.timedelta(seconds=1)
    clock = [t(2, 7, 59) + 30 * second]
    ticker = DailyCsatAlerts(sessions, lambda: MAPPINGS, CONTEXT, lambda: clock[0])
    assert ticker() == 0  # Berlin's 09:00 has not come
    clock[0] = t(2, 8) + 15 * second
    assert ticker() == 0  # Berlin is due, but 60 s have not passed since the last look
    clock[0] = t(2, 8) + 30 * second
    assert ticker() == 1  # Berlin
    assert ticker() == 0


def test_the_worker_delivers_the_alert_to_the_csm(database, tmp_path, fake_zendesk, fake_slack):
    stack = slack_stack(database, tmp_path, fake_zendesk, fake_slack, now=t(2, 7))
    try:
        # the stack's mappings use the fixtures' organization ids
        add_ratings(stack.services.sessions, {int(k): int(v) for k, v in ORG_IDS.items()})
        stack.drain()
        assert fake_slack.messages("U05CSMBRAND") == []
        stack.clock.set(t(2, 8, 1))
        stack.drain()
        (sent,) = fake_slack.messages("U05CSMBRAND")
        assert sent["text"].startswith("CSAT alert: Brandt Maschinenbau GmbH averaged 3.67 on Sun 01 Mar 2026")
        assert "/agent/tickets/11|#11>" in sent["text"]
        stack.clock.set(t(2, 9))
        stack.drain()
        assert len(fake_slack.messages("U05CSMBRAND")) == 1
    finally:
        stack.services.engine.dispose()
