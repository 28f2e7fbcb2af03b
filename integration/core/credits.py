"""Service-credit requests, pure: eligibility, deadlines, the status machine and reminders.

The seed (000, Service Credit Process, "Manual Credit Requests"): the customer submits a request, the SLA
team investigates within 48 hours, approval or denial is notified, an approved credit is applied within
5 business days. The amount is the monthly report's rule (integration.reports.credits), stored as it
stood when the request was made.

Our readings:
- one request per organization and month; asking again answers with the request already made;
- "5 business days" are 5 days of the organization's own calendar (its tier's calendar, timezone and
  holidays), a day being that calendar's day (9 open hours on business hours, 24 h on 24/7), as targets are;
- an overdue investigation or application is reminded at its due instant, then every REMIND_EVERY.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from decimal import Decimal

from integration.core.clock_policy import closed_days, clock_for
from integration.core.customers import match_customer
from integration.core.sla.calendar import BusinessClock
from integration.mappings.model import Mappings

INVESTIGATION = dt.timedelta(hours=48)
APPLY_WITHIN_DAYS = 5
REMIND_EVERY = dt.timedelta(hours=24)
STATUSES = ("investigating", "approved", "denied", "applied")
MAX_REASON = 500
MAX_INVOICE = 100


class CreditError(ValueError):
    """A change the request's status does not allow, or bad input: the message says which."""


@dataclass(frozen=True)
class Breach:
    ticket_id: int
    hours: int  # started hours of first-response delay
    amount: Decimal | None
    provisional: bool = False  # still unanswered: the delay may grow

    def to_json(self) -> dict:
        return {"ticket_id": self.ticket_id, "hours": self.hours,
                "amount": None if self.amount is None else str(self.amount), "provisional": self.provisional}

    @classmethod
    def from_json(cls, data: dict) -> "Breach":
        amount = data.get("amount")
        return cls(int(data["ticket_id"]), int(data["hours"]), None if amount is None else Decimal(amount),
                   bool(data.get("provisional")))


@dataclass(frozen=True)
class Eligibility:
    organization_id: int
    month: str  # YYYY-MM
    amount: Decimal | None  # after the 25% cap; None without a monthly fee
    breaches: tuple[Breach, ...]
    capped: bool = False
    why_none: str | None = None  # set when nothing can be claimed: the reason, in the customer's words

    @property
    def eligible(self) -> bool:
        return self.why_none is None


def eligibility(organization_id: int, month: str, fee: Decimal | None, amount: Decimal | None,
                breaches: tuple[Breach, ...], capped: bool, tickets: int) -> Eligibility:
    """What the organization may claim for the month, or why nothing (nothing to investigate then)."""
    why = None
    if not breaches:
        why = (f"every first response in {month} was within its target ({tickets} ticket"
               f"{'' if tickets == 1 else 's'} counted): no service credit is due")
    elif fee is None or amount is None:
        why = (f"{len(breaches)} first response(s) in {month} were late, but no monthly fee is on file for your "
               "organization, so no credit amount can be computed; please contact your account manager")
    elif amount <= 0:
        why = f"the credit for {month} comes to 0.00: nothing to apply"
    return Eligibility(organization_id, month, amount, breaches, capped, why)


@dataclass(frozen=True)
class CreditState:
    id: int
    organization_id: int
    month: str
    status: str
    amount: Decimal | None
    requested_at: dt.datetime
    investigation_due: dt.datetime
    decided_at: dt.datetime | None = None
    decided_by: str | None = None
    reason: str | None = None  # the denial's
    apply_due: dt.datetime | None = None
    applied_at: dt.datetime | None = None
    invoice: str | None = None
    reminded_at: dt.datetime | None = None


def investigation_due(requested_at: dt.datetime) -> dt.datetime:
    return requested_at + INVESTIGATION


def apply_due(approved_at: dt.datetime, clock: BusinessClock) -> dt.datetime:
    return clock.add(approved_at, dt.timedelta(seconds=APPLY_WITHIN_DAYS * clock.calendar.day_seconds))


