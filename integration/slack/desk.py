"""Reading tickets for Slack users, always through the channel's binding (no data crosses customers)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from integration.core.context import Context
from integration.slack.binding import Binding, can_see
from integration.core.customer_views import TicketView
from integration.core.sla_summary import SlaSummary
from integration.core.statuses import OPEN_STATUSES
from integration.storage.models import Ticket, Timer



def visible_ticket(session: Session, binding: Binding, ticket_id: int) -> Ticket | None:
    """The ticket if this channel may see it; None for unknown and foreign tickets alike."""
    ticket = session.get(Ticket, ticket_id)
    return ticket if ticket is not None and can_see(binding, ticket.organization_id) else None


def open_tickets(session: Session, organization_id: int) -> list[Ticket]:
    return list(session.scalars(select(Ticket).where(Ticket.organization_id == organization_id,
                                                     Ticket.status.in_(OPEN_STATUSES)).order_by(Ticket.id)))


def pending_timers(session: Session, ticket_id: int) -> list[tuple[str, str]]:
    rows = session.scalars(select(Timer).where(Timer.ticket_id == ticket_id, Timer.fired_at.is_(None))
                           .order_by(Timer.due_at))
    return [(row.kind.replace("_", " "), row.due_at.isoformat()) for row in rows]


def view_of(ticket: Ticket, ctx: Context) -> TicketView:
    return TicketView(id=ticket.id, subject=ticket.subject, status=ticket.status, tier=ticket.tier,
                      priority=ticket.priority, level=ticket.level, sla=SlaSummary.from_json(ticket.sla),
                      url=ctx.ticket_url(ticket.id))
