"""A ticket's SLA targets, replayed from its history: pure, no I/O, `now` passed in.

The rules (the product's promises):
- Both clocks start at created_at and count only open time of the policy's BusinessClock, so a
  ticket created while closed starts counting at the next opening.
- Events are replayed in time order (stable sort by `at`); events after `now` are ignored, events
  before created_at count as happening at created_at. A `now` before created_at means created_at.
- First response stops at the first public agent comment; internal notes and end-user comments
  don't stop it, and pending/hold don't pause it. A ticket solved (or closed) without a public
  agent reply stops it too: MET if solved at or before due, else BREACHED. Reopening doesn't
  restart it.
- Resolution stops at solved/closed and pauses while the status is in the policy's
  pause_statuses. Reopening resumes it with the elapsed time kept.
- A target is BREACHED when its clock runs past the instant the target is used up (its due),
  even if that is in closed hours: a reply at 20:00 to a target due at 18:00 is late. It stays
  breached (also after a solve, a reopen or a policy change); breached_at is that due instant.
- A "policy" event (priority or tier change) switches to the new policy's clock and targets from
  its instant, keeping the open time already elapsed. A ticket already past its new target is
  breached at once (breached_at = due = the change instant). Warning is re-judged the same way: a
  ticket already at or past the new warning threshold keeps its earlier warning instant, or gets
  the change instant; one below it gets a new (future) warning. A stopped target keeps the policy
  that judged it; a reopened resolution takes the current policy at the reopen instant.
- A policy with resolution_from_first_response (tiers.yaml resolution_starts: first_response)
  holds the resolution clock until the first response stops (reported PAUSED, no due, until then).
- An "exclusion" event (customer-caused, third-party, force majeure) stops both clocks counting
  from its instant, like a pause of both (PAUSED, no due): nothing breaches while excluded. Ending
  the exclusion resumes them with the time elapsed before it kept. A breach before it stays.
- due: the instant the target is used up if the clock keeps running from now (for a stopped
  target, from the stop: the due that stood then; for BREACHED, the breach instant). warning:
  the instant elapsed reaches warning_ratio x target (may be in the past). PAUSED: due and
  warning are None. remaining = target - elapsed: negative (the overrun) when breached past it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from integration.core import statuses
from integration.core.sla.calendar import BusinessClock
from integration.core.sla.status import ReplayPoint, State, Target, TargetStatus, TrackPoint
from integration.core.sla.walk import ZERO, as_utc

DEFAULT_PAUSE_STATUSES = frozenset({"pending", "hold"})
SOLVED_STATUSES = frozenset(statuses.SOLVED_STATUSES)
EVENT_KINDS = frozenset({"status", "comment", "policy", "exclusion"})


@dataclass(frozen=True)
class Policy:
    """What (tier, priority, organization) mean for the clock; the caller builds it from mappings."""

    clock: BusinessClock
    first_response: timedelta
    resolution: timedelta
    pause_statuses: frozenset[str] = DEFAULT_PAUSE_STATUSES
    label: str = ""  # e.g. "enterprise/critical on 24x7"
    resolution_from_first_response: bool = False  # the resolution clock starts at the first public agent reply

    def __post_init__(self) -> None:
        for target in Target:
            if self.length(target) <= ZERO:
                raise ValueError(f"{target.value} target must be positive, got {self.length(target)}")

    def length(self, target: Target) -> timedelta:
        return self.first_response if target is Target.FIRST_RESPONSE else self.resolution


@dataclass(frozen=True)
class TicketEvent:
    at: datetime
    kind: str  # "status" | "comment" | "policy"
    status: str | None = None  # kind="status": new, open, pending, hold, solved, closed
    public: bool = False  # kind="comment"
    by_agent: bool = False  # kind="comment"
    policy: Policy | None = None  # kind="policy": priority or tier change
    excluded: bool = False  # kind="exclusion": True = outside the SLA from here, False = back inside

    def __post_init__(self) -> None:
        if self.kind not in EVENT_KINDS:
            raise ValueError(f"event kind must be one of {sorted(EVENT_KINDS)}, got {self.kind!r}")
        if self.kind == "status" and not self.status:
            raise ValueError("a status event needs a status")
        if self.kind == "policy" and self.policy is None:
            raise ValueError("a policy event needs a policy")


@dataclass(frozen=True)
class TicketHistory:
    created_at: datetime
    policy: Policy
    events: tuple[TicketEvent, ...] = ()
    initial_status: str = "new"
    # Resume an earlier replay at this point (its events already applied; `policy` is the one in force there).
    resume: ReplayPoint | None = None


def compute_sla(history: TicketHistory, now: datetime,
                warning_ratio: float = 0.8) -> dict[Target, TargetStatus]:
    """Both targets of the ticket as they stand at `now` (see the module docstring for the rules)."""
    if not 0 < warning_ratio <= 1:
        raise ValueError(f"warning_ratio must be in (0, 1], got {warning_ratio}")
    created = as_utc(history.created_at, "created_at")
    now = max(as_utc(now, "now"), created)
    replay = _replayed(history, created, now, warning_ratio)
    replay.advance(now)
    return replay.report(now)


def replay_point(history: TicketHistory, until: datetime, warning_ratio: float = 0.8) -> ReplayPoint:
    """The replay once every event at or before `until` is applied: compute_sla resumes there exactly, given
    the events after `until` and a `now` no earlier than it."""
    created = as_utc(history.created_at, "created_at")
    return _replayed(history, created, max(as_utc(until, "until"), created), warning_ratio).point()


def _replayed(history: TicketHistory, created: datetime, now: datetime, warning_ratio: float) -> _Replay:
    if history.resume is None:
        replay = _Replay(history.policy, created, warning_ratio)
        replay.set_status(history.initial_status)
    else:
        replay = _Replay.resumed(history.policy, history.resume, warning_ratio)
    for at, event in _ordered_events(history.events, created, now):
        replay.advance(at)
        replay.apply(event)
    return replay


def _ordered_events(events: tuple[TicketEvent, ...], created: datetime,
                    now: datetime) -> list[tuple[datetime, TicketEvent]]:
    kept = []
    for event in events:
        at = as_utc(event.at, "event time")
        if at <= now:
            kept.append((max(at, created), event))
    kept.sort(key=lambda pair: pair[0])  # stable: same-instant events keep their order
    return kept


class _Replay:
    """The ticket's status and policy while its events are replayed, with one _Track per target."""

    def __init__(self, policy: Policy, created: datetime, warning_ratio: float) -> None:
        self.policy = policy
        self.at = created
        self.status = "new"
        self.excluded = False
        self.first_response = _Track(Target.FIRST_RESPONSE, policy, warning_ratio)
        self.resolution = _Track(Target.RESOLUTION, policy, warning_ratio)

    @classmethod
    def resumed(cls, policy: Policy, point: ReplayPoint, warning_ratio: float) -> _Replay:
        replay = cls(policy, point.at, warning_ratio)
        replay.status, replay.excluded = point.status, point.excluded
        replay.first_response.restore(point.first_response)
        replay.resolution.restore(point.resolution)
        return replay

    def point(self) -> ReplayPoint:
        return ReplayPoint(self.at, self.status, self.excluded, self.first_response.point(), self.resolution.point())

    def _running(self) -> list[_Track]:
        if self.excluded:
            return []
        tracks = [] if self.first_response.stopped else [self.first_response]
        if not (self.resolution.stopped or self._paused() or self._not_started()):
            tracks.append(self.resolution)
        return tracks

    def _paused(self) -> bool:
        return self.status in self.policy.pause_statuses

    def _not_started(self) -> bool:
        return self.policy.resolution_from_first_response and not self.first_response.stopped

    def advance(self, to: datetime) -> None:
        """Run the clocks over [self.at, to) in the current status and policy."""
        tracks = self._running() if to > self.at else []
        if tracks:
            gained = self.policy.clock.elapsed(self.at, to)  # running tracks share the policy's clock
            for track in tracks:
                track.run(self.at, to, gained)
        self.at = max(self.at, to)

    def apply(self, event: TicketEvent) -> None:
        if event.kind == "status":
            self.set_status(event.status or "")
        elif event.kind == "exclusion":
            self.excluded = event.excluded
        elif event.kind == "comment":
            if event.public and event.by_agent and not self.first_response.stopped:
                self.first_response.stop(self.at)
        elif event.policy is not None:
            self.policy = event.policy
            for track in (self.first_response, self.resolution):
                if not track.stopped:
                    track.retarget(self.at, event.policy)

    def set_status(self, status: str) -> None:
        self.status = status.strip().lower()
        if self.status in SOLVED_STATUSES:
            for track in (self.first_response, self.resolution):
                if not track.stopped:
                    track.stop(self.at)
        elif self.resolution.stopped:
            self.resolution.stopped = None  # reopened: elapsed kept, current policy from now
            self.resolution.retarget(self.at, self.policy)

    def report(self, now: datetime) -> dict[Target, TargetStatus]:
        return {
            Target.FIRST_RESPONSE: self.first_response.report(now, paused=self.excluded),
            Target.RESOLUTION: self.resolution.report(
                now, paused=self._paused() or self.excluded or self._not_started()),
        }


