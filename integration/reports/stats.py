"""Counting and averaging for the report: compliance, median and p90, histogram, escalations, CSAT; and how they print."""
from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from integration.core.compliance import percent
from integration.core.history import CommentRow, HistoryRow, StatusRow
from integration.core.statuses import SOLVED_STATUSES
from integration.reports.figures import BUCKETS, LEVELS, CsatStats, FcrStats, RatingRow, TargetOutcome, TargetStats, TicketFigures


def target_stats(outcomes: list[TargetOutcome]) -> TargetStats:
    met = sum(o.state == "met" for o in outcomes)
    breached = sum(o.state == "breached" for o in outcomes)
    times = sorted(o.timed_seconds for o in outcomes if o.timed_seconds is not None)
    return TargetStats(met=met, breached=breached, open=len(outcomes) - met - breached,
                       compliance_pct=percent(met, met + breached), timed=len(times),
                       median_seconds=median(times), p90_seconds=nearest_rank(times, 90),
                       histogram=histogram(times))


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


def first_contact(history: tuple[HistoryRow, ...], as_of) -> bool | None:
    """Solved at as_of (None if not): with exactly one public agent comment and no customer comment after it
    before the (latest) solve?"""
    rows = sorted((r for r in history if r.at <= as_of), key=lambda r: r.at)
    statuses = [r for r in rows if isinstance(r, StatusRow)]
    if not statuses or statuses[-1].status not in SOLVED_STATUSES:
        return None
    solved_at = statuses[-1].at
    for row in reversed(statuses):  # the start of the final solved stretch (solved, then closed)
        if row.status not in SOLVED_STATUSES:
            break
        solved_at = row.at
    comments = [r for r in rows if isinstance(r, CommentRow) and r.public and r.at <= solved_at]
    replies = [c for c in comments if c.by_agent]
    if len(replies) != 1:
        return False
    return not any(not c.by_agent and c.at > replies[0].at for c in comments)


def fcr_stats(flags: list[bool | None]) -> FcrStats:
    solved = [f for f in flags if f is not None]
    first = sum(solved)
    return FcrStats(solved=len(solved), first_contact=first, pct=percent(first, len(solved)))


def follow_up_outcomes(follow_ups, as_of) -> tuple[str, ...]:
    def outcome(f) -> str:
        if f.met_at is not None and f.met_at <= as_of:
            return "met"
        return "missed" if f.missed_at is not None and f.missed_at <= as_of else "open"

    return tuple(outcome(f) for f in follow_ups if f.opened_at <= as_of)


def follow_up_counts(figures: list[TicketFigures]) -> dict[str, int]:
    outcomes = [o for f in figures for o in f.follow_ups]
    return {kind: outcomes.count(kind) for kind in ("met", "missed", "open")}


def hmm(seconds: int | None) -> str:
    """Business time as h:mm (hours may pass 24), seconds dropped; '—' when there is nothing to show."""
    if seconds is None:
        return "—"
    minutes = int(seconds) // 60
    return f"{minutes // 60}:{minutes % 60:02d}"


def pct(value: Decimal | None) -> str:
    return "n/a" if value is None else f"{value}%"
