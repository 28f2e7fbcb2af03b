"""A month of tickets driven through the real ingest → decide path with an injected clock (timers fire on
time), then the report's figures and credits checked against values computed by hand below.

The month is March 2026. Four organizations (tests.harness ids, plus one from tests/fixtures/reports):
- 1004 Pennyworth Tea Co: starter, business hours Mon–Fri 09:00–18:00 Europe/London (= UTC until the
  DST change on Sun 29 March), monthly fee 199 → 2% = 3.98 per hour, cap 25% = 49.75.
  Starter targets: critical FR 4h / resolution 24h; high 8h / 72h; medium 24h / 7d (63h). Business time.
- 1001 Northwind Logistics: enterprise, 24/7, fee 12000 → 240 per hour, cap 3000; Slack C05NWLOGIST.
- 1005 Oscorp Industries: enterprise, 24/7, fee 9000 → 180 per hour, cap 2250; Slack C0OSCORP01.
  Enterprise targets: critical 15m / 2h; high 30m / 8h; medium 2h / 24h; low 8h / 72h.
- 1006 Feeless Ltd: scale, 24/7, no monthly_fee → credits n/a. Scale critical: 1h / 8h.

The report is made as of Wed 1 April 09:00 UTC (AS_OF); events after it (a reply, a rating) must not count.
Mar 2026: Mon 2, Mon 9, Mon 16, Mon 23, Mon 30. Times below are UTC.
"""
from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from integration.config import Config
from integration.reports.figures import Month
from integration.reports.queries import load_report
from integration.services import build_services
from integration.core.signals import Comment, TicketSignal
from integration.storage.models import Timer
from tests.fakes.slack import fake_slack  # noqa: F401  (pytest fixture)
from tests.db import backends, database_url
from tests.harness import Clock, mappings_for_tests

UTC = dt.timezone.utc
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "reports"
MARCH = Month(2026, 3)
AS_OF = dt.datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
PENNYWORTH, NORTHWIND, OSCORP, FEELESS = 1004, 1001, 1005, 1006


def t(day, hour, minute=0, month=3):
    return dt.datetime(2026, month, day, hour, minute, tzinfo=UTC)


