"""BusinessClock: explicit cases (DST, holidays, closing instants) and properties against a
minute-by-minute reference model."""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from integration.core.sla.calendar import FOREVER, BusinessClock, Calendar

UTC = timezone.utc
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
US = holidays.country_holidays("US")
NEW_YORK, BERLIN = ZoneInfo("America/New_York"), ZoneInfo("Europe/Berlin")

BUSINESS = Calendar("business", ((((540, 1080),),) * 5) + ((), ()))
EXTENDED = Calendar("extended", ((((360, 1320),),) * 5) + (((540, 1020),), ()))
ALWAYS = Calendar("24x7", None, closes_on_holidays=False)
ALL_DAY = Calendar("all-day windows", (((0, 1440),),) * 7)
# Edges inside the DST gaps and folds of New York, Berlin and Lord Howe, a lunch break, a late window.
ODD = Calendar("odd", (((0, 75), (90, 150), (165, 200), (600, 720), (780, 1440)),) * 7)
CALENDARS = {c.name: c for c in (BUSINESS, EXTENDED, ALWAYS, ALL_DAY, ODD)}
ZONES = ("America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kolkata", "UTC")


def local(zone: ZoneInfo, *fields: int) -> datetime:
    return datetime(*fields, tzinfo=zone)


def midnight_after(zone: ZoneInfo, day: date) -> datetime:
    following = day + timedelta(days=1)
    return local(zone, following.year, following.month, following.day)


def clock(calendar: Calendar = BUSINESS, zone: ZoneInfo | str = NEW_YORK, closed=None) -> BusinessClock:
    return BusinessClock(calendar, zone) if closed is None else BusinessClock(calendar, zone, closed)


# ---------------------------------------------------------------- reference model (minute stepping)
# Per zone, a horizon of 16 days around each 2024 DST transition (Kolkata and UTC have none).
TRANSITIONS = {
    "America/New_York": (date(2024, 3, 10), date(2024, 11, 3)),
    "Europe/Berlin": (date(2024, 3, 31), date(2024, 10, 27)),
    "Australia/Lord_Howe": (date(2024, 4, 7), date(2024, 10, 6)),
    "Asia/Kolkata": (date(2024, 3, 10), date(2024, 11, 3)),
    "UTC": (date(2024, 3, 31), date(2024, 10, 27)),
}
HORIZON_DAYS = 16
# Closed days near every transition: the DST day itself, the day after, a weekday and a Saturday.
CLOSED_SETS = {
    "none": frozenset(),
    "some": frozenset(day + timedelta(days=n) for pair in TRANSITIONS.values() for day in pair
                      for n in (-4, 0, 1, 6)),
}
HORIZON_INDEX = (0, 1)  # spring, autumn


