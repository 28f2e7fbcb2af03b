"""The report as CSV: one row per group (all, each tier, each organization), for spreadsheets and billing.

Times are h:mm of business time; percentages are numbers without the % sign; an empty cell means
"nothing to show" (no decided target, no rating). Credits are filled on organization rows only.
"""
from __future__ import annotations

import csv
import io

from integration.reports.figures import LEVELS, Group, Report
from integration.reports.stats import hmm
from integration.reports.credits import NO_FEE

COLUMNS = (
    "month", "scope", "as_of", "group", "key", "name", "tier", "tickets",
    "first_response_met", "first_response_breached", "first_response_open", "first_response_compliance_pct",
    "first_response_median", "first_response_p90",
    "resolution_met", "resolution_breached", "resolution_open", "resolution_compliance_pct",
    "resolution_median", "resolution_p90",
    *(f"escalations_level_{level}" for level in LEVELS),
    "csat_slack_ratings", "csat_slack_average", "csat_zendesk_good", "csat_zendesk_bad", "csat_zendesk_good_pct",
    "fcr_solved", "fcr_first_contact", "fcr_pct", "csat_follow_ups_met", "csat_follow_ups_missed",
    "csat_follow_ups_open",
    "monthly_fee", "credit_late_first_responses", "credit_hours", "credit_uncapped", "credit_cap", "credit",
    "credit_capped", "credit_provisional",
)


def render(report: Report) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for group in (report.total, *report.tiers, *report.organizations):
        writer.writerow(row(report, group))
    return out.getvalue()


def row(report: Report, group: Group) -> dict:
    fr, res = group.first_response, group.resolution
    values = {
        "month": str(report.month), "scope": "tickets created in the month (UTC)",
        "as_of": report.as_of.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "group": group.kind, "key": group.key, "name": group.name,
        "tier": group.key if group.kind == "tier" else (group.tier or ""), "tickets": group.tickets,
        "first_response_met": fr.met, "first_response_breached": fr.breached, "first_response_open": fr.open,
        "first_response_compliance_pct": _blank(fr.compliance_pct),
        "first_response_median": _time(fr.median_seconds), "first_response_p90": _time(fr.p90_seconds),
        "resolution_met": res.met, "resolution_breached": res.breached, "resolution_open": res.open,
        "resolution_compliance_pct": _blank(res.compliance_pct),
        "resolution_median": _time(res.median_seconds), "resolution_p90": _time(res.p90_seconds),
        **{f"escalations_level_{level}": group.escalations.get(level, 0) for level in LEVELS},
        "csat_slack_ratings": group.csat.slack_count, "csat_slack_average": _blank(group.csat.slack_average),
        "csat_zendesk_good": group.csat.zendesk_good, "csat_zendesk_bad": group.csat.zendesk_bad,
        "csat_zendesk_good_pct": _blank(group.csat.zendesk_good_pct),
    }
    if group.fcr is not None:
        values |= {"fcr_solved": group.fcr.solved, "fcr_first_contact": group.fcr.first_contact,
                   "fcr_pct": _blank(group.fcr.pct)}
    if group.follow_ups is not None:
        values |= {f"csat_follow_ups_{kind}": n for kind, n in group.follow_ups.items()}
    credit = group.credit
    if credit is not None:
        values |= {
            "monthly_fee": "" if credit.monthly_fee is None else f"{credit.monthly_fee:.2f}",
            "credit_late_first_responses": len(credit.lines), "credit_hours": credit.hours,
            "credit_uncapped": "" if credit.uncapped is None else f"{credit.uncapped:.2f}",
            "credit_cap": "" if credit.cap is None else f"{credit.cap:.2f}",
            "credit": NO_FEE if credit.credit is None else f"{credit.credit:.2f}",
            "credit_capped": "yes" if credit.capped else "no",
            "credit_provisional": "yes" if credit.provisional else "no",
        }
    return values


def _blank(value) -> str:
    return "" if value is None else str(value)


def _time(seconds: int | None) -> str:
    return "" if seconds is None else hmm(seconds)