# (instant, ticket, what, details). Hand computation of each ticket's figures in the comments.
EVENTS = [
    # --- out of scope: created before and after March (UTC); both would change every figure if counted
    (dt.datetime(2026, 2, 28, 23, 59, tzinfo=UTC), 901, "create", dict(org=PENNYWORTH, priority="urgent")),
    (t(1, 0, 0, month=4), 902, "create", dict(org=NORTHWIND, priority="urgent")),

    # --- Pennyworth (starter, business hours, London = UTC in March before the 29th)
    # T101 created Mon 2 09:00 critical; reply 11:00 → FR 2:00 met; solved 15:00 → res 6:00 met. Zendesk good.
    (t(2, 9), 101, "create", dict(org=PENNYWORTH, priority="urgent")),
    (t(2, 11), 101, "reply", {}),
    (t(2, 15), 101, "status", dict(status="solved")),
    (t(2, 16), 101, "zendesk_rating", dict(score="good")),
    # T102 created Tue 3 09:00 critical; FR due 13:00 (→ level 2); reply 13:30 → FR 4:30, breached by 0:30
    #   → 1 started hour → 2% of 199 = 3.98. Solved Wed 4 12:00 → res 9h (Tue) + 3h (Wed) = 12:00 met. Zendesk good.
    (t(3, 9), 102, "create", dict(org=PENNYWORTH, priority="urgent")),
    (t(3, 13, 30), 102, "reply", {}),
    (t(4, 12), 102, "status", dict(status="solved")),
    (t(4, 13), 102, "zendesk_rating", dict(score="good")),
    # T103 created Fri 6 16:00 critical: 2h on Friday, FR due Mon 9 11:00 (→ level 2); reply Mon 12:10
    #   → FR 2:00 + 3:10 = 5:10, breached by 1:10 → 2 hours → 7.96. Pending from 12:10 (resolution paused),
    #   open again Wed 11 10:00, solved 11:00 → res 2:00 + 3:10 + 1:00 = 6:10 met.
    (t(6, 16), 103, "create", dict(org=PENNYWORTH, priority="urgent")),
    (t(9, 12, 10), 103, "reply", {}),
    (t(9, 12, 10), 103, "status", dict(status="pending")),
    (t(11, 10), 103, "status", dict(status="open")),
    (t(11, 11), 103, "status", dict(status="solved")),
    # T104 created Wed 11 09:00 high (FR 8h, due Wed 17:00 → level 2); reply Mon 16 09:30
    #   → FR 9h Wed + 9h Thu + 9h Fri + 0:30 Mon = 27:30, breached by 19:30 → 20 hours → 79.60.
    #   Solved Tue 17 12:00 → res 27:30 + 8:30 (Mon) + 3:00 (Tue) = 39:00, met (72h).
    (t(11, 9), 104, "create", dict(org=PENNYWORTH, priority="high")),
    (t(16, 9, 30), 104, "reply", {}),
    (t(17, 12), 104, "status", dict(status="solved")),
    # T105 created Mon 23 10:00 critical; reply 10:45 → FR 0:45 met. Resolution 24h due Wed 25 16:00
    #   (8h Mon + 9h Tue + 7h Wed) → level 3 at 16:00 (skips 2). Solved Thu 26 11:00 → res 8+9+9+2 = 28:00 breached.
    #   Zendesk "bad" at 12:00 → level 4.
    (t(23, 10), 105, "create", dict(org=PENNYWORTH, priority="urgent")),
    (t(23, 10, 45), 105, "reply", {}),
    (t(26, 11), 105, "status", dict(status="solved")),
    (t(26, 12), 105, "zendesk_rating", dict(score="bad")),
    # T106 created Fri 27 17:00 medium (FR 24h). No reply by AS_OF: London is on BST from Sun 29, so
    #   1h Fri + 9h Mon 30 + 9h Tue 31 + 1h Wed 1 April (09:00–10:00 BST) = 20h < 24h → both targets open.
    #   The reply at 11:00 UTC on 1 April comes after AS_OF and must not count.
    (t(27, 17), 106, "create", dict(org=PENNYWORTH, priority="normal")),
    (t(1, 11, 0, month=4), 106, "reply", {}),

    # --- Northwind (enterprise, 24/7)
    # N201 created Tue 3 14:00 high; reply 14:20 → FR 0:20 met; solved 18:00 → res 4:00 met.
    #   Slack ratings by the same person, 4 then 5: only the latest (5) counts.
    (t(3, 14), 201, "create", dict(org=NORTHWIND, priority="high")),
    (t(3, 14, 20), 201, "reply", {}),
    (t(3, 18), 201, "status", dict(status="solved")),
    (t(3, 19), 201, "slack_rating", dict(score=4, user="U0NWCUST01")),
    (t(3, 19, 5), 201, "slack_rating", dict(score=5, user="U0NWCUST01")),
    # N202 created Thu 5 02:00 critical; FR due 02:15 (→ level 2); reply 03:10 → FR 1:10, late by 0:55
    #   → 1 hour → 240. Resolution due 04:00 (→ level 3); solved 05:00 → res 3:00 breached.
    #   Slack rating 2 → level 4 (dissatisfied).
    (t(5, 2), 202, "create", dict(org=NORTHWIND, priority="urgent")),
    (t(5, 3, 10), 202, "reply", {}),
    (t(5, 5), 202, "status", dict(status="solved")),
    (t(5, 6), 202, "slack_rating", dict(score=2, user="U0NWCUST02")),
    # N203 created Sat 14 10:00 critical; reply 10:10 → FR 0:10 met. Pending 10:30, open Sun 15 09:00,
    #   solved 10:00 → res 0:30 + 1:00 = 1:30 met. Slack rating 4.
    (t(14, 10), 203, "create", dict(org=NORTHWIND, priority="urgent")),
    (t(14, 10, 10), 203, "reply", {}),
    (t(14, 10, 30), 203, "status", dict(status="pending")),
    (t(15, 9), 203, "status", dict(status="open")),
    (t(15, 10), 203, "status", dict(status="solved")),
    (t(15, 11), 203, "slack_rating", dict(score=4, user="U0NWCUST01")),
    # N204 created Fri 20 12:00 medium (FR 2h, res 24h); FR due 14:00 (→ level 2); reply 16:30 → FR 4:30,
    #   late by 2:30 → 3 hours → 720. Resolution due Sat 21 12:00 (→ level 3), never solved: breached and still
    #   running → counts as breached, but has no resolution time.
    (t(20, 12), 204, "create", dict(org=NORTHWIND, priority="normal")),
    (t(20, 16, 30), 204, "reply", {}),
    # N205 created Wed 25 08:00 low with the executive tag → level 5 at once. Reply 09:00 → FR 1:00 met (8h);
    #   solved Thu 26 08:00 → res 24:00 met (72h).
    (t(25, 8), 205, "create", dict(org=NORTHWIND, priority="low", tags=("executive_complaint",))),
    (t(25, 9), 205, "reply", {}),
    (t(26, 8), 205, "status", dict(status="solved")),

    # --- Oscorp (enterprise, 24/7)
    # O301 created Tue 10 09:00 critical; reply 09:05 → FR 0:05 met; solved 10:00 → res 1:00 met. Slack 5.
    (t(10, 9), 301, "create", dict(org=OSCORP, priority="urgent")),
    (t(10, 9, 5), 301, "reply", {}),
    (t(10, 10), 301, "status", dict(status="solved")),
    (t(10, 11), 301, "slack_rating", dict(score=5, user="U0OSCUST01")),
    # O302 created Thu 12 09:00 high; FR due 09:30 (→ level 2); reply 12:01 → FR 3:01, late by 2:31
    #   → 3 hours → 6% of 9000 = 540. Solved 15:00 → res 6:00 met (8h). A Slack 1 on 2 April is after AS_OF.
    (t(12, 9), 302, "create", dict(org=OSCORP, priority="high")),
    (t(12, 12, 1), 302, "reply", {}),
    (t(12, 15), 302, "status", dict(status="solved")),
    (t(2, 10, 0, month=4), 302, "slack_rating", dict(score=1, user="U0OSCUST01")),

    # --- Feeless (scale, 24/7, no fee)
    # F401 created Mon 16 10:00 critical; FR due 11:00 (→ level 2); reply 12:00 → FR 2:00, late 1:00 → 1 hour,
    #   no fee → n/a. Solved 13:00 → res 3:00 met (8h).
    (t(16, 10), 401, "create", dict(org=FEELESS, priority="urgent")),
    (t(16, 12), 401, "reply", {}),
    (t(16, 13), 401, "status", dict(status="solved")),
]


