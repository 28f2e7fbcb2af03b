"""SLA exclusions (seed 002/004: customer-caused issues, third-party failures, force majeure).

A Zendesk tag per reason (escalation.yaml `exclusions`) puts the ticket outside the SLA from the
moment it is set: the clocks stop counting, no breach steps, out of compliance and credits.
Removing the tag puts it back with the time elapsed before kept. The history records each change
as an ExclusionRow, so the clock replays it like any other event.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import replace

from integration.core import history as rows
from integration.core.state import TicketState
from integration.mappings.model import Mappings

REASON_WORDS = {
    "customer_caused": "customer-caused issue",
    "third_party": "third-party failure",
    "force_majeure": "force majeure",
}


def reason_of(mappings: Mappings, tags: tuple[str, ...]) -> str | None:
    """The exclusion reason the ticket's tags give (the first in escalation.yaml order), or None."""
    return next((reason for reason, tag in mappings.escalation.exclusions.items() if tag in tags), None)


def current_exclusion(history: tuple[rows.HistoryRow, ...] | list) -> rows.ExclusionRow | None:
    """The exclusion in force at the end of the history (None: the ticket counts)."""
    latest = max((r for r in history if isinstance(r, rows.ExclusionRow)), key=lambda r: r.at, default=None)
    return latest if latest is not None and latest.reason is not None else None


def with_exclusion(mappings: Mappings, state: TicketState, at: dt.datetime) -> TicketState:
    """Record a change of the exclusion tags at `at` (kept no earlier than the latest exclusion row)."""
    wanted = reason_of(mappings, state.tags)
    current = current_exclusion(state.history)
    if wanted == (current.reason if current else None):
        return state
    latest = max((r.at for r in state.history if isinstance(r, rows.ExclusionRow)), default=state.created_at)
    row = rows.ExclusionRow(max(at, latest, state.created_at).astimezone(dt.timezone.utc), wanted)
    return replace(state, history=state.history + (row,))


def describe(row: rows.ExclusionRow, mappings: Mappings) -> str:
    tag = mappings.escalation.exclusions.get(row.reason or "", "")
    return (f"Excluded from the SLA since {row.at:%Y-%m-%d %H:%M} UTC: {REASON_WORDS.get(row.reason, row.reason)} "
            f"(tag {tag}). The clocks are stopped, no escalation steps are taken for breaches, and the ticket "
            f"is left out of compliance and service credits. Remove the tag to put it back; the time already "
            f"elapsed is kept.")
