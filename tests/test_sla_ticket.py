"""compute_sla: the product's promises case by case, and a property against a minute-stepping replay."""
from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from integration.core.sla.calendar import BusinessClock
from integration.core.sla.ticket import (
    Policy, State, Target, TargetStatus, TicketEvent, TicketHistory, compute_sla,
)
from tests.test_sla_calendar import (
    ALWAYS, BUSINESS, CLOSED_SETS, MINUTE, UTC, ZONES, clock_for, horizon_start, open_prefix,
)

NY = ZoneInfo("America/New_York")
HOUR = timedelta(hours=1)
FR, RES = Target.FIRST_RESPONSE, Target.RESOLUTION
BUSINESS_NY = BusinessClock(BUSINESS, NY)
ALWAYS_NY = BusinessClock(ALWAYS, NY)
NORMAL = Policy(BUSINESS_NY, first_response=2 * HOUR, resolution=8 * HOUR, label="growth/normal")
URGENT_24X7 = Policy(ALWAYS_NY, first_response=HOUR, resolution=4 * HOUR, label="growth/urgent on 24x7")


def ny(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=NY)


def day(offset: int, hour: int, minute: int = 0) -> datetime:
    """Local New York time, `offset` days after Monday 10 June 2024."""
    return ny(2024, 6, 10 + offset, hour, minute)


def status(at: datetime, value: str) -> TicketEvent:
    return TicketEvent(at=at, kind="status", status=value)


def reply(at: datetime, public: bool = True, by_agent: bool = True) -> TicketEvent:
    return TicketEvent(at=at, kind="comment", public=public, by_agent=by_agent)


def policy_change(at: datetime, policy: Policy) -> TicketEvent:
    return TicketEvent(at=at, kind="policy", policy=policy)


def sla(created: datetime, now: datetime, *events: TicketEvent, policy: Policy = NORMAL,
        initial_status: str = "new", ratio: float = 0.8) -> dict[Target, TargetStatus]:
    return compute_sla(TicketHistory(created, policy, tuple(events), initial_status), now, ratio)


# ---------------------------------------------------------------- explicit cases
def test_running_ticket_reports_due_warning_and_remaining():
    result = sla(day(0, 10), day(0, 11))
    first, resolution = result[FR], result[RES]
    assert (first.state, first.elapsed, first.remaining) == (State.RUNNING, HOUR, HOUR)
    assert first.due == day(0, 12) and first.warning == day(0, 11, 36)  # 80% of 2h = 96 min
    assert resolution.due == day(0, 18)  # 8h used up exactly at closing: due at closing, same day
    assert resolution.warning == day(0, 16, 24)
    assert first.due.tzinfo is UTC and first.stopped_at is None and first.breached_at is None
    assert first.target_length == 2 * HOUR


def test_warning_may_be_in_the_past_while_running():
    first = sla(day(0, 10), day(0, 11, 50))[FR]
    assert first.state is State.RUNNING and first.warning == day(0, 11, 36) < day(0, 11, 50)


def test_first_response_met_by_a_public_agent_reply():
    first = sla(day(0, 10), day(0, 15), reply(day(0, 11)))[FR]
    assert (first.state, first.stopped_at, first.elapsed) == (State.MET, day(0, 11), HOUR)
    assert first.due == day(0, 12) and first.breached_at is None and first.remaining == HOUR


def test_first_response_breached_by_a_late_reply():
    first = sla(day(0, 10), day(0, 15), reply(day(0, 13)))[FR]
    assert (first.state, first.breached_at, first.due, first.stopped_at) == (
        State.BREACHED, day(0, 12), day(0, 12), day(0, 13))
    assert first.elapsed == 3 * HOUR and first.remaining == -HOUR  # negative: the overrun


def test_a_reply_exactly_at_due_is_met():
    assert sla(day(0, 10), day(0, 15), reply(day(0, 12)))[FR].state is State.MET


