"""One organization's month for credit requests and `/support sla`: the monthly report's figures, narrowed."""
from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session, sessionmaker

from integration.core.credits import Breach, MonthStanding, eligibility
from integration.mappings.model import Mappings
from integration.reports.figures import Month
from integration.reports.queries import load_report


def month_standing(sessions: sessionmaker[Session], mappings: Mappings, organization_id: int, month: str,
                   as_of: dt.datetime) -> MonthStanding:
    """As the report computes it at `as_of` (tickets created in the month, UTC; exclusions left out)."""
    period = Month.parse(month)
    report = load_report(sessions, mappings, period, as_of, organization_id)
    group = next(g for g in report.organizations if g.key == str(organization_id))
    credit = group.credit
    breaches = tuple(Breach(line.delay.ticket_id, line.delay.hours, line.amount, not line.delay.final)
                     for line in credit.lines)
    eligible = eligibility(organization_id, str(period), credit.monthly_fee, credit.credit, breaches,
                           credit.capped, group.tickets)
    breached = tuple(f.id for f in report.tickets if "breached" in (f.first_response.state, f.resolution.state))
    return MonthStanding(organization_id=organization_id, month=str(period), tickets=group.tickets,
                         first_response=(group.first_response.met, group.first_response.breached),
                         resolution=(group.resolution.met, group.resolution.breached),
                         breached_tickets=breached, eligibility=eligible, excluded=len(report.excluded))
