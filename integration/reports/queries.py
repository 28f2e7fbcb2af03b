"""Database reads for the report: the month's tickets and their ratings, as plain rows (read-only, no locks)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from integration.core.escalation_record import EscalationRecord
from integration.core.history import row_from_json
from integration.core.sla_summary import SlaSummary
from integration.mappings.model import Mappings
from integration.reports.compute import build
from integration.reports.credits_report import CreditsReport, build_credits
from integration.reports.figures import Month, RatingRow, Report, TicketRow
from integration.storage.credits import list_requests, state_of
from integration.storage.history_archive import whole_histories
from integration.storage.models import CsatRating, Ticket


def month_tickets(session: Session, month: Month, organization_id: int | None = None) -> list[TicketRow]:
    query = select(Ticket).where(Ticket.created_at >= month.start, Ticket.created_at < month.end)
    if organization_id is not None:
        query = query.where(Ticket.organization_id == organization_id)
    tickets = list(session.scalars(query.order_by(Ticket.created_at, Ticket.id)))
    histories = whole_histories(session, {t.id: (tuple(row_from_json(r) for r in t.history or ()), t.clock_checkpoint)
                                          for t in tickets})  # a report replays each ticket's whole history
    return [TicketRow(id=t.id, organization_id=t.organization_id, created_at=t.created_at, tier=t.tier,
                      priority=t.priority, status=t.status, requester_email=t.requester_email,
                      history=histories[t.id], sla=SlaSummary.from_json(t.sla), escalation=EscalationRecord.from_json(t.escalation))
            for t in tickets]


def month_ratings(session: Session, month: Month, organization_id: int | None = None) -> list[RatingRow]:
    """Ratings of the month's tickets (whenever given; `build` drops those after its as-of instant)."""
    scoped = select(Ticket.id).where(Ticket.created_at >= month.start, Ticket.created_at < month.end)
    if organization_id is not None:
        scoped = scoped.where(Ticket.organization_id == organization_id)
    query = select(CsatRating).where(CsatRating.ticket_id.in_(scoped)).order_by(CsatRating.at, CsatRating.id)
    return [RatingRow(id=r.id, ticket_id=r.ticket_id, source=r.source, at=r.at, score=r.score,
                      zendesk_score=r.zendesk_score, rated_by=r.rated_by)
            for r in session.scalars(query)]


def load_report(sessions: sessionmaker[Session], mappings: Mappings, month: Month, as_of: dt.datetime,
                organization_id: int | None = None) -> Report:
    with sessions() as session:
        tickets = month_tickets(session, month, organization_id)
        ratings = month_ratings(session, month, organization_id)
    return build(mappings, month, tickets, ratings, as_of, organization_id)


def load_credits_report(sessions: sessionmaker[Session], mappings: Mappings, report: Report) -> CreditsReport:
    """The Service Credits Report over `report` (the month's SLA report, as loaded by load_report)."""
    with sessions() as session:
        requests = [state_of(r) for r in list_requests(session, organization_id=report.organization_id,
                                                       month=str(report.month))]
    names = {o.zendesk_id: o.name for o in mappings.organizations if o.name}
    return build_credits(report, requests, names)


def organization_known(mappings: Mappings, report: Report) -> bool:
    """An --org filter names an organization of the mappings, or one that has tickets in the month."""
    org_id = report.organization_id
    return org_id is None or mappings.organization_by_id(org_id) is not None or report.total.tickets > 0
