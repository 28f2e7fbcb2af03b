"""`escalator report`: the monthly SLA report (html, csv or json), or its summaries posted to customer channels."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from integration.reports.figures import Month


class MonthParam(click.ParamType):
    name = "YYYY-MM"

    def convert(self, value, param, ctx) -> Month:
        if isinstance(value, Month):
            return value
        try:
            return Month.parse(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


@click.command("report")
@click.option("--month", required=True, type=MonthParam(), help="The month, YYYY-MM: tickets created in it (UTC).")
@click.option("--org", "org", type=int, default=None, help="Only this Zendesk organization id.")
@click.option("--kind", type=click.Choice(["sla", "credits"]), default="sla", show_default=True,
              help="sla: the SLA performance report; credits: the Service Credits Report for billing (earned, "
                   "requested, approved, denied, applied, outstanding per organization).")
@click.option("--format", "fmt", type=click.Choice(["html", "csv", "json"]), default="html", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the report to this file (default: standard output).")
@click.option("--as-of", "as_of", default=None,
              help="Figures as they stood at this instant, ISO-8601 with Z or an offset (default: now).")
@click.option("--post-to-slack", is_flag=True,
              help="Queue each customer channel's own summary (tiers with slack_channel and a slack_channel_id); "
                   "the worker delivers them, dry-run without SLACK_BOT_TOKEN.")
def report(month: Month, org: int | None, kind: str, fmt: str, out: Path | None, as_of: str | None,
           post_to_slack: bool) -> None:
    """Monthly SLA performance and service-credit report for tickets created in --month (UTC)."""
    from integration.cli.explain import parse_instant
    from integration.config import Config
    from integration.storage.decisions import utcnow
    from integration.mappings.loader import MappingsError, load_mappings
    from integration.reports.formats import render
    from integration.reports.queries import load_credits_report, load_report, organization_known
    from integration.storage.db import make_engine, make_sessions

    if kind == "credits" and post_to_slack:
        raise click.BadParameter("the credits report is for billing: it is not posted to customer channels",
                                 param_hint="--post-to-slack")
    config = Config.from_env()
    now = utcnow()
    at = parse_instant(as_of, "--as-of") if as_of else now
    if at < month.start:
        raise click.BadParameter(f"{month} has not started at {at:%Y-%m-%dT%H:%M:%SZ}: nothing to report",
                                 param_hint="--month")
    try:
        mappings = load_mappings(config.mappings_dir)
    except MappingsError as exc:
        for issue in exc.errors:
            click.echo(str(issue), err=True)
        raise click.ClickException(f"{len(exc.errors)} errors in {config.mappings_dir}; fix them first")
    engine = make_engine(config.database_url)
    try:
        sessions = make_sessions(engine)
        result = load_report(sessions, mappings, month, at.astimezone(dt.timezone.utc), org)
        if not organization_known(mappings, result):
            raise click.BadParameter(f"organization {org} is not in the mappings and has no tickets in {month}",
                                     param_hint="--org")
        if post_to_slack:
            _post(sessions, mappings, result, now, config.slack_dry_run)
            if out is None:
                return
        if kind == "credits":
            credits = load_credits_report(sessions, mappings, result)
            text, what = render(credits, fmt), f"credits report ({fmt}, {len(credits.rows)} organizations)"
        else:
            text, what = render(result, fmt), f"report ({fmt}, {result.total.tickets} tickets)"
        if out is None:
            click.echo(text, nl=False)
        else:
            out.write_text(text, encoding="utf-8")
            click.echo(f"wrote the {month} {what} to {out}", err=True)
    finally:
        engine.dispose()


def _post(sessions, mappings, result, now: dt.datetime, dry_run: bool) -> None:
    from integration.reports.slack_post import enqueue_report, report_actions

    actions = report_actions(result, mappings)
    with sessions.begin() as session:  # all or nothing
        queued = enqueue_report(session, actions, now)
    for action, added in queued:
        org_id = action.idempotency_key.rsplit("-", 1)[1]
        state = "queued" if added else "already queued earlier (not posted twice)"
        click.echo(f"organization {org_id} → {action.payload['channel']}: {state}")
    click.echo(f"{sum(added for _, added in queued)} summary message(s) queued for {result.month}"
               + (" — SLACK_BOT_TOKEN is not set: the worker records them as dry-run, nothing is sent"
                  if dry_run else "; the worker delivers them"))
    if not actions:
        click.echo("no organization has a Slack channel on a tier with slack_channel: true")