def signal_for(ticket_id: int, what: str, at: dt.datetime, details: dict) -> TicketSignal:
    if what == "create":
        return TicketSignal(ticket_id=ticket_id, kind="snapshot", at=at, created_at=at, status="open",
                            zendesk_priority=details["priority"], organization_id=details["org"],
                            organization_known=True, subject=f"Report ticket {ticket_id}", description="",
                            tags=details.get("tags", ()), authoritative=True, source_key=f"create-{ticket_id}")
    if what == "reply":
        return TicketSignal(ticket_id=ticket_id, kind="comment", at=at, comments=(Comment(at, True, True),))
    if what == "status":
        return TicketSignal(ticket_id=ticket_id, kind="status", at=at, status=details["status"])
    if what == "zendesk_rating":
        return TicketSignal(ticket_id=ticket_id, kind="satisfaction", at=at, satisfaction=details["score"])
    if what == "slack_rating":  # as integration.slack.handlers.handle_csat builds it
        score = details["score"]
        return TicketSignal(ticket_id=ticket_id, kind="csat", at=None, csat=score, actor=details["user"],
                            escalation_request=f"CSAT {score}/5 in Slack" if score < 4 else None)
    raise AssertionError(what)


class DrivenMonth:
    """The services on an injected clock, and a driver that fires every warning/breach timer on time."""

    def __init__(self, services, clock: Clock) -> None:
        self.services, self.clock = services, clock

    def advance_to(self, instant: dt.datetime) -> None:
        for _ in range(1000):
            with self.services.sessions() as session:
                due = session.scalar(select(func.min(Timer.due_at)).where(
                    Timer.fired_at.is_(None), Timer.kind != "renotify", Timer.due_at <= instant))
            if due is None:
                break
            self.clock.set(max(due, self.clock()))
            self.services.ingestor.fire_due_timers()
        else:
            raise AssertionError("timers keep coming")
        self.clock.set(instant)
        self.services.ingestor.fire_due_timers()

    def play(self, events) -> None:
        for n, (at, ticket_id, what, details) in enumerate(sorted(events, key=lambda e: e[0])):
            self.advance_to(at)
            result = self.services.ingestor.ingest(source="zendesk" if what != "slack_rating" else "slack",
                                                   dedup_key=f"{what}-{ticket_id}-{n}", event_type=what,
                                                   payload={}, signal=signal_for(ticket_id, what, at, details))
            assert result.outcome in ("applied", "unchanged"), (ticket_id, what, result)

    def report(self, organization_id=None, as_of=AS_OF):
        return load_report(self.services.sessions, self.services.mappings.current, MARCH, as_of, organization_id)


def report_mappings(tmp_path: Path) -> Path:
    directory = mappings_for_tests(tmp_path)
    organizations = directory / "organizations.yaml"
    extra = "".join(line for line in (FIXTURES / "extra_organizations.yaml").read_text().splitlines(True)
                    if not line.startswith("#"))
    organizations.write_text(organizations.read_text().rstrip("\n") + "\n" + extra)
    return directory


def drive_month(database: str, tmp_path: Path) -> DrivenMonth:
    clock = Clock(dt.datetime(2026, 2, 28, 23, 0, tzinfo=UTC))
    mappings_dir = report_mappings(tmp_path)
    services = build_services(Config(database_url=database, mappings_dir=str(mappings_dir),
                                     mappings_poll_seconds=0), clock)
    driven = DrivenMonth(services, clock)
    driven.play(EVENTS)
    driven.advance_to(dt.datetime(2026, 4, 2, 12, 0, tzinfo=UTC))  # the world goes on after AS_OF
    driven.mappings_dir, driven.database = mappings_dir, database
    return driven


@pytest.fixture(scope="module", params=backends())
def month(request, tmp_path_factory):
    """The month, driven once per backend (SQLite, and PostgreSQL when TEST_DATABASE_URL is set) for the tests
    that only read it; the same databases as the `database` fixture (tests.db)."""
    tmp_path = tmp_path_factory.mktemp("reports-month")
    with database_url(request.param, tmp_path) as url:
        driven = drive_month(url, tmp_path)
        yield driven
        driven.services.engine.dispose()