class _Track:
    """One target's clock: elapsed open time, warning and breach instants, and its stop."""

    def __init__(self, target: Target, policy: Policy, warning_ratio: float) -> None:
        self.target = target
        self.warning_ratio = warning_ratio
        self.elapsed = ZERO
        self.warned_at: datetime | None = None
        self.breached_at: datetime | None = None
        self.stopped: TargetStatus | None = None  # the status that stood at the stop
        self._use(policy)

    def restore(self, point: TrackPoint) -> None:
        # A stopped track's own policy is never read again (a reopen retargets it): the current one will do.
        self.elapsed, self.warned_at, self.breached_at, self.stopped = \
            point.elapsed, point.warned_at, point.breached_at, point.stopped

    def point(self) -> TrackPoint:
        return TrackPoint(self.elapsed, self.warned_at, self.breached_at, self.stopped)

    def _use(self, policy: Policy) -> None:
        self.clock = policy.clock
        self.length = policy.length(self.target)
        self.warn_length = self.length * self.warning_ratio

    def run(self, start: datetime, end: datetime, gained: timedelta) -> None:
        """The clock ran over [start, end) and gained `gained` open time."""
        total = self.elapsed + gained
        if self.warned_at is None and total >= self.warn_length:
            self.warned_at = self._reach(start, self.warn_length - self.elapsed)
        if self.breached_at is None and total >= self.length:
            due = self._reach(start, self.length - self.elapsed)
            if due < end:  # ran past the due instant: a stop exactly at due is still in time
                self.breached_at = due
        self.elapsed = total

    def retarget(self, at: datetime, policy: Policy) -> None:
        self._use(policy)
        if self.breached_at is None and self.elapsed > self.length:
            self.breached_at = at
        if self.elapsed < self.warn_length and self.breached_at is None:
            self.warned_at = None
        elif self.warned_at is None:
            self.warned_at = at

    def stop(self, at: datetime) -> None:
        self.stopped = self.report(at, paused=False, stopped_at=at)

    def report(self, now: datetime, paused: bool, stopped_at: datetime | None = None) -> TargetStatus:
        if self.stopped:
            return self.stopped
        if self.breached_at is not None:
            state, due, warning = State.BREACHED, self.breached_at, self.warned_at
        elif paused:
            state, due, warning = State.PAUSED, None, None
        else:
            state = State.MET if stopped_at else State.RUNNING
            due, warning = self._due_and_warning(now)
        return TargetStatus(
            target=self.target, state=state, due=due, warning=warning, elapsed=self.elapsed,
            remaining=self.length - self.elapsed, target_length=self.length,
            stopped_at=stopped_at, breached_at=self.breached_at,
        )

    def _due_and_warning(self, now: datetime) -> tuple[datetime, datetime]:
        if self.warned_at is not None:
            return self._reach(now, self.length - self.elapsed), self.warned_at
        warning = self._reach(now, self.warn_length - self.elapsed)
        # add(add(s, a), b) == add(s, a + b) for b > 0: walk on from the warning instead of from now
        return self._reach(warning, self.length - self.warn_length), warning

    def _reach(self, start: datetime, amount: timedelta) -> datetime:
        """The instant `amount` more open time is used up from start; start itself if none is left."""
        return start if amount <= ZERO else self.clock.add(start, amount)
