"""`escalator credits request|list|approve|deny|applied|show`: service-credit requests, from request to invoice."""
from __future__ import annotations

import datetime as dt

import click

from integration.core.credits import STATUSES, CreditError, money, parse_month


class _Context:
    def __init__(self) -> None:
        from integration.config import Config
        from integration.mappings.loader import MappingsError, load_mappings
        from integration.storage.db import make_engine, make_sessions

        config = Config.from_env()
        try:
            self.mappings = load_mappings(config.mappings_dir)
        except MappingsError as exc:
            for issue in exc.errors:
                click.echo(str(issue), err=True)
            raise click.ClickException(f"{len(exc.errors)} errors in {config.mappings_dir}; fix them first")
        self.engine = make_engine(config.database_url)
        self.sessions = make_sessions(self.engine)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _when(at: dt.datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC") if at else "—"


@click.group("credits")
def credits() -> None:
    """Service-credit requests: record, decide, apply, list (every change is in the audit log)."""


@credits.command("request")
@click.option("--org", "org", type=int, required=True, help="The Zendesk organization id.")
@click.option("--month", required=True, help="The month claimed, YYYY-MM (tickets created in it, UTC).")
@click.option("--note", required=True, help="Where the request came from, e.g. 'email from ap@customer, #4411'.")
@click.option("--received", default=None, help="When the customer asked, ISO-8601 with Z or an offset "
              "(default: now); the 48 h investigation runs from it.")
def request(org: int, month: str, note: str, received: str | None) -> None:
    """Record a request that came another way than Slack (email, phone)."""
    from integration.cli.explain import parse_instant
    from integration.reports.credit_standing import month_standing
    from integration.storage import credits as store

    wanted = parse_month(month)
    if wanted is None:
        raise click.BadParameter(f"{month!r} is not a month: use YYYY-MM, e.g. 2026-03", param_hint="--month")
    at = parse_instant(received, "--received") if received else _now()
    from integration.core.credits import month_of

    if wanted >= month_of(at):
        raise click.BadParameter(f"{wanted} has not ended at {_when(at)}: credits are requested for ended months",
                                 param_hint="--month")
    ctx = _Context()
    if ctx.mappings.organization_by_id(org) is None:
        raise click.BadParameter(f"organization {org} is not in organizations.yaml", param_hint="--org")
    try:
        standing = month_standing(ctx.sessions, ctx.mappings, org, wanted, at)
        if not standing.eligibility.eligible:
            raise click.ClickException(f"nothing recorded: {standing.eligibility.why_none}")
        state, created = store.request_credit(ctx.sessions, ctx.mappings, standing.eligibility, by="cli",
                                              note=note, channel=None, now=at)
    finally:
        ctx.engine.dispose()
    if not created:
        raise click.ClickException(f"{wanted} was already requested for organization {org}: request {state.id} "
                                   f"({state.status})")
    click.echo(f"credit request {state.id}: organization {org}, {wanted}, eligible {money(state.amount)} "
               f"({len(standing.eligibility.breaches)} late first responses); investigate by "
               f"{_when(state.investigation_due)}")


@credits.command("list")
@click.option("--status", type=click.Choice(STATUSES), default=None)
@click.option("--org", "org", type=int, default=None, help="Only this Zendesk organization id.")
def list_command(status: str | None, org: int | None) -> None:
    """Every request: id, organization, month, status, amount, due dates."""
    from integration.storage import credits as store

    ctx = _Context()
    try:
        with ctx.sessions() as session:
            rows = [store.state_of(r) for r in store.list_requests(session, status, org)]
    finally:
        ctx.engine.dispose()
    if not rows:
        click.echo("no credit requests" + (f" with status {status}" if status else ""))
    for s in rows:
        due = {"investigating": f"investigate by {_when(s.investigation_due)}",
               "approved": f"apply by {_when(s.apply_due)}", "denied": f"reason: {s.reason}",
               "applied": f"invoice {s.invoice} on {_when(s.applied_at)}"}[s.status]
        click.echo(f"{s.id}\torg {s.organization_id}\t{s.month}\t{s.status}\t{money(s.amount)}\t{due}")


@credits.command("approve")
@click.argument("request_id", type=int)
@click.option("--by", default="cli", help="Who decided (shown to billing and in the audit log).")
def approve(request_id: int, by: str) -> None:
    """Approve: the customer is told, and the credit is due on an invoice within 5 business days."""
    state = _change(lambda ctx, store: store.decide(ctx.sessions, ctx.mappings, request_id, approved=True, by=by,
                                                    reason="", now=_now()))
    click.echo(f"credit request {state.id} approved: apply {money(state.amount)} by {_when(state.apply_due)}")


@credits.command("deny")
@click.argument("request_id", type=int)
@click.option("--reason", required=True, help="Why (the customer reads it).")
@click.option("--by", default="cli")
def deny(request_id: int, reason: str, by: str) -> None:
    """Deny, with the reason the customer is told."""
    state = _change(lambda ctx, store: store.decide(ctx.sessions, ctx.mappings, request_id, approved=False, by=by,
                                                    reason=reason, now=_now()))
    click.echo(f"credit request {state.id} denied")


@credits.command("applied")
@click.argument("request_id", type=int)
@click.option("--invoice", required=True, help="The invoice reference the credit went on.")
@click.option("--by", default="cli")
def applied(request_id: int, invoice: str, by: str) -> None:
    """Record that an approved credit is on an invoice."""
    state = _change(lambda ctx, store: store.applied(ctx.sessions, ctx.mappings, request_id, invoice=invoice, by=by,
                                                     now=_now()))
    click.echo(f"credit request {state.id} applied on invoice {state.invoice}")


def _change(work):
    from integration.storage import credits as store

    ctx = _Context()
    try:
        return work(ctx, store)
    except CreditError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        ctx.engine.dispose()
