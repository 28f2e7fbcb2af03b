"""Reading a ticket's authoritative state through zenpy into a TicketSignal (worker side only)."""
from __future__ import annotations

from integration.core.signals import Comment, TicketSignal
from integration.zendesk.payloads import parse_time

AGENT_ROLES = ("agent", "admin")


def read_snapshot(zenpy, ticket_id: int, *, source_key: str) -> TicketSignal:
    ticket = zenpy.tickets(id=ticket_id)
    requester = zenpy.users(id=ticket.requester_id) if ticket.requester_id else None
    roles = {requester.id: requester.role} if requester is not None else {}
    comments = []
    for comment in zenpy.tickets.comments(ticket=ticket_id):
        if comment.author_id not in roles:
            roles[comment.author_id] = zenpy.users(id=comment.author_id).role
        comments.append(Comment(at=parse_time(comment.created_at, "comment.created_at"), public=bool(comment.public),
                                by_agent=roles[comment.author_id] in AGENT_ROLES))
    rating = ticket.satisfaction_rating
    return TicketSignal(
        ticket_id=ticket_id, kind="snapshot", at=parse_time(ticket.updated_at, "ticket.updated_at"),
        created_at=parse_time(ticket.created_at, "ticket.created_at"),
        status=ticket.status, zendesk_priority=ticket.priority or "",
        organization_id=ticket.organization_id, organization_known=True,
        requester_email=(requester.email or "").lower() or None if requester is not None else None,
        subject=ticket.subject or "", description=ticket.description or "",
        comments=tuple(comments), tags=tuple(ticket.tags or ()),
        satisfaction=(rating or {}).get("score") if isinstance(rating, dict) else getattr(rating, "score", None),
        authoritative=True, source_key=source_key,
    )
