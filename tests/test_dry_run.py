"""Without Zendesk credentials: actions are recorded (dry_run) and listed by `escalator outbox`, never sent."""
import datetime as dt

from click.testing import CliRunner
from sqlalchemy import select, text

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


def test_a_batch_of_reads_finds_the_webhooks_that_asked_in_one_query(database, tmp_path):
    from integration.core.zendesk_update import fetch_action
    from integration.storage.models import InboxEvent
    from integration.storage.outbox import Claimed
    from integration.zendesk.dry_run import DryRunZendesk
    from integration.zendesk.payloads import parse_payload
    from tests.db import statements_sent
    from tests.harness import fixture_body

    services = build_services(Config(database_url=database, mappings_dir=str(mappings_for_tests(tmp_path))),
                              Clock(NOW))
    reads = []
    for n, ticket_id in enumerate((501, 502, 503)):
        document = fixture_body("ticket_created", id=f"event-{n}", subject=f"zen:ticket:{ticket_id}",
                                detail__id=str(ticket_id))
        parsed = parse_payload(document, raw=b"")
        services.ingestor.record(source="zendesk", dedup_key=parsed.dedup_key, event_type=parsed.event_type,
                                 payload=document, signal=parsed.signal)
        action = fetch_action(ticket_id, parsed.dedup_key)
        reads.append(Claimed(n + 1, ticket_id, "zendesk", action.kind, action.payload, action.idempotency_key, 1))
    with statements_sent(services.engine) as sent:
        outcomes = DryRunZendesk(services.sessions, services.ingestor).deliver_batch(reads)
    lookups = [statement for statement, _ in sent
               if "FROM inbox_events" in statement and "inbox_events.dedup_key" in statement.split("WHERE")[-1]]
    assert len(lookups) == 1  # one query for the three reads (it was a session and a query each)
    assert all("stood in for the read (queued)" in outcomes[read.id].detail for read in reads), outcomes
    with services.sessions() as session:
        stand_ins = session.scalars(select(InboxEvent.dedup_key).where(InboxEvent.source == "worker")).all()
    assert sorted(stand_ins) == sorted(f"dry-run-read:{read.idempotency_key}" for read in reads)
    if database.startswith("postgresql"):  # the three stand-ins in one transaction (it was one each)
        with services.engine.connect() as connection:
            writers = connection.execute(text("SELECT DISTINCT xmin::text FROM inbox_events WHERE source = 'worker'"))
            assert len(writers.all()) == 1
    again = DryRunZendesk(services.sessions, services.ingestor).deliver_batch(reads)  # a retried delivery
    assert all("stood in for the read (duplicate)" in again[read.id].detail for read in reads), again
    services.engine.dispose()
