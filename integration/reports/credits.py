"""Service credits for late first responses, pure. The seed's table: "Support Response | 2% per hour delay |
Upon request | 25% monthly fee".

Our reading (the customer-friendly one, stated in the report and the README):
- only first-response targets ("Support Response") earn credits; resolution breaches do not;
- delay = business time past due = elapsed open time − the target, on the ticket's SLA calendar;
- every started hour counts as a whole hour: partial hours are rounded UP, so any breach is at least
  one hour (also the rare breach whose delay a later priority change shrank to nothing);
- credit = 2% of the organization's monthly fee per hour, summed over the month's tickets, and
  capped at 25% of the monthly fee per organization per month;
- a first response that is breached but not yet given counts with its delay so far (provisional);
- no monthly_fee in organizations.yaml → no amount ("n/a (no fee in mappings)").
Amounts are Decimal, rounded half-up to cents, in the currency of the fee.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

PERCENT_PER_HOUR = Decimal(2)
CAP_PERCENT = Decimal(25)
NO_FEE = "n/a (no fee in mappings)"
HOUR = 3600
CENT = Decimal("0.01")


@dataclass(frozen=True)
class TargetDelay:
    """One breached first-response target."""

    ticket_id: int
    created_at: dt.datetime
    target_seconds: int
    elapsed_seconds: int  # business time; final when `final`
    final: bool = True  # False: still unanswered, the delay may grow

    @property
    def delay_seconds(self) -> int:
        return max(self.elapsed_seconds - self.target_seconds, 0)

    @property
    def hours(self) -> int:
        """Started hours of delay: partial hours rounded up, at least one (it is a breach)."""
        return max(1, -(-self.delay_seconds // HOUR))


@dataclass(frozen=True)
class CreditLine:
    delay: TargetDelay
    amount: Decimal | None  # before the monthly cap; None without a fee


@dataclass(frozen=True)
class OrgCredit:
    organization_id: int | None
    name: str
    monthly_fee: Decimal | None
    lines: tuple[CreditLine, ...]
    hours: int
    uncapped: Decimal | None
    cap: Decimal | None
    credit: Decimal | None  # what the billing team applies on request; None without a fee

    @property
    def capped(self) -> bool:
        return self.uncapped is not None and self.cap is not None and self.uncapped > self.cap

    @property
    def provisional(self) -> bool:
        return any(not line.delay.final for line in self.lines)

    @property
    def shown(self) -> str:
        return NO_FEE if self.credit is None else money(self.credit)


def organization_credit(organization_id: int | None, name: str, monthly_fee: float | Decimal | None,
                        delays: list[TargetDelay]) -> OrgCredit:
    fee = None if monthly_fee is None else Decimal(str(monthly_fee))
    ordered = sorted(delays, key=lambda d: (d.created_at, d.ticket_id))
    lines = tuple(CreditLine(d, None if fee is None else cents(fee * PERCENT_PER_HOUR * d.hours / 100))
                  for d in ordered)
    hours = sum(d.hours for d in ordered)
    if fee is None:
        return OrgCredit(organization_id, name, None, lines, hours, None, None, None)
    uncapped = sum((line.amount for line in lines), Decimal("0.00"))  # the lines add up to it
    cap = cents(fee * CAP_PERCENT / 100)
    return OrgCredit(organization_id, name, fee, lines, hours, uncapped, cap, min(uncapped, cap))


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def money(value: Decimal | None) -> str:
    return NO_FEE if value is None else f"{value:,.2f}"
