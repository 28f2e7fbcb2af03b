"""(a) of bench/escalation.py: the storm, N breaches due at the same instant, Zendesk's limits enforced.

The storm itself (seeding, workers at T0, the observer, what is counted) is tests/storm.py, shared with
tests/test_storm.py. Here: fresh databases, the fakes (FakeZendesk with enforce_rate_limits(700, 100), FakeSlack
stamping posts on the wall clock), the seeding lead, bench-only instrumentation of the workers (wrappers that
count; no behaviour changed), and the report with the targets of issue 9 beside the figures.
"""
from __future__ import annotations

import datetime as dt
import math
import os
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select

from integration.services import build_services
from integration.storage.models import OutboxAction, Timer
from tests.fakes.slack import FakeSlack
from tests.fakes.zendesk import FakeZendesk
from tests.harness import mappings_for_tests
from tests import storm

TICKET_BASE, CALIBRATION_BASE = 700_000, 600_000
WORKERS = {"sqlite": 1, "postgresql": 2}
# Seeding is set-up, not measured: on PostgreSQL concurrent ingests overlap their commits (as concurrent
# webhooks would); SQLite serializes writers, so threads would not help there.
SEED_THREADS = {"sqlite": 1, "postgresql": 3}
WITHIN = 15.0  # seconds: every ticket reassigned in Zendesk within this of its due instant
FIRST_DIGEST = 2.0  # seconds: the first digest in the manager channel
PER_TICKET = 1.2  # Zendesk API requests per ticket for the breach step


class SeedingOverran(RuntimeError):
    def __init__(self, seconds: float, lead: float) -> None:
        super().__init__(f"seeding took {seconds:.1f} s, past the due instant ({lead:.1f} s ahead)")
        self.retry_lead = 5.0 + 1.5 * seconds


