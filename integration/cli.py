"""The `escalator` command. Each subcommand lives beside the code it drives."""
from __future__ import annotations

import click

from integration.mappings.cli import mappings


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Escalator: SLA clocks and escalations between Zendesk and Slack."""


cli.add_command(mappings)


def main() -> None:
    cli(prog_name="escalator")
