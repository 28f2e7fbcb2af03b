"""Internal notes for agents, built from decisions (pure)."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from integration.core.customers import Customer
from integration.core.exclusions import current_exclusion, describe as describe_exclusion
from integration.mappings.model import Mappings
from integration.core.sla.priority import Priority
from integration.core.sla.ticket import State, Target, TargetStatus
from integration.core.state import TicketState

LABELS = {"tier": "Tier", "priority": "Priority", "first_response_due": "First response due",
          "resolution_due": "Resolution due", "resolution_paused": "Resolution clock paused",
          "excluded": "Excluded from the SLA"}


def sla_note(mappings: Mappings, state: TicketState, customer: Customer, sla: dict[Target, TargetStatus],
             old: dict, new: dict) -> str:
    tier = mappings.tiers[state.tier]
    priority = Priority(state.priority)
    calendar = tier.calendar_for(priority)
    zone = ZoneInfo(customer.timezone)
    lines = [
        "SLA " + ("set" if not old else "updated") + f" by Escalator: {state.tier} tier, {priority.value} priority"
        f" ({state.priority_reason}).",
        f"Targets: first response {tier.first_response[priority].text}, "
        f"resolution {tier.resolution[priority].text}, on the {calendar} calendar ({customer.timezone}).",
        _line("First response", sla[Target.FIRST_RESPONSE], zone),
        _line("Resolution", sla[Target.RESOLUTION], zone),
    ]
    excluded = current_exclusion(state.history)
    if excluded is not None:
        lines.append(describe_exclusion(excluded, mappings))
    if old:
        changed = [f"{LABELS[k]}: {_show(old.get(k))} → {_show(new[k])}" for k in new if old.get(k) != new[k]]
        lines.append("Changed: " + "; ".join(changed) + ".")
    return "\n".join(lines)


def _line(label: str, status: TargetStatus, zone: ZoneInfo) -> str:
    if status.state is State.PAUSED:
        return f"{label}: paused, {_duration(status.remaining)} left when it resumes."
    if status.state is State.MET:
        return f"{label}: met."
    when = _when(status.due, zone)
    if status.state is State.BREACHED:
        return f"{label}: BREACHED, was due {when}."
    return f"{label}: due {when}; warning at {_when(status.warning, zone)}."


def _when(instant: dt.datetime | None, zone: ZoneInfo) -> str:
    if instant is None:
        return "—"
    local = instant.astimezone(zone)
    return f"{instant.astimezone(dt.timezone.utc):%Y-%m-%d %H:%M} UTC ({local:%a %H:%M} {local.tzname()})"


def _duration(delta: dt.timedelta) -> str:
    minutes = max(0, int(delta.total_seconds()) // 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m"


def _show(value) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
