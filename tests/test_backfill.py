"""`escalator backfill`: Zendesk's incremental export through the normal decision path, resumable and rate-limit aware."""
from __future__ import annotations

import dataclasses
import datetime as dt
import os
import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from integration.config import Config
from integration.services import build_services
from integration.storage.models import InboxEvent, Ticket
from integration.zendesk.backfill import Backfill, ProgressStore, signal_from_export
from integration.zendesk.client import build_zenpy
from integration.zendesk.json_api import ZendeskJson
from integration.zendesk.snapshot import read_snapshot
from tests.fakes.zendesk import fake_zendesk  # noqa: F401  (pytest fixture)
from tests.harness import mappings_for_tests

EXPORT = "/api/v2/incremental/tickets/cursor.json"
AGENT = 3001
STATUSES = ("new", "open", "pending", "hold")


def stamp(at: dt.datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def seed(fake, count: int, *, solved: int = 0, replied_every: int = 0) -> None:
    """`count` unsolved tickets with ids 1..count, then `solved` solved/closed ones; all changed at once."""
    created = stamp(dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5))
    fake.seed_user(AGENT, name="Agent Smith", email="agent@support.example", role="agent")
    for user in range(300):
        fake.seed_user(200_000 + user, email=f"Customer{user}@Customer.example", organization_id=1001 + user % 5)
    fake.seed_tickets({"id": i, "requester_id": 200_000 + i % 300, "organization_id": 1001 + i % 300 % 5,
                       "status": STATUSES[i % 4], "priority": ("urgent", "high", "normal", None)[i % 4],
                       "created_at": created, "updated_at": created} for i in range(1, count + 1))
    fake.seed_tickets({"id": count + i, "status": ("solved", "closed")[i % 2], "requester_id": 200_000,
                       "created_at": created, "updated_at": created} for i in range(1, solved + 1))
    for i in range(replied_every, count + 1, replied_every) if replied_every else ():
        fake.seed_comment(i, "On it", public=True, author_id=AGENT, created_at=created)


@pytest.fixture
def env(database, tmp_path, fake_zendesk):
    mappings = mappings_for_tests(tmp_path)
    return {**os.environ, **fake_zendesk.env, "DATABASE_URL": database, "MAPPINGS_DIR": str(mappings),
            "ZENDESK_WEBHOOK_SECRET": "x"}


def in_process(env, *, sleep=lambda seconds: None, batch=10, on_wait=lambda message: None):
    config = Config.from_env(env)
    services = build_services(config)
    api = ZendeskJson(build_zenpy(config).tickets.session, config.zendesk_subdomain, sleep=sleep, on_wait=on_wait)
    return services, Backfill(api, services.ingestor, services.sessions, batch=batch)


def ticket_ids(services) -> list[int]:
    with services.sessions() as session:
        return list(session.scalars(select(Ticket.id).order_by(Ticket.id)))


def export_cursors(fake) -> list[str]:
    return [c.query.get("cursor", f"start_time={c.query.get('start_time')}") for c in fake.calls_to("GET", EXPORT)]


def test_signal_is_the_one_read_snapshot_builds(fake_zendesk, env):
    fake_zendesk.seed_user(AGENT, email="agent@support.example", role="agent")
    fake_zendesk.seed_user(2001, email="Dana@Northwind.Example", organization_id=1001)
    fake_zendesk.seed_ticket(35436, requester_id=2001, organization_id=1001, status="pending", priority="urgent",
                             subject="SSO", description="SSO fails", tags=["vip", "sso"],
                             created_at="2026-03-02T14:05:31Z", updated_at="2026-03-02T15:00:00Z",
                             satisfaction_rating={"id": 7, "score": "bad", "comment": "slow"})
    fake_zendesk.seed_comment(35436, "Looking", public=True, author_id=AGENT, created_at="2026-03-02T14:30:00Z")
    fake_zendesk.seed_comment(35436, "Note", public=False, author_id=AGENT, created_at="2026-03-02T14:40:00Z")
    fake_zendesk.seed_comment(35436, "Thanks", public=True, author_id=2001, created_at="2026-03-02T14:50:00Z")
    services, run = in_process(env)
    page = run.api.get("incremental/tickets/cursor.json", start_time=0, include="users")
    run._remember(page["users"])
    comments = run._comments(35436)

    ours = signal_from_export(page["tickets"][0], run.users, comments, source_key="k")

    read = read_snapshot(fake_zendesk.client(disable_cache=True), 35436, source_key="k")
    # The worker's read adds the audit log's timeline; the backfill reads one thing per ticket, its comments.
    assert [(t.field, t.current) for t in read.timeline] == [("status", "pending"), ("priority", "urgent"),
                                                              ("organization", 1001)]
    assert ours == dataclasses.replace(read, timeline=None)
    assert [c.by_agent for c in ours.comments] == [False, True, True, False]
    assert (ours.requester_email, ours.satisfaction) == ("dana@northwind.example", "bad")


