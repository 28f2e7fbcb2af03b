"""PostgreSQL LISTEN: wakes this process's worker when any process queues a webhook (inbox.record NOTIFYs)."""
from __future__ import annotations

import logging
import threading

import psycopg
from sqlalchemy.engine import make_url

from integration.storage.inbox import NOTIFY_CHANNEL

log = logging.getLogger("escalator.listen")


def listens(database_url: str) -> bool:
    return make_url(database_url).get_backend_name() == "postgresql"


def listen_for_queued(database_url: str, stop: threading.Event, wake: threading.Event, *,
                      retry_seconds: float = 2.0) -> None:
    """Set `wake` at every notification until `stop`; a lost connection is opened again (the worker's poll
    covers the gap, and `wake` is set once listening again in case something was queued meanwhile)."""
    conninfo = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    while not stop.is_set():
        try:
            with psycopg.connect(conninfo, autocommit=True) as connection:
                connection.execute(f"LISTEN {NOTIFY_CHANNEL}")
                wake.set()
                while not stop.is_set():
                    for _ in connection.notifies(timeout=1.0):
                        wake.set()
        except psycopg.Error as exc:
            log.warning("listening for queued webhooks failed (%s); polling until listening again",
                        exc.__class__.__name__)
            stop.wait(retry_seconds)
