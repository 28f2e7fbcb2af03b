"""Without Zendesk credentials: actions are recorded (dry_run) and listed by `escalator outbox`, never sent."""
import datetime as dt

from click.testing import CliRunner
from sqlalchemy import select

from integration.cli import cli
from integration.config import Config
from integration.runtime import build_worker
from integration.services import build_services
from integration.core.signals import TicketSignal
from integration.storage.models import OutboxAction
from integration.worker import Worker
from tests.harness import Clock, mappings_for_tests

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 3, 2, 14, 6, tzinfo=UTC)


def test_dry_run_records_actions_and_the_outbox_command_lists_them(database, tmp_path, monkeypatch, caplog):
    config = Config(database_url=database, mappings_dir=str(mappings_for_tests(tmp_path)))
    assert config.zendesk_dry_run
    services = build_services(config, Clock(NOW))
    worker = build_worker(services)
    assert isinstance(worker, Worker)
    snapshot = TicketSignal(ticket_id=77, kind="snapshot", at=NOW, created_at=NOW - dt.timedelta(minutes=5),
                            status="new", zendesk_priority="", organization_id=1002, organization_known=True,
                            subject="Data loss after import", authoritative=True, source_key="t-77")
    assert services.ingestor.ingest(source="worker", dedup_key="t-77", event_type="snapshot", payload={},
                                    signal=snapshot).outcome == "applied"
    assert worker.run_once() == 1
    with services.sessions() as session:
        action = session.scalars(select(OutboxAction)).one()
    assert action.status == "dry_run" and "recorded, not sent" in action.last_error
    assert action.payload["priority"] == "urgent"  # "data loss" is a critical keyword
    monkeypatch.setenv("DATABASE_URL", database)
    listing = CliRunner().invoke(cli, ["outbox"])
    assert listing.exit_code == 0, listing.output
    assert f"#{action.id} dry_run  zendesk/update_ticket ticket 77" in listing.output
    assert "note: SLA set by Escalator: pro tier, critical priority" in listing.output
    services.engine.dispose()


def test_failed_actions_can_be_retried_from_the_cli(database, tmp_path, monkeypatch):
    services = build_services(Config(database_url=database, mappings_dir=str(mappings_for_tests(tmp_path))))
    with services.sessions.begin() as session:
        session.add(OutboxAction(ticket_id=5, target="zendesk", kind="update_ticket", payload={"ticket_id": 5},
                                 idempotency_key="k5", status="failed", attempts=1, next_attempt_at=NOW,
                                 created_at=NOW, last_error="Zendesk refused it (422)"))
    monkeypatch.setenv("DATABASE_URL", database)
    failed = CliRunner().invoke(cli, ["outbox", "--status", "failed"])
    assert "failed   zendesk/update_ticket ticket 5" in failed.output and "422" in failed.output
    again = CliRunner().invoke(cli, ["outbox", "retry", "1"])
    assert again.exit_code == 0 and "pending again" in again.output
    twice = CliRunner().invoke(cli, ["outbox", "retry", "1"])
    assert twice.exit_code == 1 and "is not a failed action" in twice.output
    services.engine.dispose()
