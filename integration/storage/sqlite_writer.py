"""SQLite's one writer, queued for: the web app's threads and processes and the worker take turns without spinning.

Every transaction of ours takes SQLite's write lock at BEGIN (BEGIN IMMEDIATE: a deferred transaction that reads
then writes fails with "database is locked" at once). Before that, a writer queues on a thread lock within its
process and then on a file lock (flock) beside the database, shared by every process of ours: a waiting writer
sleeps in the kernel until the lock is free. Without the file lock, writers of other processes retried BEGIN
IMMEDIATE every millisecond or so while a decision batch held the database, and each try cost CPU the web
requests needed. BEGIN IMMEDIATE is still retried, for writers that are not ours (the sqlite3 shell, a backup).
"""
from __future__ import annotations

import os
import random
import sqlite3
import threading
import time
import weakref

import sqlalchemy.exc
from sqlalchemy import Engine, event

try:
    import fcntl
except ImportError:  # not on Windows: there the thread lock and the retried BEGIN IMMEDIATE remain
    fcntl = None


class WriterLock:
    """A thread lock, then (with a path, where flock exists) a file lock held by this process. Re-entrant within
    a thread: the file lock is taken by the outermost acquire and given back by the outermost release."""

    def __init__(self, path: str | None) -> None:
        self.path = path if fcntl is not None else None
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._fd: int | None = None
        self._fd_pid: int | None = None

    def acquire(self) -> None:
        self._thread_lock.acquire()
        if self._depth == 0 and self.path:
            try:
                fcntl.flock(self._file(), fcntl.LOCK_EX)
            except BaseException:
                self._thread_lock.release()
                raise
        self._depth += 1

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0 and self.path and self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._thread_lock.release()

    def __enter__(self) -> "WriterLock":
        self.acquire()
        return self

    def __exit__(self, *exc_info) -> None:
        self.release()

    def _file(self) -> int:
        # One descriptor per process: a descriptor inherited across fork would share its lock with the parent.
        if self._fd is None or self._fd_pid != os.getpid():
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            self._fd_pid = os.getpid()
        return self._fd


_LOCKS: "weakref.WeakKeyDictionary[Engine, WriterLock]" = weakref.WeakKeyDictionary()


def writer_lock_of(engine: Engine) -> WriterLock | None:
    """The writer queue of a SQLite engine (serialize_writers), for writes on a driver connection; None for
    other engines."""
    return _LOCKS.get(engine)


def lock_path_for(database_path: str) -> str | None:
    if not database_path or database_path == ":memory:" or database_path.startswith("file:"):
        return None
    return database_path + "-writer.lock"


def serialize_writers(engine: Engine, database_path: str) -> None:
    lock = _LOCKS[engine] = WriterLock(lock_path_for(database_path))

    def begin(connection) -> None:
        lock.acquire()
        try:
            begin_immediate(connection.connection.driver_connection)
        except BaseException:
            lock.release()
            raise
        connection.info["escalator.holds_lock"] = True

    def ender(finish: str):
        # SQLAlchemy's commit and rollback events come before the driver's; the lock must outlast SQLite's own
        # lock, so the transaction ends here and the driver's commit() or rollback() then finds none open.
        def end(connection) -> None:
            if connection.info.pop("escalator.holds_lock", False):
                try:
                    getattr(connection.connection.driver_connection, finish)()
                finally:
                    lock.release()
        return end

    event.listen(engine, "begin", begin)
    event.listen(engine, "commit", ender("commit"))
    event.listen(engine, "rollback", ender("rollback"))


def begin_immediate(dbapi_connection: sqlite3.Connection, patience: float = 30.0) -> None:
    """BEGIN IMMEDIATE on the driver's connection (the statement needs none of SQLAlchemy's machinery), retried
    every millisecond or so while a writer that is not ours holds the database. SQLite's own busy handler
    sleeps ever longer (up to 100 ms a try), far longer than such a write lasts."""
    deadline = time.monotonic() + patience
    pause = 0.0005
    while True:
        try:
            dbapi_connection.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise sqlalchemy.exc.OperationalError("BEGIN IMMEDIATE", None, exc) from exc
        time.sleep(pause * (0.5 + random.random()))
        pause = min(pause * 1.5, 0.005)
