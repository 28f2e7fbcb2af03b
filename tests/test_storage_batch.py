"""Decisions of many tickets written together (integration.storage.batch), and the fall-back a ticket at a time."""
import datetime as dt

from sqlalchemy import select, text

from integration.config import Config
from integration.services import build_services
from integration.storage.decisions import EventToRecord
from integration.storage.models import AuditEntry, OutboxAction, Ticket, Timer
from tests.db import statements_sent
from tests.harness import Clock, mappings_for_tests
from tests.storm import ingest_all

T0 = dt.datetime(2026, 3, 2, 14, 0, tzinfo=dt.timezone.utc)
TICKETS = 40


def storm_of(database, tmp_path, count=TICKETS):
    """`count` enterprise critical tickets (first response 15 m) whose first-response breach is due at once."""
    created = T0 - dt.timedelta(minutes=14, seconds=59)
    clock = Clock(T0)
    services = build_services(Config(database_url=database, mappings_dir=str(mappings_for_tests(tmp_path))), clock)
    ingest_all(services, list(range(1, count + 1)), created)
    clock.advance(seconds=5)
    return services


def levels(services):
    with services.sessions() as session:
        return {t.id: t.level for t in session.scalars(select(Ticket))}


def test_a_batch_of_breaches_is_written_in_a_few_statements_not_ten_a_ticket(database, tmp_path):
    services = storm_of(database, tmp_path)
    with statements_sent(services.engine) as statements:
        assert services.ingestor.fire_due_timers(limit=TICKETS) == TICKETS
    assert set(levels(services).values()) == {2}
    assert len(statements) <= 30, statements  # one ticket at a time it was ~10 a ticket: 400
    with services.sessions() as session:
        audits = session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1))
        updates = session.scalars(select(OutboxAction).where(OutboxAction.kind == "update_ticket")).all()
    assert audits is not None
    # each ticket's breach merged into its routine update still queued: one update a ticket, escalation lane
    assert sorted(u.ticket_id for u in updates) == list(range(1, TICKETS + 1))
    assert {u.lane for u in updates} == {0} and all("escalation_level_2" in u.payload["additional_tags"]
                                                    for u in updates)
    services.engine.dispose()


def test_a_round_of_new_tickets_reads_their_timers_in_at_most_one_query(database, tmp_path):
    from tests.storm import snapshot

    services = build_services(Config(database_url=database, mappings_dir=str(mappings_for_tests(tmp_path))),
                              Clock(T0))
    created = T0 - dt.timedelta(minutes=1)
    services.ingestor.record_many([EventToRecord("worker", f"seed-{n}", "snapshot", {}, snapshot(n, created))
                                   for n in range(1, 13)])
    with statements_sent(services.engine) as statements:
        assert services.ingestor.decide_queued(50) == 12
    assert len(levels(services)) == 12
    # it was one SELECT for each new ticket, which has none
    assert len([s for s, _ in statements if s.startswith("SELECT") and "FROM timers" in s]) <= 1, statements
    services.engine.dispose()


def test_a_ticket_whose_write_fails_fails_alone_when_the_batch_is_written_again_one_by_one(database, tmp_path):
    services = storm_of(database, tmp_path, count=3)
    refuse = {"sqlite": ("CREATE TRIGGER refuse_two BEFORE INSERT ON audit_log WHEN NEW.ticket_id = 2 "
                         "BEGIN SELECT RAISE(ABORT, 'refused'); END",),
              "postgresql": ("CREATE FUNCTION refuse_two() RETURNS trigger AS $$ BEGIN IF NEW.ticket_id = 2 THEN "
                             "RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql",
                             "CREATE TRIGGER refuse_two BEFORE INSERT ON audit_log FOR EACH ROW "
                             "EXECUTE FUNCTION refuse_two()")}
    with services.engine.begin() as connection:  # the database refuses ticket 2's audit entry, as a constraint would
        for statement in refuse[services.engine.dialect.name]:
            connection.execute(text(statement))
    assert services.ingestor.fire_due_timers() > 0
    assert levels(services) == {1: 2, 2: 1, 3: 2}
    with services.sessions() as session:
        unfired = session.scalars(select(Timer.ticket_id).where(Timer.fired_at.is_(None),
                                                                 Timer.kind == "first_response_breach")).all()
    assert list(unfired) == [2]  # retried when its lease runs out
    services.engine.dispose()
