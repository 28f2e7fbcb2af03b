"""Four worker processes over 1,000 due breach timers: every step fires exactly once."""
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
from sqlalchemy import func, select

from integration.config import Config
from integration.services import build_services
from integration.storage.models import AuditEntry, OutboxAction, Ticket, Timer
from tests.harness import Clock, mappings_for_tests
from tests.storm import ingest_all

TICKETS = 1000
WORKERS = 4


@pytest.mark.slow
def test_four_workers_fire_each_of_1000_steps_exactly_once(database, tmp_path):
    mappings = mappings_for_tests(tmp_path)
    # Enterprise critical: first response 15m. Created 14m58s ago → every breach timer falls due ~2 s from now.
    start = dt.datetime.now(dt.timezone.utc)
    created = start - dt.timedelta(minutes=14, seconds=58)
    services = build_services(Config(database_url=database, mappings_dir=str(mappings)), Clock(start))
    ingest_all(services, list(range(1, TICKETS + 1)), created)
    env = {**os.environ, "DATABASE_URL": database, "MAPPINGS_DIR": str(mappings)}
    for name in ("ZENDESK_SUBDOMAIN", "ZENDESK_API_TOKEN", "SLACK_BOT_TOKEN"):
        env.pop(name, None)
    workers = [subprocess.Popen([sys.executable, "-m", "integration.cli", "worker"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(WORKERS)]
    try:
        escalated = wait_until(lambda: _escalated(services) >= TICKETS, workers, timeout=240)
        assert escalated, f"{_escalated(services)} of {TICKETS} tickets escalated within 240 s"
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.wait(timeout=30)
    assert _escalated(services) == TICKETS
    with services.sessions() as session:
        steps = session.execute(select(AuditEntry.ticket_id, AuditEntry.change)).all()
        per_ticket = {}
        for ticket_id, change in steps:
            if change.get("level") == [1, 2]:
                per_ticket[ticket_id] = per_ticket.get(ticket_id, 0) + 1
        assert len(per_ticket) == TICKETS and set(per_ticket.values()) == {1}
        # Each escalation's Zendesk update is queued exactly once: as its own row, or merged into the
        # ticket's queued update that had not been attempted yet (one desired state per ticket).
        rows = session.execute(select(OutboxAction.idempotency_key, OutboxAction.payload).where(
            OutboxAction.kind == "update_ticket")).all()
        carried = Counter(key for own, payload in rows for key in (own, *payload.get("merged_keys", ()))
                          if key.endswith("-v2"))
        assert len(carried) == TICKETS and set(carried.values()) == {1}
        unfired = session.scalar(select(func.count()).select_from(Timer).where(
            Timer.kind == "first_response_breach", Timer.fired_at.is_(None)))
        assert unfired == 0
    services.engine.dispose()


def wait_until(condition, workers, timeout: float) -> bool:
    """Until `condition()` holds (True) or the deadline passes (False), checking often at first, then less
    often; a worker process that exits early fails the test at once instead of at the deadline."""
    deadline, pause = time.monotonic() + timeout, 0.02
    while not condition():
        dead = [w.pid for w in workers if w.poll() is not None]
        assert not dead, f"worker process(es) {dead} exited early"
        if time.monotonic() >= deadline:
            return False
        time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
        pause = min(pause * 2, 0.25)
    return True


def _escalated(services) -> int:
    with services.sessions() as session:
        return session.scalar(select(func.count()).select_from(Ticket).where(Ticket.level == 2))
