"""The daily CSAT alert's pure rules: which organizations are due, the average, who is told, the message."""
import datetime as dt
from decimal import Decimal

from integration.core.context import Context
from integration.core.csat_alert import (Rating, alert_message, alert_needed, average, due_days, rating_value,
                                         recipients)
from integration.mappings.loader import load_mappings
from tests.harness import TEST_MAPPINGS

UTC = dt.timezone.utc
MAPPINGS = load_mappings(TEST_MAPPINGS)
NORTHWIND, BRANDT, CHOWRINGHEE, PENNYWORTH = 360000000101, 360000000102, 360000000103, 360000000104


def test_each_organization_is_due_from_its_own_local_nine_o_clock():
    # Mon 2 Mar 2026: 09:00 in Kolkata = 03:30 UTC, Berlin 08:00 UTC, London 09:00 UTC, New York 14:00 UTC.
    def due(hour, minute=0):  # whose Sunday 1 March is due (New York's Saturday is due until its Monday 09:00)
        return {d.organization_id for d in due_days(MAPPINGS, dt.datetime(2026, 3, 2, hour, minute, tzinfo=UTC))
                if d.day == dt.date(2026, 3, 1)}

    assert due(3, 29) == set()
    assert due(3, 30) == {CHOWRINGHEE}
    assert due(8) == {CHOWRINGHEE, BRANDT}
    assert due(13, 59) == {CHOWRINGHEE, BRANDT, PENNYWORTH}
    assert NORTHWIND in due(14)
    (berlin,) = [d for d in due_days(MAPPINGS, dt.datetime(2026, 3, 2, 8, tzinfo=UTC)) if d.organization_id == BRANDT]
    assert (berlin.day, berlin.start, berlin.end) == (dt.date(2026, 3, 1), dt.datetime(2026, 2, 28, 23, tzinfo=UTC),
                                                      dt.datetime(2026, 3, 1, 23, tzinfo=UTC))


def test_zendesk_good_is_five_and_bad_is_one_and_the_average_is_rounded_to_cents():
    assert (rating_value("zendesk", None, "good"), rating_value("zendesk", None, "bad"),
            rating_value("zendesk", None, "offered"), rating_value("slack", 3, None)) == (5, 1, None, 3)
    at = dt.datetime(2026, 3, 1, tzinfo=UTC)
    ratings = [Rating(1, at, 5, "zendesk"), Rating(2, at, 3, "slack"), Rating(3, at, 3, "slack")]
    assert average(ratings) == Decimal("3.67") and alert_needed(ratings, 4.0)
    assert not alert_needed(ratings[:1] + [Rating(2, at, 3, "slack")], 4.0)  # 4.00 is not below 4.0
    assert not alert_needed([], 4.0) and average([]) is None


def test_the_csm_is_told_else_the_customer_success_channels():
    assert recipients(MAPPINGS, MAPPINGS.organization_by_id(BRANDT)) == ("U05CSMBRAND",)
    assert recipients(MAPPINGS, MAPPINGS.organization_by_id(NORTHWIND)) == ("C05CUSTSUCC",)


def test_the_message_lists_each_rating_with_its_ticket_link_in_local_time():
    (day,) = [d for d in due_days(MAPPINGS, dt.datetime(2026, 3, 2, 8, tzinfo=UTC)) if d.organization_id == BRANDT]
    ratings = [Rating(7, dt.datetime(2026, 3, 1, 10, tzinfo=UTC), 5, "zendesk"),
               Rating(8, dt.datetime(2026, 3, 1, 22, 30, tzinfo=UTC), 1, "zendesk", "nobody called back")]
    message = alert_message(day, ratings, 4.0, Context("https://acme.zendesk.com"))
    assert message["text"] == (
        "CSAT alert: Brandt Maschinenbau GmbH averaged 3.00 on Sun 01 Mar 2026 (below 4), 2 ratings:\n"
        "• 11:00 <https://acme.zendesk.com/agent/tickets/7|#7>: 5/5 (Zendesk good)\n"
        "• 23:30 <https://acme.zendesk.com/agent/tickets/8|#8>: 1/5 (Zendesk bad) — “nobody called back”")