def test_target_used_up_at_closing_is_breached_by_a_reply_after_closing():
    created = day(0, 16)  # 2h first response used up at 18:00 closing
    on_time = sla(created, day(0, 20), reply(day(0, 18)))[FR]
    late = sla(created, day(0, 20), reply(day(0, 18, 30)))[FR]
    assert on_time.state is State.MET and on_time.due == day(0, 18)
    assert (late.state, late.breached_at, late.elapsed) == (State.BREACHED, day(0, 18), 2 * HOUR)
    assert late.remaining == timedelta(0)  # no open time passed since; still late
    open_overnight = sla(created, day(0, 20))[FR]
    assert open_overnight.state is State.BREACHED and open_overnight.breached_at == day(0, 18)


def test_internal_notes_and_end_user_comments_do_not_stop_first_response():
    first = sla(day(0, 10), day(0, 11, 30), reply(day(0, 10, 30), public=False),
                reply(day(0, 11), by_agent=False))[FR]
    assert first.state is State.RUNNING and first.elapsed == 90 * MINUTE and first.due == day(0, 12)


def test_only_the_first_public_agent_reply_counts():
    first = sla(day(0, 10), day(0, 15), reply(day(0, 11)), reply(day(0, 14)))[FR]
    assert first.state is State.MET and first.stopped_at == day(0, 11)


def test_first_response_does_not_pause_on_pending_or_hold():
    result = sla(day(0, 10), day(0, 11, 30), status(day(0, 10, 30), "pending"))
    assert result[FR].state is State.RUNNING and result[FR].elapsed == 90 * MINUTE
    assert result[RES].state is State.PAUSED and result[RES].elapsed == 30 * MINUTE


def test_pending_across_a_weekend():
    created, pending, reopened = day(4, 16), day(4, 17), day(7, 10)  # Fri 16:00, Fri 17:00, Mon 10:00
    on_saturday = sla(created, day(5, 12), status(pending, "pending"))[RES]
    assert (on_saturday.state, on_saturday.due, on_saturday.warning) == (State.PAUSED, None, None)
    assert on_saturday.elapsed == HOUR and on_saturday.remaining == 7 * HOUR
    on_monday = sla(created, day(7, 12), status(pending, "pending"), status(reopened, "open"))[RES]
    assert on_monday.state is State.RUNNING and on_monday.elapsed == 3 * HOUR  # Fri 1h + Mon 10-12
    assert on_monday.due == day(7, 17)  # 5h left from 12:00
    assert on_monday.warning == day(7, 15, 24)  # 6.4h: 1h Fri + 5.4h from Mon 10:00


def test_hold_pauses_and_custom_pause_statuses_are_honoured():
    assert sla(day(0, 9), day(0, 12), status(day(0, 10), "hold"))[RES].elapsed == HOUR
    only_hold = Policy(BUSINESS_NY, 2 * HOUR, 8 * HOUR, pause_statuses=frozenset({"hold"}))
    pending = sla(day(0, 9), day(0, 12), status(day(0, 10), "pending"), policy=only_hold)[RES]
    assert pending.state is State.RUNNING and pending.elapsed == 3 * HOUR


def test_initial_pending_status_starts_paused():
    resolution = sla(day(0, 9), day(0, 12), initial_status="pending")[RES]
    assert resolution.state is State.PAUSED and resolution.elapsed == timedelta(0)


def test_solved_ticket_resolution_met_and_reopened_keeps_elapsed():
    solved = sla(day(0, 9), day(0, 15), status(day(0, 12), "solved"))[RES]
    assert (solved.state, solved.stopped_at, solved.elapsed, solved.due) == (
        State.MET, day(0, 12), 3 * HOUR, day(0, 17))
    reopened = sla(day(0, 9), day(1, 11), status(day(0, 12), "solved"), status(day(1, 9), "open"))[RES]
    assert (reopened.state, reopened.stopped_at, reopened.elapsed) == (State.RUNNING, None, 5 * HOUR)
    assert reopened.due == day(1, 14)


