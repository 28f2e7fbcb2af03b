"""The escalation matrix, pure: which level a ticket should be at, what each step does, and warnings.

Levels only go up, each at most once; a trigger may skip levels. Warnings are keyed by the due time
they warn about, so each fires once per promise. Timers merely wake the ticket up: whatever fires is
decided here from the ticket's current state, so a stale timer finds nothing to do.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from integration.core.escalation_record import EscalationRecord
from integration.mappings.model import Escalation, Owner
from integration.core.sla.priority import Priority
from integration.core.sla.ticket import State, Target, TargetStatus
from integration.core.statuses import SOLVED_STATUSES

CUSTOMER_SUCCESS_LEVEL = 3  # the matrix's "Customer Success": where an organization's dedicated CSM takes over
TRIGGER_LEVELS = {"first_response_breached": 2, "resolution_breached": 3, "dissatisfied": 4, "executive": 5}
TRIGGER_WORDS = {
    "first_response_breached": "first-response target breached",
    "resolution_breached": "resolution target breached",
    "dissatisfied": "customer dissatisfied",
    "executive": "executive complaint",
    "csat_follow_up_missed": "CSAT follow-up missed",
}


@dataclass(frozen=True)
class Trigger:
    kind: str  # a key of TRIGGER_LEVELS
    detail: str  # plain words: "due 14:20 UTC, breached by 1h05m", "CSAT 2/5: slow answers"
    by: str | None = None  # who asked, for requests
    level: int | None = None  # the level it asks for, when not fixed by its kind (one level up)


@dataclass(frozen=True)
class Step:
    level: int
    owner: Owner
    triggers: tuple[Trigger, ...]
    at: dt.datetime


def breach_triggers(sla: dict[Target, TargetStatus], now: dt.datetime) -> list[Trigger]:
    triggers = []
    for target, kind in ((Target.FIRST_RESPONSE, "first_response_breached"),
                         (Target.RESOLUTION, "resolution_breached")):
        status = sla[target]
        if status.state is State.BREACHED and status.breached_at is not None:
            over = _words(-status.remaining) if status.remaining < dt.timedelta(0) else "just now"
            triggers.append(Trigger(kind, f"was due {_utc(status.breached_at)}, over by {over}"))
    return triggers


def next_step(escalation: Escalation, level: int, triggers: list[Trigger], now: dt.datetime) -> Step | None:
    """The one step to take now, or None: the highest level any trigger asks for, if above the current."""
    top = max(len(escalation.levels), 1)

    def asks(trigger: Trigger) -> int:
        return min(trigger.level or TRIGGER_LEVELS[trigger.kind], top)

    wanted = [t for t in triggers if asks(t) > level]
    if not wanted:
        return None
    new_level = max(asks(t) for t in wanted)
    return Step(new_level, escalation.owner(new_level), tuple(wanted), now)


def due_warnings(sla: dict[Target, TargetStatus], record: EscalationRecord, now: dt.datetime) -> list[Target]:
    """Targets whose warning instant has passed for a promise (a due instant) we have not warned about yet."""
    result = []
    for target, status in sla.items():
        if status.state is State.RUNNING and status.warning and status.warning <= now < status.due:
            if not record.warned_about(target, status.due):
                result.append(target)
    return result


def manager_of(escalation: Escalation, level: int) -> Owner:
    """Who is warned about a ticket at `level`: the manager level while the ticket is below it, else the level
    above its owner (the top level warns itself)."""
    return escalation.owner(min(max(escalation.manager_level, level + 1), len(escalation.levels)))


def raised_priority(current: Priority, owner: Owner) -> Priority | None:
    wanted = owner.raise_priority_to
    return wanted if wanted is not None and wanted.rank > current.rank else None


def renotify_due(record: EscalationRecord, status: str, every: dt.timedelta) -> dt.datetime | None:
    """When the latest unacknowledged step should be re-notified (None: acknowledged, solved, or none)."""
    last = record.last_step
    if last is None or status in SOLVED_STATUSES or every <= dt.timedelta(0):
        return None
    if last.acknowledged_at is not None:
        return None
    return last.notified_at + every


def _utc(instant: dt.datetime) -> str:
    return instant.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _words(delta: dt.timedelta) -> str:
    if delta < dt.timedelta(minutes=1):
        return "under a minute"
    minutes = int(delta.total_seconds()) // 60
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [f"{days}d"] * bool(days) + [f"{hours}h"] * bool(hours) + [f"{minutes:02d}m" if hours or days else f"{minutes}m"]
    return "".join(parts)

