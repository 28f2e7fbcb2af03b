"""A ticket's escalation record: the matrix steps taken, their acknowledgements and reminders, and the warnings sent.

Stored as JSON (the tickets.escalation column): {"steps": [{"level", "owner", "at", "notified_at",
"triggers": [{"kind", "detail", "by"}], "reminders"?, "acknowledged_at"?, "acknowledged_by"?, "withdrawn_at"?,
"withdrawn_why"?, "raised_from"?, "raised_to"?}],
"warned": {target: due}, "follow_ups"?: [{"opened_at", "due", "rating", "met_at", "missed_at"}]}. Rows written before warnings were keyed by their due instant hold the due as
a display string accurate to the minute ("2026-03-02 15:12 UTC"); from_json still reads them.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any

from integration.core.history import parse_iso
from integration.core.sla.ticket import Target

_MINUTE_FORMAT = "%Y-%m-%d %H:%M UTC"


@dataclass(frozen=True)
class TriggerRecord:
    kind: str
    detail: str
    by: str | None = None

    def to_json(self) -> dict:
        return {"kind": self.kind, "detail": self.detail, "by": self.by}

    @classmethod
    def from_json(cls, data: dict) -> "TriggerRecord":
        return cls(data["kind"], data["detail"], data.get("by"))


@dataclass(frozen=True)
class StepRecord:
    level: int
    owner: str  # the role, as it was named when the step was taken
    at: dt.datetime
    notified_at: dt.datetime  # the latest notification: the step itself or its latest reminder
    triggers: tuple[TriggerRecord, ...] = ()
    reminders: int = 0
    acknowledged_at: dt.datetime | None = None
    acknowledged_by: str | None = None
    withdrawn_at: dt.datetime | None = None  # the breach that caused it never happened (corrected history)
    withdrawn_why: str | None = None
    raised_from: str | None = None  # the priority it raised the ticket from, and to (Priority values)
    raised_to: str | None = None

    def to_json(self) -> dict:
        data: dict[str, Any] = {"level": self.level, "owner": self.owner, "at": self.at.isoformat(),
                                "notified_at": self.notified_at.isoformat(),
                                "triggers": [t.to_json() for t in self.triggers]}
        if self.reminders:
            data["reminders"] = self.reminders
        if self.acknowledged_at is not None:
            data["acknowledged_at"], data["acknowledged_by"] = self.acknowledged_at.isoformat(), self.acknowledged_by
        if self.withdrawn_at is not None:
            data["withdrawn_at"], data["withdrawn_why"] = self.withdrawn_at.isoformat(), self.withdrawn_why
        if self.raised_to is not None:
            data["raised_from"], data["raised_to"] = self.raised_from, self.raised_to
        return data

    @classmethod
    def from_json(cls, data: dict) -> "StepRecord":
        at = parse_iso(data["at"])
        return cls(level=int(data["level"]), owner=data.get("owner", ""), at=at,
                   notified_at=parse_iso(data["notified_at"]) if data.get("notified_at") else at,
                   triggers=tuple(TriggerRecord.from_json(t) for t in data.get("triggers", ())),
                   reminders=int(data.get("reminders", 0)),
                   acknowledged_at=parse_iso(data["acknowledged_at"]) if data.get("acknowledged_at") else None,
                   acknowledged_by=data.get("acknowledged_by"),
                   withdrawn_at=parse_iso(data["withdrawn_at"]) if data.get("withdrawn_at") else None,
                   withdrawn_why=data.get("withdrawn_why"), raised_from=data.get("raised_from"),
                   raised_to=data.get("raised_to"))


@dataclass(frozen=True)
class Warned:
    """The due instant a warning was sent for."""

    due: dt.datetime
    to_the_minute: bool = False  # read from an old row: only the minute of the due is known

    def covers(self, due: dt.datetime) -> bool:
        if self.to_the_minute:
            return due.astimezone(dt.timezone.utc).replace(second=0, microsecond=0) == self.due
        return due == self.due

    def to_json(self) -> str:
        return self.due.strftime(_MINUTE_FORMAT) if self.to_the_minute else self.due.isoformat()

    @classmethod
    def from_json(cls, text: str) -> "Warned":
        if text.endswith(" UTC"):
            due = dt.datetime.strptime(text, _MINUTE_FORMAT).replace(tzinfo=dt.timezone.utc)
            return cls(due, to_the_minute=True)
        return cls(parse_iso(text))


@dataclass(frozen=True)
class FollowUp:
    """The promise to answer a customer who rated below 4 (seed: "<24 hours for scores <4")."""

    opened_at: dt.datetime
    due: dt.datetime
    rating: str  # "Zendesk bad" | "Slack 2/5"
    met_at: dt.datetime | None = None  # the next public agent comment, in time
    missed_at: dt.datetime | None = None  # the due instant, when no reply came by then

    @property
    def outcome(self) -> str:
        return "met" if self.met_at else "missed" if self.missed_at else "open"

    def to_json(self) -> dict:
        return {"opened_at": self.opened_at.isoformat(), "due": self.due.isoformat(), "rating": self.rating,
                "met_at": self.met_at.isoformat() if self.met_at else None,
                "missed_at": self.missed_at.isoformat() if self.missed_at else None}

    @classmethod
    def from_json(cls, data: dict) -> "FollowUp":
        return cls(parse_iso(data["opened_at"]), parse_iso(data["due"]), data.get("rating", ""),
                   parse_iso(data["met_at"]) if data.get("met_at") else None,
                   parse_iso(data["missed_at"]) if data.get("missed_at") else None)


@dataclass(frozen=True)
class EscalationRecord:
    steps: tuple[StepRecord, ...] = ()
    warned: dict[Target, Warned] = field(default_factory=dict)  # never changed in place: see with_warning
    follow_ups: tuple[FollowUp, ...] = ()  # CSAT follow-ups, oldest first; only the last may be open
    satisfaction: str | None = None  # Zendesk's rating as last seen (every API read repeats it)

    @property
    def last_step(self) -> StepRecord | None:
        """The latest step still standing (a withdrawn one stays in the record, but is no longer reminded)."""
        standing = [s for s in self.steps if s.withdrawn_at is None]
        return standing[-1] if standing else None

    def with_step(self, step: StepRecord) -> "EscalationRecord":
        return replace(self, steps=self.steps + (step,))

    def acknowledged(self, level: int | None, by: str | None, now: dt.datetime) -> "EscalationRecord":
        """Every unacknowledged step at `level` is acknowledged by `by` now."""
        return replace(self, steps=tuple(
            replace(s, acknowledged_at=now, acknowledged_by=by) if s.level == level and s.acknowledged_at is None
            else s for s in self.steps))

    def reminded(self, now: dt.datetime) -> "EscalationRecord":
        last = self.last_step
        return replace(self, steps=tuple(replace(s, notified_at=now, reminders=s.reminders + 1) if s is last else s
                                         for s in self.steps))

    def withdrawn(self, above: int, now: dt.datetime, why: str) -> "EscalationRecord":
        """Every standing step above `above` withdrawn (kept in the record, marked)."""
        return replace(self, steps=tuple(
            replace(s, withdrawn_at=now, withdrawn_why=why) if s.level > above and s.withdrawn_at is None else s
            for s in self.steps))

    def warned_about(self, target: Target, due: dt.datetime) -> bool:
        warned = self.warned.get(target)
        return warned is not None and warned.covers(due)

    def with_warning(self, target: Target, due: dt.datetime) -> "EscalationRecord":
        return replace(self, warned={**self.warned, target: Warned(due)})

    def up_to(self, level: int) -> "EscalationRecord":
        """The record without the steps above `level` (an admin's reset)."""
        return replace(self, steps=tuple(s for s in self.steps if s.level <= level))

    def to_json(self) -> dict:
        data = {"steps": [s.to_json() for s in self.steps],
                "warned": {target.value: w.to_json() for target, w in self.warned.items()}}
        if self.follow_ups:
            data["follow_ups"] = [f.to_json() for f in self.follow_ups]
        if self.satisfaction:
            data["satisfaction"] = self.satisfaction
        return data

    @classmethod
    def from_json(cls, data: dict | None) -> "EscalationRecord":
        data = data or {}
        return cls(steps=tuple(StepRecord.from_json(s) for s in data.get("steps", ())),
                   warned={Target(k): Warned.from_json(v) for k, v in (data.get("warned") or {}).items()},
                   follow_ups=tuple(FollowUp.from_json(f) for f in data.get("follow_ups", ())),
                   satisfaction=data.get("satisfaction"))
