"""Credit requests end to end: `/support credit` → billing's buttons and dialog → the customer told → the invoice,
through the real Slack routes, the worker and the fake Slack, on both backends.

Hand computation (February 2026, tickets created in it, UTC):
- Northwind 1001: enterprise, 24/7, fee 12000 → 2% = 240.00 per started hour, cap 3000.00.
  T501 critical (first response 15m, resolution 2h) created Fri 27 Feb 10:00, answered 12:40: 2h40m elapsed, 2h25m late →
  3 started hours → 720.00. T502 high (30m, resolution 8h) created Thu 26 Feb 09:00, answered 09:20: met.
  Both stay open: at Mon 2 Mar 14:00 both resolutions are breached (no credit for those).
  Eligible 720.00, one breach.
- Pennyworth 1004: starter, business hours Mon–Fri 09:00–18:00 Europe/London (= UTC in February/March), fee
  199 → 3.98 per hour. T701 critical (4h business) created Fri 27 Feb 09:00, answered Mon 2 Mar 10:00:
  Fri 9 h + Mon 1 h = 10 h elapsed, 6 h late → 6 × 3.98 = 23.88.
Requests are made at Mon 2 Mar 14:00 UTC: investigations due Wed 4 Mar 14:00.
"""
from __future__ import annotations

import copy
import datetime as dt

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from integration.cli import cli
from integration.core.signals import Comment, TicketSignal
from integration.storage.models import AuditEntry, CreditRequest
from tests.fakes.slack import fake_slack, load_fixture  # noqa: F401  (pytest fixture)
from tests.fakes.zendesk import fake_zendesk  # noqa: F401  (pytest fixture)
from tests.slack_harness import button, command, send, slack_stack

UTC = dt.timezone.utc
START = dt.datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
BILLING = "C05BILLING1"


def t(month, day, hour, minute=0):
    return dt.datetime(2026, month, day, hour, minute, tzinfo=UTC)


TICKETS = [  # (ticket, organization, Zendesk priority, created, first public agent reply)
    (501, 1001, "urgent", t(2, 27, 10), t(2, 27, 12, 40)),
    (502, 1001, "high", t(2, 26, 9), t(2, 26, 9, 20)),
    (701, 1004, "urgent", t(2, 27, 9), t(3, 2, 10)),
]


@pytest.fixture
def stack(database, tmp_path, fake_zendesk, fake_slack):
    built = slack_stack(database, tmp_path, fake_zendesk, fake_slack, now=t(2, 26, 0))
    events = [(created, n, "create", org, prio) for n, org, prio, created, _ in TICKETS] + \
             [(reply, n, "reply", None, None) for n, _, _, _, reply in TICKETS]
    for at, ticket, what, org, prio in sorted(events):
        built.clock.set(at)
        signal = TicketSignal(ticket_id=ticket, kind="snapshot", at=at, created_at=at, status="open",
                              zendesk_priority=prio, organization_id=org, organization_known=True,
                              subject=f"T{ticket}", description="", authoritative=True,
                              source_key=f"create-{ticket}") if what == "create" else \
            TicketSignal(ticket_id=ticket, kind="comment", at=at, comments=(Comment(at, True, True),))
        assert built.services.ingestor.ingest(source="zendesk", dedup_key=f"{what}-{ticket}", event_type=what,
                                              payload={}, signal=signal).outcome in ("applied", "unchanged")
    built.clock.set(START)
    with built.services.sessions.begin() as session:  # only the credit messages matter below
        from integration.storage.models import OutboxAction
        session.query(OutboxAction).delete()
    yield built
    built.services.engine.dispose()


def request_row(stack, request_id=1) -> CreditRequest:
    with stack.services.sessions() as session:
        return session.get(CreditRequest, request_id)


def submission(request_id: int, reason: str, view="credit_deny_view", user="U0BILLING1") -> dict:
    data = copy.deepcopy(load_fixture("view_submission_credit_deny"))
    data["view"]["callback_id"] = view
    data["view"]["private_metadata"] = str(request_id)
    data["view"]["state"]["values"]["credit_input"]["credit_input_value"]["value"] = reason
    data["user"]["id"] = user
    return data


