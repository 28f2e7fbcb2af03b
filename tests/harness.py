"""End-to-end harness: the real app and worker, real zenpy, the fake Zendesk, an injected clock."""
from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from integration.app import create_app
from integration.config import Config
from integration.runtime import build_worker
from integration.services import Services, build_services
from integration.storage.models import InboxEvent
from integration.slack.gateway import ChannelPacer, build_slack_gateway
from integration.worker import Worker
from integration.zendesk.client import build_zenpy
from integration.zendesk.signature import sign

REPO = Path(__file__).resolve().parent.parent
TEST_MAPPINGS = REPO / "tests" / "fixtures" / "mappings"  # the tests' copy; never the shipped mappings/
FIXTURES = REPO / "tests" / "fixtures" / "zendesk"
SECRET = "test-webhook-secret"
ORG_IDS = {"360000000101": "1001", "360000000102": "1002", "360000000103": "1003", "360000000104": "1004"}
# A second enterprise customer with its own Slack channel, for isolation tests.
OTHER_CUSTOMER = """
  - zendesk_id: 1005
    name: Oscorp Industries
    tier: enterprise
    timezone: Europe/Paris
    holiday_country: FR
    slack_channel_id: C0OSCORP01
    monthly_fee: 9000
"""
STAFF_CHANNEL = "C05SUPPSTAFF"
FIELD_IDS = {"tier_field_id": 9001, "first_response_due_field_id": 9002, "resolution_due_field_id": 9003}


class Clock:
    def __init__(self, start: dt.datetime) -> None:
        self.at, self.lock = start, threading.Lock()

    def __call__(self) -> dt.datetime:
        with self.lock:
            return self.at

    def set(self, at: dt.datetime) -> None:
        with self.lock:
            self.at = at

    def advance(self, **delta) -> None:
        with self.lock:
            self.at += dt.timedelta(**delta)


def mappings_for_tests(tmp_path: Path) -> Path:
    """The test mappings with the fixtures' organization ids and installed Zendesk fields."""
    target = tmp_path / "mappings"
    shutil.copytree(TEST_MAPPINGS, target)
    organizations = target / "organizations.yaml"
    text = organizations.read_text()
    for shipped, fixture in ORG_IDS.items():
        text = text.replace(f"zendesk_id: {shipped}", f"zendesk_id: {fixture}")
    organizations.write_text(text.rstrip("\n") + "\n" + OTHER_CUSTOMER)
    zendesk = target / "zendesk.yaml"
    text = zendesk.read_text()
    for name, value in FIELD_IDS.items():
        text = text.replace(f"{name}: null", f"{name}: {value}")
    zendesk.write_text(text)
    return target


@dataclass
class Stack:
    services: Services
    client: object  # Flask test client
    worker: Worker
    clock: Clock
    fake: object

    def post(self, body: bytes | dict, *, secret: str = SECRET, timestamp: str | None = None, headers=None):
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        stamp = timestamp or self.clock().strftime("%Y-%m-%dT%H:%M:%SZ")
        sent = {"Content-Type": "application/json", "X-Zendesk-Webhook-Signature-Timestamp": stamp,
                "X-Zendesk-Webhook-Signature": sign(secret, stamp, raw)}
        sent.update(headers or {})
        return self.client.post("/webhooks/zendesk", data=raw, headers=sent)

    def decided(self, response=None, source: str = "zendesk") -> str:
        """The webhook (if given) answered `queued`: decide what is queued now, as the worker would, and give the
        outcome of the decision of the newest event from `source`."""
        if response is not None:
            assert response.status_code == 200 and response.json["outcome"] == "queued", response.json
        self.services.ingestor.decide_queued()
        with self.services.sessions() as session:
            return session.scalar(select(InboxEvent.outcome).where(InboxEvent.source == source)
                                  .order_by(InboxEvent.id.desc()).limit(1))

    def drain(self, rounds: int = 50) -> int:
        """Run the worker until it has nothing due (or `rounds` rounds)."""
        total = 0
        for _ in range(rounds):
            done = self.worker.run_once()
            total += done
            if not done:
                break
        return total


def fixture_body(name: str, **changes) -> dict:
    document = json.loads((FIXTURES / f"{name}.json").read_text())
    for path, value in changes.items():
        node = document
        *parents, leaf = path.split("__")
        for key in parents:
            node = node[key]
        node[leaf] = value
    return document


def build_stack(database_url: str, mappings_dir: Path, fake, clock: Clock, **config) -> Stack:
    # Tests drive the worker round by round on their own clock: no real-time gathering between rounds.
    config.setdefault("zendesk_gather_seconds", 0.0)
    config.setdefault("zendesk_webhook_secret", SECRET)
    settings = Config(database_url=database_url, mappings_dir=str(mappings_dir), mappings_poll_seconds=0,
                      zendesk_subdomain=fake.subdomain, zendesk_email=fake.email, zendesk_api_token=fake.token,
                      **config)
    services = build_services(settings, clock)
    app = create_app(settings, services=services)
    slack = build_slack_gateway(settings)
    if slack.client is not None:
        slack.pacer = ChannelPacer(monotonic=lambda: clock().timestamp())  # pace on the test's clock
    slack.now = clock
    # The production wiring, with clients pointed at the fakes (zenpy with a short timeout for the tests).
    worker = build_worker(services, zenpy=build_zenpy(settings, timeout=2), slack=slack)
    return Stack(services, app.test_client(), worker, clock, fake)


def start_worker_process(env: dict, stderr=subprocess.DEVNULL) -> subprocess.Popen:
    """A real `escalator worker` process, as production runs it."""
    return subprocess.Popen([sys.executable, "-m", "integration.cli", "worker"], env=env,
                            stdout=subprocess.DEVNULL, stderr=stderr)


def wait_for(predicate, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


class Recording:
    """A deliverer that records what it was handed, and delivers it."""

    def __init__(self) -> None:
        self.delivered: list[str] = []

    def deliver(self, action):
        from integration.storage import outbox

        self.delivered.append(action.idempotency_key)
        return outbox.Delivered()
