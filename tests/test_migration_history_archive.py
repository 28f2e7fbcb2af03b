"""Migration 0010 (history_archive, tickets.clock_checkpoint) up and down, on SQLite and on PostgreSQL when
TEST_DATABASE_URL is set: down puts each ticket's archived rows back in front of its live ones."""
from __future__ import annotations

import contextlib
import json

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, text

from integration.storage.db import alembic_config, upgrade
from tests.db import backends, postgres_database

TICKET = ("INSERT INTO tickets (id, subject, description, status, priority_reason, created_at, history, sla, written,"
          " level, escalation, tags, version, mappings_fingerprint, updated_at) VALUES (7, '', '', 'open', '',"
          " '2026-03-02 09:00:00+00:00', :history, '{}', '{}', 1, '{}', '[]', 1, '', '2026-03-02 09:00:00+00:00')")
ROWS = ['{"at": "2026-03-02T09:00:00+00:00", "kind": "policy", "tier": "pro", "priority": "high"}',
        '{"at": "2026-03-02T09:05:00+00:00", "kind": "status", "status": "pending"}',
        '{"at": "2026-03-02T09:10:00+00:00", "kind": "status", "status": "open"}']


@pytest.fixture(params=backends())
def url(request, tmp_path):
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            yield f"sqlite:///{tmp_path}/migrate.db"
        else:
            yield stack.enter_context(postgres_database())


def test_0010_up_and_down_keeps_every_history_row(url):
    upgrade(url, "0009")
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text(TICKET), {"history": f"[{', '.join(ROWS)}]"})
        upgrade(url, "0010")
        assert "history_archive" in inspect(engine).get_table_names()
        assert "clock_checkpoint" in {c["name"] for c in inspect(engine).get_columns("tickets")}
        with engine.begin() as connection:  # as a compaction leaves it: two rows folded, a summary of them live
            connection.execute(text("UPDATE tickets SET history = :history, clock_checkpoint = :checkpoint"),
                               {"history": f"[{ROWS[1]}, {ROWS[2]}]",
                                "checkpoint": '{"upto": "2026-03-02T09:05:00+00:00"}'})
            connection.execute(text("INSERT INTO history_archive (ticket_id, rows, archived_at) VALUES "
                                    "(7, :rows, '2026-03-02 10:00:00+00:00')"), {"rows": f"[{ROWS[0]}, {ROWS[1]}]"})
        command.downgrade(alembic_config(url), "0009")
        assert "history_archive" not in inspect(engine).get_table_names()
        assert "clock_checkpoint" not in {c["name"] for c in inspect(engine).get_columns("tickets")}
        with engine.connect() as connection:
            history = connection.execute(text("SELECT history FROM tickets WHERE id = 7")).scalar_one()
        history = history if isinstance(history, list) else json.loads(history)
        assert [r["at"][11:16] for r in history] == ["09:00", "09:05", "09:10"]
        upgrade(url)
    finally:
        engine.dispose()
