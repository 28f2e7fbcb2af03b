"""`escalator mappings …`: check the admin-edited mapping files."""
from __future__ import annotations

import os

import click

from integration.mappings.errors import MappingsError
from integration.mappings.loader import load_mappings


@click.group()
def mappings() -> None:
    """Check the admin-edited mapping files."""


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


@mappings.command()
@click.argument("directory", required=False, metavar="[DIR]")
def check(directory: str | None) -> None:
    """Validate the mapping files in DIR (default: $MAPPINGS_DIR, else `mappings`).

    Prints every error as file:line key.path: message, then exits 1; prints a summary and exits 0
    when the files are valid.
    """
    directory = directory or os.environ.get("MAPPINGS_DIR") or "mappings"
    try:
        loaded = load_mappings(directory)
    except MappingsError as error:
        for issue in error.errors:
            click.echo(str(issue), err=True)
        click.echo(f"{_plural(len(error.errors), 'error')} in {directory}", err=True)
        raise SystemExit(1) from None
    click.echo(
        f"mappings OK: {_plural(len(loaded.tiers), 'tier')}, {_plural(len(loaded.calendars), 'calendar')}, "
        f"{_plural(len(loaded.organizations), 'organization')}, "
        f"{_plural(len(loaded.escalation.levels), 'escalation level')} "
        f"(fingerprint {loaded.fingerprint[:12]})"
    )