@pytest.fixture
def fresh_month(database, tmp_path):
    """A month of its own, for the tests that write (the outbox)."""
    driven = drive_month(database, tmp_path)
    yield driven
    driven.services.engine.dispose()


def figures(group) -> dict:
    fr, res = group.first_response, group.resolution
    return {
        "tickets": group.tickets,
        "fr": (fr.met, fr.breached, fr.open, str(fr.compliance_pct)),
        "res": (res.met, res.breached, res.open, str(res.compliance_pct)),
        "fr_times": (fr.timed, fr.median_seconds, fr.p90_seconds),
        "res_times": (res.timed, res.median_seconds, res.p90_seconds),
        "escalations": group.escalations,
        "slack": (group.csat.slack_count, str(group.csat.slack_average)),
        "zendesk": (group.csat.zendesk_good, group.csat.zendesk_bad, str(group.csat.zendesk_good_pct)),
    }


def hm(hours, minutes=0):
    return (hours * 60 + minutes) * 60


def test_the_months_figures_match_the_hand_computed_ones(month):
    report = month.report()
    assert [f.id for f in report.tickets] == [101, 102, 201, 202, 103, 301, 104, 302, 203, 401, 204, 105, 205, 106]
    assert all(f.recomputed for f in report.tickets)
    assert "Tickets created in March 2026: 2026-03-01 00:00 to 2026-03-31 23:59:59 UTC" in report.scope
    assert "as of 2026-04-01 09:00 UTC" in report.scope

    by_org = {g.key: g for g in report.organizations}
    assert list(by_org) == ["1006", "1001", "1005", "1004"]  # by name: Feeless, Northwind, Oscorp, Pennyworth

    # Pennyworth: FR met 101 (2:00), 105 (0:45); breached 102 (4:30), 103 (5:10), 104 (27:30); 106 open
    #   → 2/5 = 40.0%; sorted 0:45 2:00 4:30 5:10 27:30 → median 4:30, p90 rank ceil(4.5)=5 → 27:30.
    # Resolution met 101 (6:00), 102 (12:00), 103 (6:10), 104 (39:00); breached 105 (28:00); 106 open
    #   → 4/5 = 80.0%; sorted 6:00 6:10 12:00 28:00 39:00 → median 12:00, p90 39:00.
    # Escalations: level 2 for 102, 103, 104; level 3 then 4 for 105, and 5 on Fri 27 12:00 when nobody had
    #   answered its bad rating within 24 h (CSAT follow-up missed). Zendesk: good 101, 102; bad 105 → 66.7%.
    assert figures(by_org["1004"]) == {
        "tickets": 6, "fr": (2, 3, 1, "40.0"), "res": (4, 1, 1, "80.0"),
        "fr_times": (5, hm(4, 30), hm(27, 30)), "res_times": (5, hm(12), hm(39)),
        "escalations": {2: 3, 3: 1, 4: 1, 5: 1}, "slack": (0, "None"), "zendesk": (2, 1, "66.7")}
    assert figures(report.tiers[0]) == figures(by_org["1004"]) and report.tiers[0].key == "starter"

    # Northwind: FR met 201 (0:20), 203 (0:10), 205 (1:00); breached 202 (1:10), 204 (4:30) → 3/5 = 60.0%;
    #   sorted 0:10 0:20 1:00 1:10 4:30 → median 1:00, p90 rank 5 → 4:30.
    # Resolution met 201 (4:00), 203 (1:30), 205 (24:00); breached 202 (3:00, stopped), 204 (still running)
    #   → 3/5 = 60.0%; timed 1:30 3:00 4:00 24:00 → median (3:00+4:00)/2 = 3:30, p90 rank ceil(3.6)=4 → 24:00.
    # Escalations: 202 → 2, 3, 4, and 5 on Fri 6 06:00 (its Slack 2 unanswered for 24 h: CSAT follow-up
    #   missed); 204 → 2, 3; 205 → 5. Slack: 201 latest 5, 202 2, 203 4 → 11/3 = 3.7.
    assert figures(by_org["1001"]) == {
        "tickets": 5, "fr": (3, 2, 0, "60.0"), "res": (3, 2, 0, "60.0"),
        "fr_times": (5, hm(1), hm(4, 30)), "res_times": (4, hm(3, 30), hm(24)),
        "escalations": {2: 2, 3: 2, 4: 1, 5: 2}, "slack": (3, "3.7"), "zendesk": (0, 0, "None")}

    # Oscorp: FR 301 met (0:05), 302 breached (3:01) → 50.0%, median (5m + 181m)/2 = 93m = 1:33, p90 3:01.
    # Resolution both met: 1:00, 6:00 → 100.0%, median 3:30, p90 6:00. Level 2 for 302; the Slack 1 of
    # 2 April (and its level-4 step) is after AS_OF. Slack: 5.
    assert figures(by_org["1005"]) == {
        "tickets": 2, "fr": (1, 1, 0, "50.0"), "res": (2, 0, 0, "100.0"),
        "fr_times": (2, hm(1, 33), hm(3, 1)), "res_times": (2, hm(3, 30), hm(6)),
        "escalations": {2: 1, 3: 0, 4: 0, 5: 0}, "slack": (1, "5.0"), "zendesk": (0, 0, "None")}

    assert figures(by_org["1006"]) == {
        "tickets": 1, "fr": (0, 1, 0, "0.0"), "res": (1, 0, 0, "100.0"),
        "fr_times": (1, hm(2), hm(2)), "res_times": (1, hm(3), hm(3)),
        "escalations": {2: 1, 3: 0, 4: 0, 5: 0}, "slack": (0, "None"), "zendesk": (0, 0, "None")}

    # Enterprise = Northwind + Oscorp: FR met 4 / breached 3 → 4/7 = 57.1%; times 0:05 0:10 0:20 1:00 1:10
    #   3:01 4:30 → median 1:00, p90 rank ceil(6.3)=7 → 4:30. Resolution met 5 / breached 2 → 71.4%; timed
    #   1:00 1:30 3:00 4:00 6:00 24:00 → median 3:30, p90 rank ceil(5.4)=6 → 24:00. Slack 5,2,4,5 → 4.0.
    tiers = {g.key: g for g in report.tiers}
    assert list(tiers) == ["starter", "scale", "enterprise"]  # the order of tiers.yaml
    assert figures(tiers["enterprise"]) == {
        "tickets": 7, "fr": (4, 3, 0, "57.1"), "res": (5, 2, 0, "71.4"),
        "fr_times": (7, hm(1), hm(4, 30)), "res_times": (6, hm(3, 30), hm(24)),
        "escalations": {2: 3, 3: 2, 4: 1, 5: 2}, "slack": (4, "4.0"), "zendesk": (0, 0, "None")}

    # All 14: FR met 6, breached 7, open 1 → 6/13 = 46.2%; 13 times, median the 7th = 2:00, p90 rank
    #   ceil(11.7)=12 → 5:10. Resolution met 10, breached 3, open 1 → 10/13 = 76.9%; 12 times
    #   (1:00 1:30 3:00 3:00 4:00 6:00 6:00 6:10 12:00 24:00 28:00 39:00) → median 6:00, p90 rank 11 → 28:00.
    assert figures(report.total) == {
        "tickets": 14, "fr": (6, 7, 1, "46.2"), "res": (10, 3, 1, "76.9"),
        "fr_times": (13, hm(2), hm(5, 10)), "res_times": (12, hm(6), hm(28)),
        "escalations": {2: 7, 3: 3, 4: 2, 5: 3}, "slack": (4, "4.0"), "zendesk": (2, 1, "66.7")}
    # FR histogram: ≤15m: 0:05 0:10; 15–30m: 0:20; 30m–1h: 0:45 1:00; 1–2h: 1:10 2:00 2:00; 2–4h: 3:01;
    #   4–8h: 4:30 4:30 5:10; >24h: 27:30.
    assert report.total.first_response.histogram == (2, 1, 2, 3, 1, 3, 0, 1)