def test_backfill_decides_unsolved_tickets_once_and_rerunning_is_harmless(fake_zendesk, env):
    seed(fake_zendesk, 25, solved=6, replied_every=5)
    services, run = in_process(env)

    summary = run.run()

    assert ticket_ids(services) == list(range(1, 26))
    assert summary.pages == 4 and summary.tickets_read == 31 and summary.outcomes == {"applied": 25}
    with services.sessions() as session:
        replied = session.get(Ticket, 5).sla["first_response"]["state"]
        assert replied == "met" and session.get(Ticket, 6).sla["first_response"]["state"] == "running"
    per_ticket = {c.path for c in fake_zendesk.calls if c.path.startswith("/api/v2/tickets/")}
    assert per_ticket == {f"/api/v2/tickets/{i}/comments.json" for i in range(1, 26)}  # one read per ticket
    fake_zendesk.clear_calls()

    again = in_process(env)[1].run()  # after a finished run: only what changed since (nothing)

    assert again.resumed_from.startswith("completed") and again.outcomes == {}
    assert [c.path for c in fake_zendesk.calls] == [EXPORT]
    restarted = in_process(env)[1].run(restart=True)
    assert restarted.outcomes == {"duplicate": 25} and ticket_ids(services) == list(range(1, 26))


def test_a_tracked_ticket_solved_while_down_is_decided_too(fake_zendesk, env):
    seed(fake_zendesk, 3)
    services, run = in_process(env)
    run.run()
    later = stamp(dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=5))
    fake_zendesk.set_clock(lambda: dt.datetime.fromisoformat(later.replace("Z", "+00:00")))
    fake_zendesk.client().tickets.session.put(f"{fake_zendesk.base_url}/api/v2/tickets/2.json",
                                              json={"ticket": {"status": "solved"}}).raise_for_status()
    fake_zendesk.seed_ticket(99, status="solved", created_at=later, updated_at=later)

    summary = in_process(env)[1].run()

    assert summary.outcomes == {"applied": 1}
    with services.sessions() as session:
        assert session.get(Ticket, 2).status == "solved" and session.get(Ticket, 99) is None


def test_rate_limits_wait_retry_after_then_continue(fake_zendesk, env):
    seed(fake_zendesk, 30)
    fake_zendesk.rate_limit_next(1, retry_after=3, path=EXPORT)
    fake_zendesk.rate_limit_next(2, retry_after=2, path="/api/v2/tickets/5/comments.json")
    fake_zendesk.fail_next(1, 503, method="GET", path="/api/v2/tickets/7/comments.json")
    waits, messages = [], []
    services, run = in_process(env, sleep=waits.append, on_wait=messages.append)

    summary = run.run()

    assert waits[0] == 3.0 and sorted(waits[1:]) == [1, 2.0, 2.0]  # comments are read on several threads
    assert messages[0] == f"Zendesk rate limit: waiting 3s (Retry-After) before GET {EXPORT.removeprefix('/api/v2/')}"
    assert messages.count("Zendesk rate limit: waiting 2s (Retry-After) before GET tickets/5/comments.json") == 2
    assert "HTTP 503 on GET tickets/7/comments.json: trying again in 1s" in messages
    assert summary.outcomes == {"applied": 30} and ticket_ids(services) == list(range(1, 31))


