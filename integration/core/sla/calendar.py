"""Weekly opening hours in local wall-clock time, and the business clock that walks them.

A Calendar says when a tier's clock runs in a week; a BusinessClock adds the customer's timezone
and closed days (holidays) and turns that into exact UTC instants.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from integration.core.sla.walk import ONE_DAY, UTC, ZERO, Interval, as_utc, day_intervals

MINUTES_PER_DAY = 24 * 60
Window = tuple[int, int]  # (open, close) in minutes after local midnight, 0 <= open < close <= 1440

# The walk gives up (ValueError) after this many closed days in a row: a calendar that never opens.
MAX_CLOSED_DAYS = 3 * 366
FOREVER = datetime.max.replace(tzinfo=UTC)  # the end of an unbounded 24/7 interval
_CACHED_DAYS = 20_000  # per clock; about 55 years of days, cleared wholesale when full


@dataclass(frozen=True)
class Calendar:
    name: str
    # week[0] is Monday … week[6] Sunday; each a tuple of non-overlapping windows in ascending order.
    # None means round the clock (24/7): absolute time, no gap at midnight or on DST days.
    week: tuple[tuple[Window, ...], ...] | None
    closes_on_holidays: bool = True  # 24/7 runs through holidays (seed: "including holidays")

    @property
    def always_open(self) -> bool:
        return self.week is None

    @property
    def day_seconds(self) -> int:
        """Length of a target 'day' on this calendar: 24 h on 24/7, else the longest open day."""
        if self.week is None:
            return 86400
        return max(sum(close - open_ for open_, close in day) for day in self.week) * 60


def _never_closed(day: date) -> bool:
    return False


class BusinessClock:
    """Open time of a Calendar in a timezone, minus closed local days; exact to the microsecond.

    All methods take timezone-aware datetimes (naive ones raise ValueError) and return UTC.
    Intervals are half-open: a window 09:00-18:00 is open at 09:00 and closed at 18:00.
    Cost grows with the open intervals (days) crossed, never with the length of a duration.
    """

    def __init__(self, calendar: Calendar, tz: ZoneInfo | str,
                 closed: Callable[[date], bool] = _never_closed) -> None:
        self.calendar = calendar
        self.tz = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
        self.closed = closed
        self._week = _checked_week(calendar)
        self._honours_closed = calendar.closes_on_holidays and closed is not _never_closed
        self._days: dict[date, tuple[Interval, ...]] = {}

    def __repr__(self) -> str:
        return f"BusinessClock({self.calendar.name!r}, {self.tz.key!r})"

    @property
    def always_open(self) -> bool:
        return self._week is None

    def open_intervals(self, start: datetime, end: datetime | None = None) -> Iterator[Interval]:
        """Open intervals intersected with [start, end), ascending, in UTC; end None = unbounded.

        On 24/7 this is the single interval (start, end), or (start, FOREVER) when unbounded.
        """
        start = as_utc(start, "start")
        stop = None if end is None else as_utc(end, "end")
        if self._week is None:
            return iter([(start, stop or FOREVER)] if stop is None or stop > start else [])
        return self._walk(start, stop)

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Open time in [start, end); zero if end <= start."""
        start, end = as_utc(start, "start"), as_utc(end, "end")
        if end <= start:
            return ZERO
        if self._week is None:
            return end - start
        total = ZERO
        for intervals in self._open_days(start, end):
            for open_at, close_at in intervals:
                if close_at <= start:
                    continue
                if open_at >= end:
                    break
                total += (end if close_at > end else close_at) - (start if open_at < start else open_at)
        return total

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The earliest instant t >= start with `duration` of open time in [start, t].

        A duration used up exactly at a closing returns the closing (18:00, not the next morning).
        add(start, 0) is the first open instant at or after start (= next_open(start)).
        """
        start = as_utc(start, "start")
        if duration < ZERO:
            raise ValueError(f"duration must not be negative, got {duration}")
        if self._week is None:
            return start + duration
        left = duration
        for intervals in self._open_days(start, None):
            for open_at, close_at in intervals:
                if close_at <= start:
                    continue
                span = close_at - (start if open_at < start else open_at)
                if span >= left:
                    return close_at - span + left
                left -= span
        raise AssertionError("unreachable: an unbounded walk ends only by raising")

    def next_open(self, at: datetime) -> datetime:
        """`at` itself if open, else the next opening."""
        at = as_utc(at, "at")
        if self._week is None:
            return at
        return next(self._walk(at, None))[0]

    def is_open(self, at: datetime) -> bool:
        at = as_utc(at, "at")
        return self._week is None or next(self._walk(at, None))[0] == at

    def _walk(self, start: datetime, end: datetime | None) -> Iterator[Interval]:
        """Open intervals clipped to [start, end), ascending."""
        for intervals in self._open_days(start, end):
            for open_at, close_at in intervals:
                if close_at <= start:
                    continue
                if end is not None and open_at >= end:
                    return
                yield (start if open_at < start else open_at,
                       end if end is not None and close_at > end else close_at)

    def _open_days(self, start: datetime, end: datetime | None) -> Iterator[tuple[Interval, ...]]:
        """Each open local day's intervals that may meet [start, end), unclipped; closed days skipped."""
        if end is not None and end <= start:
            return
        # Earlier local days end by this day's midnight, which is never after `start`.
        day = start.astimezone(self.tz).date()
        # A fold spanning midnight can put the next day's first instant before `end`: look one more day.
        last_day = None if end is None else end.astimezone(self.tz).date() + ONE_DAY
        closed_run = 0
        while True:
            intervals = self._days.get(day)
            if intervals is None:
                intervals = self._intervals_on(day)
            if intervals:
                closed_run = 0
                yield intervals
                if end is not None and intervals[-1][1] >= end:
                    return
            else:
                closed_run += 1
                if last_day is None and closed_run > MAX_CLOSED_DAYS:
                    first_closed = day - (closed_run - 1) * ONE_DAY
                    raise ValueError(f"{self!r} has no open time in the {closed_run} days from "
                                     f"{first_closed}: are all days closed?")
            if day == last_day:
                return
            day += ONE_DAY

    def _intervals_on(self, day: date) -> tuple[Interval, ...]:
        intervals = self._days.get(day)
        if intervals is None:
            intervals = self._compute_intervals(day)
            if len(self._days) >= _CACHED_DAYS:
                self._days.clear()
            self._days[day] = intervals
        return intervals

    def _compute_intervals(self, day: date) -> tuple[Interval, ...]:
        windows = self._week[day.weekday()]  # type: ignore[index]
        if not windows or (self._honours_closed and self.closed(day)):
            return ()
        return day_intervals(day, windows, self.tz)


def _checked_week(calendar: Calendar) -> tuple[tuple[Window, ...], ...] | None:
    week = calendar.week
    if week is None:
        return None
    if len(week) != 7:
        raise ValueError(f"calendar {calendar.name!r}: week needs 7 days, got {len(week)}")
    for day in week:
        previous_close = 0
        for open_minute, close_minute in day:
            if not previous_close <= open_minute < close_minute <= MINUTES_PER_DAY:
                raise ValueError(f"calendar {calendar.name!r}: bad or overlapping window "
                                 f"({open_minute}, {close_minute}) in {day}")
            previous_close = close_minute
    if not any(week):
        raise ValueError(f"calendar {calendar.name!r} has no open hours in the week")
    return week