def test_reopened_ticket_takes_the_policy_changed_while_it_was_solved():
    events = (status(day(0, 12), "solved"), policy_change(day(0, 13), URGENT_24X7),
              status(day(0, 14), "open"))
    resolution = sla(day(0, 9), day(0, 14, 30), *events)[RES]
    assert (resolution.state, resolution.target_length) == (State.RUNNING, 4 * HOUR)
    assert resolution.due == day(0, 15)
    solved = sla(day(0, 9), day(0, 13, 30), *events[:2])[RES]
    assert solved.state is State.MET and solved.target_length == 8 * HOUR  # judged by the policy at the stop
    tight = Policy(ALWAYS_NY, first_response=HOUR, resolution=2 * HOUR)
    past = sla(day(0, 9), day(0, 14, 30), events[0], policy_change(day(0, 13), tight), events[2])[RES]
    assert (past.state, past.breached_at, past.elapsed) == (State.BREACHED, day(0, 14), 3.5 * HOUR)


def test_resolution_breach_stays_after_solve():
    resolution = sla(day(0, 9), day(1, 15), status(day(1, 12), "solved"))[RES]  # 8h used up Mon 17:00
    assert (resolution.state, resolution.breached_at, resolution.stopped_at) == (
        State.BREACHED, day(0, 17), day(1, 12))
    assert resolution.elapsed == 12 * HOUR and resolution.remaining == -4 * HOUR  # Mon 9h + Tue 3h


def test_solved_without_agent_reply_stops_first_response():
    met = sla(day(0, 10), day(0, 15), status(day(0, 11), "solved"))[FR]
    late = sla(day(0, 10), day(0, 15), status(day(0, 13), "closed"))[FR]
    assert met.state is State.MET and met.stopped_at == day(0, 11)
    assert late.state is State.BREACHED and late.breached_at == day(0, 12)
    reopened = sla(day(0, 10), day(0, 15), status(day(0, 11), "solved"), status(day(0, 12), "open"))[FR]
    assert reopened.state is State.MET and reopened.stopped_at == day(0, 11)  # not restarted


def test_priority_change_keeps_elapsed_and_uses_the_new_clock_after_it():
    created, change = day(4, 17), day(5, 10)  # Fri 17:00 business (1h), Sat 10:00 -> 24/7
    resolution = sla(created, day(5, 12), policy_change(change, URGENT_24X7))[RES]
    assert resolution.elapsed == 3 * HOUR and resolution.target_length == 4 * HOUR  # 1h old + 2h new
    assert resolution.due == day(5, 13)  # on the 24/7 clock, on a Saturday


def test_priority_change_that_is_already_past_the_new_target_breaches_at_once():
    result = sla(day(0, 9), day(0, 12), policy_change(day(0, 11), URGENT_24X7))
    first = result[FR]  # 2h elapsed > new 1h target
    assert (first.state, first.breached_at, first.due) == (State.BREACHED, day(0, 11), day(0, 11))
    assert first.warning == day(0, 10, 36)  # already warned under the old target: kept
    assert first.elapsed == 3 * HOUR and first.remaining == -2 * HOUR
    assert result[RES].state is State.RUNNING and result[RES].due == day(0, 13)


def test_priority_lowered_moves_due_later_and_warning_into_the_future():
    relaxed = Policy(BUSINESS_NY, first_response=8 * HOUR, resolution=24 * HOUR)
    first = sla(day(0, 9), day(0, 10, 45), policy_change(day(0, 10, 40), relaxed))[FR]
    assert first.state is State.RUNNING and first.due == day(0, 17)
    assert first.warning == day(0, 15, 24)  # 80% of 8h; the 10:36 warning of the 2h target is gone


def test_priority_raised_past_the_new_warning_warns_at_the_change():
    strict = Policy(BUSINESS_NY, first_response=HOUR, resolution=4 * HOUR)
    first = sla(day(0, 9), day(0, 9, 55), policy_change(day(0, 9, 50), strict))[FR]
    assert first.state is State.RUNNING and first.due == day(0, 10) and first.warning == day(0, 9, 50)


