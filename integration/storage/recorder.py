"""The webhooks' one write: the inbox INSERT, on a pooled driver connection.

The statement is SQLAlchemy Core (inbox.insert_statement), compiled once per dialect and run with the columns' own bind
processing on the driver's cursor. Going through a SQLAlchemy Connection instead cost about 0.14 ms of CPU a
webhook in-process and 0.3 ms under gunicorn: as much again as the round trip itself.

PostgreSQL: an autocommit pool without a ping; the INSERT and its NOTIFY are one round trip. A connection the
server dropped fails once, is discarded, and the INSERT runs again on a new one.
SQLite: the engine's own pool and its writer queue (sqlite_writer), then BEGIN IMMEDIATE, INSERT, COMMIT.
"""
from __future__ import annotations

import contextlib
import logging

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from integration.storage.inbox import INBOX, INSERT_COLUMNS, NOTIFY_CHANNEL, insert_statement
from integration.storage.sqlite_writer import begin_immediate, writer_lock_of

log = logging.getLogger("escalator.ingest")
NOTIFY = f"SELECT pg_notify('{NOTIFY_CHANNEL}', '')"  # a constant: no parameter to bind


class Recorder:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        dialect = engine.dialect
        self.postgres = dialect.name == "postgresql"
        self.writer_lock = writer_lock_of(engine)
        processors = {name: INBOX.c[name].type.dialect_impl(dialect).bind_processor(dialect)
                      for name in INSERT_COLUMNS}
        self.processors = [(name, processor) for name, processor in processors.items() if processor is not None]
        # notify (PostgreSQL only) → (SQL text, its parameter order or None for named parameters)
        self.statements = {}
        for notify in (False, True) if self.postgres else (False,):
            compiled = insert_statement(self.postgres, notify).compile(dialect=dialect)
            self.statements[notify] = (str(compiled), compiled.positiontup)

    def record(self, values: dict) -> int | None:
        """One INSERT … ON CONFLICT DO NOTHING RETURNING id: the new row's id, or None for a duplicate. On
        PostgreSQL a queued row (one with a signal) also NOTIFYs the listening workers."""
        notify = self.postgres and values["signal"] is not None
        return self._retried(lambda pooled: self._insert(pooled, self.statements[notify], values), together=False)

    def record_many(self, rows: list[dict]) -> list[int | None]:
        """`record` for many rows (a worker's batch of reads) in one transaction, one commit and at most one
        NOTIFY, instead of one each. One row is `record` itself: its INSERT and NOTIFY are one round trip."""
        if len(rows) <= 1:
            return [self.record(values) for values in rows]

        def insert_all(pooled) -> list[int | None]:
            ids = [self._insert(pooled, self.statements[False], values) for values in rows]
            if self.postgres and any(i is not None for i, v in zip(ids, rows) if v["signal"] is not None):
                self._run(pooled, NOTIFY, ())
            return ids
        return self._retried(insert_all, together=True)

    def _insert(self, pooled, statement, values: dict) -> int | None:
        sql, order = statement
        params = dict(values)
        for name, processor in self.processors:
            params[name] = processor(params[name])
        if order is not None:
            params = tuple(params[name] for name in order)
        row = self._run(pooled, sql, params)
        return row[0] if row is not None else None

    def _retried(self, work, together: bool):
        for attempt in (1, 2):
            try:
                return self._execute(work, together)
            except DBAPIError as exc:
                if attempt == 2 or not exc.connection_invalidated:
                    raise
                log.warning("recording an event: the database connection was lost; trying again")
        raise AssertionError("unreachable")

    def _execute(self, work, together: bool):
        """`work` on a pooled driver connection: on SQLite in the writer queue and one transaction; on PostgreSQL
        in autocommit, or in one transaction when `together`."""
        pooled = self.engine.raw_connection()
        try:
            if self.writer_lock is None and not together:
                return work(pooled)
            with self.writer_lock or contextlib.nullcontext():
                return self._in_transaction(pooled, work)
        finally:
            pooled.close()  # back to the pool

    def _in_transaction(self, pooled, work):
        # BEGIN and COMMIT as statements (not the driver's transaction block), so that a connection the server
        # dropped fails them as it fails an INSERT: detected, discarded, and the batch tried again. SQLite's
        # BEGIN IMMEDIATE takes the write lock at once, retried while a writer that is not ours holds it.
        if self.writer_lock is not None:
            begin_immediate(pooled.driver_connection)
        else:
            self._run(pooled, "BEGIN", (), fetch=False)
        try:
            done = work(pooled)
            self._run(pooled, "COMMIT", (), fetch=False)
            return done
        except BaseException:
            if pooled.is_valid:
                pooled.driver_connection.rollback()
            raise

    def _run(self, pooled, sql: str, params, fetch: bool = True):
        cursor = pooled.cursor()
        try:
            cursor.execute(sql, params)
            return cursor.fetchone() if fetch else None
        except self.engine.dialect.loaded_dbapi.Error as exc:
            lost = self.engine.dialect.is_disconnect(exc, pooled, cursor)
            if lost:
                pooled.invalidate(exc)
            raise DBAPIError.instance(sql, params, exc, self.engine.dialect.loaded_dbapi.Error,
                                      connection_invalidated=lost, dialect=self.engine.dialect) from exc
        finally:
            cursor.close()
