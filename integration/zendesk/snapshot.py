"""Reading a ticket's authoritative state through zenpy into a TicketSignal (worker side only).

The ticket gives its current values; its audit log gives its true history (every status, priority and
organization value at the instant Zendesk made it, and every comment), from which the decision rebuilds
the clock's history: Zendesk's own record wins over whatever order its webhooks arrived in.
"""
from __future__ import annotations

from integration.core.signals import TicketSignal
from integration.zendesk.payloads import parse_time
from integration.zendesk.transitions import from_audits

AGENT_ROLES = ("agent", "admin")
READS = 3  # requests a read costs from the rate budget: the ticket, its requester, its audit log


def read_snapshot(zenpy, ticket_id: int, *, source_key: str) -> TicketSignal:
    ticket = zenpy.tickets(id=ticket_id)
    requester = zenpy.users(id=ticket.requester_id) if ticket.requester_id else None
    roles = {requester.id: requester.role} if requester is not None else {}

    def is_agent(author_id: int | None) -> bool:
        if author_id is None:
            return False
        if author_id not in roles:
            roles[author_id] = zenpy.users(id=author_id).role
        return roles[author_id] in AGENT_ROLES

    timeline, comments = from_audits(zenpy.tickets.audits(ticket=ticket_id), parse_time, is_agent)
    rating = ticket.satisfaction_rating
    return TicketSignal(
        ticket_id=ticket_id, kind="snapshot", at=parse_time(ticket.updated_at, "ticket.updated_at"),
        created_at=parse_time(ticket.created_at, "ticket.created_at"),
        status=ticket.status, zendesk_priority=ticket.priority or "",
        organization_id=ticket.organization_id, organization_known=True,
        requester_email=(requester.email or "").lower() or None if requester is not None else None,
        subject=ticket.subject or "", description=ticket.description or "",
        comments=comments, tags=tuple(ticket.tags or ()), timeline=timeline or None,
        satisfaction=(rating or {}).get("score") if isinstance(rating, dict) else getattr(rating, "score", None),
        authoritative=True, source_key=source_key,
    )
