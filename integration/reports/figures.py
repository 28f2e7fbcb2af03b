"""The report's figures as values: the rows it reads, the numbers it computes, and the notes that state its rules."""
from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

from integration.core.escalation_record import EscalationRecord
from integration.core.history import HistoryRow
from integration.core.sla_summary import SlaSummary
from integration.reports.credits import OrgCredit

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
    history: tuple[HistoryRow, ...] = ()
    sla: SlaSummary = SlaSummary()
    escalation: EscalationRecord = EscalationRecord()


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
    excluded: str | None = None  # outside the SLA at as_of: the reason (escalation.yaml exclusions)
    first_contact: bool | None = None  # solved at as_of: resolved at first contact? None: not solved
    follow_ups: tuple[str, ...] = ()  # CSAT follow-ups opened by as_of: met | missed | open, as they stood then


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
class FcrStats:
    """First Contact Resolution (seed 002: good is 70-80 %)."""

    solved: int
    first_contact: int
    pct: Decimal | None  # None: nothing solved


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
    fcr: FcrStats | None = None
    follow_ups: dict[str, int] | None = None  # CSAT follow-ups: {"met", "missed", "open"} counts


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
    excluded: tuple[TicketFigures, ...] = ()  # outside the SLA (exclusion tags): not in any figure above

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
    "Exclusions: a ticket carrying an exclusion tag (customer-caused, third-party failure, force majeure; "
    "escalation.yaml exclusions) when the report is made is left out of every figure and of service credits, and "
    "listed separately with its reason.",
    "CSAT follow-ups: each rating below 4 must be answered by a public agent comment within csat_follow_up "
    "(default 24 h); counted as met, missed or still open as of the report, on the tickets in scope.",
    "First Contact Resolution (FCR) = solved tickets with exactly one public agent comment and no customer comment "
    "after it before the solve ÷ solved tickets (the seed calls 70-80 % good).",
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
