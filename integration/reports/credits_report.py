"""The Service Credits Report for billing (seed 000, Service Credit Process), pure: per organization and month,
what the report's rule earned and where each credit request stands, as of an instant.

Our readings:
- earned = the monthly report's credit for the organization (tickets created in the month, UTC, exclusions
  left out, 25% cap), as computed at `as_of`; credits are applied upon request, so earned is what could be claimed;
- one request per organization and month (integration.core.credits): requested is its stored amount (the rule as it
  stood when asked); approved, denied and applied are that amount in the column of its outcome;
- outstanding = approved and not yet applied (what billing still owes on an invoice);
- a request made after `as_of` is not counted, and its decision or application only once they happened by then.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from integration.core.credits import CreditState
from integration.reports.credits import OrgCredit
from integration.reports.figures import Month, Report

ZERO = Decimal("0.00")
COLUMNS = ("earned", "requested", "approved", "denied", "applied", "outstanding")


@dataclass(frozen=True)
class RequestAsOf:
    id: int
    status: str  # investigating | approved | denied | applied, as it stood at as_of
    amount: Decimal | None
    requested_at: dt.datetime
    decided_at: dt.datetime | None
    apply_due: dt.datetime | None
    applied_at: dt.datetime | None
    invoice: str | None
    reason: str | None


@dataclass(frozen=True)
class CreditsRow:
    organization_id: int
    name: str
    tier: str | None
    earned: Decimal | None  # None: no monthly fee in the mappings
    late_first_responses: int
    provisional: bool
    request: RequestAsOf | None

    def amount_in(self, column: str) -> Decimal | None:
        if column == "earned":
            return self.earned
        request = self.request
        if request is None or request.amount is None:
            return ZERO
        status = request.status
        counts = {"requested": True, "approved": status in ("approved", "applied"), "denied": status == "denied",
                  "applied": status == "applied", "outstanding": status == "approved"}[column]
        return request.amount if counts else ZERO


@dataclass(frozen=True)
class CreditsReport:
    month: Month
    organization_id: int | None
    as_of: dt.datetime
    rows: tuple[CreditsRow, ...]

    def total(self, column: str) -> Decimal:
        return sum((a for r in self.rows if (a := r.amount_in(column)) is not None), ZERO)


def request_as_of(state: CreditState, as_of: dt.datetime) -> RequestAsOf | None:
    if state.requested_at > as_of:
        return None
    status = "investigating"
    if state.decided_at is not None and state.decided_at <= as_of:
        status = "denied" if state.status == "denied" else "approved"
    if state.applied_at is not None and state.applied_at <= as_of:
        status = "applied"
    decided = status != "investigating"
    return RequestAsOf(id=state.id, status=status, amount=state.amount, requested_at=state.requested_at,
                       decided_at=state.decided_at if decided else None,
                       apply_due=state.apply_due if decided and status != "denied" else None,
                       applied_at=state.applied_at if status == "applied" else None,
                       invoice=state.invoice if status == "applied" else None,
                       reason=state.reason if status == "denied" else None)


def build_credits(report: Report, requests: list[CreditState], names: dict[int, str]) -> CreditsReport:
    """`report` is the month's SLA report at its as-of instant; `requests` are the month's credit requests;
    `names` the organizations of the mappings (for requests of organizations without tickets)."""
    by_org = {s.organization_id: request_as_of(s, report.as_of) for s in requests
              if report.organization_id in (None, s.organization_id)}
    rows: list[CreditsRow] = []
    for group in report.organizations:
        if group.key == "none":
            continue
        org_id = int(group.key)
        rows.append(_row(org_id, group.name, group.tier, group.credit, by_org.pop(org_id, None)))
    for org_id, request in sorted(by_org.items()):
        if request is not None:
            rows.append(_row(org_id, names.get(org_id, f"organization {org_id}"), None, None, request))
    rows.sort(key=lambda r: (r.name.lower(), r.organization_id))
    return CreditsReport(report.month, report.organization_id, report.as_of, tuple(rows))


def _row(org_id: int, name: str, tier: str | None, credit: OrgCredit | None, request: RequestAsOf | None):
    earned = ZERO if credit is None else credit.credit
    return CreditsRow(organization_id=org_id, name=name, tier=tier, earned=earned,
                      late_first_responses=0 if credit is None else len(credit.lines),
                      provisional=bool(credit and credit.provisional), request=request)
