"""Engine and sessions. SQLite gets WAL and a busy timeout so the embedded web app and worker share it."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker

from integration.storage.sqlite_writer import serialize_writers

MIGRATIONS = Path(__file__).with_name("migrations")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        _ensure_sqlite_directory(url)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        serialize_writers(engine, make_url(url).database or "")
        return engine
    # A worker runs a timer loop, a delivery loop, a heartbeat and a pool of 8 deliveries: enough connections
    # that none of them waits for another's.
    return create_engine(url, pool_pre_ping=True, pool_size=12, max_overflow=8)


def make_record_engine(url: str, engine: Engine) -> Engine:
    """The webhooks' one INSERT. On PostgreSQL: autocommit, so the INSERT (and its NOTIFY) is one round trip
    instead of BEGIN, INSERT and COMMIT, and no ping before it (the caller retries once on a dropped
    connection instead: see recorder.Recorder). SQLite: the engine itself (its writer queue is per engine)."""
    if url.startswith("sqlite"):
        return engine
    # Autocommit: no transaction is ever left open, so nothing to roll back when a connection goes back to the pool.
    record_engine = create_engine(url, isolation_level="AUTOCOMMIT", pool_size=8, max_overflow=8,
                                  pool_reset_on_return=None)
    event.listen(engine, "engine_disposed", lambda _: record_engine.dispose())  # one dispose closes both pools
    return record_engine


def make_sessions(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def alembic_config(url: str) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (see make_engine)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=0")  # BEGIN IMMEDIATE retries on its own (see sqlite_writer)
    cursor.close()


def _ensure_sqlite_directory(url: str) -> None:
    path = url.split("///", 1)[-1]
    if path and path != ":memory:" and not path.startswith("file:"):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
