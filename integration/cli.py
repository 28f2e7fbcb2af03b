"""The `escalator` command. Each subcommand lives beside the code it drives."""
from __future__ import annotations

import click

from integration.cli_explain import explain
from integration.cli_ops import db, escalation, outbox, worker
from integration.cli_serve import serve
from integration.cli_zendesk import backfill, zendesk
from integration.mappings.cli import mappings
from integration.reports.cli import report


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Escalator: SLA clocks and escalations between Zendesk and Slack."""


for command in (mappings, explain, serve, db, worker, outbox, escalation, report, zendesk, backfill):
    cli.add_command(command)


def main() -> None:
    cli(prog_name="escalator")


if __name__ == "__main__":
    main()
