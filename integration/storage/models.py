"""Tables. Tickets hold SLA state; inbox, timers and outbox make delivery durable; audit explains every decision."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import (JSON, BigInteger, Boolean, DateTime, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint, text)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# SQLite has no BIGINT autoincrement; an Integer primary key there is the 64-bit rowid anyway.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator):
    """Stores aware datetimes as UTC and always gives them back aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.timezone.utc)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)


class Base(DeclarativeBase):
    pass


class Ticket(Base):
    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)  # Zendesk ticket id
    organization_id: Mapped[int | None] = mapped_column(BigInteger)
    requester_email: Mapped[str | None] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")  # for keyword rules after a mapping edit
    status: Mapped[str] = mapped_column(String(16), default="new")
    zendesk_priority: Mapped[str | None] = mapped_column(String(16))
    tier: Mapped[str | None] = mapped_column(String(64))
    priority: Mapped[str | None] = mapped_column(String(16))
    priority_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    history: Mapped[list] = mapped_column(JSON, default=list)  # the clock's input, see integration.core.history
    # Rows folded up to an instant (integration.core.checkpoint); older rows then live in history_archive.
    clock_checkpoint: Mapped[dict | None] = mapped_column(JSON)
    sla: Mapped[dict] = mapped_column(JSON, default=dict)  # the clock's last output, per target
    written: Mapped[dict] = mapped_column(JSON, default=dict)  # what we last asked Zendesk to hold
    level: Mapped[int] = mapped_column(Integer, default=1, index=True)
    # Denormalized from `sla` for the dashboard and metrics (ordering by the nearest breach, counts).
    first_response_state: Mapped[str | None] = mapped_column(String(16))
    resolution_state: Mapped[str | None] = mapped_column(String(16))
    nearest_due_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, index=True)
    escalation: Mapped[dict] = mapped_column(JSON, default=dict)  # steps taken, acknowledgements, warnings sent
    tags: Mapped[list] = mapped_column(JSON, default=list)
    version: Mapped[int] = mapped_column(Integer, default=0)  # bumps on every SLA change; timers carry it
    mappings_fingerprint: Mapped[str] = mapped_column(String(64), default="")
    observed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)  # newest event applied
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class HistoryArchive(Base):
    """History rows a compaction folded into the ticket's clock checkpoint (integration.core.compaction), in their
    order: for audit and reports, never read by a decision (but when one needs the whole history back)."""

    __tablename__ = "history_archive"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    rows: Mapped[list] = mapped_column(JSON)
    archived_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class InboxEvent(Base):
    __tablename__ = "inbox_events"
    __table_args__ = (UniqueConstraint("source", "dedup_key", name="uq_inbox_source_key"),
                      # The queue: undecided rows only, in the order the worker claims them (migration 0011).
                      Index("ix_inbox_queue", "id", postgresql_where=text("decide_after IS NOT NULL"),
                            sqlite_where=text("decide_after IS NOT NULL")),
                      # The queued events of given tickets: held_back, each round (migration 0012).
                      Index("ix_inbox_queue_ticket", "ticket_id", "id",
                            postgresql_where=text("decide_after IS NOT NULL"),
                            sqlite_where=text("decide_after IS NOT NULL")))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source: Mapped[str] = mapped_column(String(16))  # zendesk | slack | worker
    dedup_key: Mapped[str] = mapped_column(String(128))
    event_type: Mapped[str] = mapped_column(String(64))
    ticket_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    payload: Mapped[dict] = mapped_column(JSON)
    outcome: Mapped[str] = mapped_column(String(32), default="recorded")
    detail: Mapped[str] = mapped_column(Text, default="")
    # Queued for the worker to decide: the parsed signal, and when it may be tried (NULL once decided).
    signal: Mapped[dict | None] = mapped_column(JSON)
    decide_after: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    decided_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class Timer(Base):
    __tablename__ = "timers"
    __table_args__ = (
        UniqueConstraint("ticket_id", "kind", name="uq_timer_ticket_kind"),
        Index("ix_timers_pending_due", "due_at", postgresql_where=text("fired_at IS NULL"),
              sqlite_where=text("fired_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("tickets.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(48))  # e.g. first_response_warning, resolution_breach
    due_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    ticket_version: Mapped[int] = mapped_column(Integer)  # stale when the ticket's version moved on
    fired_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    lease_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class OutboxAction(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_ready", "status", "next_attempt_at"),
        Index("ix_outbox_lane", "status", "target", "lane", "id"),
        Index("ix_outbox_expires", "expires_at", postgresql_where=text("expires_at IS NOT NULL"),
              sqlite_where=text("expires_at IS NOT NULL")),
        Index("ix_outbox_ticket_order", "target", "ticket_id", "id"),
        # Each ticket's pending actions, for the claim's oldest-first lookup (migration 0011).
        Index("ix_outbox_pending_ticket", "target", "ticket_id", "id", postgresql_where=text("status = 'pending'"),
              sqlite_where=text("status = 'pending'")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(BigInteger)
    target: Mapped[str] = mapped_column(String(16))  # zendesk | slack
    kind: Mapped[str] = mapped_column(String(32))  # update_ticket | fetch_ticket | post_message | …
    lane: Mapped[int] = mapped_column(Integer, default=2)  # 0 escalation steps, 1 SLA fields, 2 the rest
    payload: Mapped[dict] = mapped_column(JSON)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|done|failed|dry_run|dropped
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    lease_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    claim_token: Mapped[str | None] = mapped_column(String(32))  # who holds the lease: only they may record
    expires_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)  # dropped, not sent, after this
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    done_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class RateEvent(Base):
    """One request spent from an account-wide budget (Zendesk's limits count per account, not per process)."""

    __tablename__ = "rate_events"
    __table_args__ = (Index("ix_rate_events_bucket_at", "bucket", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    bucket: Mapped[str] = mapped_column(String(32))
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class RateBucket(Base):
    """A budget's lock row, and a hold set when Zendesk's own headers say its budget is nearly spent."""

    __tablename__ = "rate_buckets"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    held_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    inbox_event_id: Mapped[int | None] = mapped_column(BigInteger)
    change: Mapped[dict] = mapped_column(JSON)  # {"field": [old, new], …}
    reason: Mapped[str] = mapped_column(Text)
    mappings_fingerprint: Mapped[str] = mapped_column(String(64), default="")


class CsatRating(Base):
    """Every rating, from Slack buttons (1-5) or Zendesk's satisfaction survey (good/bad), for the reports."""

    __tablename__ = "csat_ratings"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(BigInteger, index=True)
    organization_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    source: Mapped[str] = mapped_column(String(16))  # slack | zendesk
    score: Mapped[int | None] = mapped_column(Integer)  # 1-5 from Slack
    zendesk_score: Mapped[str | None] = mapped_column(String(16))  # good | bad from Zendesk
    rated_by: Mapped[str | None] = mapped_column(String(64))
    rated_by_team: Mapped[str | None] = mapped_column(String(32))
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)


class SlackOrigin(Base):
    """A ticket opened from a customer's Slack channel: where and by whom (who may see and rate it there)."""

    __tablename__ = "slack_origins"

    ticket_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    channel_id: Mapped[str] = mapped_column(String(255), index=True)
    user_id: Mapped[str | None] = mapped_column(String(255), index=True)
    opened_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class SlackThread(Base):
    """A ticket's conversation in its customer's Slack channel (issue 12). Ended bindings stay, for the record."""

    __tablename__ = "slack_threads"
    __table_args__ = (Index("ix_slack_threads_channel_ts", "channel_id", "thread_ts"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(BigInteger, index=True)
    organization_id: Mapped[int] = mapped_column(BigInteger)
    channel_id: Mapped[str] = mapped_column(String(32))
    thread_ts: Mapped[str | None] = mapped_column(String(32))  # None until the opening post has its ts
    last_status: Mapped[str | None] = mapped_column(String(16))  # the last status line posted
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    ended_reason: Mapped[str] = mapped_column(Text, default="")


class CreditRequest(Base):
    """A service-credit request, from the customer's ask to the invoice (integration.core.credits)."""

    __tablename__ = "credit_requests"
    __table_args__ = (UniqueConstraint("organization_id", "month", name="uq_credit_org_month"),
                      Index("ix_credit_requests_status", "status"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    organization_id: Mapped[int] = mapped_column(BigInteger)
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    status: Mapped[str] = mapped_column(String(16))  # investigating | approved | denied | applied
    amount: Mapped[str | None] = mapped_column(String(32))  # Decimal as text, exact on both backends
    breaches: Mapped[list] = mapped_column(JSON, default=list)  # [{ticket_id, hours, amount, provisional}]
    note: Mapped[str] = mapped_column(Text, default="")
    requested_by: Mapped[str] = mapped_column(String(255))  # a Slack user id, or "cli:<login>"
    channel_id: Mapped[str | None] = mapped_column(String(255))  # the customer's channel, told the outcome
    requested_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    investigation_due_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(255))
    reason: Mapped[str | None] = mapped_column(Text)
    apply_due_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    applied_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    invoice: Mapped[str | None] = mapped_column(String(100))
    reminded_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class CsatAlert(Base):
    """One row per organization and local day whose ratings the daily CSAT alert checked (sent or not): the unique
    row is what makes the alert go out once, whichever worker gets there first."""

    __tablename__ = "csat_alerts"
    __table_args__ = (UniqueConstraint("organization_id", "day", name="uq_csat_alert_org_day"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    organization_id: Mapped[int] = mapped_column(BigInteger)
    day: Mapped[str] = mapped_column(String(10))  # YYYY-MM-DD, the organization's local day
    ratings: Mapped[int] = mapped_column(Integer)
    average: Mapped[str | None] = mapped_column(String(8))  # Decimal as text; None without ratings
    alerted: Mapped[bool] = mapped_column(Boolean)
    checked_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
