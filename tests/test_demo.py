"""`escalator demo`: the sample plan (pure), its signatures, and the events through the real route and worker."""
import datetime as dt
import json

import pytest
from sqlalchemy import select

from integration.app import create_app
from integration.cli.demo import first_id_for, signed
from integration.config import Config
from integration.core.demo import SCENARIOS, before, build_plan
from integration.core.explain import explain_ticket
from integration.core.customers import match_customer
from integration.core.clock_policy import policy_for
from integration.core.sla.priority import Priority
from integration.mappings.loader import load_mappings
from integration.runtime import build_worker
from integration.services import build_services
from integration.storage.models import InboxEvent, OutboxAction, Ticket
from integration.zendesk.payloads import parse_payload
from integration.zendesk.signature import SignatureError, verify
from tests.harness import REPO, Clock

UTC = dt.timezone.utc
# A Wednesday morning in New York: business calendars are open somewhere, closed elsewhere.
NOW = dt.datetime(2026, 3, 18, 13, 30, tzinfo=UTC)
# A Sunday: business and extended calendars are closed everywhere.
SUNDAY = dt.datetime(2026, 3, 22, 12, 0, tzinfo=UTC)
SECRET = "demo-secret"


@pytest.fixture(scope="module")
def shipped():
    return load_mappings(REPO / "mappings")


def iso(text):
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


@pytest.mark.parametrize("now", [NOW, SUNDAY])
def test_every_reachable_tier_and_every_scenario_is_sampled(shipped, now):
    plan = build_plan(shipped, now, count=14, first_id=500)
    tiers_with_an_organization = {org.tier for org in shipped.organizations} | {shipped.default.tier}
    assert {t.tier for t in plan.tickets} == tiers_with_an_organization == {"starter", "growth", "pro", "enterprise"}
    assert plan.tiers_without_organization == ("scale",)  # no shipped organization has it: said, not faked
    assert {t.scenario for t in plan.tickets} == {s.name for s in SCENARIOS}
    assert {t.priority for t in plan.tickets} == {p.value for p in Priority}
    assert [t.ticket_id for t in plan.tickets] == list(range(500, 514))
    assert any(t.organization_id not in {o.zendesk_id for o in shipped.organizations} for t in plan.tickets)


@pytest.mark.parametrize("now", [NOW, SUNDAY])
def test_each_sample_is_in_its_scenario_when_it_arrives(shipped, now):
    for ticket in build_plan(shipped, now, count=14, first_id=1).tickets:
        report = explain_ticket(shipped, organization_id=ticket.organization_id,
                                zendesk_priority=ticket.zendesk_priority, created_at=ticket.created_at, now=now,
                                subject=ticket.subject)
        assert (report["tier"], report["priority"]) == (ticket.tier, ticket.priority)
        first, state = iso(report["first_response_due"]), report["state_now"]
        name = ticket.scenario
        if name == "first response breached":
            assert state["first_response"] == "breached" and state["resolution"] == "running", ticket
        elif name == "resolution breached":
            assert state["resolution"] == "breached", ticket
        elif name == "warning":
            assert iso(report["first_response_warning"]) <= now < first, ticket
        elif name == "breaches within a minute":  # on a clock that runs now (24x7 on a Sunday)
            assert now < first <= now + dt.timedelta(seconds=60), ticket
        elif name == "on track":
            assert now < iso(report["first_response_warning"]), ticket
        else:  # answered, waiting on the customer: the reply came before the first-response due
            assert ticket.created_at < ticket.replied_at < first and ticket.replied_at <= now, ticket
            assert (ticket.pending_at is not None) == (name == "waiting on the customer")


def test_created_before_counts_open_time_back_over_a_weekend(shipped):
    customer = match_customer(shipped, organization_id=360000000104)  # starter, business hours, London
    clock = policy_for(shipped, customer, Priority.CRITICAL).clock
    monday_10 = dt.datetime(2026, 3, 23, 10, 0, tzinfo=UTC)
    start = before(clock, monday_10, dt.timedelta(hours=3))
    assert start == dt.datetime(2026, 3, 20, 16, 0, tzinfo=UTC)  # Friday 16:00–18:00, then Monday 09:00–10:00
    assert clock.elapsed(start, monday_10) == dt.timedelta(hours=3)


def test_events_are_zendesk_event_subscriptions_the_parser_trusts(shipped):
    plan = build_plan(shipped, NOW, count=14, first_id=1)
    kinds = [e.type for e in plan.events]
    assert kinds.count("ticket.created") == 14 and "ticket.comment_added" in kinds and "ticket.status_changed" in kinds
    for event in plan.events:
        parsed = parse_payload(event.body, raw=json.dumps(event.body).encode())
        assert parsed.signal is not None and parsed.signal.untrusted == () and parsed.event_type == event.type
        assert parsed.signal.at <= NOW
    assert len({e.body["id"] for e in plan.events}) == len(plan.events)


