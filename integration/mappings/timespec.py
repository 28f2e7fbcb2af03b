"""Targets (`30m`, `4h`, `3d`, `1h30m`) and opening hours (`mon-fri: ["09:00-18:00"]`) as written in
tiers.yaml, parsed into the model's Duration and the Calendar's week of windows."""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from marshmallow import ValidationError

from integration.mappings.fields import AtKey, Base, got
from integration.mappings.model import Duration
from integration.core.sla.calendar import Window

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DURATION_RE = re.compile(r"^(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m)?$")
TIME_RE = re.compile(r"^(\d{1,2}):(\d{2})$")


def parse_duration(value: Any) -> Duration:
    """`30m`, `4h`, `3d`, `1h30m`, `2d4h` -> Duration; raises ValidationError for anything else."""
    text = value.strip().lower() if isinstance(value, str) else None
    match = DURATION_RE.match(text) if text else None
    if match is None:
        raise ValidationError(
            f"{got(value)} is not a duration (like 30m, 4h, 3d or 1h30m: "
            "m minutes, h hours, d days of the tier's calendar)"
        )
    days, hours, minutes = (int(part) if part else 0 for part in match.groups())
    duration = Duration(text=text, minutes=hours * 60 + minutes, days=days)
    if duration.minutes == 0 and duration.days == 0:
        raise ValidationError(f"{got(value)} must be longer than zero (like 30m, 4h, 3d)")
    return duration


class DurationField(Base):
    def convert(self, value):
        return parse_duration(value)


def parse_time(text: str, *, closing: bool) -> int | None:
    match = TIME_RE.match(text.strip())
    if not match:
        return None
    hour, minute = int(match[1]), int(match[2])
    if minute > 59 or hour > 24 or (hour == 24 and (minute or not closing)):
        return None
    return hour * 60 + minute


WINDOW_HINT = 'HH:MM-HH:MM in local time, like "09:00-18:00"; 24:00 only as a closing time'


def parse_window(value: Any) -> Window:
    if isinstance(value, str) and value.count("-") == 1:
        open_text, close_text = value.split("-")
        open_, close = parse_time(open_text, closing=False), parse_time(close_text, closing=True)
        if open_ is not None and close is not None:
            if open_ >= close:
                raise ValidationError(
                    f"{got(value)} closes before it opens ({WINDOW_HINT}; "
                    "split hours past midnight into two days)"
                )
            return (open_, close)
    raise ValidationError(f"{got(value)} is not an opening window ({WINDOW_HINT})")


def _fmt(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_days(spec: str) -> list[int] | None:
    """`mon` -> [0]; `mon-fri` -> [0..4]; None if not a day or a forward range."""
    parts = spec.strip().lower().split("-")
    if len(parts) == 1 and parts[0] in DAYS:
        return [DAYS.index(parts[0])]
    if len(parts) == 2 and parts[0] in DAYS and parts[1] in DAYS:
        first, last = DAYS.index(parts[0]), DAYS.index(parts[1])
        if first < last:
            return list(range(first, last + 1))
    return None


class Week(Base):
    """`{mon-fri: ["09:00-18:00"], sat: ["09:00-17:00"]}` -> 7 tuples of windows (Monday first)."""

    def convert(self, value):
        if not isinstance(value, Mapping):
            raise ValidationError(
                f'expected a mapping of days to windows, like mon-fri: ["09:00-18:00"], got {got(value)}'
            )
        week: list[list[Window]] = [[] for _ in DAYS]
        given_by: dict[int, str] = {}
        errors: dict[str, Any] = {}
        for spec, windows in value.items():
            days = parse_days(spec)
            if days is None:
                errors[spec] = [AtKey(
                    f"{spec!r} is not a day or day range ({', '.join(DAYS)}, or a range like mon-fri)"
                )]
                continue
            taken = next((d for d in days if d in given_by), None)
            if taken is not None:
                errors[spec] = [AtKey(
                    f"{spec!r} repeats {DAYS[taken]}, already given by {given_by[taken]!r} (name each day once)"
                )]
                continue
            for d in days:
                given_by[d] = spec
            parsed, spec_errors = self._windows(windows)
            if spec_errors:
                errors[spec] = spec_errors
            for d in days:
                week[d] = sorted(parsed)
        if errors:
            raise ValidationError(errors)
        return tuple(tuple(day) for day in week)

    @staticmethod
    def _windows(windows: Any) -> tuple[list[Window], Any]:
        if isinstance(windows, str):
            windows = [windows]
        if windows is None:
            windows = []
        if not isinstance(windows, list):
            return [], [f'expected a list of windows like ["09:00-18:00"], got {got(windows)}']
        parsed: list[Window] = []
        errors: dict[int, list[str]] = {}
        for i, item in enumerate(windows):
            try:
                window = parse_window(item)
            except ValidationError as error:
                errors[i] = error.messages
                continue
            clash = next((w for w in parsed if window[0] < w[1] and w[0] < window[1]), None)
            if clash is not None:
                errors[i] = [
                    f"{got(item)} overlaps {_fmt(clash[0])}-{_fmt(clash[1])} (the windows of a day must not overlap)"
                ]
                continue
            parsed.append(window)
        return parsed, errors
