"""The monthly summary in each customer's own Slack channel (seed: "SLA Performance Report | Monthly | All
customers"), pure: Block Kit messages and the outbox actions that carry them.

Isolation: each message is built from ONE organization's group of the report and nothing else, so a
channel never reads another customer's figures (not even a total). Only organizations whose tier has
`slack_channel: true` and that have a `slack_channel_id` get one, also with no tickets that month.
Credit amounts stay in the billing report; the message says credits are available upon request.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from integration.mappings.model import Mappings, Organization
from integration.reports.figures import Group, Report, TargetStats
from integration.reports.stats import hmm, pct
from integration.core.state import Action
from integration.storage import repo


def channel_organizations(mappings: Mappings, organization_id: int | None = None) -> list[Organization]:
    return [org for org in mappings.organizations
            if org.slack_channel_id and org.tier in mappings.tiers and mappings.tiers[org.tier].slack_channel
            and (organization_id is None or org.zendesk_id == organization_id)]


def report_actions(report: Report, mappings: Mappings) -> list[Action]:
    """One post_message action per customer channel, idempotent per month and organization."""
    actions = []
    for org in channel_organizations(mappings, report.organization_id):
        message = summary_message(report, org, report.organization(org.zendesk_id))
        actions.append(Action("slack", "post_message",
                              {"ticket_id": None, "channel": org.slack_channel_id, **message},
                              f"report-{report.month}-{org.zendesk_id}"))
    return actions


def enqueue_report(session: Session, actions: list[Action], now: dt.datetime) -> list[tuple[Action, bool]]:
    """Add the actions to the outbox in the caller's transaction; (action, False) when already queued."""
    return [(action, repo.enqueue(session, action, ticket_id=None, now=now)) for action in actions]


def summary_message(report: Report, org: Organization, group: Group | None) -> dict:
    name = org.name or f"Organization {org.zendesk_id}"
    month = report.month.label
    intro = (f"*{_mrkdwn(name)}* ({_mrkdwn(org.tier)} tier): tickets created in {month} (UTC), figures as of "
             f"{report.as_of:%Y-%m-%d %H:%M} UTC.")
    blocks: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": f"Support SLA report: {month}"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": intro}},
    ]
    if group is None or group.tickets == 0:
        text = f"SLA report for {name}, {month}: no tickets were created this month."
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "No tickets were created this month."}})
        return {"text": text, "blocks": blocks}
    fr, res = group.first_response, group.resolution
    fields = [
        ("Tickets", str(group.tickets)),
        ("First response within target", _compliance(fr)),
        ("Resolution within target", _compliance(res)),
        ("Median first response", f"{hmm(fr.median_seconds)} (90% within {hmm(fr.p90_seconds)})"),
        ("Median resolution", f"{hmm(res.median_seconds)} (90% within {hmm(res.p90_seconds)})"),
        ("Late first responses", str(fr.breached)),
        ("Still open", f"first response {fr.open}, resolution {res.open}"),
        ("Your ratings", _ratings(group)),
    ]
    blocks.append({"type": "section", "fields": [{"type": "mrkdwn", "text": f"*{k}*\n{v}"} for k, v in fields]})
    context = ("Times are business time on your support calendar (h:mm). Compliance counts targets that were met "
               "or missed; open ones are left out.")
    if fr.breached:
        context += (" Service credits for late first responses are available upon request: 2% of the monthly fee "
                    "per started hour of delay, up to 25%.")
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": context}]})
    text = (f"SLA report for {name}, {month}: {group.tickets} tickets; first response within target "
            f"{pct(fr.compliance_pct)}, resolution within target {pct(res.compliance_pct)}.")
    return {"text": text, "blocks": blocks}


def _mrkdwn(text: str) -> str:
    """Slack's three control characters, so a name from the mappings cannot inject links or mentions."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _compliance(stats: TargetStats) -> str:
    decided = stats.met + stats.breached
    return f"{pct(stats.compliance_pct)} ({stats.met} of {decided})" if decided else "n/a (none decided yet)"


def _ratings(group: Group) -> str:
    c = group.csat
    parts = []
    if c.slack_count:
        parts.append(f"{c.slack_average} / 5 ({c.slack_count} in Slack)")
    if c.zendesk_good + c.zendesk_bad:
        parts.append(f"{pct(c.zendesk_good_pct)} good ({c.zendesk_good + c.zendesk_bad} in Zendesk)")
    return "; ".join(parts) or "none yet"