def test_cli_prints_progress_and_a_resume_line(fake_zendesk, env, monkeypatch):
    from integration.cli.zendesk import backfill

    seed(fake_zendesk, 12)
    for name in ("DATABASE_URL", "MAPPINGS_DIR", *fake_zendesk.env):
        monkeypatch.setenv(name, env[name])
    fake_zendesk.rate_limit_next(1, retry_after=1, path="/api/v2/tickets/3/")
    monkeypatch.setattr("integration.cli.zendesk.time.sleep", lambda seconds: None)

    result = CliRunner().invoke(backfill, ["--batch", "5"])

    assert result.exit_code == 0, result.output
    assert "page 1: 5/12 tickets read, 5 decided in all; this run: applied 5" in result.output
    assert "Zendesk rate limit: waiting 1s (Retry-After) before GET tickets/3/comments.json" in result.output
    assert "backfill complete: 3 page(s), 12 tickets read" in result.output
    again = CliRunner().invoke(backfill, [])
    assert "resuming a finished run: reading what changed since (12 tickets read before)" in again.output


@pytest.mark.slow
@pytest.mark.parametrize("database", ["sqlite"], indirect=True)  # once: the small tests cover PostgreSQL
def test_10000_tickets_complete_and_resume_after_sigkill(fake_zendesk, env, database):
    total, batch = 10_000, 500
    started = time.monotonic()
    seed(fake_zendesk, total, solved=200, replied_every=10)
    command = [sys.executable, "-m", "integration.cli.zendesk", "backfill", "--batch", str(batch)]

    services = build_services(Config.from_env(env))
    first = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:  # killed in the middle of page 4: three pages finished, part of the fourth decided
        assert wait_for(lambda: len(fake_zendesk.calls_to("GET", EXPORT)) >= 4
                        and len(ticket_ids(services)) > 3 * batch + 20, first, timeout=180), "no 4th page"
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        first.kill()
    killed_at = time.monotonic()
    stopped = ProgressStore(services.sessions).load()
    assert stopped is not None and stopped.completed_at is None and stopped.pages >= 3
    done_before = stopped.pages * batch
    decided_before = set(ticket_ids(services))
    assert done_before < len(decided_before) < total
    first_cursors = export_cursors(fake_zendesk)
    fake_zendesk.clear_calls()

    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)

    assert second.returncode == 0, second.stdout + second.stderr
    assert f"resuming an interrupted run after page {stopped.pages}" in second.stdout
    assert ticket_ids(services) == list(range(1, total + 1))  # the primary key makes "exactly once" hold
    with services.sessions() as session:
        rows = session.execute(select(func.count(), func.count(InboxEvent.ticket_id.distinct()))
                               .where(InboxEvent.source == "backfill")).one()
    assert tuple(rows) == (total, total)  # each ticket decided by exactly one backfill event
    second_cursors = export_cursors(fake_zendesk)
    assert second_cursors[0] == stopped.cursor and set(second_cursors) & set(first_cursors) <= {stopped.cursor}
    reread = {int(c.path.split("/")[4]) for c in fake_zendesk.calls if c.path.endswith("/comments.json")}
    assert reread == set(range(1, total + 1)) - decided_before  # nothing decided before the kill is read again
    assert f"duplicate {len(decided_before) - done_before}" in second.stdout
    assert ProgressStore(services.sessions).load().completed_at is not None
    services.engine.dispose()
    print(f"\n10,000-ticket backfill: first run killed after {killed_at - started:.1f}s "
          f"({stopped.pages} pages done), second run {time.monotonic() - killed_at:.1f}s; "
          f"{second.stdout.strip().splitlines()[-1]}")


def wait_for(predicate, process, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        if process.poll() is not None:
            raise AssertionError(process.stdout.read().decode())
        time.sleep(0.1)
    return False