def test_a_customer_asks_billing_is_reminded_and_denies_with_a_reason(stack, fake_slack):
    answer = send(stack, fake_slack, command("credit", trigger="c1")).get_json()
    assert answer["response_type"] == "ephemeral"
    assert answer["text"].startswith("Credit request #1 recorded for 2026-02: eligible 720.00.")
    row = request_row(stack)
    assert (row.organization_id, row.month, row.status, row.amount) == (1001, "2026-02", "investigating", "720.00")
    assert row.breaches == [{"ticket_id": 501, "hours": 3, "amount": "720.00", "provisional": False}]
    assert row.investigation_due_at == t(3, 4, 14)
    stack.drain()
    (posted,) = fake_slack.messages(BILLING)
    assert posted["text"].startswith("Credit request #1: Northwind Logistics, 2026-02, eligible 720.00")
    assert "#501: 3 h late → 720.00" in posted["blocks"][0]["text"]["text"]
    assert [e["action_id"] for e in posted["blocks"][1]["elements"]] == ["credit_approve", "credit_deny"]

    again = send(stack, fake_slack, command("credit 2026-02", trigger="c2")).get_json()
    assert again["text"].startswith("A credit request for 2026-02 already exists (#1): 720.00, being investigated")
    nothing = send(stack, fake_slack, command("credit 2026-01", trigger="c3")).get_json()
    assert nothing["text"] == ("No credit request was made for 2026-01: every first response in 2026-01 was within "
                               "its target (0 tickets counted): no service credit is due.")
    current = send(stack, fake_slack, command("credit 2026-03", trigger="c4")).get_json()
    assert current["text"].startswith("Credits are requested for a month that has ended; 2026-03 has not.")

    stack.clock.set(t(3, 4, 14) - dt.timedelta(seconds=1))
    stack.drain()
    assert len(fake_slack.messages(BILLING)) == 1  # not overdue yet
    stack.clock.set(t(3, 4, 14, 1))
    stack.drain()
    stack.drain()
    reminders = [m for m in fake_slack.messages(BILLING) if m["text"].startswith("Reminder")]
    assert len(reminders) == 1 and "was due to be investigated" in reminders[0]["text"]

    # Deny from outside the billing channel: refused, nothing opened.
    send(stack, fake_slack, button("block_actions_acknowledge", "1", channel="C05SUPPSTAFF", trigger="d0",
                                   action_id="credit_deny"))
    stack.drain()
    assert fake_slack.views() == []
    send(stack, fake_slack, button("block_actions_acknowledge", "1", channel=BILLING, trigger="d1",
                                   action_id="credit_deny"))
    stack.drain()
    (opened,) = fake_slack.views()
    assert opened["view"]["callback_id"] == "credit_deny_view" and opened["view"]["private_metadata"] == "1"
    empty = send(stack, fake_slack, submission(1, "   "))
    assert empty.get_json()["response_action"] == "errors"
    assert request_row(stack).status == "investigating"
    done = send(stack, fake_slack, submission(1, "the late reply was on a ticket excluded by contract"))
    assert (done.status_code, done.get_data()) == (200, b"")
    row = request_row(stack)
    assert (row.status, row.decided_by, row.reason) == ("denied", "U0BILLING1",
                                                        "the late reply was on a ticket excluded by contract")
    stack.drain()
    (told,) = fake_slack.messages("C05NWLOGIST")
    assert told["text"] == ("Your service credit request #1 for 2026-02 was not approved: the late reply was on a "
                            "ticket excluded by contract")
    with stack.services.sessions() as session:
        audit = [a.change for a in session.scalars(select(AuditEntry).where(AuditEntry.ticket_id.is_(None))
                                                   .order_by(AuditEntry.id))]
    assert [a.get("status") for a in audit] == [[None, "investigating"], None, ["investigating", "denied"]]
    assert all(a["credit_request"] == 1 for a in audit)


