"""`escalator zendesk install` and `escalator backfill`: setting Zendesk up, and catching up on its tickets."""
from __future__ import annotations

import sys
import time
from urllib.parse import urlsplit

import click

from integration.config import Config

SECRET_FILE = "instance/zendesk_webhook_secret"


def _zendesk_config() -> Config:
    config = Config.from_env()
    if config.zendesk_dry_run:
        raise click.ClickException("set ZENDESK_SUBDOMAIN, ZENDESK_EMAIL and ZENDESK_API_TOKEN (an admin's API "
                                   "token) first: this command talks to Zendesk")
    return config


def _api(config: Config):
    from integration.zendesk.json_api import build_json_api

    newline = "\n" if sys.stdout.isatty() else ""  # off a progress bar's line
    return build_json_api(config, sleep=lambda seconds: time.sleep(seconds),
                          on_wait=lambda message: click.echo(newline + message))


@click.group()
def zendesk() -> None:
    """Zendesk setup."""


@zendesk.command()
@click.option("--url", "public_url", required=True, metavar="https://HOST",
              help="This service's public address; the webhook posts to <url>/webhooks/zendesk.")
@click.option("--dry-run", is_flag=True, help="Print what would be created or updated; change nothing.")
@click.option("--mappings", "mappings_dir", type=click.Path(file_okay=False), default=None,
              help="Mapping files to write the field ids into (default: $MAPPINGS_DIR, else mappings).")
@click.option("--secret-file", default=SECRET_FILE, show_default=True, type=click.Path(dir_okay=False),
              help="Where the webhooks' signing secrets are written, comma-separated (mode 0600).")
def install(public_url: str, dry_run: bool, mappings_dir: str | None, secret_file: str) -> None:
    """Create or update the custom ticket fields, the two webhooks and the four triggers in Zendesk.

    One webhook is connected to the triggers, the other subscribed to ticket events (the preferred
    path). Writes the field ids into zendesk.yaml and both signing secrets into --secret-file. Safe to run
    again: what is already right is left alone ("unchanged") and nothing is written.
    """
    from integration.zendesk.install import Installer
    from integration.zendesk.json_api import ZendeskCallError

    parts = urlsplit(public_url)
    if parts.scheme != "https" or not parts.netloc or parts.query or parts.fragment:
        raise click.BadParameter("give the public https address of this service, e.g. https://escalator.example.com",
                                 param_hint="--url")
    config = _zendesk_config()
    installer = Installer(_api(config), public_url=public_url, mappings_dir=mappings_dir or config.mappings_dir,
                          secret_file=secret_file, dry_run=dry_run, echo=click.echo)
    if dry_run:
        click.echo("dry run: reading only, nothing will be created or changed")
    try:
        report = installer.run()
    except ZendeskCallError as error:  # InstallError included
        raise click.ClickException(str(error)) from None
    if dry_run:
        click.echo("dry run: nothing was changed")
    else:
        click.echo(f"done: {report.writes} change(s) made in Zendesk")
    click.echo(f"agents' sidebar app: `escalator zendesk app package --url {public_url}` writes the zip to upload "
               "as a private app (see the README, Zendesk sidebar app)")


@click.command()
@click.option("--resume/--restart", default=True, show_default=True,
              help="Continue from the last finished page (after a finished run: pick up what changed since), "
                   "or start again from the first ticket.")
@click.option("--batch", default=1000, show_default=True, type=click.IntRange(1, 1000),
              help="Tickets per export page (Zendesk allows up to 1000).")
def backfill(resume: bool, batch: int) -> None:
    """Decide every unsolved Zendesk ticket (and the solved ones already tracked) through the normal path.

    Reads Zendesk's incremental ticket export, stores its position after every page (rerun to
    continue after an interruption), and waits out rate limits. Running it again is harmless.
    """
    from integration.services import build_services
    from integration.zendesk.backfill import Backfill

    config = _zendesk_config()
    services = build_services(config)
    run = Backfill(_api(config), services.ingestor, services.sessions, batch=batch)
    if not run.store.exists():
        raise click.ClickException("the backfill_progress table is missing: run `escalator db upgrade` first")
    total = run.total_hint()
    tty = sys.stdout.isatty()
    bar = click.progressbar(length=total or 0, label="Reading tickets", show_pos=True) if tty and total else None

    def on_page(progress, summary, read) -> None:
        if bar is not None:
            bar.update(read)
            return
        outcomes = ", ".join(f"{name} {count}" for name, count in sorted(summary.outcomes.items())) or "none yet"
        of = f"/{total}" if total else ""
        click.echo(f"page {progress.pages}: {progress.tickets_read}{of} tickets read, "
                   f"{progress.tickets_ingested} decided in all; this run: {outcomes}")

    run.on_page = on_page
    previous = run.store.load()
    if not resume:
        click.echo("restarting from the first ticket (what was decided before and has not changed is skipped)")
    elif previous is not None:
        state = "a finished run: reading what changed since" if previous.completed_at else \
            f"an interrupted run after page {previous.pages}"
        click.echo(f"resuming {state} ({previous.tickets_read} tickets read before)")
    started = time.monotonic()
    try:
        if bar is not None:
            with bar:
                summary = run.run(restart=not resume)
        else:
            summary = run.run(restart=not resume)
    finally:
        services.engine.dispose()
    outcomes = ", ".join(f"{name} {count}" for name, count in sorted(summary.outcomes.items())) or "nothing to decide"
    click.echo(f"backfill complete: {summary.pages} page(s), {summary.tickets_read} tickets read in "
               f"{time.monotonic() - started:.1f}s; {outcomes}")


def main() -> None:
    group = click.Group(commands={"zendesk": zendesk, "backfill": backfill},
                        context_settings={"help_option_names": ["-h", "--help"]})
    group(prog_name="escalator")


if __name__ == "__main__":
    main()
