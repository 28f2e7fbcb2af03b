"""Operations commands: `db upgrade`, `worker`, `outbox`."""
from __future__ import annotations

import signal
import threading

import click
from sqlalchemy import select

from integration.config import Config


@click.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply the Alembic migrations to DATABASE_URL."""
    from integration.storage.db import upgrade

    config = Config.from_env()
    upgrade(config.database_url, revision)
    click.echo(f"database at {_safe_url(config.database_url)} is at revision {revision}")


@click.command()
def worker() -> None:
    """Deliver the outbox (and fire timers) until SIGTERM/SIGINT."""
    from integration.runtime import build_worker, configure_logging
    from integration.services import build_services, log_mode

    configure_logging()
    config = Config.from_env()
    log_mode(config)
    stop = threading.Event()
    for name in (signal.SIGTERM, signal.SIGINT):
        signal.signal(name, lambda *_: stop.set())
    build_worker(build_services(config)).run_forever(stop)


@click.group(invoke_without_command=True)
@click.option("--status", "statuses", multiple=True,
              type=click.Choice(["pending", "done", "failed", "dry_run", "dropped"]), help="Only these statuses.")
@click.option("--limit", default=50, show_default=True)
@click.pass_context
def outbox(ctx, statuses, limit) -> None:
    """List outbox actions (newest first): what was sent, what waits, what failed and why."""
    if ctx.invoked_subcommand:
        return
    from integration.storage.db import make_engine, make_sessions
    from integration.storage.models import OutboxAction

    sessions = make_sessions(make_engine(Config.from_env().database_url))
    query = select(OutboxAction).order_by(OutboxAction.id.desc()).limit(limit)
    if statuses:
        query = query.where(OutboxAction.status.in_(statuses))
    with sessions() as session:
        rows = session.scalars(query).all()
    for row in rows:
        click.echo(f"#{row.id} {row.status:<8} {row.target}/{row.kind} ticket {row.ticket_id} "
                   f"attempts {row.attempts} next {row.next_attempt_at:%Y-%m-%dT%H:%M:%SZ}"
                   + (f"\n    {row.last_error}" if row.last_error else "")
                   + (f"\n    {_summary(row.payload)}" if row.status in ("dry_run", "failed", "pending") else ""))
    click.echo(f"{len(rows)} action(s)")


@outbox.command("retry")
@click.argument("action_id", type=int)
def outbox_retry(action_id: int) -> None:
    """Give a failed action another try (after fixing its cause)."""
    from integration.storage.decisions import utcnow
    from integration.storage.outbox import retry_failed
    from integration.storage.db import make_engine, make_sessions

    sessions = make_sessions(make_engine(Config.from_env().database_url))
    with sessions.begin() as session:
        if not retry_failed(session, action_id, utcnow()):
            raise click.ClickException(f"action #{action_id} is not a failed action")
    click.echo(f"action #{action_id} is pending again")


def _summary(payload: dict) -> str:
    shown = {k: v for k, v in payload.items() if k != "note"}
    note = payload.get("note")
    return f"{shown}" + (f" + note: {note.splitlines()[0]}" if note else "")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@click.group()
def escalation() -> None:
    """Escalation levels."""


@escalation.command("reset")
@click.argument("ticket_id", type=int)
@click.option("--level", default=1, show_default=True, type=click.IntRange(min=1))
@click.option("--reason", required=True, help="Why, for the audit log.")
def escalation_reset(ticket_id: int, level: int, reason: str) -> None:
    """Lower a ticket's escalation level (it never goes down by itself); the reset is audited."""
    from integration.core.reset import ResetRefused, reset_level
    from integration.storage import repo
    from integration.storage.batch import save_decision
    from integration.storage.db import make_engine, make_sessions
    from integration.storage.decisions import utcnow

    sessions = make_sessions(make_engine(Config.from_env().database_url))
    with sessions.begin() as session:
        state = repo.load_ticket(session, ticket_id)
        if state is None:
            raise click.ClickException(f"ticket {ticket_id} is not known")
        try:
            decision = reset_level(state, level, reason)
        except ResetRefused as refused:
            raise click.ClickException(str(refused)) from None
        save_decision(session, decision, inbox_id=None, now=utcnow())
    click.echo(f"ticket {ticket_id}: level {state.level} → {level}")
