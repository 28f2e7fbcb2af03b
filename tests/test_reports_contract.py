"""The monthly report's contract figures: First Contact Resolution and excluded tickets (hand-computed).

Northwind: enterprise, 24x7, monthly_fee 12000; a critical ticket has 15 min for the first response.
"""
import csv
import datetime as dt
import io
import json
from decimal import Decimal

from integration.core.history import CommentRow, ExclusionRow, PolicyRow, StatusRow
from integration.core.sla.priority import Priority
from integration.mappings.loader import load_mappings
from integration.reports import render_csv, render_html, render_json
from integration.reports.compute import build
from integration.reports.figures import Month, TicketRow
from integration.reports.stats import first_contact
from tests.harness import TEST_MAPPINGS

UTC = dt.timezone.utc
T = dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
AS_OF = dt.datetime(2026, 4, 1, tzinfo=UTC)
MAPPINGS = load_mappings(TEST_MAPPINGS)
NORTHWIND = 360000000101


def at(minutes: int) -> dt.datetime:
    return T + dt.timedelta(minutes=minutes)


def agent(minutes):
    return CommentRow(at(minutes), True, True)


def customer(minutes):
    return CommentRow(at(minutes), True, False)


def ticket(ticket_id, *rows):
    history = (PolicyRow(T, "enterprise", Priority.CRITICAL), StatusRow(T, "new"), *rows)
    return TicketRow(id=ticket_id, organization_id=NORTHWIND, created_at=T, tier="enterprise", priority="critical",
                     status="solved", history=history)


def test_first_contact_is_one_public_agent_reply_and_no_customer_comment_after_it_before_the_solve():
    solved = StatusRow(at(60), "solved")
    assert first_contact(ticket(1, agent(10), solved).history, AS_OF) is True
    assert first_contact(ticket(1, customer(5), agent(10), solved).history, AS_OF) is True  # before the reply: fine
    assert first_contact(ticket(1, agent(10), customer(20), solved).history, AS_OF) is False
    assert first_contact(ticket(1, agent(10), agent(30), solved).history, AS_OF) is False
    assert first_contact(ticket(1, agent(10), CommentRow(at(20), False, True), solved).history, AS_OF) is True
    assert first_contact(ticket(1, solved).history, AS_OF) is False  # solved without any reply
    assert first_contact(ticket(1, agent(10)).history, AS_OF) is None  # not solved: not counted
    # Solved, reopened by the customer, solved again: the second reply makes it not first contact.
    reopened = (agent(10), solved, StatusRow(at(70), "open"), customer(70), agent(80), StatusRow(at(90), "solved"))
    assert first_contact(ticket(1, *reopened).history, AS_OF) is False


def report_of(*tickets):
    return build(MAPPINGS, Month(2026, 3), list(tickets), [], AS_OF)


def test_fcr_per_tier_and_organization_and_excluded_tickets_apart():
    solved = StatusRow(at(60), "solved")
    tickets = [
        ticket(1, agent(10), solved),  # first contact, first response met
        ticket(2, agent(10), customer(20), agent(30), solved),  # not first contact
        ticket(3, agent(10), solved),  # first contact
        ticket(4, agent(10)),  # open: not counted for FCR
        # first response 45 min late (due 9:15, reply 10:00): would be 1 h = 2% of 12000 = 240 of credit,
        # but excluded (third party) at 9:05, before its due: out of every figure and of credits
        ticket(5, ExclusionRow(at(5), "third_party"), agent(60), StatusRow(at(90), "solved")),
    ]
    tickets[3] = TicketRow(**{**tickets[3].__dict__, "status": "open"})
    report = report_of(*tickets)
    assert (report.total.tickets, [t.id for t in report.excluded]) == (4, [5])
    assert report.excluded[0].excluded == "third_party"
    fcr = report.total.fcr
    assert (fcr.solved, fcr.first_contact, fcr.pct) == (3, 2, Decimal("66.7"))
    assert report.tiers[0].fcr == fcr and report.organization(NORTHWIND).fcr == fcr
    assert report.organization(NORTHWIND).credit.credit == Decimal("0.00")
    body = json.loads(render_json.render(report))
    assert body["total"]["fcr"] == {"solved": 3, "first_contact": 2, "pct": 66.7}
    assert [(t["id"], t["excluded"]) for t in body["excluded_tickets"]] == [(5, "third_party")]
    rows = list(csv.DictReader(io.StringIO(render_csv.render(report))))
    assert (rows[0]["fcr_solved"], rows[0]["fcr_first_contact"], rows[0]["fcr_pct"]) == ("3", "2", "66.7")
    html = render_html.render(report)
    assert "<h2>First contact resolution</h2>" in html and "<td>#5</td>" in html and "third party" in html


def test_a_ticket_whose_exclusion_was_removed_counts_again():
    back = ticket(6, ExclusionRow(at(5), "force_majeure"), ExclusionRow(at(8), None), agent(10),
                  StatusRow(at(20), "solved"))
    report = report_of(back)
    assert report.excluded == () and report.total.tickets == 1
    assert report.total.first_response.met == 1


def test_csat_follow_ups_met_missed_and_open_as_of_the_report():
    from integration.core.escalation_record import EscalationRecord, FollowUp
    day = dt.timedelta(hours=24)
    follow = [FollowUp(at(10), at(10) + day, "Slack CSAT 2/5", met_at=at(30)),
              FollowUp(at(100), at(100) + day, "Zendesk satisfaction: bad", missed_at=at(100) + day)]
    one = TicketRow(**{**ticket(1, agent(5), StatusRow(at(60), "solved")).__dict__,
                       "escalation": EscalationRecord(follow_ups=tuple(follow))})
    late_open = FollowUp(AS_OF - dt.timedelta(hours=1), AS_OF + dt.timedelta(hours=23), "Slack CSAT 1/5")
    two = TicketRow(**{**ticket(2, agent(5)).__dict__, "status": "open",
                       "escalation": EscalationRecord(follow_ups=(late_open,))})
    report = report_of(one, two)
    assert report.total.follow_ups == {"met": 1, "missed": 1, "open": 1}
    assert json.loads(render_json.render(report))["total"]["csat_follow_ups"] == {"met": 1, "missed": 1, "open": 1}
    row = next(csv.DictReader(io.StringIO(render_csv.render(report))))
    assert (row["csat_follow_ups_met"], row["csat_follow_ups_missed"], row["csat_follow_ups_open"]) == ("1", "1", "1")
    # As of the day before the missed one fell due, it was still open.
    earlier = build(MAPPINGS, Month(2026, 3), [one], [], at(100) + dt.timedelta(hours=23))
    assert earlier.total.follow_ups == {"met": 1, "missed": 0, "open": 1}
