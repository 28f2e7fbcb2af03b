"""Reading tickets for Slack users, always through the channel's binding (no data crosses customers)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from integration.core.context import Context
from integration.slack.binding import Binding, can_see
from integration.core.customer_views import TicketView
from integration.core.sla_summary import SlaSummary
from integration.core.statuses import OPEN_STATUSES
from integration.storage.models import SlackOrigin, Ticket, Timer


def visible_ticket(session: Session, binding: Binding, ticket_id: int, user: str | None = None) -> Ticket | None:
    """The ticket if this channel (and, in a customer channel, this member) may see it; None for unknown,
    foreign and other members' private tickets alike."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or not can_see(binding, ticket.organization_id):
        return None
    if binding.kind == "customer" and not _theirs(session.get(SlackOrigin, ticket_id), binding, user):
        return None
    return ticket


def _theirs(origin: SlackOrigin | None, binding: Binding, user: str | None) -> bool:
    """In a customer channel: tickets opened in that channel, and the member's own tickets opened from Slack."""
    return origin is not None and (origin.channel_id == binding.organization.slack_channel_id or
                                   (user is not None and origin.user_id == user))


def requester_of(session: Session, binding: Binding, ticket_id: int, user: str | None) -> Ticket | None:
    """The ticket if it was opened in this channel by this very member (who alone may rate it)."""
    ticket = visible_ticket(session, binding, ticket_id, user)
    origin = session.get(SlackOrigin, ticket_id) if ticket is not None else None
    if origin is None or user is None or origin.user_id != user or \
            origin.channel_id != binding.organization.slack_channel_id:
        return None
    return ticket


def open_tickets(session: Session, binding: Binding, user: str | None) -> list[Ticket]:
    mine = SlackOrigin.channel_id == binding.organization.slack_channel_id
    if user is not None:
        mine = mine | (SlackOrigin.user_id == user)
    return list(session.scalars(select(Ticket).join(SlackOrigin, SlackOrigin.ticket_id == Ticket.id).where(
        Ticket.organization_id == binding.organization.zendesk_id, Ticket.status.in_(OPEN_STATUSES), mine)
        .order_by(Ticket.id)))


def pending_timers(session: Session, ticket_id: int) -> list[tuple[str, str]]:
    rows = session.scalars(select(Timer).where(Timer.ticket_id == ticket_id, Timer.fired_at.is_(None))
                           .order_by(Timer.due_at))
    return [(row.kind.replace("_", " "), row.due_at.isoformat()) for row in rows]


def view_of(ticket: Ticket, ctx: Context, *, customer: bool) -> TicketView:
    return TicketView(id=ticket.id, subject=ticket.subject, status=ticket.status, tier=ticket.tier,
                      priority=ticket.priority, level=ticket.level, sla=SlaSummary.from_json(ticket.sla),
                      url=ctx.request_url(ticket.id) if customer else ctx.ticket_url(ticket.id))
