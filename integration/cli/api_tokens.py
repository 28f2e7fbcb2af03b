"""`escalator api-token create|list|revoke`: the tokens the Zendesk app authenticates with."""
from __future__ import annotations

import datetime as dt

import click

from integration.config import Config


def _sessions():
    from integration.storage.db import make_engine, make_sessions

    return make_sessions(make_engine(Config.from_env().database_url))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _when(instant: dt.datetime | None) -> str:
    return instant.strftime("%Y-%m-%d %H:%M UTC") if instant else "never"


@click.group("api-token")
def api_token() -> None:
    """API tokens for the Zendesk sidebar app (stored hashed; shown once, at creation)."""


@api_token.command("create")
@click.option("--name", required=True, help="What the token is for, e.g. zendesk-app (unique).")
def create(name: str) -> None:
    """Create a token and print it once: paste it into the Zendesk app's "API token" setting."""
    from integration.storage import api_tokens

    try:
        with _sessions().begin() as session:
            token = api_tokens.create(session, name, _now())
    except api_tokens.TokenError as error:
        raise click.ClickException(str(error)) from None
    click.echo(token)
    click.echo(f"created API token {name.strip()!r}. It is shown only now: Escalator keeps a SHA-256 digest of it. "
               "Paste it into the Zendesk app's API token setting.", err=True)


@api_token.command("list")
def list_tokens() -> None:
    """Every token: name, its first characters, created, last used, revoked."""
    from integration.storage import api_tokens

    with _sessions()() as session:
        tokens = api_tokens.listing(session)
    if not tokens:
        click.echo("no API tokens (create one with `escalator api-token create --name NAME`)")
        return
    click.echo(f"{'name':<24} {'token':<12} {'created':<21} {'last used':<21} revoked")
    for t in tokens:
        click.echo(f"{t.name:<24} {t.hint + '…':<12} {_when(t.created_at):<21} {_when(t.last_used_at):<21} "
                   f"{_when(t.revoked_at) if t.revoked_at else '-'}")


@api_token.command("revoke")
@click.argument("name")
def revoke(name: str) -> None:
    """Revoke the token NAME: the app's next request with it is refused (401)."""
    from integration.storage import api_tokens

    with _sessions().begin() as session:
        done = api_tokens.revoke(session, name, _now())
    if not done:
        raise click.ClickException(f"no live API token named {name!r} (see `escalator api-token list`)")
    click.echo(f"revoked API token {name!r}")
