"""The dashboard in headless Chromium (Debian's, driven by Playwright), metrics, health and readiness."""
import datetime as dt
import os
import threading
from pathlib import Path

import pytest
import requests
from werkzeug.serving import make_server

from integration.app import create_app
from integration.config import Config
from integration.services import build_services
from integration.core.signals import Comment, TicketSignal
from integration.storage.db import upgrade
from integration.storage.models import OutboxAction
from tests.harness import TEST_MAPPINGS, Clock, mappings_for_tests

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 3, 16, 15, 0, tzinfo=UTC)
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def snapshot(services, ticket_id, created, *, org=1001, priority="urgent", status="open", replied=None, subject=""):
    comments = (Comment(at=replied, public=True, by_agent=True),) if replied else ()
    signal = TicketSignal(ticket_id=ticket_id, kind="snapshot", at=created, created_at=created, status=status,
                          zendesk_priority=priority, organization_id=org, organization_known=True,
                          subject=subject or f"Ticket {ticket_id}", comments=comments, authoritative=True,
                          source_key=f"seed-{ticket_id}-{status}")
    services.ingestor.ingest(source="worker", dedup_key=signal.source_key, event_type="snapshot", payload={},
                             signal=signal)


@pytest.fixture
def served(tmp_path):
    url = f"sqlite:///{tmp_path}/dash.db"
    upgrade(url)
    config = Config(database_url=url, mappings_dir=str(mappings_for_tests(tmp_path)), admin_user="admin",
                    admin_password="s3cret")
    clock = Clock(NOW)
    services = build_services(config, clock)
    # Enterprise critical (15m / 2h on 24x7): on track, warning, breached; a paused growth ticket.
    snapshot(services, 101, NOW - dt.timedelta(minutes=2), subject="Fresh <script>alert(1)</script>")
    snapshot(services, 102, NOW - dt.timedelta(minutes=13), subject="Nearly due")
    snapshot(services, 103, NOW - dt.timedelta(hours=3), subject="Long overdue")
    snapshot(services, 104, NOW - dt.timedelta(hours=1), org=1003, priority="normal", status="pending",
             replied=NOW - dt.timedelta(minutes=50), subject="Waiting on customer")
    snapshot(services, 105, NOW - dt.timedelta(hours=4), replied=NOW - dt.timedelta(hours=3, minutes=55),
             status="solved", subject="Done in time")
    with services.sessions.begin() as session:
        session.add(OutboxAction(ticket_id=103, target="zendesk", kind="update_ticket", payload={},
                                 idempotency_key="broken", status="failed", attempts=1, next_attempt_at=NOW,
                                 created_at=NOW, last_error="Zendesk refused it (422): invalid group"))
    app = create_app(config, services=services)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", services, clock
    server.shutdown()
    services.engine.dispose()


@pytest.mark.slow  # real time or a real browser/process: .ci/run runs it
def test_dashboard_in_a_real_browser(served):
    from playwright.sync_api import sync_playwright

    base, services, clock = served
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(http_credentials={"username": "admin", "password": "s3cret"}).new_page()
        page.goto(f"{base}/?refresh=2")
        rows = page.locator("#open-tickets tbody tr")
        ids = [rows.nth(i).get_attribute("data-id") for i in range(rows.count())]
        assert ids == ["102", "101", "103", "104"]  # nearest breach first; no running clock last; solved gone
        states = page.locator("#open-tickets tbody tr td:nth-child(5)").all_inner_texts()
        assert states == ["warning", "on track", "breached", "paused"]
        assert "Fresh <script>alert(1)</script>" in rows.nth(1).inner_text()  # shown as text, never run
        first = rows.nth(0).inner_text()
        assert "Northwind Logistics" in first and "enterprise" in first and "2026-03-16 15:02" in first
        assert "Customer Success" in rows.nth(2).inner_text()  # 103 breached both targets → level 3
        compliance = page.locator("#compliance tbody tr").all_inner_texts()
        assert compliance == ["enterprise\t4\t50.0%\t50.0%", "growth\t1\t100.0%\t—"]  # 105 met both, 103 breached both
        escalations = page.locator("#escalations tbody tr").all_inner_texts()
        assert len(escalations) == 1 and escalations[0].startswith("#103\t2026-03-16 15:00\tnew → 3\tCustomer Success")
        assert "invalid group" in page.locator("#troubled").inner_text()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
        snapshot(services, 106, NOW - dt.timedelta(minutes=1), subject="Arrived while watching")
        page.wait_for_selector('#open-tickets tr[data-id="106"]', timeout=15000)  # it refreshes itself
        browser.close()
    assert (ARTIFACTS / "dashboard.png").stat().st_size > 10_000


def test_dashboard_is_never_public(served, tmp_path):
    base, _, _ = served
    assert requests.get(f"{base}/", timeout=5).status_code == 401
    assert requests.get(f"{base}/api/dashboard", auth=("admin", "wrong"), timeout=5).status_code == 401
    assert requests.get(f"{base}/api/dashboard", auth=("admin", "s3cret"), timeout=5).status_code == 200
    unconfigured = create_app({"database_url": f"sqlite:///{tmp_path}/u.db",
                               "mappings_dir": str(TEST_MAPPINGS)}).test_client()
    response = unconfigured.get("/")
    assert response.status_code == 503 and b"ESCALATOR_ADMIN_USER" in response.data


def test_a_slack_digest_link_narrows_the_dashboard_to_its_tickets(served):
    base = served[0]
    data = requests.get(f"{base}/api/dashboard?tickets=101,103,x", auth=("admin", "s3cret"), timeout=5).json()
    assert sorted(t["id"] for t in data["open_tickets"]) == [101, 103]
    everything = requests.get(f"{base}/api/dashboard", auth=("admin", "s3cret"), timeout=5).json()
    assert len(everything["open_tickets"]) > 2


def test_metrics_in_prometheus_format(served):
    base, _, _ = served
    requests.post(f"{base}/webhooks/zendesk", data=b"{}", timeout=5)  # no secret configured → refused
    text = requests.get(f"{base}/metrics", timeout=5).text
    assert '# TYPE escalator_webhook_requests_total counter' in text
    assert 'escalator_webhook_requests_total{outcome="unconfigured",source="zendesk"} 1.0' in text
    assert "# TYPE escalator_decision_latency_seconds histogram" in text
    assert "escalator_inbox_lag_seconds 0" in text and "escalator_inbox_undecided 0" in text
    assert 'escalator_zendesk_rate_budget_remaining{bucket="ticket_update"} 100' in text
    assert "escalator_zendesk_in_flight 0" in text
    assert 'escalator_outbox_actions{target="zendesk",status="failed"} 1' in text
    assert 'escalator_open_tickets_by_level{level="3"} 1' in text
    assert 'escalator_first_response_targets{state="breached"} 1' in text
    assert "escalator_timers_due 1" in text  # 102's warning (14:59): no worker runs in this test


def test_health_and_readiness(served, tmp_path):
    base, services, _ = served
    assert requests.get(f"{base}/healthz", timeout=5).json() == {"status": "ok"}
    ready = requests.get(f"{base}/readyz", timeout=5)
    assert ready.status_code == 200 and ready.json()["database"] == "ok"
    assert ready.json()["mappings"]["fingerprint"] == services.mappings.current.fingerprint
    broken = Config(database_url="postgresql+psycopg://nobody@127.0.0.1:1/none", mappings_dir=str(TEST_MAPPINGS))
    down = create_app(broken).test_client().get("/readyz")
    assert down.status_code == 503 and down.json["database"].startswith("unreachable")
