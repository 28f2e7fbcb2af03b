"""The report as JSON: every figure, seconds and percentages as numbers, plus h:mm strings for people."""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from integration.reports.figures import BUCKETS, NOTES, CsatStats, Group, Report, TargetStats, TicketFigures
from integration.reports.stats import hmm
from integration.reports.credits import NO_FEE, OrgCredit


def to_dict(report: Report) -> dict:
    return {
        "report": "SLA performance and service credits",
        "month": str(report.month),
        "scope": report.scope,
        "period": {"from": _iso(report.month.start), "to_exclusive": _iso(report.month.end),
                   "tickets": "created in the month (UTC)"},
        "organization_filter": report.organization_id,
        "as_of": _iso(report.as_of),
        "mappings_fingerprint": report.mappings_fingerprint,
        "audience": "billing team: service credits are applied upon request",
        "total": group_dict(report.total),
        "tiers": [group_dict(g) for g in report.tiers],
        "organizations": [group_dict(g) for g in report.organizations],
        "tickets": [ticket_dict(t) for t in report.tickets],
        "excluded_tickets": [ticket_dict(t) for t in report.excluded],
        "notes": list(NOTES),
    }


def render(report: Report) -> str:
    return json.dumps(to_dict(report), indent=2, ensure_ascii=False) + "\n"


def group_dict(group: Group) -> dict:
    body = {
        "kind": group.kind, "key": group.key, "name": group.name, "tickets": group.tickets,
        "first_response": target_dict(group.first_response),
        "resolution": target_dict(group.resolution),
        "breaches": {"first_response": group.first_response.breached, "resolution": group.resolution.breached},
        "escalations_by_level": {str(level): n for level, n in sorted(group.escalations.items())},
        "csat": csat_dict(group.csat),
        "fcr": {"solved": group.fcr.solved, "first_contact": group.fcr.first_contact,
                "pct": _number(group.fcr.pct)} if group.fcr else None,
        "csat_follow_ups": group.follow_ups,
    }
    if group.kind == "organization":
        body["tier"] = group.tier
        body["credits"] = credit_dict(group.credit) if group.credit else None
    return body


def target_dict(stats: TargetStats) -> dict:
    return {
        "met": stats.met, "breached": stats.breached, "open": stats.open,
        "compliance_pct": _number(stats.compliance_pct),
        "timed": stats.timed,
        "median_seconds": stats.median_seconds, "median": hmm(stats.median_seconds),
        "p90_seconds": stats.p90_seconds, "p90": hmm(stats.p90_seconds),
        "histogram": [{"bucket": label, "count": n} for (_, label), n in zip(BUCKETS, stats.histogram)],
    }


def csat_dict(csat: CsatStats) -> dict:
    return {"slack": {"ratings": csat.slack_count, "average": _number(csat.slack_average)},
            "zendesk": {"good": csat.zendesk_good, "bad": csat.zendesk_bad,
                        "good_pct": _number(csat.zendesk_good_pct)}}


def credit_dict(credit: OrgCredit) -> dict:
    return {
        "monthly_fee": _number(credit.monthly_fee),
        "late_first_responses": len(credit.lines),
        "hours": credit.hours,
        "uncapped": _number(credit.uncapped),
        "cap": _number(credit.cap),
        "credit": _number(credit.credit) if credit.credit is not None else NO_FEE,
        "capped": credit.capped,
        "provisional": credit.provisional,
        "lines": [{"ticket_id": line.delay.ticket_id, "created_at": _iso(line.delay.created_at),
                   "target_seconds": line.delay.target_seconds, "elapsed_seconds": line.delay.elapsed_seconds,
                   "delay_seconds": line.delay.delay_seconds, "delay": hmm(line.delay.delay_seconds),
                   "hours": line.delay.hours, "amount": _number(line.amount), "final": line.delay.final}
                  for line in credit.lines],
    }


def ticket_dict(t: TicketFigures) -> dict:
    def outcome(o):
        return {"state": o.state, "stopped": o.stopped, "elapsed_seconds": o.elapsed_seconds,
                "elapsed": hmm(o.elapsed_seconds), "target_seconds": o.target_seconds,
                "due": _iso(o.due) if o.due else None, "stopped_at": _iso(o.stopped_at) if o.stopped_at else None}

    return {"id": t.id, "organization_id": t.organization_id, "tier": t.tier, "priority": t.priority,
            "status": t.status, "created_at": _iso(t.created_at), "first_response": outcome(t.first_response),
            "resolution": outcome(t.resolution), "escalation_levels": list(t.escalation_levels),
            "recomputed": t.recomputed, "excluded": t.excluded, "first_contact": t.first_contact,
            "csat_follow_ups": list(t.follow_ups)}


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _iso(instant) -> str:
    return instant.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