def billing_clock(mappings: Mappings, organization_id: int) -> BusinessClock:
    """The organization's own calendar: its tier's calendar in its timezone, closed on its holidays."""
    customer = match_customer(mappings, organization_id=organization_id)
    calendar = mappings.calendars[mappings.tiers[customer.tier].calendar]
    return clock_for(calendar, customer.timezone, closed_days(customer))


def organization_name(mappings: Mappings, organization_id: int) -> str:
    org = mappings.organization_by_id(organization_id)
    return (org.name if org and org.name else None) or f"Organization {organization_id}"


def approve(state: CreditState, by: str, now: dt.datetime, clock: BusinessClock) -> CreditState:
    _expect(state, "investigating", "approved")
    return replace(state, status="approved", decided_at=now, decided_by=by, apply_due=apply_due(now, clock),
                   reminded_at=None)


def deny(state: CreditState, by: str, reason: str, now: dt.datetime) -> CreditState:
    _expect(state, "investigating", "denied")
    reason = " ".join((reason or "").split())
    if not reason:
        raise CreditError("a denial needs a reason: the customer is told it")
    return replace(state, status="denied", decided_at=now, decided_by=by, reason=reason[:MAX_REASON],
                   reminded_at=None)


def mark_applied(state: CreditState, invoice: str, now: dt.datetime) -> CreditState:
    _expect(state, "approved", "applied")
    invoice = " ".join((invoice or "").split())
    if not invoice or len(invoice) > MAX_INVOICE:
        raise CreditError(f"an applied credit needs the invoice reference it went on (1 to {MAX_INVOICE} "
                          "characters)")
    return replace(state, status="applied", applied_at=now, invoice=invoice, reminded_at=None)


def _expect(state: CreditState, wanted: str, to: str) -> None:
    if state.status != wanted:
        raise CreditError(f"credit request {state.id} is {state.status}; only an {wanted} request can be {to}")


def reminder_due(state: CreditState, now: dt.datetime) -> str | None:
    """'investigation' or 'apply' when that deadline has passed and billing was not reminded in the last day."""
    due = {"investigating": state.investigation_due, "approved": state.apply_due}.get(state.status)
    if due is None or now < due:
        return None
    if state.reminded_at is not None and state.reminded_at >= due and now < state.reminded_at + REMIND_EVERY:
        return None
    return "investigation" if state.status == "investigating" else "apply"


def changes(before: CreditState, after: CreditState) -> dict:
    """The audit entry's {"field": [old, new]} of what a transition changed."""
    out = {}
    for name in ("status", "decided_by", "reason", "apply_due", "applied_at", "invoice", "decided_at"):
        old, new = getattr(before, name), getattr(after, name)
        if old != new:
            out[name] = [_plain(old), _plain(new)]
    return out


def parse_month(text: str) -> str | None:
    """'2026-03' (also '2026-3') → '2026-03'; None if it is not a month."""
    parts = (text or "").strip().split("-")
    if len(parts) != 2 or not all(p.isdigit() for p in parts) or len(parts[0]) != 4 or not 1 <= int(parts[1]) <= 12:
        return None
    return f"{int(parts[0]):04d}-{int(parts[1]):02d}"


def month_of(at: dt.datetime, back: int = 0) -> str:
    """The UTC month of `at`, or `back` months before it (the report's months are UTC)."""
    index = at.astimezone(dt.timezone.utc).year * 12 + at.astimezone(dt.timezone.utc).month - 1 - back
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def money(value: Decimal | None) -> str:
    return "n/a (no fee on file)" if value is None else f"{value:,.2f}"


@dataclass(frozen=True)
class MonthStanding:
    """One organization's month as its customer sees it (`/support sla`): tickets created in it (UTC)."""

    organization_id: int
    month: str
    tickets: int
    first_response: tuple[int, int]  # (met, breached)
    resolution: tuple[int, int]
    breached_tickets: tuple[int, ...]
    eligibility: Eligibility
    excluded: int = 0


def compliance(met_breached: tuple[int, int]) -> str:
    met, breached = met_breached
    return "no decided targets yet" if met + breached == 0 else \
        f"{100 * met / (met + breached):.1f}% ({met} met, {breached} breached)"


def _plain(value):
    return value.isoformat() if isinstance(value, dt.datetime) else value
