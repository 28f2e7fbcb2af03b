"""Databases for tests: a SQLite file per test, and a fresh PostgreSQL database when TEST_DATABASE_URL is set."""
from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from integration.storage.db import upgrade


def backends() -> list[str]:
    return ["sqlite", "postgresql"] if os.environ.get("TEST_DATABASE_URL") else ["sqlite"]


@contextmanager
def database_url(backend: str, tmp_path) -> Iterator[str]:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path}/escalator-test.db"
        upgrade(url)
        yield url
        return
    with postgres_database() as url:
        upgrade(url)
        yield url


@contextmanager
def postgres_database() -> Iterator[str]:
    admin_url = make_url(os.environ["TEST_DATABASE_URL"])
    if admin_url.drivername == "postgresql":
        admin_url = admin_url.set(drivername="postgresql+psycopg")
    name = f"escalator_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def statements_sent(engine) -> Iterator[list[tuple[str, object]]]:
    """Every (statement, parameters) the engine sends to the database while the block runs, in order."""
    from sqlalchemy import event

    sent: list[tuple[str, object]] = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", keep)


def plan_of(session, run, marker: str) -> tuple[object, str]:
    """Run `run()` in `session`, then the database's plan (EXPLAIN on PostgreSQL, EXPLAIN QUERY PLAN on SQLite)
    of the first statement it sent that holds `marker`: (run's result, the plan as text)."""
    engine = session.get_bind()
    with statements_sent(engine) as sent:
        result = run()
    statement, parameters = next(s for s in sent if marker in s[0])
    cursor = session.connection().connection.driver_connection.cursor()
    explain = "EXPLAIN " if engine.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN "
    cursor.execute(explain + statement, parameters)
    return result, "\n".join(" ".join(str(part) for part in row) for row in cursor.fetchall())
