"""Targets and opening hours as admins write them."""
from __future__ import annotations

import pytest
from marshmallow import ValidationError

from integration.mappings.model import Duration
from integration.mappings.timespec import parse_days, parse_duration, parse_window
from integration.core.sla.calendar import Calendar


@pytest.mark.parametrize("text,minutes,days", [
    ("30m", 30, 0), ("4h", 240, 0), ("3d", 0, 3), ("1h30m", 90, 0), ("2d4h", 240, 2),
    ("1d 2h 5m", 125, 1), (" 15M ", 15, 0), ("90m", 90, 0),
])
def test_durations(text: str, minutes: int, days: int) -> None:
    duration = parse_duration(text)
    assert (duration.minutes, duration.days) == (minutes, days)
    assert duration.text == text.strip().lower()


@pytest.mark.parametrize("value", ["", "4", 4, "4 hours", "h", "1.5h", "-2h", "3m2h", "1w", None, True])
def test_bad_durations(value) -> None:
    with pytest.raises(ValidationError, match="is not a duration"):
        parse_duration(value)


def test_zero_duration() -> None:
    with pytest.raises(ValidationError, match="must be longer than zero"):
        parse_duration("0h0m")


def test_days_follow_the_calendar() -> None:
    business = Calendar("business", ((((540, 1080),),) * 5) + ((), ()))
    split_day = Calendar("split", ((((480, 720), (780, 1020)),) * 5) + ((), ()))  # 08-12 and 13-17: 8 h
    always = Calendar("24x7", None, closes_on_holidays=False)
    assert parse_duration("1d2h").seconds_on(business) == (9 + 2) * 3600
    assert parse_duration("2d").seconds_on(split_day) == 16 * 3600
    assert Duration("3d", days=3).seconds_on(always) == 72 * 3600


@pytest.mark.parametrize("text,window", [
    ("09:00-18:00", (540, 1080)), ("9:00-17:30", (540, 1050)), ("00:00-24:00", (0, 1440)),
    ("22:00 - 24:00", (1320, 1440)),
])
def test_windows(text: str, window: tuple[int, int]) -> None:
    assert parse_window(text) == window


@pytest.mark.parametrize("text,message", [
    ("9-18", "is not an opening window"), ("09:00", "is not an opening window"),
    ("24:00-24:00", "is not an opening window"), ("09:60-10:00", "is not an opening window"),
    ("18:00-09:00", "closes before it opens"), ("10:00-10:00", "closes before it opens"),
    ("25:00-26:00", "is not an opening window"), (900, "is not an opening window"),
])
def test_bad_windows(text, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        parse_window(text)


def test_days() -> None:
    assert parse_days("mon-fri") == [0, 1, 2, 3, 4]
    assert parse_days("SAT") == [5]
    assert parse_days("sat-sun") == [5, 6]
    assert parse_days("fri-mon") is None and parse_days("monday") is None and parse_days("mon-mon") is None