def horizon_start(zone: str, horizon: int) -> datetime:
    day = TRANSITIONS[zone][horizon] - timedelta(days=HORIZON_DAYS // 2)
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


@lru_cache(maxsize=None)
def high_water_walls(zone: str, horizon: int) -> tuple[tuple[date, int], ...]:
    """Per minute of the horizon: the highest local wall time shown so far, as (date, minute of day).

    A window is open while this mark is inside it: in the second pass of a DST fold the wall repeats
    times, but a window the clock already passed stays passed; across a gap the mark jumps.
    """
    start, tz = horizon_start(zone, horizon), ZoneInfo(zone)
    marks, high = [], None
    for i in range(-240, HORIZON_DAYS * 1440):  # warm up so the mark is right at the horizon start
        wall = (start + i * MINUTE).astimezone(tz).replace(tzinfo=None)
        high = wall if high is None or wall > high else high
        if i >= 0:
            marks.append((high.date(), high.hour * 60 + high.minute))
    return tuple(marks)


@lru_cache(maxsize=None)
def open_prefix(calendar: str, zone: str, horizon: int, closed: str) -> tuple[int, ...]:
    """prefix[i] = open minutes in the first i minutes of the horizon, by the reference rule."""
    cal, closed_days = CALENDARS[calendar], CLOSED_SETS[closed]
    if cal.week is None:
        return tuple(range(HORIZON_DAYS * 1440 + 1))
    flags = [bytes(any(o <= m < c for o, c in windows) for m in range(1440)) for windows in cal.week]
    prefix, total = [0], 0
    for day, minute in high_water_walls(zone, horizon):
        if flags[day.weekday()][minute] and not (cal.closes_on_holidays and day in closed_days):
            total += 1
        prefix.append(total)
    return tuple(prefix)


def reference_add(prefix: tuple[int, ...], i: int, minutes: int) -> int | None:
    """Minute index of add(start_i, minutes); None past the horizon."""
    if minutes == 0:
        k = bisect_right(prefix, prefix[i], lo=i)  # first k with an open minute k-1 >= i
        return k - 1 if k < len(prefix) else None
    k = bisect_left(prefix, prefix[i] + minutes, lo=i)
    return k if k < len(prefix) else None


settings_for = dict(
    # ODD twice: its edges in gaps and folds are where the rules bite
    calendar=st.sampled_from(sorted(CALENDARS) + ["odd"]), zone=st.sampled_from(ZONES),
    horizon=st.sampled_from(HORIZON_INDEX), closed=st.sampled_from(sorted(CLOSED_SETS)),
)


@lru_cache(maxsize=None)
def clock_for(calendar: str, zone: str, closed: str) -> BusinessClock:
    """One clock per combination, as the service keeps them (and their caches) warm."""
    closed_days = CLOSED_SETS[closed]
    return BusinessClock(CALENDARS[calendar], zone, lambda d: d in closed_days)


# Half the starts fall within a day of the transition night (minute 8 * 1440 of the horizon).
start_minutes = st.one_of(st.integers(0, 12 * 1440), st.integers(7 * 1440, 9 * 1440))


@given(**settings_for, i=start_minutes, minutes=st.integers(0, 3 * 1440))
def test_add_matches_minute_reference(calendar, zone, horizon, closed, i, minutes):
    prefix = open_prefix(calendar, zone, horizon, closed)
    expected = reference_add(prefix, i, minutes)
    assume(expected is not None)
    start = horizon_start(zone, horizon)
    got = clock_for(calendar, zone, closed).add(start + i * MINUTE, minutes * MINUTE)
    assert got == start + expected * MINUTE


@given(**settings_for, i=start_minutes, length=st.integers(-60, 4 * 1440))
def test_elapsed_matches_minute_reference(calendar, zone, horizon, closed, i, length):
    prefix = open_prefix(calendar, zone, horizon, closed)
    j = min(max(i + length, 0), len(prefix) - 1)
    start = horizon_start(zone, horizon)
    got = clock_for(calendar, zone, closed).elapsed(start + i * MINUTE, start + j * MINUTE)
    assert got == max(prefix[j] - prefix[i], 0) * MINUTE


@given(**settings_for, i=start_minutes)
def test_is_open_and_next_open_match_reference(calendar, zone, horizon, closed, i):
    prefix = open_prefix(calendar, zone, horizon, closed)
    expected = reference_add(prefix, i, 0)
    assume(expected is not None)
    start, c = horizon_start(zone, horizon), clock_for(calendar, zone, closed)
    assert c.is_open(start + i * MINUTE) == (prefix[i + 1] > prefix[i])
    assert c.next_open(start + i * MINUTE) == start + expected * MINUTE


DAY_US = 86400 * 10**6
instants = st.one_of(st.integers(0, 12 * DAY_US), st.integers(7 * DAY_US, 9 * DAY_US)).map(
    lambda us: timedelta(microseconds=us))
durations = st.integers(0, 2 * DAY_US).map(lambda us: timedelta(microseconds=us))


@given(**settings_for, offset=instants, d1=durations, d2=durations)
def test_add_properties_to_the_microsecond(calendar, zone, horizon, closed, offset, d1, d2):
    c, start = clock_for(calendar, zone, closed), horizon_start(zone, horizon) + offset
    t1, t2 = c.add(start, d1), c.add(start, d2)
    assert c.elapsed(start, t1) == d1
    assert (t1 <= t2) if d1 <= d2 else (t1 >= t2)
    tick = timedelta(microseconds=1)
    assert c.is_open(t1) or c.elapsed(t1 - tick, t1) == tick  # open, or a closing instant
    assert t1 >= start and t1.tzinfo is UTC


@given(**settings_for, offset=instants, a=durations, b=durations)
def test_elapsed_is_additive_and_matches_open_intervals(calendar, zone, horizon, closed, offset, a, b):
    c, start = clock_for(calendar, zone, closed), horizon_start(zone, horizon) + offset
    middle, end = start + a, start + a + b
    assert c.elapsed(start, middle) + c.elapsed(middle, end) == c.elapsed(start, end)
    intervals = list(c.open_intervals(start, end))
    assert sum((e - s for s, e in intervals), timedelta()) == c.elapsed(start, end)
    assert all(start <= s < e <= end for s, e in intervals)
    assert all(e1 <= s2 for (_, e1), (s2, _) in zip(intervals, intervals[1:]))


# ---------------------------------------------------------------- explicit cases
@pytest.mark.parametrize("zone, day", [(NEW_YORK, date(2024, 11, 3)), (BERLIN, date(2024, 10, 27))])
def test_24x7_counts_absolute_hours_across_fall_back(zone, day):
    c, midnight = clock(ALWAYS, zone), local(zone, day.year, day.month, day.day)
    due = c.add(midnight, 4 * HOUR)
    assert due - midnight == 4 * HOUR
    assert due.astimezone(zone).hour == 3  # 4 absolute hours, but the wall clock only moved 3
    assert c.elapsed(midnight, midnight_after(zone, day)) == 25 * HOUR


@pytest.mark.parametrize("zone, day", [(NEW_YORK, date(2024, 3, 10)), (BERLIN, date(2024, 3, 31))])
def test_24x7_counts_absolute_hours_across_spring_forward(zone, day):
    c, midnight = clock(ALWAYS, zone), local(zone, day.year, day.month, day.day)
    assert c.add(midnight, 4 * HOUR).astimezone(zone).hour == 5
    assert c.elapsed(midnight, midnight_after(zone, day)) == 23 * HOUR


@pytest.mark.parametrize("zone, friday, monday", [
    (NEW_YORK, date(2024, 3, 8), date(2024, 3, 11)),  # spring forward on Sunday Mar 10
    (NEW_YORK, date(2024, 11, 1), date(2024, 11, 4)),  # fall back on Sunday Nov 3
    (BERLIN, date(2024, 3, 29), date(2024, 4, 1)),  # spring forward Mar 31
    (BERLIN, date(2024, 10, 25), date(2024, 10, 28)),  # fall back Oct 27
])
def test_business_hours_keep_local_wall_times_across_dst(zone, friday, monday):
    c = clock(BUSINESS, zone)
    due = c.add(local(zone, friday.year, friday.month, friday.day, 16), 3 * HOUR)
    assert due == local(zone, monday.year, monday.month, monday.day, 10)  # 2h Friday + 1h from 09:00
    monday_open = local(zone, monday.year, monday.month, monday.day, 9)
    assert c.next_open(local(zone, friday.year, friday.month, friday.day, 18)) == monday_open
    assert c.elapsed(monday_open, monday_open + 24 * HOUR) == 9 * HOUR


@pytest.mark.parametrize("zone, day, hours", [
    (NEW_YORK, date(2024, 3, 10), 23), (NEW_YORK, date(2024, 11, 3), 25),
    (BERLIN, date(2024, 3, 31), 23), (BERLIN, date(2024, 10, 27), 25),
])
def test_windows_spanning_a_transition_are_shorter_or_longer_in_absolute_time(zone, day, hours):
    c = clock(ALL_DAY, zone)
    start = local(zone, day.year, day.month, day.day)
    assert c.elapsed(start, midnight_after(zone, day)) == hours * HOUR  # 00:00-24:00 local
    assert c.add(start, hours * HOUR) == midnight_after(zone, day)
    absolute = start.astimezone(UTC)
    assert c.elapsed(absolute, absolute + 30 * HOUR) == 30 * HOUR  # no gap at midnight or at the jump


def test_window_edges_in_a_dst_gap_mean_the_jump_instant():
    gap_edges = Calendar("gap", (((150, 170), (170, 240)),) * 7)  # 02:30-02:50 and 02:50-04:00 local
    c = clock(gap_edges, NEW_YORK)
    jump = datetime(2024, 3, 10, 7, tzinfo=UTC)  # 02:00 EST became 03:00 EDT
    assert list(c.open_intervals(datetime(2024, 3, 10, tzinfo=UTC), datetime(2024, 3, 11, tzinfo=UTC))) == [
        (jump, jump + HOUR)]  # the first window is empty, the second opens at the jump until 04:00 EDT
    assert c.next_open(datetime(2024, 3, 10, 6, tzinfo=UTC)) == jump


def test_window_edges_in_a_dst_fold_mean_the_first_occurrence():
    fold_edges = Calendar("fold", (((30, 90), (90, 150)),) * 7)  # 00:30-01:30, 01:30-02:30 local
    c = clock(fold_edges, NEW_YORK)
    first_0130 = datetime(2024, 11, 3, 5, 30, tzinfo=UTC)  # 01:30 EDT; 01:30 EST is 06:30Z
    assert list(c.open_intervals(datetime(2024, 11, 3, tzinfo=UTC), datetime(2024, 11, 4, tzinfo=UTC))) == [
        (datetime(2024, 11, 3, 4, 30, tzinfo=UTC), datetime(2024, 11, 3, 7, 30, tzinfo=UTC))]
    assert c.elapsed(datetime(2024, 11, 3, 4, 30, tzinfo=UTC), first_0130) == HOUR
    assert c.elapsed(first_0130, datetime(2024, 11, 4, tzinfo=UTC)) == 2 * HOUR  # 01:30 EDT..02:30 EST


def test_thanksgiving_and_christmas_close_business_days():
    c = clock(BUSINESS, NEW_YORK, lambda d: d in US)
    assert c.add(local(NEW_YORK, 2024, 11, 27, 17), 2 * HOUR) == local(NEW_YORK, 2024, 11, 29, 10)
    assert c.add(local(NEW_YORK, 2024, 12, 24, 17, 30), HOUR) == local(NEW_YORK, 2024, 12, 26, 9, 30)
    assert not c.is_open(local(NEW_YORK, 2024, 12, 25, 12))
    assert c.elapsed(local(NEW_YORK, 2024, 11, 25), local(NEW_YORK, 2024, 11, 30)) == 4 * 9 * HOUR


def test_holidays_close_extended_days_but_not_24x7():
    extended = clock(EXTENDED, NEW_YORK, lambda d: d in US)
    always = clock(ALWAYS, NEW_YORK, lambda d: d in US)
    thanksgiving_noon = local(NEW_YORK, 2024, 11, 28, 12)
    assert extended.next_open(thanksgiving_noon) == local(NEW_YORK, 2024, 11, 29, 6)
    assert always.is_open(thanksgiving_noon)
    assert always.add(thanksgiving_noon, HOUR) == thanksgiving_noon + HOUR


def test_created_on_a_holiday_starts_at_the_next_opening():
    c = clock(BUSINESS, NEW_YORK, lambda d: d in US)
    assert c.add(local(NEW_YORK, 2024, 11, 28, 10), HOUR) == local(NEW_YORK, 2024, 11, 29, 10)


def test_created_on_a_saturday_starts_on_monday():
    c = clock(BUSINESS, NEW_YORK)
    saturday = local(NEW_YORK, 2024, 6, 15, 10)
    assert not c.is_open(saturday)
    assert c.next_open(saturday) == local(NEW_YORK, 2024, 6, 17, 9)
    assert c.add(saturday, HOUR) == local(NEW_YORK, 2024, 6, 17, 10)
    assert c.elapsed(saturday, local(NEW_YORK, 2024, 6, 17, 9)) == timedelta(0)


def test_created_exactly_at_closing_counts_from_the_next_morning():
    c = clock(BUSINESS, NEW_YORK)
    closing = local(NEW_YORK, 2024, 6, 12, 18)
    assert not c.is_open(closing)
    assert c.is_open(closing - timedelta(microseconds=1))
    assert c.add(closing, timedelta(0)) == local(NEW_YORK, 2024, 6, 13, 9)
    assert c.add(closing, HOUR) == local(NEW_YORK, 2024, 6, 13, 10)


def test_a_target_used_up_exactly_at_closing_is_due_at_closing():
    c = clock(BUSINESS, NEW_YORK)
    assert c.add(local(NEW_YORK, 2024, 6, 12, 10), 8 * HOUR) == local(NEW_YORK, 2024, 6, 12, 18)
    assert c.add(local(NEW_YORK, 2024, 6, 12, 9), 27 * HOUR) == local(NEW_YORK, 2024, 6, 14, 18)  # '3d'


def test_24x7_has_no_gap_at_midnight():
    for c in (clock(ALWAYS, NEW_YORK), clock(ALL_DAY, NEW_YORK)):
        late = local(NEW_YORK, 2024, 6, 12, 23)
        assert c.add(late, 2 * HOUR) == local(NEW_YORK, 2024, 6, 13, 1)
        assert c.elapsed(late, local(NEW_YORK, 2024, 6, 13, 1)) == 2 * HOUR
        assert c.is_open(local(NEW_YORK, 2024, 6, 13))


def test_extended_calendar_runs_weekday_evenings_and_saturday():
    c = clock(EXTENDED, NEW_YORK)
    assert EXTENDED.day_seconds == 16 * 3600
    assert c.add(local(NEW_YORK, 2024, 6, 14, 21), 2 * HOUR) == local(NEW_YORK, 2024, 6, 15, 10)  # Fri -> Sat
    saturday = local(NEW_YORK, 2024, 6, 15, 16, 30)
    assert c.add(saturday, HOUR) == local(NEW_YORK, 2024, 6, 17, 6, 30)  # Sat -> Mon
    assert c.add(local(NEW_YORK, 2024, 6, 17, 5), timedelta(0)) == local(NEW_YORK, 2024, 6, 17, 6)


def test_multi_window_day():
    lunch = Calendar("lunch break", ((((540, 720), (780, 1080)),) * 5) + ((), ()))
    c = clock(lunch, NEW_YORK)
    assert c.add(local(NEW_YORK, 2024, 6, 12, 11), 2 * HOUR) == local(NEW_YORK, 2024, 6, 12, 14)
    assert c.add(local(NEW_YORK, 2024, 6, 12, 11), HOUR) == local(NEW_YORK, 2024, 6, 12, 12)  # lunch closing
    assert not c.is_open(local(NEW_YORK, 2024, 6, 12, 12, 30))
    assert [(s.astimezone(NEW_YORK).hour, e.astimezone(NEW_YORK).hour) for s, e in c.open_intervals(
        local(NEW_YORK, 2024, 6, 12, 10), local(NEW_YORK, 2024, 6, 12, 15))] == [(10, 12), (13, 15)]


def test_unbounded_open_intervals():
    assert next(clock(ALWAYS).open_intervals(local(NEW_YORK, 2024, 6, 15))) == (
        datetime(2024, 6, 15, 4, tzinfo=UTC), FOREVER)
    first_two = []
    for interval in clock(BUSINESS).open_intervals(local(NEW_YORK, 2024, 6, 14, 17)):
        first_two.append(interval)
        if len(first_two) == 2:
            break
    assert first_two == [(local(NEW_YORK, 2024, 6, 14, 17), local(NEW_YORK, 2024, 6, 14, 18)),
                         (local(NEW_YORK, 2024, 6, 17, 9), local(NEW_YORK, 2024, 6, 17, 18))]


def test_outputs_are_utc_and_tz_may_be_a_name():
    due = BusinessClock(BUSINESS, "Asia/Kolkata").add(datetime(2024, 6, 12, 3, 30, tzinfo=UTC), HOUR)
    assert due == datetime(2024, 6, 12, 4, 30, tzinfo=UTC) and due.tzinfo is UTC  # 09:00 IST + 1h


def test_closed_lookups_are_cached_per_date():
    asked: list[date] = []
    c = clock(BUSINESS, NEW_YORK, lambda d: asked.append(d) or d in US)
    for _ in range(3):
        c.add(local(NEW_YORK, 2024, 11, 25, 10), 40 * HOUR)
    # Mon 8h, Tue 9h, Wed 9h, Thanksgiving, Fri 9h, Mon 5h: six dates, each asked once, weekends never
    assert len(asked) == len(set(asked)) == 6


def test_cost_does_not_grow_with_duration_on_24x7():
    start, far = local(NEW_YORK, 2024, 6, 12), timedelta(days=365 * 5000)
    assert clock(ALWAYS).add(start, far) == start.astimezone(UTC) + far  # absolute, not wall-clock, days


@pytest.mark.parametrize("call", [
    lambda c: c.add(datetime(2024, 6, 12, 10), HOUR),
    lambda c: c.elapsed(datetime(2024, 6, 12, 10), local(NEW_YORK, 2024, 6, 13)),
    lambda c: c.next_open(datetime(2024, 6, 12, 10)),
    lambda c: c.is_open(datetime(2024, 6, 12, 10)),
    lambda c: c.open_intervals(local(NEW_YORK, 2024, 6, 12), datetime(2024, 6, 13)),
    lambda c: c.add(local(NEW_YORK, 2024, 6, 12), -HOUR),
])
def test_naive_datetimes_and_negative_durations_are_refused(call):
    with pytest.raises(ValueError):
        call(clock(BUSINESS))


def test_a_calendar_that_never_opens_is_refused():
    with pytest.raises(ValueError, match="no open hours"):
        clock(Calendar("never", ((),) * 7))
    with pytest.raises(ValueError, match="overlapping"):
        clock(Calendar("bad", (((600, 540),),) * 7))
    always_closed = clock(BUSINESS, NEW_YORK, lambda d: True)
    with pytest.raises(ValueError, match="all days closed"):
        always_closed.add(local(NEW_YORK, 2024, 6, 12), HOUR)
    assert always_closed.elapsed(local(NEW_YORK, 2024, 6, 12), local(NEW_YORK, 2030, 6, 12)) == timedelta(0)
