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
- Exclusions: a ticket excluded (exclusion tag) at `as_of` is in `Report.excluded` only, not in any figure.
- FCR: solved tickets with exactly one public agent comment and no customer comment after it before the solve.
- CSAT: Slack 1-5 scores averaged, each person's latest rating of a ticket; Zendesk's good/bad as % good,
  the latest rating of each ticket. Only ratings of the tickets in scope, given at or before `as_of`.
"""
from __future__ import annotations

import datetime as dt

from integration.core.customers import match_customer
from integration.core.exclusions import current_exclusion
from integration.core.history import PolicyRow, to_clock_history
from integration.core.sla_summary import TargetSummary
from integration.core.sla.ticket import State, Target, compute_sla
from integration.mappings.model import Mappings
from integration.reports.credits import TargetDelay, organization_credit
from integration.reports.figures import Group, Month, RatingRow, Report, TargetOutcome, TicketFigures, TicketRow
from integration.reports.stats import (csat_stats, escalation_counts, fcr_stats, first_contact, follow_up_counts,
                                       follow_up_outcomes, latest_ratings, target_stats)


def ticket_figures(mappings: Mappings, row: TicketRow, as_of: dt.datetime) -> TicketFigures:
    levels = tuple(step.level for step in row.escalation.steps if step.at <= as_of)
    outcomes = _replayed(mappings, row, as_of)
    recomputed = outcomes is not None
    if outcomes is None:
        outcomes = {target: _stored(row.sla[target]) for target in Target}
    exclusion = current_exclusion([r for r in row.history if r.at <= as_of])
    return TicketFigures(id=row.id, organization_id=row.organization_id, tier=row.tier or "(unknown)",
                         priority=row.priority, status=row.status, created_at=row.created_at,
                         first_response=outcomes[Target.FIRST_RESPONSE], resolution=outcomes[Target.RESOLUTION],
                         escalation_levels=levels, recomputed=recomputed,
                         excluded=exclusion.reason if exclusion else None,
                         first_contact=first_contact(row.history, as_of),
                         follow_ups=follow_up_outcomes(row.escalation.follow_ups, as_of))


def _replayed(mappings: Mappings, row: TicketRow, as_of: dt.datetime) -> dict[Target, TargetOutcome] | None:
    if not any(isinstance(r, PolicyRow) for r in row.history):
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


def _stored(entry: TargetSummary) -> TargetOutcome:
    """The last decision's summary. Met means stopped; whether a breached clock stopped is unknown (untimed)."""
    state = entry.state
    return TargetOutcome(state=state if state in ("met", "breached") else "open", stopped=state == "met",
                         elapsed_seconds=entry.elapsed_seconds, target_seconds=entry.target_seconds, due=entry.due)


def build(mappings: Mappings, month: Month, tickets: list[TicketRow], ratings: list[RatingRow],
          as_of: dt.datetime, organization_id: int | None = None) -> Report:
    """The report from the rows of the tickets in scope (the caller selects them) and their ratings."""
    scoped = [t for t in tickets if month.start <= t.created_at < month.end and t.created_at <= as_of
              and (organization_id is None or t.organization_id == organization_id)]
    every = sorted((ticket_figures(mappings, t, as_of) for t in scoped), key=lambda f: (f.created_at, f.id))
    figures = [f for f in every if f.excluded is None]
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
                     escalations=escalation_counts(members), csat=csat_stats(member_ratings),
                     fcr=fcr_stats([f.first_contact for f in members]),
                     follow_ups=follow_up_counts(members), **extra)

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
                  tiers=tier_groups, organizations=tuple(org_groups), tickets=tuple(figures),
                  excluded=tuple(f for f in every if f.excluded is not None))


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