def test_service_credits_by_the_seed_rule_with_partial_hours_rounded_up_and_the_cap(month):
    credits = {c.organization_id: c for c in month.report().credits}
    penny = credits[PENNYWORTH]
    # 102: 1 hour (3.98), 103: 2 hours (7.96), 104: 20 hours (79.60) → 23 hours = 46% → 91.54,
    # capped at 25% of 199 = 49.75.
    assert [(line.delay.ticket_id, line.delay.delay_seconds, line.delay.hours, line.amount) for line in penny.lines] \
        == [(102, hm(0, 30), 1, Decimal("3.98")), (103, hm(1, 10), 2, Decimal("7.96")),
            (104, hm(19, 30), 20, Decimal("79.60"))]
    assert (penny.hours, penny.uncapped, penny.cap, penny.credit, penny.capped) == \
        (23, Decimal("91.54"), Decimal("49.75"), Decimal("49.75"), True)
    # Northwind: 202 late 0:55 → 1 hour (240), 204 late 2:30 → 3 hours (720) → 960.00, under the 3000 cap.
    north = credits[NORTHWIND]
    assert [(line.delay.ticket_id, line.delay.hours, line.amount) for line in north.lines] == \
        [(202, 1, Decimal("240.00")), (204, 3, Decimal("720.00"))]
    assert (north.hours, north.credit, north.capped, north.provisional) == (4, Decimal("960.00"), False, False)
    # Oscorp: 302 late 2:31 → 3 hours → 6% of 9000 = 540.00.
    assert (credits[OSCORP].hours, credits[OSCORP].credit) == (3, Decimal("540.00"))
    # Feeless: a 1-hour breach, but no monthly fee in the mappings.
    assert (credits[FEELESS].hours, credits[FEELESS].credit, credits[FEELESS].shown) == \
        (1, None, "n/a (no fee in mappings)")


