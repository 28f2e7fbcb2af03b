"""A real `escalator worker` process killed with SIGKILL mid-delivery, then restarted: nothing lost, nothing doubled."""
import datetime as dt
import os
import signal
import subprocess

import pytest
from sqlalchemy import select

from integration.storage.models import OutboxAction
from tests.fakes.zendesk import fake_zendesk  # noqa: F401  (pytest fixture)
from tests.harness import Clock, build_stack, fixture_body, mappings_for_tests, start_worker_process, wait_for

CREATED = "2026-03-02T14:05:31Z"


def start_worker(env):
    return start_worker_process(env, stderr=subprocess.PIPE)


@pytest.mark.slow  # subprocesses and a SIGKILL; test_zendesk_flow covers the same rule in-process
def test_sigkill_mid_delivery_then_restart_delivers_once(database, tmp_path, fake_zendesk):
    fake_zendesk.seed_user(2001, email="dana@northwind.example", role="end-user", organization_id=1001)
    fake_zendesk.seed_ticket(35436, subject="SSO broken", description="SSO fails", requester_id=2001,
                             organization_id=1001, priority="urgent", status="new",
                             created_at=CREATED, updated_at=CREATED)
    mappings = mappings_for_tests(tmp_path)
    stack = build_stack(database, mappings, fake_zendesk, Clock(dt.datetime.now(dt.timezone.utc)))
    assert stack.post(fixture_body("ticket_created", time=stack.clock().isoformat())).status_code == 200
    env = {**os.environ, **fake_zendesk.env, "DATABASE_URL": database, "MAPPINGS_DIR": str(mappings),
           "OUTBOX_LEASE_SECONDS": "1", "ZENDESK_WEBHOOK_SECRET": "x"}
    # Zendesk applies the update, then the response hangs: the worker dies before it can record it.
    fake_zendesk.delay_next(1, seconds=30, method="PUT", when="after")
    first = start_worker(env)
    try:
        assert wait_for(lambda: fake_zendesk.calls_to("PUT", "/api/v2/tickets/35436.json")), "no PUT seen"
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        first.kill()
    assert len([c for c in fake_zendesk.comments(35436) if not c["public"]]) == 1
    second = start_worker(env)
    try:
        assert wait_for(lambda: _status(stack) == "done"), second.stderr and "worker did not finish"
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=10)
    notes = [c for c in fake_zendesk.comments(35436) if not c["public"]]
    assert len(notes) == 1, [n["body"] for n in notes]
    # The restarted worker repeats the very same safe update (same updated_stamp): Zendesk refuses it (409),
    # and the marker found on the ticket proves the first one landed. Exactly one PUT applied.
    puts = fake_zendesk.calls_to("PUT", "/api/v2/tickets/35436.json")
    assert len([c for c in puts if c.status != 409]) == 1
    assert {c.json["ticket"]["updated_stamp"] for c in puts} == {puts[0].json["ticket"]["updated_stamp"]}
    assert all(c.json["ticket"]["safe_update"] for c in puts)
    stack.services.engine.dispose()


def _status(stack):
    with stack.services.sessions() as session:
        action = session.scalars(select(OutboxAction).where(OutboxAction.kind == "update_ticket")).one_or_none()
        return action.status if action else None
