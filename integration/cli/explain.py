"""`escalator explain`: what the service would decide for a ticket, as JSON."""
from __future__ import annotations

import datetime as dt
import json

import click


PRIORITY_WORDS = ("urgent", "critical", "high", "normal", "medium", "low", "none")
# Our names are accepted too, and mean the Zendesk field carried that priority.
_TO_ZENDESK = {"critical": "urgent", "medium": "normal", "none": None}


def parse_instant(value: str, option: str) -> dt.datetime:
    try:
        instant = dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"'{value}' is not ISO-8601, e.g. 2026-11-20T14:30:00Z", param_hint=option)
    if instant.tzinfo is None:
        raise click.BadParameter(
            f"'{value}' has no UTC offset; add Z or an offset such as +01:00", param_hint=option
        )
    return instant


@click.command()
@click.option("--org", "org", type=int, default=None, help="Zendesk organization id (omit: match by requester domain or default).")
@click.option("--priority", type=click.Choice(PRIORITY_WORDS, case_sensitive=False), default="none", show_default=True,
              help="The ticket's Zendesk priority; 'none' lets keyword rules decide.")
@click.option("--created", required=True, help="created_at, ISO-8601 with Z or an offset.")
@click.option("--subject", default="", help="Ticket subject, for keyword rules.")
@click.option("--requester", default=None, help="Requester email, for VIP rules and domain matching.")
@click.option("--mappings", "mappings_dir", default=None, help="Mappings directory (default $MAPPINGS_DIR or mappings/).")
@click.option("--now", default=None, help="Evaluate the state at this instant (default: the current time).")
def explain(org, priority, created, subject, requester, mappings_dir, now) -> None:
    """Print tier, priority and why, calendar, due and warning times, and the escalation path."""
    from integration.core.explain import explain_ticket
    from integration.cli.mappings import load_or_report, mappings_directory

    created_at = parse_instant(created, "--created")
    now_at = parse_instant(now, "--now") if now else dt.datetime.now(dt.timezone.utc)
    directory = mappings_directory(mappings_dir)
    mappings, errors = load_or_report(directory)
    if mappings is None:
        raise click.ClickException(f"{errors} errors in {directory}; fix them first")
    word = priority.lower()
    result = explain_ticket(
        mappings,
        organization_id=org,
        zendesk_priority=_TO_ZENDESK.get(word, word),
        created_at=created_at,
        now=now_at,
        subject=subject,
        requester_email=requester,
    )
    click.echo(json.dumps(result, indent=2))
