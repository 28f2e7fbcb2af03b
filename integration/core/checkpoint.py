"""A clock checkpoint: the replay of a ticket's history folded up to an instant, so that a decision replays
only the rows after it (issue 10: the 1,000th event costs what the first did).

The checkpoint holds what the clock needs at `upto` (its status, exclusion, policy row and both targets'
clocks) and the basis it was computed on: the mappings' fingerprint and the customer's clock terms. A
checkpoint on another basis is stale: a mapping edit or another organization re-times the whole history,
so the decision then replays every row (storage reads the archived ones back; see compaction.py).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

from integration.core.customers import Customer
from integration.core.history import iso, parse_iso
from integration.core.sla.priority import Priority
from integration.core.sla.status import ReplayPoint, State, Target, TargetStatus, TrackPoint
from integration.mappings.model import Mappings


@dataclass(frozen=True)
class ClockCheckpoint:
    upto: dt.datetime  # every history row at or before it is folded in
    basis: str  # basis_of(mappings, customer) it was computed with
    tier: str  # the policy row in force at `upto`
    priority: Priority
    point: ReplayPoint

    def to_json(self) -> dict:
        return {"upto": iso(self.upto), "basis": self.basis, "tier": self.tier, "priority": self.priority.value,
                "point": _point_json(self.point)}

    @classmethod
    def from_json(cls, data: dict | None) -> ClockCheckpoint | None:
        if not data:
            return None
        return cls(parse_iso(data["upto"]), data["basis"], data["tier"], Priority(data["priority"]),
                   _point_of(data["point"]))


def basis_of(mappings: Mappings, customer: Customer) -> str:
    """What the replay's policies were built from; "" (never a valid basis) when the mappings have no fingerprint."""
    if not mappings.fingerprint:
        return ""
    terms = [mappings.fingerprint, customer.tier, customer.timezone, customer.holiday_country,
             customer.holiday_subdivision, sorted(day.isoformat() for day in customer.closed_dates)]
    return hashlib.sha256(json.dumps(terms).encode()).hexdigest()[:32]


def _time(value: dt.datetime | None) -> str | None:
    return iso(value) if value is not None else None


def _parse(value: str | None) -> dt.datetime | None:
    return parse_iso(value) if value is not None else None


def _micros(value: dt.timedelta) -> int:
    return value // dt.timedelta(microseconds=1)


def _span(value: int) -> dt.timedelta:
    return dt.timedelta(microseconds=value)


def _point_json(point: ReplayPoint) -> dict:
    return {"at": iso(point.at), "status": point.status, "excluded": point.excluded,
            "first_response": _track_json(point.first_response), "resolution": _track_json(point.resolution)}


def _point_of(data: dict) -> ReplayPoint:
    return ReplayPoint(parse_iso(data["at"]), data["status"], data["excluded"], _track_of(data["first_response"]),
                       _track_of(data["resolution"]))


def _track_json(track: TrackPoint) -> dict:
    return {"elapsed_us": _micros(track.elapsed), "warned_at": _time(track.warned_at),
            "breached_at": _time(track.breached_at), "stopped": _status_json(track.stopped) if track.stopped else None}


def _track_of(data: dict) -> TrackPoint:
    stopped = _status_of(data["stopped"]) if data["stopped"] else None
    return TrackPoint(_span(data["elapsed_us"]), _parse(data["warned_at"]), _parse(data["breached_at"]), stopped)


def _status_json(status: TargetStatus) -> dict:
    return {"target": status.target.value, "state": status.state.value, "due": _time(status.due),
            "warning": _time(status.warning), "elapsed_us": _micros(status.elapsed),
            "remaining_us": _micros(status.remaining), "target_length_us": _micros(status.target_length),
            "stopped_at": _time(status.stopped_at), "breached_at": _time(status.breached_at)}


def _status_of(data: dict) -> TargetStatus:
    return TargetStatus(Target(data["target"]), State(data["state"]), _parse(data["due"]), _parse(data["warning"]),
                        _span(data["elapsed_us"]), _span(data["remaining_us"]), _span(data["target_length_us"]),
                        _parse(data["stopped_at"]), _parse(data["breached_at"]))