def test_as_of_replays_history_so_later_events_change_a_later_report(month):
    later = month.report(as_of=dt.datetime(2026, 4, 2, 12, 0, tzinfo=UTC))
    # 106's reply at 11:00 UTC on 1 April: 1h + 9h + 9h + 2h (09:00–12:00 BST → 3h) = 22:00 → met.
    t106 = next(f for f in later.tickets if f.id == 106)
    assert (t106.first_response.state, t106.first_response.elapsed_seconds) == ("met", hm(22))
    assert later.organization(OSCORP).escalations[4] == 1  # the Slack 1 of 2 April
    assert later.organization(OSCORP).csat.slack_average == Decimal("3.0")  # 301's 5 and 302's 1: (5 + 1) / 2


def test_one_organization_only(month):
    report = month.report(organization_id=NORTHWIND)
    assert [g.key for g in report.organizations] == ["1001"] and [g.key for g in report.tiers] == ["enterprise"]
    assert report.total.tickets == 5 and {f.organization_id for f in report.tickets} == {NORTHWIND}
    assert report.total.csat.slack_average == Decimal("3.7")


# ------------------------------------------------------------------------------------------ formats


def cli_env(monkeypatch, month):
    monkeypatch.setenv("DATABASE_URL", month.database)
    monkeypatch.setenv("MAPPINGS_DIR", str(month.mappings_dir))
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)


def run_cli(*args):
    from click.testing import CliRunner

    from integration.cli.report import report

    return CliRunner().invoke(report, list(args), catch_exceptions=False)


def test_json_format_from_the_command(month, monkeypatch):
    cli_env(monkeypatch, month)
    result = run_cli("--month", "2026-03", "--format", "json", "--as-of", "2026-04-01T09:00:00Z")
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["month"] == "2026-03" and body["as_of"] == "2026-04-01T09:00:00Z"
    assert body["period"] == {"from": "2026-03-01T00:00:00Z", "to_exclusive": "2026-04-01T00:00:00Z",
                              "tickets": "created in the month (UTC)"}
    assert "upon request" in body["audience"]
    assert body["total"]["first_response"]["compliance_pct"] == 46.2
    assert body["total"]["first_response"]["median"] == "2:00" and body["total"]["resolution"]["p90"] == "28:00"
    orgs = {o["key"]: o for o in body["organizations"]}
    penny = orgs["1004"]["credits"]
    assert (penny["hours"], penny["uncapped"], penny["cap"], penny["credit"], penny["capped"]) == \
        (23, 91.54, 49.75, 49.75, True)
    assert [(line["ticket_id"], line["delay"], line["hours"], line["amount"]) for line in penny["lines"]] == \
        [(102, "0:30", 1, 3.98), (103, "1:10", 2, 7.96), (104, "19:30", 20, 79.6)]
    assert orgs["1006"]["credits"]["credit"] == "n/a (no fee in mappings)"
    assert orgs["1001"]["escalations_by_level"] == {"2": 2, "3": 2, "4": 1, "5": 2}
    assert orgs["1001"]["csat"] == {"slack": {"ratings": 3, "average": 3.7},
                                    "zendesk": {"good": 0, "bad": 0, "good_pct": None}}
    assert any("partial hours are rounded up" in note for note in body["notes"])
    assert any("upon request" in note for note in body["notes"])


def test_csv_format_to_a_file(month, monkeypatch, tmp_path):
    cli_env(monkeypatch, month)
    out = tmp_path / "march.csv"
    result = run_cli("--month", "2026-03", "--format", "csv", "--out", str(out), "--as-of", "2026-04-01T09:00:00Z")
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [(r["group"], r["key"]) for r in rows] == [
        ("all", "all"), ("tier", "starter"), ("tier", "scale"), ("tier", "enterprise"),
        ("organization", "1006"), ("organization", "1001"), ("organization", "1005"), ("organization", "1004")]
    penny = rows[-1]
    assert (penny["name"], penny["tier"], penny["tickets"]) == ("Pennyworth Tea Co", "starter", "6")
    assert (penny["first_response_compliance_pct"], penny["first_response_median"], penny["first_response_p90"]) \
        == ("40.0", "4:30", "27:30")
    assert (penny["resolution_compliance_pct"], penny["resolution_median"], penny["resolution_p90"]) == \
        ("80.0", "12:00", "39:00")
    assert (penny["first_response_breached"], penny["resolution_breached"], penny["first_response_open"]) == \
        ("3", "1", "1")
    assert (penny["escalations_level_2"], penny["escalations_level_3"], penny["escalations_level_4"]) == \
        ("3", "1", "1")
    assert (penny["csat_zendesk_good_pct"], penny["csat_slack_average"]) == ("66.7", "")
    assert (penny["monthly_fee"], penny["credit_hours"], penny["credit_uncapped"], penny["credit_cap"],
            penny["credit"], penny["credit_capped"]) == ("199.00", "23", "91.54", "49.75", "49.75", "yes")
    assert rows[4]["credit"] == "n/a (no fee in mappings)"
    assert rows[0]["scope"] == "tickets created in the month (UTC)" and rows[0]["credit"] == ""


