"""A ticket's history (what the clock replays) as typed rows, their JSON, and the clock's TicketHistory.

JSON rows: {"at", "kind": "policy", "tier", "priority"} | {"at", "kind": "status", "status"}
      | {"at", "kind": "comment", "public", "by_agent"} | {"at", "kind": "exclusion", "reason"}. The first row is always the initial policy.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from integration.core.customers import Customer
from integration.mappings.model import Mappings
from integration.core.clock_policy import policy_for
from integration.core.sla.priority import Priority
from integration.core.sla.ticket import TicketEvent, TicketHistory

if TYPE_CHECKING:
    from integration.core.checkpoint import ClockCheckpoint


def iso(instant: dt.datetime) -> str:
    return instant.astimezone(dt.timezone.utc).isoformat()


def _utc(instant: dt.datetime) -> dt.datetime:
    return instant.astimezone(dt.timezone.utc)


def parse_iso(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass(frozen=True)
class PolicyRow:
    at: dt.datetime
    tier: str
    priority: Priority


@dataclass(frozen=True)
class StatusRow:
    at: dt.datetime
    status: str


@dataclass(frozen=True)
class CommentRow:
    at: dt.datetime
    public: bool
    by_agent: bool


@dataclass(frozen=True)
class ExclusionRow:
    """From `at`, the ticket is outside the SLA for `reason` (None: back inside it)."""

    at: dt.datetime
    reason: str | None


HistoryRow = PolicyRow | StatusRow | CommentRow | ExclusionRow


def row_to_json(row: HistoryRow) -> dict:
    if isinstance(row, PolicyRow):
        return {"at": iso(row.at), "kind": "policy", "tier": row.tier, "priority": row.priority.value}
    if isinstance(row, StatusRow):
        return {"at": iso(row.at), "kind": "status", "status": row.status}
    if isinstance(row, ExclusionRow):
        return {"at": iso(row.at), "kind": "exclusion", "reason": row.reason}
    return {"at": iso(row.at), "kind": "comment", "public": row.public, "by_agent": row.by_agent}


def row_from_json(data: dict) -> HistoryRow:
    at = parse_iso(data["at"])
    if data["kind"] == "policy":
        return PolicyRow(at, data["tier"], Priority(data["priority"]))
    if data["kind"] == "status":
        return StatusRow(at, data["status"])
    if data["kind"] == "exclusion":
        return ExclusionRow(at, data.get("reason"))
    return CommentRow(at, data["public"], data["by_agent"])


def policy_row(at: dt.datetime, tier: str, priority: Priority) -> PolicyRow:
    return PolicyRow(_utc(at), tier, priority)


def status_row(at: dt.datetime, status: str) -> StatusRow:
    return StatusRow(_utc(at), status)


def comment_row(at: dt.datetime, public: bool, by_agent: bool) -> CommentRow:
    return CommentRow(_utc(at), public, by_agent)


def _at(row: HistoryRow) -> dt.datetime:
    return row.at


def status_at(rows: list[HistoryRow], at: dt.datetime | None) -> str:
    """The status in force at `at` (None: the latest); "new" before any status row."""
    statuses = sorted((r for r in rows if isinstance(r, StatusRow) and (at is None or r.at <= at)), key=_at)
    return statuses[-1].status if statuses else "new"  # at one instant, the row recorded last holds


def status_before(rows: list[HistoryRow], at: dt.datetime) -> str:
    """The status in force just before `at` (what a transition at `at` changed from)."""
    statuses = sorted((r for r in rows if isinstance(r, StatusRow) and r.at < at), key=_at)
    return statuses[-1].status if statuses else "new"


def policies(rows) -> list[PolicyRow]:
    return [r for r in rows if isinstance(r, PolicyRow)]


def policy_at(rows: list[HistoryRow], at: dt.datetime) -> tuple[str, Priority] | None:
    """The (tier, priority) in force at `at`: the latest policy row at or before it (the first one before it all)."""
    known = sorted(policies(rows), key=lambda r: r.at)
    if not known:
        return None
    held = [r for r in known if r.at <= at] or known[:1]
    return held[-1].tier, held[-1].priority


def policy_before(rows: list[HistoryRow], at: dt.datetime) -> tuple[str, Priority] | None:
    known = sorted(policies(rows), key=lambda r: r.at)
    held = [r for r in known if r.at < at] or known[:1]
    return (held[-1].tier, held[-1].priority) if held else None


def current_policy(rows: list[HistoryRow]) -> tuple[str, Priority] | None:
    known = sorted(policies(rows), key=_at)
    return (known[-1].tier, known[-1].priority) if known else None


def to_clock_history(mappings: Mappings, customer: Customer, created_at: dt.datetime,
                     rows: list[HistoryRow], checkpoint: ClockCheckpoint | None = None) -> TicketHistory:
    """Rebuild the clock's input with the current mappings (so a mapping edit moves the due times). With a
    checkpoint (made with these mappings and this customer), only the rows after it are replayed."""
    ordered = sorted(rows, key=lambda r: r.at)
    if checkpoint is not None:
        first = PolicyRow(checkpoint.upto, checkpoint.tier, checkpoint.priority)
        ordered = [row for row in ordered if row.at > checkpoint.upto]
    else:
        first = next(row for row in ordered if isinstance(row, PolicyRow))
    events = tuple(_event(mappings, customer, row) for row in ordered if row is not first and _known(mappings, row))
    return TicketHistory(created_at=created_at, policy=_policy(mappings, customer, first), events=events,
                         resume=checkpoint.point if checkpoint is not None else None)


def policy_in_force(mappings: Mappings, rows: list[HistoryRow], checkpoint: ClockCheckpoint | None = None) -> PolicyRow:
    """The policy row the clock uses after replaying `rows` (from the checkpoint): the last it knows, else the first."""
    ordered = sorted(policies(rows), key=_at)
    if checkpoint is not None:
        ordered = [PolicyRow(checkpoint.upto, checkpoint.tier, checkpoint.priority)] + \
            [row for row in ordered if row.at > checkpoint.upto]
    known = [row for row in ordered[1:] if _known(mappings, row)]
    return known[-1] if known else ordered[0]


def _known(mappings: Mappings, row: HistoryRow) -> bool:
    # A tier removed from the mappings since: keep the row, but the clock can't use it.
    return not isinstance(row, PolicyRow) or row.tier in mappings.tiers


def _policy(mappings: Mappings, customer: Customer, row: PolicyRow):
    tier = row.tier if row.tier in mappings.tiers else customer.tier
    return policy_for(mappings, _with_tier(customer, tier), row.priority)


def _event(mappings: Mappings, customer: Customer, row: HistoryRow) -> TicketEvent:
    if isinstance(row, StatusRow):
        return TicketEvent(at=row.at, kind="status", status=row.status)
    if isinstance(row, CommentRow):
        return TicketEvent(at=row.at, kind="comment", public=row.public, by_agent=row.by_agent)
    if isinstance(row, ExclusionRow):
        return TicketEvent(at=row.at, kind="exclusion", excluded=row.reason is not None)
    return TicketEvent(at=row.at, kind="policy", policy=_policy(mappings, customer, row))


def _with_tier(customer: Customer, tier: str) -> Customer:
    return customer if customer.tier == tier else replace(customer, tier=tier)
