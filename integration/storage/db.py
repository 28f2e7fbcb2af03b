"""Engine and sessions. SQLite gets WAL and a busy timeout so the embedded web app and worker share it."""
from __future__ import annotations

import random
import threading
import time
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
import sqlalchemy.exc
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).with_name("migrations")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        _ensure_sqlite_directory(url)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        _serialize_writers(engine)
        return engine
    # A worker runs a timer loop, a delivery loop, a heartbeat and a pool of 8 deliveries: enough connections
    # that none of them waits for another's.
    return create_engine(url, pool_pre_ping=True, pool_size=12, max_overflow=8)


def make_sessions(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def alembic_config(url: str) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _serialize_writers(engine: Engine) -> None:
    """SQLite has one writer. Take its lock at BEGIN (a deferred transaction that reads then writes fails
    with "database is locked" at once), and queue this process's threads on a lock of our own first:
    otherwise they sleep in SQLite's busy handler (up to 100 ms a try) while the database sits idle."""
    lock = threading.RLock()

    def begin(connection) -> None:
        lock.acquire()
        try:
            _begin_immediate(connection)
        except BaseException:
            lock.release()
            raise
        connection.info["escalator.holds_lock"] = True

    def end(connection) -> None:
        if connection.info.pop("escalator.holds_lock", False):
            lock.release()

    event.listen(engine, "begin", begin)
    event.listen(engine, "commit", end)
    event.listen(engine, "rollback", end)


def _begin_immediate(connection, patience: float = 30.0) -> None:
    """BEGIN IMMEDIATE, retried every millisecond or so while another process writes. SQLite's own busy
    handler sleeps ever longer (up to 100 ms a try), so a webhook waiting behind the worker's short write
    would wait many times longer than the write itself."""
    deadline = time.monotonic() + patience
    pause = 0.0005
    while True:
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            return
        except sqlalchemy.exc.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
        time.sleep(pause * (0.5 + random.random()))
        pause = min(pause * 1.5, 0.005)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (see make_engine)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=0")  # BEGIN IMMEDIATE retries on its own (see _begin_immediate)
    cursor.close()


def _ensure_sqlite_directory(url: str) -> None:
    path = url.split("///", 1)[-1]
    if path and path != ":memory:" and not path.startswith("file:"):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
