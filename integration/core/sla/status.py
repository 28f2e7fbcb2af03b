"""What the clock reports per target, and a point of its replay that a later replay can resume from."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum


class Target(str, Enum):
    FIRST_RESPONSE = "first_response"
    RESOLUTION = "resolution"


class State(str, Enum):
    RUNNING = "running"
    PAUSED = "paused"
    MET = "met"
    BREACHED = "breached"


@dataclass(frozen=True)
class TargetStatus:
    target: Target
    state: State
    due: datetime | None
    warning: datetime | None
    elapsed: timedelta
    remaining: timedelta  # target_length - elapsed; negative (= -overrun) when breached past it
    target_length: timedelta
    stopped_at: datetime | None
    breached_at: datetime | None


@dataclass(frozen=True)
class TrackPoint:
    """One target's clock at a point of the replay (a running target uses the policy then in force)."""

    elapsed: timedelta
    warned_at: datetime | None
    breached_at: datetime | None
    stopped: TargetStatus | None  # the status that stood at its stop


@dataclass(frozen=True)
class ReplayPoint:
    """The replay once some events are applied: `at` is where its clocks stand (the last event's instant)."""

    at: datetime
    status: str
    excluded: bool
    first_response: TrackPoint
    resolution: TrackPoint