def test_priority_change_to_exactly_the_elapsed_time_breaches_when_the_clock_runs_on():
    exact = Policy(BUSINESS_NY, first_response=HOUR, resolution=4 * HOUR)
    at_change = sla(day(0, 9), day(0, 10), policy_change(day(0, 10), exact))[FR]
    later = sla(day(0, 9), day(0, 10, 1), policy_change(day(0, 10), exact))[FR]
    assert (at_change.state, at_change.due, at_change.remaining) == (State.RUNNING, day(0, 10), timedelta(0))
    assert (later.state, later.breached_at) == (State.BREACHED, day(0, 10))


def test_events_after_now_are_ignored_and_early_events_are_clamped():
    result = sla(day(0, 10), day(0, 11), reply(day(0, 10, 30) + 2 * HOUR), status(day(0, 8), "pending"))
    assert result[FR].state is State.RUNNING
    assert result[RES].state is State.PAUSED and result[RES].elapsed == timedelta(0)


def test_events_are_replayed_in_time_order():
    out_of_order = sla(day(0, 9), day(0, 15), status(day(0, 13), "open"), status(day(0, 11), "pending"))[RES]
    assert out_of_order.elapsed == 4 * HOUR and out_of_order.state is State.RUNNING


def test_created_on_a_saturday_starts_on_monday():
    result = sla(day(5, 10), day(5, 20))
    assert result[FR].elapsed == timedelta(0) and result[FR].due == day(7, 11)


def test_now_before_creation_means_creation():
    first = sla(day(0, 10), day(0, 9))[FR]
    assert first.state is State.RUNNING and first.due == day(0, 12) and first.elapsed == timedelta(0)


@pytest.mark.parametrize("make", [
    lambda: TicketEvent(at=day(0, 9), kind="note"),
    lambda: TicketEvent(at=day(0, 9), kind="status"),
    lambda: TicketEvent(at=day(0, 9), kind="policy"),
    lambda: Policy(BUSINESS_NY, timedelta(0), HOUR),
    lambda: sla(datetime(2024, 6, 10, 9), day(0, 10)),
    lambda: sla(day(0, 9), day(0, 10), ratio=1.5),
])
def test_bad_input_is_refused(make):
    with pytest.raises(ValueError):
        make()


# ---------------------------------------------------------------- property: minute-stepping replay
# (calendar, first response minutes, resolution minutes, pause statuses); odd lengths make the
# warning threshold fall inside a minute.
POLICY_SPECS = (
    ("business", 60, 240, frozenset({"pending", "hold"})),
    ("extended", 30, 600, frozenset({"pending"})),
    ("24x7", 15, 120, frozenset({"pending", "hold"})),
    ("odd", 45, 300, frozenset({"hold"})),
    ("business", 7, 23, frozenset({"pending", "hold"})),
)
STATUSES = ("new", "open", "pending", "hold", "solved", "closed")


@dataclass
class RefTrack:
    length: timedelta
    warn_length: timedelta
    spec: int  # index in POLICY_SPECS of the clock it runs on
    elapsed: timedelta = timedelta(0)
    warned: timedelta | None = None  # instants as offsets from the horizon start
    breached: timedelta | None = None
    frozen: tuple | None = None


