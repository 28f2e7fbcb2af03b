"""Writers of ours queue for SQLite's write lock without spinning; the webhooks' record path survives a dropped
PostgreSQL connection (it does not ping before each INSERT)."""
from __future__ import annotations

import subprocess
import sys
import textwrap
import time

from sqlalchemy import event, select, text

from integration.config import Config
from integration.core.signals import TicketSignal
from integration.services import build_services
from integration.storage.db import make_engine
from integration.storage.decisions import EventToRecord
from integration.storage.models import InboxEvent
from integration.storage.sqlite_writer import lock_path_for
from tests.harness import mappings_for_tests

HOLD_SECONDS = 0.6


def hold_write_lock_in_another_process(url: str) -> subprocess.Popen:
    """Another process of ours (same engine setup) takes the write lock and keeps it HOLD_SECONDS."""
    script = textwrap.dedent(f"""
        import sys, time
        from sqlalchemy import text
        from integration.storage.db import make_engine
        engine = make_engine({url!r})
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO timers_probe VALUES (1)"))
            print("holding", flush=True)
            time.sleep({HOLD_SECONDS})
        engine.dispose()
    """)
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "holding"
    return child


def test_a_writer_waits_for_another_process_on_the_file_lock_and_tries_begin_once(tmp_path):
    url = f"sqlite:///{tmp_path}/writers.db"
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE timers_probe (n INTEGER)"))
    begins: list[str] = []

    @event.listens_for(engine, "connect")
    def trace(dbapi_connection, _record):
        dbapi_connection.set_trace_callback(lambda sql: begins.append(sql) if sql.startswith("BEGIN") else None)

    engine.dispose()  # the next connection is traced
    child = hold_write_lock_in_another_process(url)
    started = time.monotonic()
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO timers_probe VALUES (2)"))
    waited = time.monotonic() - started
    assert child.wait(timeout=10) == 0
    assert waited >= HOLD_SECONDS / 2  # it did wait for the other process's transaction
    # Queued on the file lock, it tried BEGIN IMMEDIATE once; the old retry loop tried it every few milliseconds.
    assert begins == ["BEGIN IMMEDIATE"]
    with engine.connect() as connection:
        assert sorted(connection.execute(text("SELECT n FROM timers_probe")).scalars()) == [1, 2]
    engine.dispose()


def test_databases_without_a_file_have_no_file_lock():
    assert lock_path_for(":memory:") is None
    assert lock_path_for("") is None
    assert lock_path_for("file:shared?mode=memory") is None
    assert lock_path_for("/var/lib/escalator/escalator.db") == "/var/lib/escalator/escalator.db-writer.lock"


def test_a_webhook_recorded_after_the_server_dropped_its_connection_is_recorded_once(database, tmp_path):
    services = build_services(Config(database_url=database, mappings_dir=str(mappings_for_tests(tmp_path))))
    def to_record(key: str) -> EventToRecord:
        signal = TicketSignal(ticket_id=7, kind="status", at=services.now(), status="open", source_key=key)
        return EventToRecord("zendesk", key, "status", {"k": key}, signal)

    def event(key: str):
        e = to_record(key)
        return services.ingestor.record(source=e.source, dedup_key=e.dedup_key, event_type=e.event_type,
                                        payload=e.payload, signal=e.signal)

    def batch(*keys: str):
        return [r.outcome for r in services.ingestor.record_many([to_record(key) for key in keys])]

    def drop_connections():
        if database.startswith("postgresql"):  # the server ends every other session (a restart, an idle timeout)
            with services.engine.connect() as admin:
                admin.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                   "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
        else:  # SQLite has no server: its connections are simply gone
            services.engine.dispose()

    assert event("before").outcome == "queued"
    drop_connections()
    assert event("after").outcome == "queued"
    assert event("after").outcome == "duplicate"
    drop_connections()  # a worker's batch (one transaction) after the same loss
    assert batch("read-1", "read-2") == ["queued", "queued"]
    assert batch("read-2", "read-3") == ["duplicate", "queued"]
    with services.sessions() as session:
        keys = session.scalars(select(InboxEvent.dedup_key).where(InboxEvent.source == "zendesk")).all()
    assert sorted(keys) == ["after", "before", "read-1", "read-2", "read-3"]
    services.engine.dispose()
