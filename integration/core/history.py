"""A stored ticket's history (JSON rows) and its translation into the clock's TicketHistory.

Rows: {"at", "kind": "policy", "tier", "priority"} | {"at", "kind": "status", "status"}
      | {"at", "kind": "comment", "public", "by_agent"}. The first row is always the initial policy.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import replace

from integration.core.customers import Customer
from integration.mappings.model import Mappings
from integration.core.clock_policy import policy_for
from integration.core.sla.priority import Priority
from integration.core.sla.ticket import TicketEvent, TicketHistory


def iso(instant: dt.datetime) -> str:
    return instant.astimezone(dt.timezone.utc).isoformat()


def parse_iso(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def policy_row(at: dt.datetime, tier: str, priority: Priority) -> dict:
    return {"at": iso(at), "kind": "policy", "tier": tier, "priority": priority.value}


def status_row(at: dt.datetime, status: str) -> dict:
    return {"at": iso(at), "kind": "status", "status": status}


def comment_row(at: dt.datetime, public: bool, by_agent: bool) -> dict:
    return {"at": iso(at), "kind": "comment", "public": public, "by_agent": by_agent}


def status_at(rows: list[dict], at: dt.datetime | None) -> str:
    """The status in force at `at` (None: the latest); "new" before any status row."""
    statuses = [r for r in rows if r["kind"] == "status" and (at is None or parse_iso(r["at"]) <= at)]
    return max(statuses, key=lambda r: parse_iso(r["at"]))["status"] if statuses else "new"


def current_policy(rows: list[dict]) -> tuple[str, Priority] | None:
    policies = [r for r in rows if r["kind"] == "policy"]
    if not policies:
        return None
    last = max(policies, key=lambda r: parse_iso(r["at"]))
    return last["tier"], Priority(last["priority"])


def to_clock_history(mappings: Mappings, customer: Customer, created_at: dt.datetime,
                     rows: list[dict]) -> TicketHistory:
    """Rebuild the clock's input with the current mappings (so a mapping edit moves the due times)."""
    ordered = sorted(rows, key=lambda r: parse_iso(r["at"]))
    first = next(row for row in ordered if row["kind"] == "policy")
    events = tuple(_event(mappings, customer, row) for row in ordered if row is not first and _known(mappings, row))
    return TicketHistory(created_at=created_at, policy=_policy(mappings, customer, first), events=events)


def _known(mappings: Mappings, row: dict) -> bool:
    # A tier removed from the mappings since: keep the row, but the clock can't use it.
    return row["kind"] != "policy" or row["tier"] in mappings.tiers


def _policy(mappings: Mappings, customer: Customer, row: dict):
    tier = row["tier"] if row["tier"] in mappings.tiers else customer.tier
    return policy_for(mappings, _with_tier(customer, tier), Priority(row["priority"]))


def _event(mappings: Mappings, customer: Customer, row: dict) -> TicketEvent:
    at = parse_iso(row["at"])
    if row["kind"] == "status":
        return TicketEvent(at=at, kind="status", status=row["status"])
    if row["kind"] == "comment":
        return TicketEvent(at=at, kind="comment", public=row["public"], by_agent=row["by_agent"])
    return TicketEvent(at=at, kind="policy", policy=_policy(mappings, customer, row))


def _with_tier(customer: Customer, tier: str) -> Customer:
    return customer if customer.tier == tier else replace(customer, tier=tier)
