"""`escalator demo`: send signed sample Zendesk events of every tier to a running service over HTTP."""
from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass

import click

from integration.config import Config
from integration.core.demo import DemoPlan, SampleEvent, SampleTicket
from integration.zendesk.signature import sign, webhook_secrets


@dataclass(frozen=True)
class SignedRequest:
    ticket_id: int
    type: str
    body: bytes
    headers: dict[str, str]


def signed(event: SampleEvent, secret: str, now: dt.datetime) -> SignedRequest:
    """The request Zendesk would make: the raw body and base64(HMAC-SHA256(secret, timestamp + body))."""
    body = json.dumps(event.body, separators=(",", ":")).encode()
    timestamp = now.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return SignedRequest(event.ticket_id, event.type, body, {
        "Content-Type": "application/json",
        "User-Agent": "Zendesk Webhook (escalator demo)",
        "X-Zendesk-Webhook-Signature": sign(secret, timestamp, body),
        "X-Zendesk-Webhook-Signature-Timestamp": timestamp,
    })


def first_id_for(now: dt.datetime) -> int:
    """Ticket ids that differ between runs (100 per second of the clock), so a second run adds tickets."""
    return 9_000_000 + int(now.timestamp()) % 100_000 * 100


@click.command()
@click.option("--url", default=None, help="The running service (default: http://127.0.0.1:$PORT, PORT=8000).")
@click.option("--count", default=14, show_default=True, type=click.IntRange(1, 100), help="Sample tickets.")
@click.option("--first-id", type=int, default=None, help="First ticket id (default: new ids on each run).")
def demo(url: str | None, count: int, first_id: int | None) -> None:
    """Send sample tickets of every tier, created in the past, through the real webhook route.

    Signed with the webhook secret the server uses (ZENDESK_WEBHOOK_SECRET, or the generated
    local one). Within a minute the dashboard shows warnings, breaches and escalations, and
    `escalator outbox` lists what would have been sent to Zendesk and Slack (dry-run).
    """
    import requests

    from integration.core.demo import build_plan
    from integration.local_credentials import LocalCredentialsError, resolve
    from integration.mappings.loader import load_mappings

    base = (url or f"http://127.0.0.1:{os.environ.get('PORT') or 8000}").rstrip("/")
    try:
        resolved = resolve(Config.from_env(), create=False)
    except LocalCredentialsError as exc:
        raise click.ClickException(str(exc)) from None
    config = resolved.config
    secrets = webhook_secrets(config.zendesk_webhook_secret)
    if not secrets:
        raise click.ClickException("no webhook secret: start `escalator serve` first (it generates one beside the "
                                   "SQLite database) or set ZENDESK_WEBHOOK_SECRET to the server's")
    now = dt.datetime.now(dt.timezone.utc)
    plan = build_plan(load_mappings(config.mappings_dir), now, count=count,
                      first_id=first_id if first_id is not None else first_id_for(now))
    failures = []
    with requests.Session() as session:
        for event in plan.events:
            request = signed(event, secrets[0], dt.datetime.now(dt.timezone.utc))
            try:
                response = session.post(f"{base}/webhooks/zendesk", data=request.body, headers=request.headers,
                                        timeout=10)
            except requests.RequestException as exc:
                raise click.ClickException(f"cannot reach {base}: {exc.__class__.__name__}; is `escalator serve` "
                                           "running?") from None
            if response.status_code != 200:
                failures.append(f"ticket {event.ticket_id} {event.type}: {response.status_code} {response.text.strip()}")
    click.echo(report(plan, now, base, sent=len(plan.events) - len(failures)))
    if failures:
        raise click.ClickException("refused by the server:\n  " + "\n  ".join(failures))


def report(plan: DemoPlan, now: dt.datetime, base: str, *, sent: int) -> str:
    lines = [f"sent {sent} of {len(plan.events)} signed Zendesk events to {base}/webhooks/zendesk "
             f"({len(plan.tickets)} tickets):"]
    lines += [_line(ticket, now) for ticket in plan.tickets]
    if plan.tiers_without_organization:
        lines.append(f"no organization in organizations.yaml has tier {', '.join(plan.tiers_without_organization)}: "
                     "no sample can reach it")
    lines += [f"Open {base}/ (the login `escalator serve` printed): within a minute tickets are warned, breached "
              "and escalated.",
              "`escalator outbox` lists the Zendesk updates and Slack messages they would have sent (dry-run)."]
    return "\n".join(lines)


def _line(ticket: SampleTicket, now: dt.datetime) -> str:
    minutes = int((now - ticket.created_at).total_seconds() // 60)
    days, hours, minutes = minutes // 1440, minutes % 1440 // 60, minutes % 60
    age = (f"{days}d" if days else "") + (f"{hours}h" if days or hours else "") + f"{minutes:02d}m"
    return (f"  #{ticket.ticket_id}  {ticket.tier:<10} {ticket.priority:<8} {ticket.organization[:28]:<28} "
            f"created {age:>9} ago  → {ticket.scenario}")
