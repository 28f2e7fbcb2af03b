"""The month's figures, pure: from ticket and rating rows (plain values) to per-tier and per-organization numbers.

Rules (the report states them too, see NOTES):
- Scope: tickets CREATED in the month (UTC), at or before the report's `as_of` instant. Their SLA
  outcomes are as they stand at `as_of`: a ticket created on the 31st and answered on the 1st counts
  in the month it was created.
- Each ticket's two targets are replayed from its stored history with the current mappings
  (integration.core.history.to_clock_history + compute_sla at `as_of`), exactly as the service decides;
  a ticket whose history cannot be replayed falls back to its stored `sla` summary.
- A target is decided when it is met or breached; running or paused ones are "open" and left out of
  compliance (met / (met + breached)). A breached target whose clock still runs counts as breached.
- Times are business time (the open time of the ticket's SLA calendar) of targets whose clock has
  stopped; median (the mean of the two middle values for an even count) and p90 (nearest rank).
- Escalations: the matrix steps recorded on each ticket (escalation.steps), counted by the level
  reached; a step that skips levels counts once, at the level it reached.
- CSAT: Slack 1-5 scores averaged, each person's latest rating of a ticket; Zendesk's good/bad as % good,
  the latest rating of each ticket. Only ratings of the tickets in scope, given at or before `as_of`.
"""
from __future__ import annotations

import calendar
import datetime as dt
import math
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from integration.core.customers import match_customer
from integration.core.history import parse_iso, to_clock_history
from integration.mappings.model import Mappings
from integration.reports.credits import OrgCredit, TargetDelay, organization_credit
from integration.core.sla.ticket import State, Target, compute_sla

