"""Escalation benchmark: (a) the storm, N breaches due at the same instant against the fake Zendesk with
its rate limits enforced and the fake Slack; (b) the cost of claiming due timers as the timers table grows
(10k, 100k, 1M tickets).

    .venv/bin/python bench/escalation.py [--quick] [--backend sqlite|postgresql|both] [--tickets N]

Per backend each part gets a fresh database (a SQLite file in a temp dir; for PostgreSQL a new database
on TEST_DATABASE_URL's server, default postgresql+psycopg://postgres@127.0.0.1:5432/postgres, dropped at
the end), migrated with integration.storage.db.upgrade. Timings are wall-clock on a machine that may be
shared: the load average is printed with each run.

(a) The storm (issue 9 item 8; the runner is tests/storm.py, the report bench/storm.py). FakeZendesk and
FakeSlack run as real HTTP servers in this process, FakeZendesk enforcing Zendesk's limits (700 requests
and 100 ticket updates a minute, 429 with Retry-After). N enterprise critical tickets (default 1,000,
--quick 200; org 1001, first response 15m on 24x7) are created at T0 - 15 min, seeded in the fake Zendesk
and ingested as authoritative snapshots before T0 (a throwaway database times 50 ingests first to choose
the lead; on PostgreSQL 3 threads ingest). What seeding queued stays queued: each ticket's SLA-field update
and its two 80 % warnings (their instant, T0 - 3 min, was already past), and the past warning timers are
unfired. At T0 the workers start, built by integration.runtime.build_worker as production composes them
(real zenpy, real slack_sdk WebClient, the account-wide rate budget in the database), each running
Worker.run_forever in a thread on the real clock: one on SQLite, two on PostgreSQL (each with its own
Services, as two processes would have). The run ends when every ticket is reassigned in Zendesk, told in
the manager channel and the outbox is drained, or 120 s after T0.

  due -> Zendesk change applied: an observer reads the fake's tickets every 100 ms (in-process, no HTTP)
      and notes when `escalation_level_2` first appears (the job completed, or the PUT applied)
  due -> first digest: posted_at (wall clock) of the first level-2 message in C05SUPPMGRS
  requests: the fake's call log (Call.at, monotonic); "after T0" is the breach step (the workers start at
      T0, so it equals the total); most in any 60 s by FakeZendesk.max_requests_in_any_window
  doubled notes: a ticket with two internal notes under one `(ref esc-...)` marker or more notes than markers
  reassigned once: per ticket, applied updates carrying escalation_level_2 (PUTs answered 200, Update Many
      items that succeeded)
Bench-only instrumentation (wrappers that count, behaviour unchanged) shows where the time goes: timer
ticks and decisions per second, deliver_batch calls and their outcomes per second, budget refusals, Slack
pacing waits. Targets (issue 9): all N within 15 s of due, first digest within 2 s, no 429, <= 1.2 API
requests per ticket for the breach step, no doubled note, every ticket reassigned exactly once.

(b) tickets and timers are inserted directly with SQL, in chunks of 100k tickets, each an INSERT ... SELECT
over a series the database generates (no COPY, no per-row Python: executemany through SQLAlchemy ran at
~40k rows/s here, too slow for 3M rows), on a loading connection without per-row foreign-key checks (the
rows are consistent by construction): 2 timer rows per ticket (first-response and resolution breach),
~70 % already fired, the rest due 1 h to 30 days ahead, plus 10 unfired timers due 5..50 s ago (the same
10 at every size). Then claim_due(session, now, 50) is timed on the product's engine inside a transaction
that is rolled back (the claim and the flush of its lease UPDATEs; 10 warm-up runs, then --claims runs).
PostgreSQL tables are ANALYZEd after each load (autovacuum would do it shortly after such a load); SQLite
is not (nothing in the product runs ANALYZE). The claim statement is captured as executed and shown with
EXPLAIN (PostgreSQL) / EXPLAIN QUERY PLAN (SQLite) at the largest size.

Exits 1 if a storm target is missed, or a claim returns other than the 10 seeded due timers.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import logging
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
# Run as a script, sys.path[0] is bench/: keep this file's name from shadowing anything.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH]
sys.path.insert(0, str(REPO))

# Never hand credentials or proxies from the caller's shell to the benchmarked stack: urllib (slack_sdk)
# and requests (zenpy) would send even 127.0.0.1 through HTTP(S)_PROXY.
for _name in ("ZENDESK_SUBDOMAIN", "ZENDESK_EMAIL", "ZENDESK_API_TOKEN", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET",
              "SLACK_API_URL", "DATABASE_URL", "MAPPINGS_DIR", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY",
              "http_proxy", "ALL_PROXY", "all_proxy"):
    os.environ.pop(_name, None)
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

from sqlalchemy import create_engine, event, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench import storm  # noqa: E402
from integration.storage.db import make_engine, make_sessions, upgrade  # noqa: E402
from integration.storage.models import Timer  # noqa: E402
from integration.storage.timers import claim_due  # noqa: E402

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
ORG = 1001  # enterprise in mappings_for_tests


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)

# ---------------------------------------------------------------------------------------------
# Databases


@contextlib.contextmanager
def fresh_database(backend: str, label: str):
    """A migrated, empty database URL; removed afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix=f"bench-escalation-{label}-") as tmp:
            url = f"sqlite:///{tmp}/escalator.db"
            upgrade(url)
            yield url
        return
    server = admin_url()
    name = f"escalator_bench_{label}_{os.getpid()}_{int(time.time())}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = server.set(database=name).render_as_string(hide_password=False)
        upgrade(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def admin_url():
    url = make_url(os.environ.get("TEST_DATABASE_URL") or DEFAULT_PG)
    return url.set(drivername="postgresql+psycopg") if url.drivername == "postgresql" else url


def backend_version(backend: str) -> str:
    if backend == "sqlite":
        import sqlite3
        return f"SQLite {sqlite3.sqlite_version}"
    engine = create_engine(admin_url())
    try:
        with engine.connect() as connection:
            return "PostgreSQL " + connection.execute(text("show server_version")).scalar().split()[0]
    finally:
        engine.dispose()



def nearest_rank(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]

# ---------------------------------------------------------------------------------------------
# (b) timer-claim cost

TIMER_KINDS = ("first_response_breach", "resolution_breach")
DUE_NOW = 10
WARMUP = 10


def load_rows(engine, start: int, stop: int, epoch: int, chunk: int = 100_000) -> None:
    """Tickets start..stop-1 with 2 timers each, generated by the database in chunks of INSERT ... SELECT
    (no COPY, no per-row Python): ~70 % of the timers fired (due up to 90 days ago), the rest due 1 h to
    30 days from now; the first timer of tickets 1..DUE_NOW is unfired and due 5..50 s ago."""
    sqlite = engine.dialect.name == "sqlite"
    if sqlite:  # SQLAlchemy's SQLite storage format for UtcDateTime, e.g. '2026-01-02 03:04:05.000000'
        def at(seconds: str) -> str:
            return f"(strftime('%Y-%m-%d %H:%M:%S', :epoch + ({seconds}), 'unixepoch') || '.000000')"
        series = "WITH RECURSIVE seq(i) AS (SELECT :lo UNION ALL SELECT i + 1 FROM seq WHERE i < :hi) "
        source = "seq"
        json_list, json_object = "'[]'", "'{}'"
    else:
        def at(seconds: str) -> str:
            return f"(to_timestamp(CAST(:epoch AS double precision)) + (({seconds}) * interval '1 second'))"
        series = ""
        source = "generate_series(CAST(:lo AS bigint), CAST(:hi AS bigint)) AS seq(i)"
        json_list, json_object = "'[]'::json", "'{}'::json"
    created = at("-((i * 7919) % 7776000)")
    tickets = (f"INSERT INTO tickets (id, organization_id, requester_email, subject, description, status, "
               f"zendesk_priority, tier, priority, priority_reason, created_at, history, sla, written, level, "
               f"escalation, tags, version, mappings_fingerprint, observed_at, updated_at) "
               f"{series}SELECT i, {ORG}, NULL, '', '', 'open', 'normal', 'enterprise', 'medium', '', {created}, "
               f"{json_list}, {json_object}, {json_object}, 1, {json_object}, {json_list}, 1, '', NULL, {created} "
               f"FROM {source}")
    kinds = " UNION ALL ".join(f"SELECT {k} AS k, '{kind}' AS kind" for k, kind in enumerate(TIMER_KINDS))
    h = f"(i * {len(TIMER_KINDS)} + k)"
    spin = f"(({h} * 2654435761) % 1000)"
    due_now = f"i <= {DUE_NOW} AND k = 0"
    past, future = at(f"-60 - (({h} * 48271) % 7776000)"), at(f"3600 + (({h} * 48271) % 2592000)")
    due = f"CASE WHEN {due_now} THEN {at('-5 * i')} WHEN {spin} < 700 THEN {past} ELSE {future} END"
    fired = f"CASE WHEN NOT ({due_now}) AND {spin} < 700 THEN {past} END"
    timers = (f"INSERT INTO timers (ticket_id, kind, due_at, ticket_version, fired_at, lease_until) "
              f"{series}SELECT i, kind, {due}, 1, {fired}, NULL FROM {source} CROSS JOIN ({kinds}) AS kinds")
    for low in range(start, stop, chunk):
        high = min(stop, low + chunk) - 1
        with engine.begin() as connection:
            connection.execute(text(tickets), {"lo": low, "hi": high, "epoch": epoch})
            connection.execute(text(timers), {"lo": low, "hi": high, "epoch": epoch})


@dataclass
class ClaimResult:
    size: int
    load_seconds: float
    timers: int
    unfired: int
    median_ms: float
    p95_ms: float
    select_ms: float
    claimed: int


def loading_engine(url: str, backend: str):
    """A plain engine for the bulk load only: no per-row foreign-key checks (the rows are consistent by
    construction) and, on SQLite, a bigger page cache. The claims run on the product's own engine."""
    engine = create_engine(url)

    @event.listens_for(engine, "connect")
    def settings(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        if backend == "sqlite":
            cursor.execute("PRAGMA foreign_keys=OFF")
            cursor.execute("PRAGMA cache_size=-262144")
        else:
            try:  # skips the FK triggers; needs a superuser, else the load is just slower
                cursor.execute("SET session_replication_role = replica")
            except Exception:
                dbapi_connection.rollback()
            else:
                dbapi_connection.commit()
        cursor.close()

    return engine


def run_claims(backend: str, sizes: list[int], runs: int) -> tuple[list[ClaimResult], list[str]]:
    results: list[ClaimResult] = []
    plan: list[str] = []
    with fresh_database(backend, "claims") as url:
        loader = loading_engine(url, backend)
        engine = make_engine(url)
        sessions = make_sessions(engine)
        captured: list[tuple[str, object]] = []

        @event.listens_for(engine, "before_cursor_execute")
        def capture(conn, cursor, statement, parameters, context, executemany):
            if not executemany and statement.lstrip().upper().startswith("SELECT") and "FROM timers" in statement:
                captured.append((statement, parameters))

        try:
            loaded = 0
            epoch = int(time.time())
            for size in sizes:
                started = time.perf_counter()
                load_rows(loader, loaded + 1, size + 1, epoch)
                if backend == "postgresql":
                    with loader.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                        connection.execute(text("ANALYZE tickets"))
                        connection.execute(text("ANALYZE timers"))
                load_seconds = time.perf_counter() - started
                loaded = size
                with sessions() as session:
                    total = session.scalar(select(func.count()).select_from(Timer))
                    unfired = session.scalar(select(func.count()).select_from(Timer).where(Timer.fired_at.is_(None)))
                durations, selects, claimed = [], [], set()
                for run in range(WARMUP + runs):
                    session = sessions()
                    try:
                        session.begin()
                        session.connection()  # BEGIN (IMMEDIATE on SQLite) outside the timing
                        captured.clear()
                        started = time.perf_counter()
                        due = claim_due(session, now_utc(), 50)
                        selected = time.perf_counter()
                        session.flush()  # the lease UPDATEs the claim's commit would send
                        elapsed = time.perf_counter() - started
                    finally:
                        session.rollback()
                        session.close()
                    claimed.add(len(due))
                    if run >= WARMUP:
                        durations.append(elapsed * 1000)
                        selects.append((selected - started) * 1000)
                if claimed != {DUE_NOW}:
                    raise RuntimeError(f"claim_due returned {sorted(claimed)} timers, expected {DUE_NOW}")
                results.append(ClaimResult(size, load_seconds, total, unfired, statistics.median(durations),
                                           nearest_rank(durations, 95), statistics.median(selects), DUE_NOW))
            plan = explain(engine, backend, captured)
        finally:
            engine.dispose()
            loader.dispose()
    return results, plan


def explain(engine, backend: str, captured: list[tuple[str, object]]) -> list[str]:
    if not captured:
        return ["(the claim statement was not captured)"]
    statement, parameters = captured[0]
    prefix = "EXPLAIN QUERY PLAN " if backend == "sqlite" else "EXPLAIN "
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(prefix + statement, parameters).all()
        connection.rollback()
    lines = [" ".join(statement.split())]
    if backend == "sqlite":
        lines += [f"  {row[-1]}" for row in rows]
    else:
        lines += [f"  {row[0]}" for row in rows]
    return lines


def print_claims(backend: str, results: list[ClaimResult], plan: list[str], runs: int) -> None:
    base = results[0].median_ms
    print(f"\n  (b) timer claim on {backend}: claim_due(session, now, 50) + the flush of its lease UPDATEs, in a "
          f"rolled-back transaction;\n      {runs} timed runs after {WARMUP} warm-up runs (SELECT ms: the claim's "
          f"query alone, median)")
    print("    {:>10} {:>11} {:>10} {:>8} {:>10} {:>9} {:>9} {:>8} {:>8}".format(
        "tickets", "timers", "unfired", "load s", "median ms", "p95 ms", "SELECT ms", "vs 10k", "claimed"))
    for r in results:
        print(f"    {r.size:>10,} {r.timers:>11,} {r.unfired:>10,} {r.load_seconds:>8.1f} {r.median_ms:>10.3f} "
              f"{r.p95_ms:>9.3f} {r.select_ms:>9.3f} {r.median_ms / base:>7.2f}x {r.claimed:>8}")
    print(f"    plan of the claim statement at {results[-1].size:,} tickets:")
    for line in plan:
        print(f"      {line}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="200 storm tickets, 10k/100k claims")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="sqlite")
    parser.add_argument("--tickets", type=int, default=None, help="storm tickets (default 1000; --quick: 200)")
    parser.add_argument("--lead", type=float, default=None, help="seconds from the start of seeding to the due "
                                                                 "instant (default: 5 s + 1.5 x the seeding time "
                                                                 "measured on 50 tickets in a throwaway database)")
    parser.add_argument("--deadline", type=float, default=120.0, help="storm run cut off this long after T0")
    parser.add_argument("--claims", type=int, default=50, help="timed claims per size (default 50)")
    parser.add_argument("--skip-storm", action="store_true")
    parser.add_argument("--skip-claims", action="store_true")
    args = parser.parse_args(argv)
    tickets = args.tickets or (200 if args.quick else 1000)
    sizes = [10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000]
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # Retries and pacing are logged per action at WARNING; the report counts them instead.
    for name in ("escalator.worker", "escalator.zendesk"):
        logging.getLogger(name).setLevel(logging.ERROR)

    print(f"Escalation benchmark — nproc {os.cpu_count()}, {platform.python_implementation()} "
          f"{platform.python_version()}, {platform.platform(terse=True)}, load average "
          f"{os.getloadavg()[0]:.1f} at the start (anything else running shares the CPUs)")
    print(f"  (a) storm: {tickets:,} enterprise critical tickets breaching at the same instant, fake Zendesk "
          f"enforcing 700 requests and 100 ticket updates a minute, real clock, production worker wiring; "
          f"(b) sizes {', '.join(f'{s:,}' for s in sizes)} tickets, {args.claims} claims each")
    started = time.monotonic()
    failed = False
    for backend in backends:
        print(f"\n=== {backend} ({backend_version(backend)}) ===")
        if not args.skip_storm:
            try:
                result = storm.run_storm(backend, tickets, fresh_database, args.lead, args.deadline)
            except storm.SeedingOverran as exc:  # the machine slowed down mid-seeding: once more, more room
                print(f"    ({exc}; running it again with {exc.retry_lead:.0f} s)")
                result = storm.run_storm(backend, tickets, fresh_database, exc.retry_lead, args.deadline)
            failed |= not storm.print_storm(result)
        if not args.skip_claims:
            results, plan = run_claims(backend, sizes, args.claims)
            print_claims(backend, results, plan, args.claims)
    print(f"\nTotal {time.monotonic() - started:.0f} s; load average {os.getloadavg()[0]:.1f} "
          f"(1 min) on {os.cpu_count()} CPUs")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
