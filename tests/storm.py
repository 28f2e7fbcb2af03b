"""A storm of simultaneous breaches against the fakes: shared by tests/test_storm.py and bench/storm.py.

N enterprise critical tickets (org 1001 in tests.harness.mappings_for_tests: first response 15m on 24x7)
created at T0 - 15 min are seeded in the fake Zendesk and ingested as authoritative snapshots before T0. The
seed's own work stays as the product left it: each ticket's SLA-field update and its two 80 % warnings (the
warning instant, T0 - 3 min, is already past at ingest) wait in the outbox, its past warning timer is unfired.
At T0 the workers start (integration.runtime.build_worker, the production wiring, each `run_forever` in a
thread, the real clock), so the breach finds the routine update still queued and must merge with it, and the
warnings must be dropped, not sent. An observer polls the fake's tickets every 100 ms for the
`escalation_level_2` tag: the instant the reassignment is applied in Zendesk (job completed or PUT done).
"""
from __future__ import annotations

import datetime as dt
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from sqlalchemy import func, select

from integration.config import Config
from integration.core.signals import TicketSignal
from integration.runtime import build_worker
from integration.storage.models import AuditEntry, OutboxAction

UTC = dt.timezone.utc
ORG = 1001
FIRST_RESPONSE = dt.timedelta(minutes=15)
MANAGER_CHANNEL = "C05SUPPMGRS"
LEVEL_TAG = "escalation_level_2"
MARKER = re.compile(r"\(ref (esc-[^)\s]+)\)")
SINGLE_L2 = re.compile(r"^(?:Reminder: )?Ticket #(\d+) escalated to level 2\b")
DIGEST_ROW = re.compile(r"^digest-row:(\d+):2$")
TICKET_PUT = re.compile(r"^/api/v2/tickets/\d+\.json$")
PROCESS_START_UP = 3.0  # seconds: a worker process imports and connects before it can fire anything


def storm_config(database_url: str, mappings_dir, zendesk, slack, **extra) -> Config:
    return Config(database_url=database_url, mappings_dir=str(mappings_dir), mappings_poll_seconds=0,
                  zendesk_subdomain=zendesk.subdomain, zendesk_email=zendesk.email, zendesk_api_token=zendesk.token,
                  slack_bot_token=slack.token, slack_api_url=slack.base_url,
                  public_url="https://escalator.example.com", **extra)


def snapshot(ticket_id: int, created: dt.datetime) -> TicketSignal:
    return TicketSignal(ticket_id=ticket_id, kind="snapshot", at=created, created_at=created, status="open",
                        zendesk_priority="urgent", organization_id=ORG, organization_known=True,
                        requester_email=f"ops{ticket_id}@northwind.example", subject=f"Outage {ticket_id}",
                        description="Everything is down", authoritative=True, source_key=f"storm-seed-{ticket_id}")


def ingest_all(services, ids: list[int], created: dt.datetime, threads: int = 1) -> None:
    def one(ticket_id: int) -> None:
        signal = snapshot(ticket_id, created)
        result = services.ingestor.ingest(source="worker", dedup_key=signal.source_key, event_type="snapshot",
                                          payload={}, signal=signal)
        if result.outcome != "applied":
            raise RuntimeError(f"seeding ticket {ticket_id}: {result.outcome} ({result.detail})")

    if threads <= 1:
        for ticket_id in ids:
            one(ticket_id)
    else:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(one, ids))


def seed_storm(services, zendesk, ids: list[int], t0: dt.datetime, threads: int = 1) -> None:
    """Every ticket's first response falls due at exactly t0."""
    created = t0 - FIRST_RESPONSE
    stamp = created.strftime("%Y-%m-%dT%H:%M:%SZ")
    zendesk.seed_tickets({"id": i, "subject": f"Outage {i}", "description": "Everything is down",
                          "requester_id": 8_000_000 + i, "organization_id": ORG, "priority": "urgent",
                          "status": "open", "created_at": stamp, "updated_at": stamp} for i in ids)
    ingest_all(services, ids, created, threads)


class Observer(threading.Thread):
    """Polls the fake Zendesk's tickets (no HTTP, under its lock) for the level-2 tag: first-seen instants."""

    def __init__(self, zendesk, ids: list[int], every: float = 0.1) -> None:
        super().__init__(name="storm-observer", daemon=True)
        self.zendesk, self.unseen, self.every = zendesk, set(ids), every
        self.seen: dict[int, float] = {}  # ticket -> epoch seconds first seen with the tag
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.wait(self.every):
            self.poll()

    def poll(self) -> None:
        now = time.time()
        with self.zendesk._lock:
            tickets = self.zendesk._state.tickets
            found = [t for t in self.unseen if LEVEL_TAG in (tickets[t].get("tags") or ())]
        for ticket_id in found:
            self.seen[ticket_id] = now
            self.unseen.discard(ticket_id)


@dataclass
class Run:
    t0: float  # epoch seconds of the due instant
    t0_monotonic: float  # the same instant on the fakes' monotonic clock (Call.at)
    ended: float  # epoch seconds when the workers were told to stop
    settled: bool  # every ticket reassigned, told to the manager channel, and the outbox drained
    observer: Observer
    workers: list = field(default_factory=list)