@dataclass
class RefTicket:
    """The rules, stepped one minute at a time (all event instants are whole minutes)."""

    prefixes: list[tuple[int, ...]]
    ratio: float
    spec: int
    status: str = "new"
    tracks: dict = field(default_factory=dict)

    def retarget(self, track: RefTrack, at: timedelta) -> None:
        length = timedelta(minutes=POLICY_SPECS[self.spec][1 if track is self.tracks[FR] else 2])
        track.length, track.warn_length, track.spec = length, length * self.ratio, self.spec
        if track.breached is None and track.elapsed > length:
            track.breached = at
        if track.elapsed < track.warn_length and track.breached is None:
            track.warned = None
        elif track.warned is None:
            track.warned = at

    def reach(self, track: RefTrack, at: timedelta, amount: timedelta) -> timedelta:
        if amount <= timedelta(0):
            return at
        prefix, i = self.prefixes[track.spec], at // MINUTE
        whole, part = divmod(amount, MINUTE)
        k = bisect_left(prefix, prefix[i] + whole + (1 if part else 0), lo=i)
        assume(k < len(prefix))  # beyond the horizon
        return (k - 1) * MINUTE + part if part else k * MINUTE

    def freeze(self, track: RefTrack, at: timedelta, stopped: bool) -> tuple:
        if track.frozen:
            return track.frozen
        if track.breached is not None:
            state, due, warning = State.BREACHED, track.breached, track.warned
        elif not stopped and self.paused(track):
            state, due, warning = State.PAUSED, None, None
        else:
            state = State.MET if stopped else State.RUNNING
            due = self.reach(track, at, track.length - track.elapsed)
            warning = track.warned if track.warned is not None else self.reach(
                track, at, track.warn_length - track.elapsed)
        return (state, due, warning, track.elapsed, track.length - track.elapsed, track.length,
                at if stopped else None, track.breached)

    def paused(self, track: RefTrack) -> bool:
        return track is self.tracks[RES] and self.status in POLICY_SPECS[self.spec][3]

    def apply(self, event: tuple, at: timedelta) -> None:
        kind, value = event
        if kind == "policy":
            self.spec = value
            for track in self.tracks.values():
                if not track.frozen:
                    self.retarget(track, at)
        elif kind == "comment":
            if value == (True, True) and not self.tracks[FR].frozen:
                self.tracks[FR].frozen = self.freeze(self.tracks[FR], at, stopped=True)
        else:
            self.status = value
            if value in ("solved", "closed"):
                for track in self.tracks.values():
                    track.frozen = self.freeze(track, at, stopped=True)
            elif self.tracks[RES].frozen:
                self.tracks[RES].frozen = None
                self.retarget(self.tracks[RES], at)

    def step(self, minute: int) -> None:
        at = minute * MINUTE
        for track in self.tracks.values():
            if track.frozen or self.paused(track):
                continue
            if track.breached is None and track.elapsed >= track.length:
                track.breached = at  # running past the instant it was used up
            prefix = self.prefixes[track.spec]
            if prefix[minute + 1] > prefix[minute]:
                if track.warned is None and track.elapsed + MINUTE >= track.warn_length:
                    track.warned = at + (track.warn_length - track.elapsed)
                track.elapsed += MINUTE


def reference_sla(prefixes, spec, ratio, created, now, initial, events) -> dict[Target, tuple]:
    ticket = RefTicket(prefixes, ratio, spec)
    ticket.tracks = {target: RefTrack(timedelta(0), timedelta(0), spec) for target in (FR, RES)}
    for track in ticket.tracks.values():
        ticket.retarget(track, created * MINUTE)
    now = max(now, created)
    ticket.apply(("status", initial), created * MINUTE)
    timeline = sorted(((max(at, created), kind_value) for at, kind_value in events if at <= now),
                      key=lambda pair: pair[0])
    for minute in range(created, now + 1):
        while timeline and timeline[0][0] == minute:
            ticket.apply(timeline.pop(0)[1], minute * MINUTE)
        if minute < now:
            ticket.step(minute)
    return {target: ticket.freeze(track, now * MINUTE, stopped=False)
            for target, track in ticket.tracks.items()}


event_values = st.one_of(
    st.tuples(st.just("status"), st.sampled_from(STATUSES)),
    st.tuples(st.just("comment"), st.tuples(st.booleans(), st.booleans())),
    st.tuples(st.just("policy"), st.integers(0, len(POLICY_SPECS) - 1)),
)


