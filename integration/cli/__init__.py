"""The `escalator` command. Each subcommand lives in a module of this package."""
from __future__ import annotations

import click

from integration.cli import api_tokens, credits, demo, explain, mappings, ops, report, serve, zendesk, zendesk_app


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Escalator: SLA clocks and escalations between Zendesk and Slack."""


for command in (mappings.mappings, explain.explain, serve.serve, ops.db, ops.worker, ops.outbox, ops.escalation,
                report.report, zendesk.zendesk, zendesk.backfill, demo.demo, api_tokens.api_token,
                credits.credits):
    cli.add_command(command)
zendesk.zendesk.add_command(zendesk_app.app)


def main() -> None:
    cli(prog_name="escalator")


if __name__ == "__main__":
    main()