UTC = dt.timezone.utc
LEVELS = (2, 3, 4, 5)  # level 1 is where every ticket starts, not an escalation
# Histogram buckets of business time, upper bounds in minutes (the last one is open-ended).
BUCKETS = ((15, "≤15m"), (30, "15–30m"), (60, "30m–1h"), (120, "1–2h"), (240, "2–4h"), (480, "4–8h"),
           (1440, "8–24h"), (None, ">24h"))
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> "Month":
        match = _MONTH.match(text.strip()) if isinstance(text, str) else None
        if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1970:
            raise ValueError(f"'{text}' is not a month: use YYYY-MM, e.g. 2026-03")
        return cls(int(match.group(1)), int(match.group(2)))

    @property
    def start(self) -> dt.datetime:
        return dt.datetime(self.year, self.month, 1, tzinfo=UTC)

    @property
    def end(self) -> dt.datetime:
        """The first instant of the next month (exclusive)."""
        return dt.datetime(self.year + self.month // 12, self.month % 12 + 1, 1, tzinfo=UTC)

    @property
    def label(self) -> str:
        return f"{calendar.month_name[self.month]} {self.year}"

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@dataclass(frozen=True)
class TicketRow:
    """What the report reads of a stored ticket."""

    id: int
    organization_id: int | None
    created_at: dt.datetime
    tier: str | None = None
    priority: str | None = None
    status: str = "new"
    requester_email: str | None = None
    history: tuple[dict, ...] = ()
    sla: dict = field(default_factory=dict)
    escalation: dict = field(default_factory=dict)


@dataclass(frozen=True)
class RatingRow:
    id: int
    ticket_id: int
    source: str  # slack | zendesk
    at: dt.datetime
    score: int | None = None  # slack: 1-5
    zendesk_score: str | None = None  # zendesk: good | bad
    rated_by: str | None = None


@dataclass(frozen=True)
class TargetOutcome:
    state: str  # met | breached | open
    stopped: bool  # the clock has stopped (a reply, or solved): its elapsed time is final
    elapsed_seconds: int  # business time used so far (final when stopped)
    target_seconds: int
    due: dt.datetime | None = None
    stopped_at: dt.datetime | None = None

    @property
    def decided(self) -> bool:
        return self.state in ("met", "breached")

    @property
    def timed_seconds(self) -> int | None:
        return self.elapsed_seconds if self.stopped else None


@dataclass(frozen=True)
class TicketFigures:
    id: int
    organization_id: int | None
    tier: str
    priority: str | None
    status: str
    created_at: dt.datetime
    first_response: TargetOutcome
    resolution: TargetOutcome
    escalation_levels: tuple[int, ...]  # the level reached by each step, in order
    recomputed: bool  # False: its history could not be replayed, the stored summary was used


@dataclass(frozen=True)
class TargetStats:
    met: int
    breached: int
    open: int
    compliance_pct: Decimal | None  # None: nothing decided yet
    timed: int  # how many stopped clocks the times are over
    median_seconds: int | None
    p90_seconds: int | None
    histogram: tuple[int, ...]  # counts per BUCKETS entry, of the timed ones


@dataclass(frozen=True)
class CsatStats:
    slack_count: int
    slack_average: Decimal | None  # 1-5, one decimal
    zendesk_good: int
    zendesk_bad: int
    zendesk_good_pct: Decimal | None


@dataclass(frozen=True)
class Group:
    kind: str  # all | tier | organization
    key: str  # "all", the tier name, or the organization id ("none" for tickets without one)
    name: str
    tickets: int
    first_response: TargetStats
    resolution: TargetStats
    escalations: dict[int, int]  # level → steps reaching it
    csat: CsatStats
    tier: str | None = None  # organizations: their tier in the mappings
    credit: OrgCredit | None = None  # organizations only
    slack_channel_id: str | None = None  # organizations with the Slack channel feature


@dataclass(frozen=True)
class Report:
    month: Month
    organization_id: int | None  # the --org filter, None = all
    as_of: dt.datetime
    mappings_fingerprint: str
    total: Group
    tiers: tuple[Group, ...]
    organizations: tuple[Group, ...]
    tickets: tuple[TicketFigures, ...]

    @property
    def scope(self) -> str:
        last = self.month.end - dt.timedelta(seconds=1)
        who = f"organization {self.organization_id}" if self.organization_id is not None else "all organizations"
        return (f"Tickets created in {self.month.label}: {self.month.start:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M:%S}"
                f" UTC, {who}; SLA outcomes as of {self.as_of:%Y-%m-%d %H:%M} UTC.")

    @property
    def credits(self) -> tuple[OrgCredit, ...]:
        return tuple(g.credit for g in self.organizations if g.credit is not None)

    def organization(self, organization_id: int) -> Group | None:
        return next((g for g in self.organizations if g.key == str(organization_id)), None)


NOTES = (
    "Scope: tickets created in the month (UTC). Their SLA outcomes are as they stand when the report is made "
    "(\"as of\"), so a ticket created late in the month and answered in the next one counts in the month it was "
    "created.",
    "Compliance = met ÷ (met + breached), counting only decided targets; targets still running or paused are "
    "listed as open and left out. A breached target whose clock still runs counts as breached.",
    "Times are business time: the open time of the customer's SLA calendar (its hours, timezone and holidays; "
    "24/7 tiers count every minute), from creation to the first public agent reply (first response) or to solved "
    "(resolution, pending/on-hold excluded). Median and 90th percentile (nearest rank) over targets whose clock has "
    "stopped, shown as h:mm (seconds dropped).",
    "Service credits, the seed's rule \"Support Response: 2% per hour delay, upon request, maximum 25% of the "
    "monthly fee\": for each breached first-response target, delay = business time past due (elapsed − target); "
    "every started hour counts as a whole hour (partial hours are rounded up, so any breach is at least one hour); "
    "credit = 2% of the organization's monthly fee per hour, summed over the month's tickets and capped at 25% of "
    "the monthly fee. A first response still not given counts with its delay so far (provisional). Credits are "
    "applied upon request: this report is what the billing team checks requests against. Organizations without "
    "monthly_fee in organizations.yaml show n/a.",
    "Escalations: matrix steps taken, by the level reached (a step that skips levels counts once, at its level).",
    "CSAT: Slack ratings 1–5 averaged (each person's latest rating of a ticket); Zendesk satisfaction as % good of "
    "good + bad (each ticket's latest rating).",
    "Each ticket's SLA is replayed from its history with the current mappings, as the service decides it.",
)


def ticket_figures(mappings: Mappings, row: TicketRow, as_of: dt.datetime) -> TicketFigures:
    levels = tuple(int(step["level"]) for step in (row.escalation or {}).get("steps", [])
                   if parse_iso(step["at"]) <= as_of)
    outcomes = _replayed(mappings, row, as_of)
    recomputed = outcomes is not None
    if outcomes is None:
        outcomes = {target: _stored(row.sla.get(target.value, {})) for target in Target}
    return TicketFigures(id=row.id, organization_id=row.organization_id, tier=row.tier or "(unknown)",
                         priority=row.priority, status=row.status, created_at=row.created_at,
                         first_response=outcomes[Target.FIRST_RESPONSE], resolution=outcomes[Target.RESOLUTION],
                         escalation_levels=levels, recomputed=recomputed)


def _replayed(mappings: Mappings, row: TicketRow, as_of: dt.datetime) -> dict[Target, TargetOutcome] | None:
    if not any(r.get("kind") == "policy" for r in row.history):
        return None
    customer = match_customer(mappings, organization_id=row.organization_id, requester_email=row.requester_email)
    try:
        history = to_clock_history(mappings, customer, row.created_at, list(row.history))
        sla = compute_sla(history, as_of, mappings.escalation.warning_ratio)
    except (KeyError, ValueError):  # a priority or calendar the current mappings no longer have
        return None
    outcomes = {}
    for target, status in sla.items():
        state = {State.MET: "met", State.BREACHED: "breached"}.get(status.state, "open")
        outcomes[target] = TargetOutcome(state=state, stopped=status.stopped_at is not None,
                                         elapsed_seconds=int(status.elapsed.total_seconds()),
                                         target_seconds=int(status.target_length.total_seconds()),
                                         due=status.due, stopped_at=status.stopped_at)
    return outcomes


def _stored(entry: dict) -> TargetOutcome:
    """The last decision's summary. Met means stopped; whether a breached clock stopped is unknown (untimed)."""
    state = entry.get("state")
    return TargetOutcome(state=state if state in ("met", "breached") else "open", stopped=state == "met",
                         elapsed_seconds=int(entry.get("elapsed_seconds") or 0),
                         target_seconds=int(entry.get("target_seconds") or 0),
                         due=parse_iso(entry["due"]) if entry.get("due") else None)


def build(mappings: Mappings, month: Month, tickets: list[TicketRow], ratings: list[RatingRow],
          as_of: dt.datetime, organization_id: int | None = None) -> Report:
    """The report from the rows of the tickets in scope (the caller selects them) and their ratings."""
    scoped = [t for t in tickets if month.start <= t.created_at < month.end and t.created_at <= as_of
              and (organization_id is None or t.organization_id == organization_id)]
    figures = sorted((ticket_figures(mappings, t, as_of) for t in scoped), key=lambda f: (f.created_at, f.id))
    ids = {f.id for f in figures}
    kept = latest_ratings([r for r in ratings if r.ticket_id in ids and r.at <= as_of])
    by_ticket: dict[int, list[RatingRow]] = {}
    for rating in kept:
        by_ticket.setdefault(rating.ticket_id, []).append(rating)

    def group(kind, key, name, members, **extra) -> Group:
        member_ratings = [r for f in members for r in by_ticket.get(f.id, [])]
        return Group(kind=kind, key=key, name=name, tickets=len(members),
                     first_response=target_stats([f.first_response for f in members]),
                     resolution=target_stats([f.resolution for f in members]),
                     escalations=escalation_counts(members), csat=csat_stats(member_ratings), **extra)

    tier_order = {name: i for i, name in enumerate(mappings.tiers)}
    tiers = sorted({f.tier for f in figures}, key=lambda t: (tier_order.get(t, len(tier_order)), t))
    tier_groups = tuple(group("tier", t, t, [f for f in figures if f.tier == t]) for t in tiers)
    org_ids = {f.organization_id for f in figures}
    if organization_id is not None:
        org_ids.add(organization_id)
    org_groups = []
    for org_id in org_ids:
        members = [f for f in figures if f.organization_id == org_id]
        org = mappings.organization_by_id(org_id)
        delays = [delay_of(f) for f in members if f.first_response.state == "breached"]
        credit = organization_credit(org_id, organization_name(mappings, org_id),
                                     org.monthly_fee if org else None, delays)
        channel = org.slack_channel_id if org and org.tier in mappings.tiers \
            and mappings.tiers[org.tier].slack_channel else None
        org_groups.append(group("organization", "none" if org_id is None else str(org_id),
                                organization_name(mappings, org_id), members,
                                tier=org.tier if org else (members[0].tier if members else None),
                                credit=credit, slack_channel_id=channel))
    org_groups.sort(key=lambda g: (g.key == "none", g.name.casefold(), g.key))
    return Report(month=month, organization_id=organization_id, as_of=as_of,
                  mappings_fingerprint=mappings.fingerprint, total=group("all", "all", "All tickets", figures),
                  tiers=tier_groups, organizations=tuple(org_groups), tickets=tuple(figures))


def organization_name(mappings: Mappings, organization_id: int | None) -> str:
    if organization_id is None:
        return "(no organization)"
    org = mappings.organization_by_id(organization_id)
    if org is None:
        return f"Organization {organization_id} (not in mappings)"
    return org.name or f"Organization {organization_id}"


def delay_of(figures: TicketFigures) -> TargetDelay:
    outcome = figures.first_response
    return TargetDelay(ticket_id=figures.id, created_at=figures.created_at, target_seconds=outcome.target_seconds,
                       elapsed_seconds=outcome.elapsed_seconds, final=outcome.stopped)


def target_stats(outcomes: list[TargetOutcome]) -> TargetStats:
    met = sum(o.state == "met" for o in outcomes)
    breached = sum(o.state == "breached" for o in outcomes)
    times = sorted(o.timed_seconds for o in outcomes if o.timed_seconds is not None)
    return TargetStats(met=met, breached=breached, open=len(outcomes) - met - breached,
                       compliance_pct=percent(met, met + breached), timed=len(times),
                       median_seconds=median(times), p90_seconds=nearest_rank(times, 90),
                       histogram=histogram(times))


def percent(part: int, whole: int) -> Decimal | None:
    if whole == 0:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def median(sorted_values: list[int]) -> int | None:
    """The middle value; for an even count the mean of the two middle ones, whole seconds rounded down."""
    n = len(sorted_values)
    if n == 0:
        return None
    if n % 2:
        return sorted_values[n // 2]
    return (sorted_values[n // 2 - 1] + sorted_values[n // 2]) // 2


def nearest_rank(sorted_values: list[int], p: int) -> int | None:
    """The p-th percentile by nearest rank: the value at rank ceil(p/100 × n)."""
    if not sorted_values:
        return None
    rank = math.ceil(Fraction(p, 100) * len(sorted_values))
    return sorted_values[max(rank, 1) - 1]


def histogram(seconds: list[int]) -> tuple[int, ...]:
    counts = [0] * len(BUCKETS)
    for value in seconds:
        for i, (upper, _) in enumerate(BUCKETS):
            if upper is None or value <= upper * 60:
                counts[i] += 1
                break
    return tuple(counts)


def escalation_counts(figures: list[TicketFigures]) -> dict[int, int]:
    counts = {level: 0 for level in LEVELS}
    for f in figures:
        for level in f.escalation_levels:
            counts[level] = counts.get(level, 0) + 1
    return counts


def latest_ratings(ratings: list[RatingRow]) -> list[RatingRow]:
    """Slack: each person's latest rating of a ticket; Zendesk: each ticket's latest rating."""
    latest: dict[tuple, RatingRow] = {}
    for rating in sorted(ratings, key=lambda r: (r.at, r.id)):
        rater = rating.rated_by if rating.source == "slack" else None
        latest[(rating.ticket_id, rating.source, rater)] = rating
    return sorted(latest.values(), key=lambda r: (r.at, r.id))


def csat_stats(ratings: list[RatingRow]) -> CsatStats:
    scores = [r.score for r in ratings if r.source == "slack" and r.score is not None]
    good = sum(r.source == "zendesk" and r.zendesk_score == "good" for r in ratings)
    bad = sum(r.source == "zendesk" and r.zendesk_score == "bad" for r in ratings)
    average = (Decimal(sum(scores)) / Decimal(len(scores))).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP) \
        if scores else None
    return CsatStats(slack_count=len(scores), slack_average=average, zendesk_good=good, zendesk_bad=bad,
                     zendesk_good_pct=percent(good, good + bad))


def hmm(seconds: int | None) -> str:
    """Business time as h:mm (hours may pass 24), seconds dropped; '—' when there is nothing to show."""
    if seconds is None:
        return "—"
    minutes = int(seconds) // 60
    return f"{minutes // 60}:{minutes % 60:02d}"


def pct(value: Decimal | None) -> str:
    return "n/a" if value is None else f"{value}%"
