"""Weekly opening hours in local wall-clock time, and the business clock that walks them.

A Calendar says when a tier's clock runs in a week; a BusinessClock adds the customer's timezone
and closed days (holidays) and turns that into exact UTC instants.
"""
from __future__ import annotations

from dataclasses import dataclass

MINUTES_PER_DAY = 24 * 60
Window = tuple[int, int]  # (open, close) in minutes after local midnight, 0 <= open < close <= 1440


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
