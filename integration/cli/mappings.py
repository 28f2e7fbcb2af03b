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
    directory = mappings_directory(directory)
    loaded, errors = load_or_report(directory)
    if loaded is None:
        click.echo(f"{_plural(errors, 'error')} in {directory}", err=True)
        raise SystemExit(1)
    click.echo(
        f"mappings OK: {_plural(len(loaded.tiers), 'tier')}, {_plural(len(loaded.calendars), 'calendar')}, "
        f"{_plural(len(loaded.organizations), 'organization')}, "
        f"{_plural(len(loaded.escalation.levels), 'escalation level')} "
        f"(fingerprint {loaded.fingerprint[:12]})"
    )


def mappings_directory(given: str | None) -> str:
    return given or os.environ.get("MAPPINGS_DIR") or "mappings"


def load_or_report(directory: str):
    """(the mappings, 0), or (None, how many errors) after printing each as file:line key.path: message."""
    try:
        return load_mappings(directory), 0
    except MappingsError as error:
        for issue in error.errors:
            click.echo(str(issue), err=True)
        return None, len(error.errors)