def test_demo_requests_are_signed_as_zendesk_signs_them(shipped):
    event = build_plan(shipped, NOW, count=1, first_id=1).events[0]
    request = signed(event, SECRET, NOW)
    signature = request.headers["X-Zendesk-Webhook-Signature"]
    timestamp = request.headers["X-Zendesk-Webhook-Signature-Timestamp"]
    assert timestamp == "2026-03-18T13:30:00Z" and json.loads(request.body) == event.body
    verify(SECRET, signature, timestamp, request.body, NOW)
    with pytest.raises(SignatureError):
        verify("another-secret", signature, timestamp, request.body, NOW)
    with pytest.raises(SignatureError):
        verify(SECRET, signature, timestamp, request.body.replace(b"URGENT", b"LOW"), NOW)


def test_each_run_gets_new_ticket_ids():
    assert first_id_for(NOW + dt.timedelta(seconds=1)) - first_id_for(NOW) == 100


def test_through_the_real_route_and_worker_in_dry_run(database, shipped):
    config = Config(database_url=database, mappings_dir=str(REPO / "mappings"), zendesk_webhook_secret=SECRET)
    assert config.zendesk_dry_run and config.slack_dry_run
    clock = Clock(NOW)
    services = build_services(config, clock)
    client = create_app(config, services=services).test_client()
    plan = build_plan(shipped, NOW, count=14, first_id=700)
    for event in plan.events:
        request = signed(event, SECRET, NOW)
        response = client.post("/webhooks/zendesk", data=request.body, headers=request.headers)
        assert response.status_code == 200 and response.json["outcome"] == "queued", response.json
    worker = build_worker(services)
    while worker.run_once():
        pass
    with services.sessions() as session:
        decided = session.scalars(select(InboxEvent.outcome).where(InboxEvent.source == "zendesk")).all()
        assert len(decided) == len(plan.events) and set(decided) <= {"refresh", "applied"}, decided
        tickets = {t.id: t for t in session.scalars(select(Ticket))}
        actions = session.scalars(select(OutboxAction)).all()
    assert set(tickets) == {t.ticket_id for t in plan.tickets}
    for sample in plan.tickets:
        ticket = tickets[sample.ticket_id]
        assert (ticket.tier, ticket.priority) == (sample.tier, sample.priority)
        expected = {"first response breached": 2, "resolution breached": 3}.get(sample.scenario, 1)
        assert ticket.level == expected, sample
    paused = [tickets[s.ticket_id] for s in plan.tickets if s.scenario == "waiting on the customer"]
    assert paused and all(t.status == "pending" and t.resolution_state == "paused" for t in paused)
    assert {a.status for a in actions} == {"dry_run"}
    assert {(a.target, a.kind) for a in actions} >= {("zendesk", "fetch_ticket"), ("zendesk", "update_ticket"),
                                                     ("slack", "post_message")}
    soon = [s for s in plan.tickets if s.scenario == "breaches within a minute"]
    clock.advance(seconds=60)  # a minute later the worker's timers escalate them
    while worker.run_once():
        pass
    with services.sessions() as session:
        assert [session.get(Ticket, s.ticket_id).level for s in soon] == [2] * len(soon)
    services.engine.dispose()


def test_a_trigger_body_cannot_stand_in_for_the_read(database):
    config = Config(database_url=database, mappings_dir=str(REPO / "mappings"), zendesk_webhook_secret=SECRET)
    services = build_services(config, Clock(NOW))
    client = create_app(config, services=services).test_client()
    body = (REPO / "tests/fixtures/zendesk/trigger_ticket_created.json").read_bytes()
    headers = {"X-Zendesk-Webhook-Signature-Timestamp": "2026-03-18T13:30:00Z", "Content-Type": "application/json"}
    from integration.zendesk.signature import sign
    headers["X-Zendesk-Webhook-Signature"] = sign(SECRET, headers["X-Zendesk-Webhook-Signature-Timestamp"], body)
    assert client.post("/webhooks/zendesk", data=body, headers=headers).json["outcome"] == "queued"
    build_worker(services).run_once()
    with services.sessions() as session:
        assert session.scalar(select(InboxEvent.outcome).where(InboxEvent.source == "zendesk")) == "refresh"
        assert session.scalars(select(Ticket)).all() == []  # localized text is never taken for the ticket
        fetch = session.scalars(select(OutboxAction)).one()
    assert fetch.status == "dry_run" and "was not read" in fetch.last_error
    services.engine.dispose()


def test_demo_without_a_secret_says_what_to_do(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from integration.cli import cli

    for name in ("ZENDESK_WEBHOOK_SECRET", "ESCALATOR_ADMIN_USER", "ESCALATOR_ADMIN_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/escalator.db")
    result = CliRunner().invoke(cli, ["demo", "--url", "http://127.0.0.1:9"])
    assert result.exit_code == 1 and "start `escalator serve` first" in result.output
    assert not (tmp_path / "local-credentials.json").exists()  # the demo only reads the server's secret