@dataclass
class Probe:
    """Bench-only counters, filled by wrappers around the workers' parts (behaviour unchanged)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    ticks: list = field(default_factory=list)  # (epoch start, seconds, timers fired)
    batches: list = field(default_factory=list)  # (target, epoch start, seconds, rows, Counter of outcomes)
    budget_waits: Counter = field(default_factory=Counter)  # what was asked for -> refusals
    budget_paid: Counter = field(default_factory=Counter)
    pacing_waits: int = 0

    def attach(self, workers) -> None:
        for worker in workers:
            worker.tickers = tuple(self._tick(t) for t in worker.tickers)
            for target in ("zendesk", "slack"):
                deliverer = worker.deliverers[target]
                deliverer.deliver_batch = self._batch(target, deliverer.deliver_batch)
            budget = worker.deliverers["zendesk"].budget
            budget.spend = self._spend(budget.spend)
            pacer = worker.deliverers["slack"].pacer
            pacer.wait_for = self._pace(pacer.wait_for)

    def _tick(self, tick):
        def timed() -> int:
            started, clock = time.time(), time.perf_counter()
            done = tick()
            if done:
                with self.lock:
                    self.ticks.append((started, time.perf_counter() - clock, done))
            return done
        return timed

    def _batch(self, target: str, deliver):
        def timed(actions):
            started, clock = time.time(), time.perf_counter()
            outcomes = deliver(actions)
            kinds = Counter(type(o).__name__ for o in outcomes.values())
            with self.lock:
                self.batches.append((target, started, time.perf_counter() - clock, len(actions), kinds))
            return outcomes
        return timed

    def _spend(self, spend):
        def counted(**asked):
            wait = spend(**asked)
            key = ", ".join(f"{k} {v}" for k, v in sorted(asked.items()) if v)
            with self.lock:
                (self.budget_waits if wait else self.budget_paid)[key] += 1
            return wait
        return counted

    def _pace(self, wait_for):
        def counted(channel):
            wait = wait_for(channel)
            if wait:
                with self.lock:
                    self.pacing_waits += 1
            return wait
        return counted


@dataclass
class StormResult:
    backend: str
    tickets: int
    workers: int
    lead: float
    seed_seconds: float
    queued_at_t0: dict
    run: storm.Run
    zendesk: dict[int, float]  # ticket -> seconds after due, reassignment first seen applied
    decided: dict[int, float]
    first_digest: float | None
    manager_told: int
    messages: dict[str, int]
    requests: int
    requests_after_t0: int
    request_kinds: Counter
    max_requests_60s: int
    max_ticket_puts_60s: int
    count_429: int
    applied: Counter
    doubled: dict
    outbox: dict
    jobs: list[int]
    probe: Probe
    load: float

    def targets(self) -> list[tuple[str, bool]]:
        n = self.tickets
        within = sum(1 for v in self.zendesk.values() if v <= WITHIN)
        return [(f"all {n:,} reassigned in Zendesk within {WITHIN:g} s of due", within == n),
                (f"first digest in {storm.MANAGER_CHANNEL} within {FIRST_DIGEST:g} s",
                 self.first_digest is not None and self.first_digest <= FIRST_DIGEST),
                ("no 429 from Zendesk", self.count_429 == 0),
                (f"<= {PER_TICKET:g} API requests per ticket for the breach step",
                 self.requests_after_t0 / n <= PER_TICKET),
                ("no doubled note", not self.doubled),
                ("every ticket reassigned exactly once",
                 len(self.applied) == n and set(self.applied.values()) == {1})]


def calibrate(backend: str, fresh_database, mappings: Path, zendesk, slack, threads: int, count: int = 50) -> float:
    """Seconds per ingested snapshot on this backend right now, in a throwaway database."""
    with fresh_database(backend, "calibration") as url:
        services = build_services(storm.storm_config(url, mappings, zendesk, slack))
        try:
            created = dt.datetime.now(storm.UTC) - dt.timedelta(minutes=1)
            started = time.perf_counter()
            storm.ingest_all(services, list(range(CALIBRATION_BASE, CALIBRATION_BASE + count)), created, threads)
            return (time.perf_counter() - started) / count
        finally:
            services.engine.dispose()


def run_storm(backend: str, tickets: int, fresh_database, lead: float | None = None,
              deadline: float = 120.0) -> StormResult:
    tmp = Path(tempfile.mkdtemp(prefix="bench-storm-"))
    mappings = mappings_for_tests(tmp)
    zendesk = FakeZendesk().start()
    zendesk.enforce_rate_limits(account_per_minute=700, ticket_updates_per_minute=100)
    slack = FakeSlack(clock=time.time).start()  # posted_at on the wall clock, comparable with the due instant
    slack.accept_any_channel = True  # the matrix's channels (C05SUPPMGRS, U05SUPMGR01) are not in its workspace
    os.environ.update({"ZENPY_FORCE_NETLOC": zendesk.netloc, "ZENPY_FORCE_SCHEME": "http"})
    threads, workers = SEED_THREADS[backend], WORKERS[backend]
    try:
        if lead is None:
            lead = 5.0 + 1.5 * tickets * calibrate(backend, fresh_database, mappings, zendesk, slack, threads)
        with fresh_database(backend, "storm") as url:
            services = [build_services(storm.storm_config(url, mappings, zendesk, slack))
                        for _ in range(workers)]  # one Services per worker, as separate processes would have
            try:
                return _run(backend, services, zendesk, slack, tickets, lead, deadline, threads)
            finally:
                for one in services:
                    one.engine.dispose()
    finally:
        zendesk.stop()
        slack.stop()


def worker_env(config) -> dict:
    """`escalator worker`'s environment for this run (the fakes' addresses and credentials)."""
    values = {"DATABASE_URL": config.database_url, "MAPPINGS_DIR": config.mappings_dir, "MAPPINGS_POLL_SECONDS": "0",
              "ZENDESK_SUBDOMAIN": config.zendesk_subdomain, "ZENDESK_EMAIL": config.zendesk_email,
              "ZENDESK_API_TOKEN": config.zendesk_api_token, "SLACK_BOT_TOKEN": config.slack_bot_token,
              "SLACK_API_URL": config.slack_api_url, "ESCALATOR_PUBLIC_URL": config.public_url or ""}
    return {**os.environ, **{k: str(v) for k, v in values.items() if v is not None}}


def _run(backend, services, zendesk, slack, tickets, lead, deadline, threads) -> StormResult:
    ids = list(range(TICKET_BASE, TICKET_BASE + tickets))
    t0 = dt.datetime.now(storm.UTC) + dt.timedelta(seconds=lead)
    started = time.monotonic()
    storm.seed_storm(services[0], zendesk, ids, t0, threads)
    seed_seconds = time.monotonic() - started
    if dt.datetime.now(storm.UTC) > t0 - dt.timedelta(seconds=0.5):
        raise SeedingOverran(seed_seconds, lead)
    queued = _queued(services[0], t0)
    probe = Probe()
    # Several workers are processes, as production runs them (threads in this process would share one GIL
    # with each other and with the fakes); one worker runs in-process, instrumented.
    processes = [worker_env(services[0].config) for _ in services] if len(services) > 1 else None
    run = storm.run_storm(services, zendesk, slack, ids, t0, deadline=deadline,
                          prepare=None if processes else probe.attach, processes=processes)
    calls = zendesk.calls
    after = [c for c in calls if c.at >= run.t0_monotonic]
    told = storm.level2_messages(slack, storm.MANAGER_CHANNEL)
    return StormResult(
        backend=backend, tickets=tickets, workers=len(services), lead=lead, seed_seconds=seed_seconds,
        queued_at_t0=queued, run=run,
        zendesk={t: at - run.t0 for t, at in run.observer.seen.items()},
        decided={t: at - run.t0 for t, at in storm.decided_at(services[0], ids).items()},
        first_digest=min((m["posted_at"] - run.t0 for m in told), default=None),
        manager_told=len(storm.ids_told(slack, storm.MANAGER_CHANNEL) & set(ids)),
        messages=storm.messages_per_channel(slack), requests=len(calls), requests_after_t0=len(after),
        request_kinds=Counter(_kind(c) for c in after),
        max_requests_60s=zendesk.max_requests_in_any_window(60),
        max_ticket_puts_60s=zendesk.max_requests_in_any_window(60, storm.is_ticket_put),
        count_429=zendesk.count_429(), applied=storm.applied_level2_updates(zendesk, ids),
        doubled=storm.doubled_notes(zendesk, ids), outbox=storm.outbox_by_status(services[0]),
        jobs=[len((c.json or {}).get("tickets") or ()) for c in calls
              if c.method == "PUT" and "update_many" in c.path and c.status == 200],
        probe=probe, load=os.getloadavg()[0])


def _queued(services, t0: dt.datetime) -> dict:
    with services.sessions() as session:
        outbox = Counter({f"{target}/{kind}": n for target, kind, n in session.execute(
            select(OutboxAction.target, OutboxAction.kind, func.count()).where(OutboxAction.status == "pending")
            .group_by(OutboxAction.target, OutboxAction.kind))})
        timers = Counter({kind: n for kind, n in session.execute(
            select(Timer.kind, func.count()).where(Timer.fired_at.is_(None), Timer.due_at <= t0)
            .group_by(Timer.kind))})
    return {"outbox pending": dict(outbox), "timers due by T0": dict(timers)}


def _kind(call) -> str:
    path = call.path
    if call.method == "PUT" and "update_many" in path:
        name = "PUT update_many"
    elif call.method == "PUT" and storm.TICKET_PUT.match(path):
        name = "PUT ticket"
    elif call.method == "GET" and path.startswith("/api/v2/job_statuses"):
        name = "GET job_status"
    elif call.method == "GET" and "show_many" in path:
        name = "GET show_many"
    elif call.method == "GET" and path.endswith("/comments.json"):
        name = "GET comments"
    elif call.method == "GET" and storm.TICKET_PUT.match(path):
        name = "GET ticket"
    else:
        name = f"{call.method} {path}"
    return name + (" (429)" if call.status == 429 else "")


# -- the report ----------------------------------------------------------------------------------------------


def nearest_rank(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def spread(seen: dict[int, float], n: int) -> str:
    if not seen:
        return "none seen"
    values = list(seen.values())
    text = " / ".join(f"{nearest_rank(values, p):.1f}" for p in (50, 99, 100)) + " s"
    return text if len(seen) == n else f"{text} (of the {len(seen):,} seen; {n - len(seen):,} never)"


def print_storm(r: StormResult) -> bool:
    n, run = r.tickets, r.run
    print(f"\n  {r.backend}, {r.workers} worker{'s' * (r.workers > 1)}{' (processes)' * (r.workers > 1)}: {n:,} tickets due at the same instant T0; "
          f"seeding {r.seed_seconds:.1f} s (lead {r.lead:.0f} s); ran {run.ended - run.t0:.1f} s from T0"
          f"{'' if run.settled else ' (cut off at the deadline: not settled)'}; load average {r.load:.1f}")
    queued = "; ".join(f"{name}: " + ", ".join(f"{v:,} {k}" for k, v in sorted(d.items()))
                       for name, d in r.queued_at_t0.items())
    print(f"    left by the seed at T0: {queued}")
    within = sum(1 for v in r.zendesk.values() if v <= WITHIN)
    rows = [
        ("due -> level 2 decided (p50/p99/max)", spread(r.decided, n), ""),
        ("due -> Zendesk change applied (p50/p99/max)", spread(r.zendesk, n), ""),
        (f"  reassigned within {WITHIN:g} s", f"{within:,} of {n:,}", f"all {n:,}"),
        (f"due -> first digest in {storm.MANAGER_CHANNEL}",
         "none" if r.first_digest is None else f"{r.first_digest:.2f} s", f"<= {FIRST_DIGEST:g} s"),
        (f"  tickets told in {storm.MANAGER_CHANNEL}", f"{r.manager_told:,} of {n:,}", f"all {n:,}"),
        ("Zendesk API requests, in all", f"{r.requests:,} ({r.requests / n:.3f} per ticket)", ""),
        ("  after T0 (the breach step)", f"{r.requests_after_t0:,} ({r.requests_after_t0 / n:.3f} per ticket)",
         f"<= {PER_TICKET:g} per ticket"),
        ("most requests in any 60 s", f"{r.max_requests_60s:,}", "<= 700"),
        ("most ticket updates (PUTs) in any 60 s", f"{r.max_ticket_puts_60s:,}", "<= 100"),
        ("429s received", f"{r.count_429:,}", "0"),
        ("doubled notes", f"{len(r.doubled):,} tickets", "0"),
        ("applied level-2 updates per ticket",
         ", ".join(f"{k}x: {v:,}" for k, v in sorted(Counter(r.applied.values()).items())) +
         (f", 0x: {n - len(r.applied):,}" if len(r.applied) < n else ""), "1x for all"),
    ]
    print("    {:<46} {:<40} {}".format("measure", "figure", "target"))
    for label, figure, target in rows:
        print(f"    {label:<46} {figure:<40} {target}")
    print("    requests after T0: " + ", ".join(f"{k} {v:,}" for k, v in sorted(r.request_kinds.items())))
    if r.jobs:
        print(f"    Update Many jobs: {len(r.jobs)}, sizes {_sizes(r.jobs)}")
    print("    Slack messages per channel: " + ", ".join(f"{c} {v:,}" for c, v in sorted(r.messages.items())))
    print("    outbox by status (rows, attempts): " + "; ".join(
        f"{t}/{s} {c:,} ({a:,})" for (t, s), (c, a) in sorted(r.outbox.items())))
    print_probe(r)
    met = True
    for label, ok in r.targets():
        print(f"    target: {label:<62} {'met' if ok else 'MISSED'}")
        met &= ok
    return met


def _sizes(sizes: list[int]) -> str:
    counts = Counter(sizes)
    return ", ".join(f"{size}x{count}" if count > 1 else str(size) for size, count in sorted(counts.items(),
                                                                                          reverse=True))


def print_probe(r: StormResult) -> None:
    """Where the time went (bench instrumentation): timer firing, deliveries per round, budget, pacing."""
    p, t0 = r.probe, r.run.t0
    fired = sum(done for _, _, done in p.ticks)
    if p.ticks:
        busy = sum(seconds for _, seconds, _ in p.ticks)
        first, last = p.ticks[0][0] - t0, max(s + d for s, d, _ in p.ticks) - t0
        print(f"    timers: {fired:,} fired in {len(p.ticks)} ticks between T0+{first:.1f} s and T0+{last:.1f} s, "
              f"{busy:.1f} s busy ({fired / busy if busy else 0:.0f} decisions per busy second)")
    for target in ("zendesk", "slack"):
        batches = [b for b in p.batches if b[0] == target]
        if not batches:
            continue
        outcomes: Counter = Counter()
        for *_, kinds in batches:
            outcomes.update(kinds)
        by_second: dict[int, int] = defaultdict(int)
        for _, started, _, rows, kinds in batches:
            by_second[int(started - t0)] += kinds.get("Delivered", 0)
        slowest = max(batches, key=lambda b: b[2])
        print(f"    {target} deliveries: {len(batches)} calls of deliver_batch, {sum(b[3] for b in batches):,} rows; "
              f"outcomes {dict(outcomes)}; slowest {slowest[2]:.1f} s ({slowest[3]} rows, T0+{slowest[1] - t0:.1f} s)")
        timeline = " ".join(f"{s}:{v}" for s, v in sorted(by_second.items()) if v)
        print(f"      delivered by second after T0 (start of the call): {timeline}")
    if p.budget_waits or p.budget_paid:
        print(f"    Zendesk budget: paid {dict(p.budget_paid)}; refused (Deferred or poll wait) {dict(p.budget_waits)}")
    print(f"    Slack pacing waits: {p.pacing_waits:,}")