@given(
    zone=st.sampled_from(ZONES), horizon=st.sampled_from((0, 1)), closed=st.sampled_from(sorted(CLOSED_SETS)),
    spec=st.integers(0, len(POLICY_SPECS) - 1), ratio=st.sampled_from((0.8, 0.5, 0.75, 1.0)),
    created=st.integers(6 * 1440, 9 * 1440), span=st.integers(0, 3 * 1440),
    initial=st.sampled_from(("new", "open", "pending")),
    events=st.lists(st.tuples(st.integers(-120, 3 * 1440 + 60), event_values), max_size=7),
)
def test_compute_sla_matches_minute_stepping_replay(zone, horizon, closed, spec, ratio, created, span,
                                                    initial, events):
    start = horizon_start(zone, horizon)
    names = [name for name, *_ in POLICY_SPECS]
    prefixes = [open_prefix(name, zone, horizon, closed) for name in names]
    policies = [Policy(clock_for(name, zone, closed), timedelta(minutes=fr), timedelta(minutes=res), pause)
                for name, fr, res, pause in POLICY_SPECS]
    absolute = [(created + offset, value) for offset, value in events]
    history = TicketHistory(
        created_at=start + created * MINUTE, policy=policies[spec], initial_status=initial,
        events=tuple(_event(start + at * MINUTE, value, policies) for at, value in absolute))
    expected = reference_sla(prefixes, spec, ratio, created, created + span, initial, absolute)
    got = compute_sla(history, start + (created + span) * MINUTE, ratio)
    for target in (FR, RES):
        instant = lambda offset: None if offset is None else start + offset  # noqa: E731
        state, due, warning, elapsed, remaining, length, stopped, breached = expected[target]
        assert got[target] == TargetStatus(target, state, instant(due), instant(warning), elapsed, remaining,
                                           length, instant(stopped), instant(breached))


def _event(at: datetime, value: tuple, policies: list[Policy]) -> TicketEvent:
    kind, detail = value
    if kind == "status":
        return TicketEvent(at=at, kind="status", status=detail)
    if kind == "comment":
        return TicketEvent(at=at, kind="comment", public=detail[0], by_agent=detail[1])
    return TicketEvent(at=at, kind="policy", policy=policies[detail])


# ---------------------------------------------------------------- exclusions and resolution_starts
def excluded(at: datetime, on: bool = True) -> TicketEvent:
    return TicketEvent(at=at, kind="exclusion", excluded=on)


def test_an_exclusion_stops_both_clocks_and_removing_it_keeps_the_time_elapsed():
    # Business hours NY, 2h/8h. 1h elapsed when excluded at 11:00; back in at 14:00 with 1h used.
    during = sla(day(0, 10), day(0, 15), excluded(day(0, 11)))
    assert [(s.state, s.elapsed, s.due) for s in during.values()] == [(State.PAUSED, HOUR, None)] * 2
    after = sla(day(0, 10), day(0, 14, 30), excluded(day(0, 11)), excluded(day(0, 14), on=False))
    assert after[FR].state is State.RUNNING and after[FR].due == day(0, 15)  # 1h left from 14:00
    # 7h left from 14:00: 4h to 18:00, 3h on Tuesday from 09:00
    assert after[RES].due == day(1, 12) and after[RES].elapsed == HOUR + 30 * MINUTE


def test_an_exclusion_after_a_breach_leaves_the_breach_standing():
    result = sla(day(0, 10), day(0, 15), excluded(day(0, 13)))
    assert (result[FR].state, result[FR].breached_at) == (State.BREACHED, day(0, 12))
    assert result[RES].state is State.PAUSED


def test_resolution_from_first_response_waits_for_the_first_public_agent_reply():
    policy = Policy(BUSINESS_NY, first_response=2 * HOUR, resolution=8 * HOUR, resolution_from_first_response=True)
    before = sla(day(0, 10), day(0, 11), policy=policy)[RES]
    assert (before.state, before.elapsed, before.due) == (State.PAUSED, timedelta(0), None)
    # Reply at 11:30: 6h30 to 18:00, then 1h30 on Tuesday.
    after = sla(day(0, 10), day(0, 12), reply(day(0, 11, 30)), policy=policy)[RES]
    assert (after.state, after.elapsed, after.due) == (State.RUNNING, 30 * MINUTE, day(1, 10, 30))
    # The default reading (seed 000): from creation.
    assert sla(day(0, 10), day(0, 12), reply(day(0, 11, 30)))[RES].due == day(0, 18)