def test_billing_approves_and_marks_applied_from_the_cli_and_the_button(stack, fake_slack, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", stack.services.config.database_url)
    monkeypatch.setenv("MAPPINGS_DIR", stack.services.config.mappings_dir)
    runner = CliRunner()
    result = runner.invoke(cli, ["credits", "request", "--org", "1004", "--month", "2026-02", "--note",
                                 "email from accounts@pennyworth, 2 March", "--received", "2026-03-02T14:00:00Z"])
    assert result.exit_code == 0, result.output
    assert result.output == ("credit request 1: organization 1004, 2026-02, eligible 23.88 (1 late first "
                             "responses); investigate by 2026-03-04 14:00 UTC\n")
    nothing = runner.invoke(cli, ["credits", "request", "--org", "1004", "--month", "2026-01", "--note", "x",
                                  "--received", "2026-03-02T14:00:00Z"])
    assert nothing.exit_code == 1 and "every first response in 2026-01 was within its target" in nothing.output
    applied_early = runner.invoke(cli, ["credits", "applied", "1", "--invoice", "INV-1"])
    assert applied_early.exit_code == 1
    assert "credit request 1 is investigating; only an approved request can be applied" in applied_early.output
    approved = runner.invoke(cli, ["credits", "approve", "1", "--by", "bo@billing"])
    assert approved.exit_code == 0, approved.output
    row = request_row(stack)
    assert row.status == "approved" and row.apply_due_at > row.decided_at
    stack.clock.set(max(stack.clock(), dt.datetime.now(UTC)))  # the CLI ran on the wall clock
    listed = runner.invoke(cli, ["credits", "list", "--status", "approved"])
    assert listed.output.startswith("1\torg 1004\t2026-02\tapproved\t23.88\tapply by ")
    assert runner.invoke(cli, ["credits", "list", "--org", "1001"]).output == "no credit requests\n"

    send(stack, fake_slack, button("block_actions_acknowledge", "1", channel=BILLING, trigger="a1",
                                   action_id="credit_applied"))
    stack.drain()
    (opened,) = fake_slack.views()
    assert opened["view"]["callback_id"] == "credit_applied_view"
    done = send(stack, fake_slack, submission(1, "INV-2026-0311", view="credit_applied_view"))
    assert done.status_code == 200
    row = request_row(stack)
    assert (row.status, row.invoice) == ("applied", "INV-2026-0311")
    again = send(stack, fake_slack, submission(1, "INV-2", view="credit_applied_view")).get_json()
    assert again["errors"]["credit_input"] == "credit request 1 is applied; only an approved request can be applied"
    for _ in range(3):  # one post a second per channel, on the test's clock
        stack.clock.advance(seconds=2)
        stack.drain()
    texts = [m["text"] for m in fake_slack.messages(BILLING)]
    assert texts[0].startswith("Credit request #1: Pennyworth Tea Co, 2026-02, eligible 23.88")
    assert texts[1].startswith("Credit request #1 (Pennyworth Tea Co, 2026-02) approved by bo@billing: apply 23.88")
    assert texts[2] == "Credit request #1 (Pennyworth Tea Co, 2026-02) applied on invoice INV-2026-0311 by U0BILLING1."


def test_support_sla_shows_the_askers_organization_only(stack, fake_slack):
    answer = send(stack, fake_slack, command("sla 2026-02", trigger="s1")).get_json()
    assert answer["response_type"] == "ephemeral"
    text = answer["text"]
    assert text.splitlines()[:5] == [
        "*Your service levels, 2026-02* (2 tickets)",
        "First response: 50.0% (1 met, 1 breached)",
        "Resolution: 0.0% (0 met, 2 breached)",  # both still open past 2 h (critical) and 8 h (high)
        "Tickets with a breached target: #502, #501",  # by creation
        "Service credit eligible: 720.00",
    ]
    assert "#701" not in text and "Pennyworth" not in text
    staff = send(stack, fake_slack, command("sla", channel="C05SUPPSTAFF", trigger="s2")).get_json()
    assert "organization's own service levels" in staff["text"]
