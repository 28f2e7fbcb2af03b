"""Tickets in every state the sidebar app shows, decided by the real ingestor at a fixed instant (NOW)."""
from __future__ import annotations

import datetime as dt

from integration.core.signals import Comment, TicketSignal
from integration.storage.models import SlackOrigin

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 3, 16, 15, 0, tzinfo=UTC)  # a Monday


def snapshot(services, ticket_id, created, *, org=1001, priority="urgent", status="open", replied=None, subject="",
             requester=None):
    comments = (Comment(at=replied, public=True, by_agent=True),) if replied else ()
    signal = TicketSignal(ticket_id=ticket_id, kind="snapshot", at=created, created_at=created, status=status,
                          zendesk_priority=priority, organization_id=org, organization_known=True,
                          requester_email=requester, subject=subject or f"Ticket {ticket_id}", comments=comments,
                          authoritative=True, source_key=f"seed-{ticket_id}-{status}")
    services.ingestor.ingest(source="worker", dedup_key=signal.source_key, event_type="snapshot", payload={},
                             signal=signal)


def seed(services) -> None:
    """Enterprise critical (15m first response, 2h resolution, 24x7): on track, warning, breached (level 3);
    a growth ticket waiting on the customer (paused); a solved one (met); a VIP's low-priority ticket.
    103 and 105 were opened in Northwind's Slack channel, so the channel is told of them (README, Slack)."""
    with services.sessions.begin() as session:
        for ticket_id in (103, 105):
            session.add(SlackOrigin(ticket_id=ticket_id, channel_id="C05NWLOGIST", user_id="U0NWCUST1",
                                    opened_at=NOW - dt.timedelta(hours=4)))
    snapshot(services, 101, NOW - dt.timedelta(minutes=2), subject="Fresh <script>alert(1)</script>")
    snapshot(services, 102, NOW - dt.timedelta(minutes=13), subject="Nearly due")
    snapshot(services, 103, NOW - dt.timedelta(hours=3), subject="Long overdue")
    snapshot(services, 104, NOW - dt.timedelta(hours=1), org=1003, priority="normal", status="pending",
             replied=NOW - dt.timedelta(minutes=50), subject="Waiting on customer")
    snapshot(services, 105, NOW - dt.timedelta(hours=4), replied=NOW - dt.timedelta(hours=3, minutes=55),
             status="solved", subject="Done in time")
    snapshot(services, 106, NOW - dt.timedelta(minutes=1), priority="low", requester="ceo@northwind.example",
             subject="A question from the CEO")
