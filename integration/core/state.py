"""Pure value types that `decide` reads and returns; storage converts them to and from rows."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from integration.core.checkpoint import ClockCheckpoint
from integration.core.escalation_record import EscalationRecord
from integration.core.history import HistoryRow
from integration.core.sla_summary import SlaSummary


@dataclass(frozen=True)
class TicketState:
    id: int
    created_at: dt.datetime
    organization_id: int | None = None
    requester_email: str | None = None
    subject: str = ""
    description: str = ""
    status: str = "new"
    zendesk_priority: str | None = None  # Zendesk's current value, as far as we know
    tier: str | None = None
    priority: str | None = None
    priority_reason: str = ""
    history: tuple[HistoryRow, ...] = ()
    sla: SlaSummary = SlaSummary()
    written: dict = field(default_factory=dict)  # custom field values we last asked Zendesk to hold
    tags: tuple[str, ...] = ()
    level: int = 1
    escalation: EscalationRecord = EscalationRecord()
    version: int = 0
    mappings_fingerprint: str = ""
    observed_at: dt.datetime | None = None  # time of the newest event whose field snapshot we applied
    # The clock folded up to an instant; `history` then holds the rows after it and a summary of those before
    # (integration.core.compaction), and `archived` the rows this decision moved out, for storage to keep.
    checkpoint: ClockCheckpoint | None = None
    archived: tuple[HistoryRow, ...] = ()


# Delivery lanes: what waits for Zendesk's budget goes out in this order.
LANE_ESCALATION, LANE_SLA, LANE_OTHER = 0, 1, 2


@dataclass(frozen=True)
class Action:
    target: str  # zendesk | slack
    kind: str  # update_ticket | fetch_ticket | post_message
    payload: dict
    idempotency_key: str
    lane: int = LANE_OTHER
    expires_at: dt.datetime | None = None  # not worth sending after this instant (a warning past its due)
    # A correction of earlier actions (their idempotency keys): sent only if one of them may have reached someone.
    retracts: tuple[str, ...] = ()


@dataclass(frozen=True)
class TimerSpec:
    kind: str  # first_response_warning | first_response_breach | resolution_warning | resolution_breach
    due_at: dt.datetime


@dataclass(frozen=True)
class Decision:
    outcome: str  # applied | unchanged | refresh
    detail: str
    state: TicketState | None = None
    actions: tuple[Action, ...] = ()
    change: dict = field(default_factory=dict)  # {field: [old, new]} for the audit log
    timers: tuple[TimerSpec, ...] | None = None  # None: leave the ticket's timers as they are
    drop: tuple[str, ...] = ()  # idempotency keys of earlier actions that no longer hold: not sent if still unsent