def test_html_is_self_contained_with_accessible_svg_charts(month, monkeypatch):
    cli_env(monkeypatch, month)
    result = run_cli("--month", "2026-03", "--format", "html", "--as-of", "2026-04-01T09:00:00Z")
    html = result.output
    assert html.startswith("<!DOCTYPE html>") and html.count("<svg") == 3
    assert "<script" not in html and "<link" not in html and "src=" not in html and "href=" not in html
    assert "http://" not in html and "https://" not in html and "@import" not in html and "url(" not in html
    assert '<title id="chart-tiers-title">Compliance by tier, March 2026</title>' in html
    assert "<title>starter, first response: 40.0% (2 met of 5 decided, 1 open)</title>" in html
    assert "Tickets created in March 2026" in html and "upon request" in html
    assert "partial hours rounded up to the next whole hour" in html
    assert "<strong>49.75</strong> (capped)" in html and "n/a (no fee in mappings)" in html


# ------------------------------------------------------------------------------------------ bad arguments


@pytest.mark.parametrize("args, message", [
    (["--month", "2026-13"], "'2026-13' is not a month: use YYYY-MM"),
    (["--month", "March"], "'March' is not a month"),
    (["--month", "2026-03", "--format", "pdf"], "'pdf' is not one of"),
    (["--month", "2026-03", "--org", "abc"], "'abc' is not a valid integer"),
    (["--month", "2026-03", "--as-of", "yesterday"], "is not ISO-8601"),
    (["--month", "2031-01"], "2031-01 has not started"),
])
def test_bad_arguments_are_a_usage_error(args, message, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/none.db")
    result = run_cli(*args)
    assert result.exit_code == 2 and message in result.output, result.output


def test_an_unknown_organization_is_a_usage_error(month, monkeypatch):
    cli_env(monkeypatch, month)
    result = run_cli("--month", "2026-03", "--org", "424242")
    assert result.exit_code == 2
    assert "organization 424242 is not in the mappings and has no tickets in 2026-03" in result.output


# ------------------------------------------------------------------------------------------ web page


def web_client(month, **credentials):
    from integration.app import create_app

    config = Config(database_url=month.services.config.database_url, mappings_dir=str(month.mappings_dir),
                    mappings_poll_seconds=0, **credentials)
    services = build_services(config, lambda: AS_OF)
    app = create_app(config, services=services)
    return app.test_client(), services


def test_the_web_page_needs_admin_credentials(month):
    client, services = web_client(month)
    try:
        assert client.get("/reports/2026-03").status_code == 503  # not configured: never public
    finally:
        services.engine.dispose()
    client, services = web_client(month, admin_user="admin", admin_password="s3cret")
    try:
        assert client.get("/reports/2026-03").status_code == 401
        assert client.get("/reports/2026-03", auth=("admin", "wrong")).status_code == 401
        page = client.get("/reports/2026-03", auth=("admin", "s3cret"))
        assert page.status_code == 200 and page.mimetype == "text/html"
        assert "SLA report — March 2026" in page.text and page.headers["Cache-Control"] == "no-store"
        data = client.get("/reports/2026-03?format=json&org=1004", auth=("admin", "s3cret"))
        assert data.status_code == 200 and data.mimetype == "application/json"
        assert data.json["total"]["tickets"] == 6 and [o["key"] for o in data.json["organizations"]] == ["1004"]
        assert data.json["organizations"][0]["credits"]["credit"] == 49.75
        sheet = client.get("/reports/2026-03?format=csv", auth=("admin", "s3cret"))
        assert sheet.status_code == 200 and sheet.mimetype == "text/csv"
        assert 'filename="escalator-sla-report-2026-03.csv"' in sheet.headers["Content-Disposition"]
        assert sheet.text.splitlines()[1].startswith("2026-03,")
        for url, status in (("/reports/2026-13", 400), ("/reports/2026-03?format=pdf", 400),
                            ("/reports/2026-03?org=x", 400), ("/reports/2026-03?org=424242", 404)):
            assert client.get(url, auth=("admin", "s3cret")).status_code == status, url
    finally:
        services.engine.dispose()


# ------------------------------------------------------------------------------------------ Slack


def test_slack_summaries_go_only_to_each_customers_own_channel(month):
    from integration.reports.slack_post import report_actions

    actions = report_actions(month.report(), month.services.mappings.current)
    assert [(a.payload["channel"], a.idempotency_key) for a in actions] == [
        ("C05NWLOGIST", "report-2026-03-1001"), ("C0OSCORP01", "report-2026-03-1005")]
    north, oscorp = actions
    assert north.target == "slack" and north.kind == "post_message" and north.payload["ticket_id"] is None
    assert north.payload["text"] == ("SLA report for Northwind Logistics, March 2026: 5 tickets; first response "
                                     "within target 60.0%, resolution within target 60.0%.")
    fields = [f["text"] for f in north.payload["blocks"][2]["fields"]]
    assert fields == ["*Tickets*\n5", "*First response within target*\n60.0% (3 of 5)",
                      "*Resolution within target*\n60.0% (3 of 5)", "*Median first response*\n1:00 (90% within 4:30)",
                      "*Median resolution*\n3:30 (90% within 24:00)", "*Late first responses*\n2",
                      "*Still open*\nfirst response 0, resolution 0", "*Your ratings*\n3.7 / 5 (3 in Slack)"]
    assert "available upon request" in north.payload["blocks"][3]["elements"][0]["text"]
    assert "*Oscorp Industries* (enterprise tier)" in oscorp.payload["blocks"][1]["text"]["text"]
    assert "50.0% (1 of 2)" in json.dumps(oscorp.payload)
    # Isolation: nothing of another customer, not even the all-customer total.
    for action, own, others in ((north, "Northwind", ("Oscorp", "Pennyworth", "Feeless", "14", "46.2")),
                                (oscorp, "Oscorp", ("Northwind", "Pennyworth", "Feeless", "14", "46.2", "60.0"))):
        blob = json.dumps(action.payload)
        assert own in blob
        for word in others:
            assert word not in blob, (own, word)


def test_post_to_slack_queues_once_in_one_transaction_and_is_dry_run_without_a_token(fresh_month, monkeypatch):
    from integration.storage.models import OutboxAction

    cli_env(monkeypatch, fresh_month)
    first = run_cli("--month", "2026-03", "--post-to-slack", "--as-of", "2026-04-01T09:00:00Z")
    assert first.exit_code == 0, first.output
    assert "organization 1001 → C05NWLOGIST: queued" in first.output
    assert "2 summary message(s) queued for 2026-03" in first.output and "dry-run" in first.output
    again = run_cli("--month", "2026-03", "--post-to-slack")
    assert again.exit_code == 0 and "already queued earlier (not posted twice)" in again.output
    assert "0 summary message(s) queued" in again.output
    with fresh_month.services.sessions() as session:
        rows = session.scalars(select(OutboxAction).where(OutboxAction.idempotency_key.like("report-%"))
                               .order_by(OutboxAction.id)).all()
    assert [(r.idempotency_key, r.payload["channel"], r.status, r.ticket_id) for r in rows] == [
        ("report-2026-03-1001", "C05NWLOGIST", "pending", None), ("report-2026-03-1005", "C0OSCORP01", "pending", None)]
    # The worker delivers them; without SLACK_BOT_TOKEN it records them as dry-run.
    from sqlalchemy import update

    from integration.runtime import build_worker

    with fresh_month.services.sessions.begin() as session:  # the month's own actions are not under test here
        session.execute(update(OutboxAction).where(OutboxAction.idempotency_key.not_like("report-%"))
                        .values(status="done"))
    # The runtime's worker, delivering at a clock past real now (the CLI queued at real now).
    worker = build_worker(dataclasses.replace(
        fresh_month.services, now=lambda: max(dt.datetime.now(UTC), AS_OF) + dt.timedelta(minutes=1)))
    assert worker.run_once() == 2
    with fresh_month.services.sessions() as session:
        statuses = {r.idempotency_key: r.status for r in session.scalars(
            select(OutboxAction).where(OutboxAction.idempotency_key.like("report-%")))}
    assert statuses == {"report-2026-03-1001": "dry_run", "report-2026-03-1005": "dry_run"}


def test_the_worker_delivers_the_summaries_to_slack_through_the_real_client(fresh_month, fake_slack):
    from sqlalchemy import update

    from integration.reports.slack_post import enqueue_report, report_actions
    from integration.runtime import build_worker
    from integration.slack.gateway import build_slack_gateway
    from integration.storage.models import OutboxAction

    fake_slack.accept_any_channel = True
    actions = report_actions(fresh_month.report(), fresh_month.services.mappings.current)
    with fresh_month.services.sessions.begin() as session:  # the month's escalation messages are not under test here
        session.execute(update(OutboxAction).values(status="done"))
        queued = enqueue_report(session, actions, AS_OF)
    assert [added for _, added in queued] == [True, True]
    config = dataclasses.replace(fresh_month.services.config, slack_bot_token=fake_slack.token,
                                 slack_api_url=fake_slack.base_url)
    worker = build_worker(dataclasses.replace(fresh_month.services, now=lambda: AS_OF), slack=build_slack_gateway(config))
    assert worker.run_once() == 2
    (north,) = fake_slack.messages("C05NWLOGIST")
    (oscorp,) = fake_slack.messages("C0OSCORP01")
    assert north["text"].startswith("SLA report for Northwind Logistics, March 2026: 5 tickets")
    assert north["blocks"][0] == {"type": "header", "text": {"type": "plain_text", "text": "Support SLA report: March 2026"}}
    assert "Northwind" not in json.dumps(oscorp) and "Oscorp" not in json.dumps(north)
