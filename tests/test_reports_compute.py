"""The report's pure parts: month parsing, the credit rule's edges, medians and percentiles, ratings, fallbacks,
escaping, and the Slack summary of a quiet month."""
import csv
import dataclasses
import io
import datetime as dt
from decimal import Decimal

import pytest

from integration.core.sla_summary import SlaSummary
from integration.mappings.loader import load_mappings
from integration.reports import render_csv, render_html, render_json
from integration.reports.compute import build
from integration.reports.figures import Month, RatingRow, TicketRow
from integration.reports.stats import csat_stats, histogram, hmm, latest_ratings, median, nearest_rank
from integration.reports.credits import TargetDelay, organization_credit
from integration.reports.slack_post import report_actions
from tests.harness import TEST_MAPPINGS

UTC = dt.timezone.utc
CREATED = dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
AS_OF = dt.datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
MAPPINGS = load_mappings(TEST_MAPPINGS)
NORTHWIND = 360000000101


def late(seconds_over, target=4 * 3600, ticket_id=1, final=True):
    return TargetDelay(ticket_id, CREATED, target, target + seconds_over, final)


@pytest.mark.parametrize("text, start, end", [
    ("2026-03", "2026-03-01", "2026-04-01"), ("2026-12", "2026-12-01", "2027-01-01"), (" 2026-01 ", "2026-01-01", "2026-02-01"),
])
def test_a_month_is_its_utc_days(text, start, end):
    month = Month.parse(text)
    assert (month.start.date().isoformat(), month.end.date().isoformat()) == (start, end)
    assert month.start.tzinfo is UTC


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "2026-3", "26-03", "2026/03", "", "March 2026", "2026-03-01"])
def test_anything_else_is_not_a_month(text):
    with pytest.raises(ValueError, match="is not a month: use YYYY-MM"):
        Month.parse(text)


@pytest.mark.parametrize("over, hours", [
    (1, 1), (59 * 60, 1), (3600, 1), (3601, 2), (2 * 3600 + 1, 3), (19 * 3600 + 30 * 60, 20),
    (0, 1), (-600, 1),  # a breach whose delay a priority change shrank still counts its started hour
])
def test_every_started_hour_of_delay_counts_as_a_whole_hour(over, hours):
    assert late(over).hours == hours


def test_two_percent_per_hour_summed_then_capped_at_a_quarter_of_the_fee():
    credit = organization_credit(7, "Acme", 199, [late(1800, ticket_id=1), late(12 * 3600, ticket_id=2)])
    # 1 hour + 12 hours = 13 hours = 26% of 199 = 51.74 > 25% = 49.75
    assert [line.amount for line in credit.lines] == [Decimal("3.98"), Decimal("47.76")]
    assert (credit.hours, credit.uncapped, credit.cap, credit.credit, credit.capped) == \
        (13, Decimal("51.74"), Decimal("49.75"), Decimal("49.75"), True)
    over = organization_credit(7, "Acme", 1000, [late(12 * 3600 + 1800)])  # 12h30m → 13 h = 26% → the 25% cap
    assert (over.uncapped, over.credit, over.capped) == (Decimal("260.00"), Decimal("250.00"), True)
    under = organization_credit(7, "Acme", 1000, [late(11 * 3600 + 1800)])  # 11h30m → 12 h = 24%
    assert (under.credit, under.capped) == (Decimal("240.00"), False)


def test_amounts_round_half_up_to_cents_and_lines_add_up():
    credit = organization_credit(7, "Acme", 199.99, [late(60), late(60, ticket_id=2)])
    assert [line.amount for line in credit.lines] == [Decimal("4.00"), Decimal("4.00")]  # 3.9998 → 4.00
    assert credit.uncapped == Decimal("8.00") and credit.credit == Decimal("8.00")


def test_no_fee_means_no_amount_and_an_unanswered_breach_is_provisional():
    credit = organization_credit(7, "Acme", None, [late(5400, final=False)])
    assert (credit.hours, credit.credit, credit.shown, credit.provisional) == (2, None, "n/a (no fee in mappings)", True)
    assert organization_credit(7, "Acme", 500, []).credit == Decimal("0.00")


def test_median_and_nearest_rank_percentile():
    assert median([]) is None and nearest_rank([], 90) is None
    assert median([5]) == 5 and median([1, 2]) == 1 and median([60, 120]) == 90 and median([1, 2, 9]) == 2
    assert nearest_rank([10], 90) == 10 and nearest_rank(list(range(1, 11)), 90) == 9
    assert nearest_rank(list(range(1, 12)), 90) == 10  # ceil(9.9) = 10
    assert nearest_rank(list(range(1, 21)), 90) == 18


