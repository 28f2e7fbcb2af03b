"""The credit request rules (integration.core.credits), hand-computed."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from integration.core.credits import (Breach, CreditError, CreditState, apply_due, approve, billing_clock, deny,
                                      eligibility, mark_applied, month_of, parse_month, reminder_due)
from integration.mappings.loader import load_mappings
from tests.harness import mappings_for_tests

UTC = dt.timezone.utc
REQUESTED = dt.datetime(2026, 3, 2, 14, 0, tzinfo=UTC)  # Monday


@pytest.fixture(scope="module")
def mappings(tmp_path_factory):
    return load_mappings(mappings_for_tests(tmp_path_factory.mktemp("m")))


def request(status="investigating", **fields) -> CreditState:
    return CreditState(id=7, organization_id=1004, month="2026-02", status=status, amount=Decimal("23.88"),
                       requested_at=REQUESTED, investigation_due=REQUESTED + dt.timedelta(hours=48), **fields)


def test_five_business_days_on_business_hours_skip_the_weekend(mappings):
    # Pennyworth: Mon–Fri 09–18 London (= UTC in March). 5 days × 9 h = 45 h: Mon 14–18 (4) + Tue–Fri (36)
    # + next Mon 09–14 (5) → Mon 9 March 14:00.
    assert apply_due(REQUESTED, billing_clock(mappings, 1004)) == dt.datetime(2026, 3, 9, 14, 0, tzinfo=UTC)


def test_five_business_days_skip_a_public_holiday(mappings):
    # Approved Thu 2 April 2026 16:00 London (BST, 15:00 UTC): Good Friday 3 Apr and Easter Monday 6 Apr are
    # closed. Thu 16–18 (2) + Tue 7 – Fri 10 Apr (36) + Mon 13 Apr 09–16 (7) = 45 h → Mon 13 Apr 16:00 BST.
    approved = dt.datetime(2026, 4, 2, 15, 0, tzinfo=UTC)
    assert apply_due(approved, billing_clock(mappings, 1004)) == dt.datetime(2026, 4, 13, 15, 0, tzinfo=UTC)


def test_five_days_on_a_round_the_clock_calendar_are_five_times_24_hours(mappings):
    assert apply_due(REQUESTED, billing_clock(mappings, 1001)) == REQUESTED + dt.timedelta(days=5)


def test_the_status_machine(mappings):
    approved = approve(request(), "U1", REQUESTED, billing_clock(mappings, 1004))
    assert (approved.status, approved.decided_by) == ("approved", "U1")
    with pytest.raises(CreditError, match="only an investigating request can be denied"):
        deny(approved, "U1", "no", REQUESTED)
    with pytest.raises(CreditError, match="needs a reason"):
        deny(request(), "U1", "  \n ", REQUESTED)
    with pytest.raises(CreditError, match="invoice reference"):
        mark_applied(approved, " ", REQUESTED)
    assert mark_applied(approved, " INV  42 ", REQUESTED).invoice == "INV 42"
    assert deny(request(), "U1", "  late  on purpose ", REQUESTED).reason == "late on purpose"


def test_reminders_at_the_due_instant_then_daily():
    due = REQUESTED + dt.timedelta(hours=48)
    assert reminder_due(request(), due - dt.timedelta(seconds=1)) is None
    assert reminder_due(request(), due) == "investigation"
    assert reminder_due(request(reminded_at=due), due + dt.timedelta(hours=23)) is None
    assert reminder_due(request(reminded_at=due), due + dt.timedelta(hours=24)) == "investigation"
    assert reminder_due(request("approved", apply_due=due), due) == "apply"
    assert reminder_due(request("denied"), due + dt.timedelta(days=9)) is None


def test_eligibility_says_why_nothing_is_due():
    late = (Breach(501, 3, Decimal("720.00")),)
    assert eligibility(1, "2026-02", Decimal(12000), Decimal("720.00"), late, False, 2).eligible
    assert "no monthly fee is on file" in eligibility(1, "2026-02", None, None, late, False, 2).why_none
    assert eligibility(1, "2026-02", Decimal(1), Decimal("0.00"), late, False, 1).why_none == \
        "the credit for 2026-02 comes to 0.00: nothing to apply"
    assert "within its target (1 ticket counted)" in eligibility(1, "2026-02", Decimal(9), None, (), False, 1).why_none


def test_months():
    assert parse_month("2026-3") == "2026-03" and parse_month("2026-13") is None and parse_month("march") is None
    assert month_of(dt.datetime(2026, 1, 15, tzinfo=UTC), back=1) == "2025-12"
    assert month_of(dt.datetime(2026, 3, 1, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))) == "2026-02"
