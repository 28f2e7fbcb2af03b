"""Local wall-clock windows turned into exact UTC instants, with the DST edge rules.

The rule for a window edge (a local wall time) that is not a single instant:
- in a DST gap (the time never shows on the wall, e.g. 02:30 on a spring-forward night), it means
  the instant the clocks jump over it (03:00 new time);
- in a DST fold (the time shows twice, e.g. 01:30 on a fall-back night), it means the first one
  (fold=0).
Both keep the wall-to-UTC mapping non-decreasing, so windows never overlap or swap in UTC: a
window that only lies in a gap becomes empty, and one that spans a transition is shorter or longer
in absolute time while its local hours stay the same.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

UTC = timezone.utc
ZERO = timedelta(0)
ONE_DAY = timedelta(days=1)
Interval = tuple[datetime, datetime]  # [start, end) in UTC

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)


def as_utc(at: datetime, what: str = "instant") -> datetime:
    """`at` in UTC; a naive datetime has no instant, so it is refused."""
    if at.tzinfo is UTC:
        return at
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {at!r}")
    return at.astimezone(UTC)


def wall_to_utc(day: date, minute: int, tz: ZoneInfo) -> datetime:
    """The UTC instant of local wall time `minute` minutes after midnight of `day` (1440 = next midnight)."""
    wall = datetime(day.year, day.month, day.day) + timedelta(minutes=minute)
    instant = wall.replace(tzinfo=tz).astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) == wall:
        return instant  # exists; in a fold this is the first occurrence (fold=0)
    return _jump_over(wall, tz)


def _jump_over(wall: datetime, tz: ZoneInfo) -> datetime:
    """The instant the clocks skipped the nonexistent `wall` time: bisect the offset change."""
    one, other = (wall.replace(tzinfo=tz, fold=f).astimezone(UTC) for f in (0, 1))
    before, after = min(one, other), max(one, other)
    offset_after = after.astimezone(tz).utcoffset()
    # tz data changes offsets at whole seconds; keep offset(lo) != offset_after == offset(hi)
    lo, hi = _floor_seconds(before), _ceil_seconds(after)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if (_EPOCH + mid * _SECOND).astimezone(tz).utcoffset() == offset_after:
            hi = mid
        else:
            lo = mid
    return _EPOCH + hi * _SECOND


def _floor_seconds(at: datetime) -> int:
    return (at - _EPOCH) // _SECOND


def _ceil_seconds(at: datetime) -> int:
    return -((_EPOCH - at) // _SECOND)


def day_intervals(day: date, windows: tuple[tuple[int, int], ...], tz: ZoneInfo) -> tuple[Interval, ...]:
    """The open intervals of local `day` in UTC, ascending; empty ones dropped, touching ones merged."""
    intervals: list[Interval] = []
    for open_minute, close_minute in windows:
        start, end = wall_to_utc(day, open_minute, tz), wall_to_utc(day, close_minute, tz)
        if end <= start:
            continue
        if intervals and intervals[-1][1] == start:
            start = intervals.pop()[0]
        intervals.append((start, end))
    return tuple(intervals)