def test_business_time_is_shown_as_hours_and_minutes():
    assert [hmm(s) for s in (None, 0, 59, 60, 3599, 3600, 27 * 3600 + 30 * 60 + 59)] == \
        ["—", "0:00", "0:00", "0:01", "0:59", "1:00", "27:30"]
    assert histogram([0, 15 * 60, 15 * 60 + 1, 24 * 3600, 24 * 3600 + 1]) == (2, 1, 0, 0, 0, 0, 1, 1)


def test_each_persons_latest_slack_rating_and_each_tickets_latest_zendesk_rating():
    at = CREATED
    rows = [RatingRow(1, 10, "slack", at, score=2, rated_by="U1"), RatingRow(2, 10, "slack", at, score=4, rated_by="U2"),
            RatingRow(3, 10, "slack", at + dt.timedelta(1), score=5, rated_by="U1"),
            RatingRow(4, 10, "zendesk", at, zendesk_score="bad"),
            RatingRow(5, 10, "zendesk", at + dt.timedelta(1), zendesk_score="good"),
            RatingRow(6, 11, "zendesk", at, zendesk_score="bad")]
    stats = csat_stats(latest_ratings(rows))
    assert (stats.slack_count, stats.slack_average) == (2, Decimal("4.5"))  # U1's 5 and U2's 4
    assert (stats.zendesk_good, stats.zendesk_bad, stats.zendesk_good_pct) == (1, 1, Decimal("50.0"))


def test_a_ticket_without_history_falls_back_to_its_stored_summary():
    stored = {"first_response": {"state": "breached", "elapsed_seconds": 9000, "target_seconds": 900},
              "resolution": {"state": "met", "elapsed_seconds": 3600, "target_seconds": 7200}}
    row = TicketRow(id=5, organization_id=NORTHWIND, created_at=CREATED, tier="enterprise",
                    sla=SlaSummary.from_json(stored))
    report = build(MAPPINGS, Month(2026, 3), [row], [], AS_OF)
    (ticket,) = report.tickets
    assert not ticket.recomputed
    fr = report.total.first_response
    assert (fr.breached, fr.timed) == (1, 0)  # decided, but whether it stopped is unknown: not timed
    assert (report.total.resolution.met, report.total.resolution.median_seconds) == (1, 3600)
    (credit,) = report.credits
    assert (credit.hours, credit.credit, credit.provisional) == (3, Decimal("720.00"), True)  # 2h15m → 3 h of 12000


def test_tickets_outside_the_month_or_after_as_of_are_not_in_scope():
    rows = [TicketRow(id=i, organization_id=NORTHWIND, created_at=at, tier="enterprise")
            for i, at in enumerate([dt.datetime(2026, 2, 28, 23, 59, 59, tzinfo=UTC), dt.datetime(2026, 3, 1, tzinfo=UTC),
                                    dt.datetime(2026, 3, 31, 23, 59, 59, tzinfo=UTC), dt.datetime(2026, 4, 1, tzinfo=UTC)])]
    assert [t.id for t in build(MAPPINGS, Month(2026, 3), rows, [], AS_OF).tickets] == [1, 2]
    assert [t.id for t in build(MAPPINGS, Month(2026, 3), rows, [], dt.datetime(2026, 3, 15, tzinfo=UTC)).tickets] == [1]


def test_names_from_the_mappings_are_escaped_in_html_and_kept_in_csv_and_json():
    evil = dataclasses.replace(MAPPINGS.organizations[0], name='<img src=x onerror="alert(1)"> & Co')
    mappings = dataclasses.replace(MAPPINGS, organizations=(evil, *MAPPINGS.organizations[1:]), _by_id={})
    row = TicketRow(id=5, organization_id=NORTHWIND, created_at=CREATED, tier="enterprise")
    report = build(mappings, Month(2026, 3), [row], [], AS_OF)
    html = render_html.render(report)
    assert "<img" not in html and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; Co" in html
    rows = list(csv.DictReader(io.StringIO(render_csv.render(report))))
    assert rows[-1]["name"] == '<img src=x onerror="alert(1)"> & Co'
    assert '<img src=x onerror=\\"alert(1)\\"> & Co' in render_json.render(report)


def test_a_customer_channel_with_no_tickets_gets_a_quiet_month_message():
    report = build(MAPPINGS, Month(2026, 3), [], [], AS_OF)
    (action,) = report_actions(report, MAPPINGS)  # the test mappings: only Northwind is enterprise with a channel
    assert action.payload["channel"] == "C05NWLOGIST" and action.idempotency_key == f"report-2026-03-{NORTHWIND}"
    assert action.payload["text"] == "SLA report for Northwind Logistics, March 2026: no tickets were created this month."
    assert report.total.tickets == 0 and report.total.first_response.compliance_pct is None
    assert "No tickets." in render_html.render(report)