def run_storm(services_list, zendesk, slack, ids: list[int], t0: dt.datetime, deadline: float = 90.0,
              idle_sleep: float = 0.5, prepare=None, processes: list[dict] | None = None) -> Run:
    """Start one worker per Services at t0 and run until everything settled or `deadline` seconds after t0.
    `prepare(workers)` may wrap the workers' parts for instrumentation before they start. With `processes`
    (one environment each), the workers are `escalator worker` processes, as production runs them, started
    a few seconds before t0 so that their start-up is over by then."""
    workers = [] if processes else [build_worker(services) for services in services_list]
    if prepare is not None:
        prepare(workers)
    observer = Observer(zendesk, ids)
    start = t0.timestamp()
    children = []
    if processes:
        time.sleep(max(0.0, start - PROCESS_START_UP - time.time()))
        children = [subprocess.Popen([sys.executable, "-m", "integration.cli", "worker"], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for env in processes]
    time.sleep(max(0.0, start - time.time()))
    t0_monotonic = time.monotonic() - (time.time() - start)
    stop = threading.Event()
    threads = [threading.Thread(target=w.run_forever, args=(stop, idle_sleep), name=f"storm-worker-{n}", daemon=True)
               for n, w in enumerate(workers)]
    for thread in threads:
        thread.start()
    observer.start()
    settled = False
    while time.time() < start + deadline:
        time.sleep(0.5)
        observer.poll()
        if not observer.unseen and ids_told(slack, MANAGER_CHANNEL) >= set(ids) and not _pending(services_list[0]):
            settled = True
            break
    ended = time.time()
    stop.set()
    for child in children:
        child.send_signal(signal.SIGTERM)
    for child in children:
        child.wait(timeout=30)
    for thread in threads:
        thread.join(timeout=30)
    observer.halt.set()
    observer.join(timeout=5)
    return Run(start, t0_monotonic, ended, settled, observer, workers)


def _pending(services) -> int:
    with services.sessions() as session:
        return session.scalar(select(func.count()).select_from(OutboxAction).where(
            OutboxAction.status == "pending")) or 0


# -- what happened ---------------------------------------------------------------------------------


def ticket_ids_in(message: dict) -> set[int]:
    """Tickets a level-2 message tells about: a single escalation's text, or a digest's rows and its
    Acknowledge-all button (every listed step, also those only counted under "and M more")."""
    found: set[int] = set()
    match = SINGLE_L2.match(message.get("text") or "")
    if match:
        found.add(int(match.group(1)))
    for block in message.get("blocks") or ():
        row = DIGEST_ROW.match(block.get("block_id") or "")
        if row:
            found.add(int(row.group(1)))
        for element in block.get("elements") or ():
            if element.get("action_id") == "escalation_acknowledge_all":
                found |= {int(pair.split(":")[0]) for pair in element.get("value", "").split(",")
                          if pair.endswith(":2")}
    return found


def ids_told(slack, channel: str) -> set[int]:
    return set().union(*(ticket_ids_in(m) for m in slack.messages(channel)))


def level2_messages(slack, channel: str) -> list[dict]:
    return [m for m in slack.messages(channel) if ticket_ids_in(m)]


def messages_per_channel(slack) -> dict[str, int]:
    with slack._lock:
        return {channel: len(messages) for channel, messages in slack._state.messages.items()}


def applied_level2_updates(zendesk, ids: list[int]) -> Counter:
    """Per ticket, the Zendesk updates carrying the level-2 tag that were applied: single PUTs answered 200
    and Update Many items that succeeded."""
    applied: Counter = Counter()
    wanted = set(ids)
    for call in zendesk.calls:
        if call.method == "PUT" and TICKET_PUT.match(call.path) and call.status == 200:
            ticket_id = int(call.path.rsplit("/", 1)[1].split(".")[0])
            ticket = (call.json or {}).get("ticket") or {}
            if ticket_id in wanted and LEVEL_TAG in (ticket.get("additional_tags") or ()):
                applied[ticket_id] += 1
    with zendesk._lock:
        jobs = list(zendesk._app.state.jobs.values())
        for job in jobs:
            for index, item in enumerate(job["_items"]):
                results = job.get("results") or []
                ok = index < len(results) and results[index].get("success")
                if ok and LEVEL_TAG in (item.get("additional_tags") or ()):
                    applied[int(item["id"])] += 1
    return applied


def doubled_notes(zendesk, ids: list[int]) -> dict[int, list[str]]:
    """Tickets with two internal notes under one marker, or more notes than distinct markers."""
    doubled = {}
    for ticket_id in ids:
        notes = [c["body"] for c in zendesk.comments(ticket_id) if not c["public"]]
        markers = [m for body in notes for m in MARKER.findall(body)]
        if len(markers) != len(set(markers)) or len(notes) > len(set(markers)):
            doubled[ticket_id] = markers
    return doubled


def outbox_by_status(services) -> dict[tuple[str, str], tuple[int, int]]:
    """(target, status) -> (rows, attempts)."""
    with services.sessions() as session:
        rows = session.execute(select(OutboxAction.target, OutboxAction.status, func.count(),
                                      func.sum(OutboxAction.attempts))
                               .group_by(OutboxAction.target, OutboxAction.status)).all()
    return {(target, status): (count, attempts or 0) for target, status, count, attempts in rows}


def decided_at(services, ids: list[int]) -> dict[int, float]:
    """Epoch seconds at which each ticket's level 1 -> 2 step was decided (the audit log)."""
    found: dict[int, float] = {}
    with services.sessions() as session:
        for ticket_id, at, change in session.execute(select(AuditEntry.ticket_id, AuditEntry.at, AuditEntry.change)
                                                     .where(AuditEntry.ticket_id.in_(ids))):
            if (change or {}).get("level") == [1, 2]:
                found.setdefault(ticket_id, at.timestamp())
    return found


def is_ticket_put(call) -> bool:
    return call.method == "PUT" and bool(TICKET_PUT.match(call.path)) and call.status != 429
