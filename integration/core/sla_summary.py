"""The clock's last output for a ticket, as stored (the tickets.sla column) and shown without replaying the clock.

JSON: {target: {"state", "due", "warning", "elapsed_seconds", "target_seconds", "breached_at"}}, instants
as ISO-8601 UTC. Rows may lack a target or a key: what is missing reads as unknown (None, 0).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from integration.core.history import iso, parse_iso
from integration.core.sla.ticket import Target, TargetStatus


def _instant(text: str | None) -> dt.datetime | None:
    return parse_iso(text) if text else None


@dataclass(frozen=True)
class TargetSummary:
    state: str | None  # running | paused | met | breached; None: unknown
    due: dt.datetime | None = None
    warning: dt.datetime | None = None
    elapsed_seconds: int = 0
    target_seconds: int = 0
    breached_at: dt.datetime | None = None

    @classmethod
    def of(cls, status: TargetStatus) -> "TargetSummary":
        return cls(state=status.state.value, due=status.due, warning=status.warning,
                   elapsed_seconds=int(status.elapsed.total_seconds()),
                   target_seconds=int(status.target_length.total_seconds()), breached_at=status.breached_at)

    def to_json(self) -> dict:
        return {"state": self.state, "due": iso(self.due) if self.due else None,
                "warning": iso(self.warning) if self.warning else None, "elapsed_seconds": self.elapsed_seconds,
                "target_seconds": self.target_seconds,
                "breached_at": iso(self.breached_at) if self.breached_at else None}

    @classmethod
    def from_json(cls, data: dict) -> "TargetSummary":
        return cls(state=data.get("state"), due=_instant(data.get("due")), warning=_instant(data.get("warning")),
                   elapsed_seconds=int(data.get("elapsed_seconds") or 0),
                   target_seconds=int(data.get("target_seconds") or 0),
                   breached_at=_instant(data.get("breached_at")))


UNKNOWN = TargetSummary(state=None)


@dataclass(frozen=True)
class SlaSummary:
    first_response: TargetSummary = UNKNOWN
    resolution: TargetSummary = UNKNOWN

    def __getitem__(self, target: Target) -> TargetSummary:
        return self.first_response if target is Target.FIRST_RESPONSE else self.resolution

    @classmethod
    def of(cls, sla: dict[Target, TargetStatus]) -> "SlaSummary":
        return cls(**{target.value: TargetSummary.of(status) for target, status in sla.items()})

    def to_json(self) -> dict:
        return {target.value: self[target].to_json() for target in Target if self[target] is not UNKNOWN}

    @classmethod
    def from_json(cls, data: dict | None) -> "SlaSummary":
        data = data or {}
        return cls(**{target.value: TargetSummary.from_json(data[target.value])
                      for target in Target if isinstance(data.get(target.value), dict)})

    def nearest_due(self) -> dt.datetime | None:
        """The nearest due of a running clock: the next breach, if nothing changes."""
        dues = [s.due for s in (self.first_response, self.resolution) if s.state == "running" and s.due]
        return min(dues) if dues else None
