"""The outbox's delivery rules: one desired state per ticket, lanes, fenced claims, waits that are not attempts."""
import datetime as dt

from sqlalchemy import select

from integration.core.state import LANE_ESCALATION, LANE_SLA, Action
from integration.core.zendesk_update import merge_updates
from integration.storage import outbox
from integration.storage.models import OutboxAction, Ticket
from integration.storage.repo import enqueue
from tests.db import statements_sent
from tests.harness import Recording

T0 = dt.datetime(2026, 3, 2, 14, 0, tzinfo=dt.timezone.utc)
MINUTE = dt.timedelta(minutes=1)


def update(ticket_id, version, lane=LANE_SLA, **fields):
    marker = f"esc-{ticket_id}-v{version}"
    payload = {"ticket_id": ticket_id, "note": f"note v{version}\n\n(ref {marker})", "marker": marker, **fields}
    return Action("zendesk", "update_ticket", payload, marker, lane)


def put(sessions, *actions):
    with sessions.begin() as session:
        return [enqueue(session, a, ticket_id=a.payload.get("ticket_id"), now=T0) for a in actions]


def rows(sessions):
    with sessions() as session:
        return session.scalars(select(OutboxAction).order_by(OutboxAction.id)).all()


def test_merge_updates_keeps_the_newest_fields_all_tags_and_one_joined_note():
    older = {"ticket_id": 7, "priority": "high", "custom_fields": [{"id": 1, "value": "a"}, {"id": 2, "value": "b"}],
             "additional_tags": ["sla_tier_pro", "stale"], "note": "first\n\n(ref esc-7-v1)", "marker": "esc-7-v1"}
    newer = {"ticket_id": 7, "group_id": 42, "custom_fields": [{"id": 2, "value": "c"}],
             "additional_tags": ["escalation_level_2"], "remove_tags": ["stale"],
             "note": "second\n\n(ref esc-7-v2)", "marker": "esc-7-v2"}
    merged = merge_updates(older, newer, "esc-7-v2")
    assert merged["priority"] == "high" and merged["group_id"] == 42
    assert merged["custom_fields"] == [{"id": 1, "value": "a"}, {"id": 2, "value": "c"}]
    assert merged["additional_tags"] == ["escalation_level_2", "sla_tier_pro"]
    assert merged["remove_tags"] == ["stale"]
    assert merged["note"] == "first\n\nsecond\n\n(ref esc-7-v2)" and merged["marker"] == "esc-7-v2"
    assert merged["merged_keys"] == ["esc-7-v2"]


def test_a_breach_update_joins_the_queued_routine_one_and_takes_the_escalation_lane(sessions):
    put(sessions, update(7, 1, custom_fields=[{"id": 1, "value": "x"}]),
        update(7, 2, LANE_ESCALATION, group_id=42, additional_tags=["escalation_level_2"]))
    (row,) = rows(sessions)
    assert row.lane == LANE_ESCALATION and row.idempotency_key == "esc-7-v1"
    assert row.payload["group_id"] == 42 and row.payload["marker"] == "esc-7-v2"
    assert row.payload["note"].count("(ref ") == 1
    assert put(sessions, update(7, 2, LANE_ESCALATION)) == [True]  # the same action again: nothing new
    assert len(rows(sessions)) == 1


def test_an_attempted_update_is_never_merged_into(sessions):
    put(sessions, update(7, 1))
    with sessions.begin() as session:
        (claimed,) = outbox.claim(session, T0, 10)
        outbox.record(session, claimed, outbox.RetryLater("timed out"), T0, MINUTE)
    put(sessions, update(7, 2))
    assert [r.idempotency_key for r in rows(sessions)] == ["esc-7-v1", "esc-7-v2"]


def test_escalations_are_claimed_before_routine_updates(sessions):
    put(sessions, update(1, 1), update(2, 1), update(3, 1, LANE_ESCALATION))
    with sessions.begin() as session:
        claimed = outbox.claim(session, T0, 2)
    assert [c.ticket_id for c in claimed] == [3, 1]


def test_a_claim_whose_lease_was_taken_over_cannot_record(sessions):
    put(sessions, update(7, 1))
    with sessions.begin() as session:
        (first,) = outbox.claim(session, T0, 10, lease=MINUTE)
    with sessions.begin() as session:
        (second,) = outbox.claim(session, T0 + 2 * MINUTE, 10, lease=MINUTE)  # the first's lease ran out
    with sessions.begin() as session:
        assert not outbox.record(session, first, outbox.Delivered(), T0, MINUTE)
        assert outbox.renew_leases(session, [first], T0, MINUTE) == 0
        assert outbox.renew_leases(session, [second], T0 + 2 * MINUTE, MINUTE) == 1
    (row,) = rows(sessions)
    assert row.status == "pending" and row.claim_token == second.token
    with sessions.begin() as session:
        assert outbox.record(session, second, outbox.Delivered(), T0, MINUTE)
    assert rows(sessions)[0].status == "done"


def test_a_groups_outcomes_are_recorded_in_one_update_each_row_with_its_own_text(sessions):
    put(sessions, *(update(ticket, 1) for ticket in (1, 2, 3, 4)))
    with sessions.begin() as session:
        claimed = outbox.claim(session, T0, 3, lease=10 * MINUTE) + outbox.claim(session, T0, 1, lease=MINUTE)
    taken = claimed[3]
    with sessions.begin() as session:  # ticket 4's lease ran out and another worker claimed it
        (again,) = outbox.claim(session, T0 + 2 * MINUTE, 10, lease=MINUTE)
    outcomes = [(claimed[0], outbox.DryRun("recorded: one"), MINUTE),
                (claimed[1], outbox.DryRun("recorded: two"), MINUTE),
                (claimed[2], outbox.Deferred(dt.timedelta(seconds=30), "budget"), MINUTE),
                (taken, outbox.DryRun("recorded: four"), MINUTE)]
    with statements_sent(sessions.kw["bind"]) as sent, sessions.begin() as session:
        recorded = outbox.record_many(session, outcomes, T0)
    assert recorded == {claimed[0].id, claimed[1].id, claimed[2].id}
    # the two dry-runs of one claim together, its deferral, the taken-over claim's dry-run
    assert len([statement for statement, _ in sent if statement.startswith("UPDATE outbox")]) == 3
    by_ticket = {row.ticket_id: row for row in rows(sessions)}
    assert [(by_ticket[t].status, by_ticket[t].last_error) for t in (1, 2, 3)] == [
        ("dry_run", "recorded: one"), ("dry_run", "recorded: two"), ("pending", "")]
    assert by_ticket[3].attempts == 0 and by_ticket[3].next_attempt_at == T0 + dt.timedelta(seconds=30)
    assert (by_ticket[4].status, by_ticket[4].claim_token, by_ticket[4].last_error) == ("pending", again.token, "")


def test_a_claim_counts_the_attempt_and_leases_every_row_to_its_token(sessions):
    put(sessions, *(update(ticket, 1) for ticket in range(1, 31)))
    with sessions.begin() as session:
        claimed = outbox.claim(session, T0, 100, lease=MINUTE, drop=False)
    assert len(claimed) == 30 and {c.attempts for c in claimed} == {1} and len({c.token for c in claimed}) == 1
    assert {(r.attempts, r.claim_token, r.lease_until) for r in rows(sessions)} == {(1, claimed[0].token, T0 + MINUTE)}


def test_a_wait_for_budget_is_not_an_attempt(sessions):
    put(sessions, update(7, 1))
    for _ in range(5):
        with sessions.begin() as session:
            (claimed,) = outbox.claim(session, T0 + dt.timedelta(hours=1), 10)
            outbox.record(session, claimed, outbox.Deferred(dt.timedelta(seconds=30), "budget"), T0, MINUTE)
    (row,) = rows(sessions)
    assert (row.status, row.attempts, row.last_error) == ("pending", 0, "")
    assert row.next_attempt_at == T0 + dt.timedelta(seconds=30)


def test_a_warning_past_its_instant_is_dropped_and_holds_nothing_up(sessions):
    warning = Action("slack", "post_message", {"ticket_id": 7, "channel": "C1", "text": "80% used"}, "warn-7",
                     expires_at=T0 + MINUTE)
    step = Action("slack", "post_message", {"ticket_id": 7, "channel": "C1", "text": "escalated"}, "step-7")
    put(sessions, warning, step)
    with sessions.begin() as session:
        assert [c.idempotency_key for c in outbox.claim(session, T0, 10)] == ["warn-7"]  # still worth sending
    put(sessions, Action("slack", "post_message", {"ticket_id": 8, "channel": "C1", "text": "80%"}, "warn-8",
                         expires_at=T0 + MINUTE),
        Action("slack", "post_message", {"ticket_id": 9, "channel": "C1", "text": "80%"}, "warn-9",
               expires_at=T0 + MINUTE))
    with sessions.begin() as session:
        claimed = outbox.claim(session, T0 + dt.timedelta(seconds=30), 1)
    assert [c.idempotency_key for c in claimed] == ["warn-8"]  # warn-7 is in flight and current: step-7 waits
    with sessions.begin() as session:
        claimed = outbox.claim(session, T0 + 10 * MINUTE, 10)
    assert [c.idempotency_key for c in claimed] == ["step-7"]
    statuses = {r.idempotency_key: (r.status, r.last_error) for r in rows(sessions)}
    assert statuses["warn-9"] == ("dropped", "dropped: its instant passed before it could be sent")
    assert statuses["warn-7"][0] == "dropped"


def test_the_channel_pace_is_shared_by_every_worker(sessions):
    from integration.slack.pacing import SharedChannelPacer
    now = [T0]
    first, second = SharedChannelPacer(sessions, lambda: now[0]), SharedChannelPacer(sessions, lambda: now[0])
    assert first.wait_for("C1") == 0
    assert second.wait_for("C1") == 1.0  # another process, the same channel: one message a second in all
    assert second.wait_for("C2") == 0
    now[0] = T0 + dt.timedelta(seconds=1)
    assert second.wait_for("C1") == 0


def test_one_ticket_failing_at_its_timer_neither_blocks_the_batch_nor_loses_its_timer(database, tmp_path):
    from integration.config import Config
    from integration.services import build_services
    from integration.storage.models import Timer
    from tests.harness import Clock, mappings_for_tests
    from tests.storm import ingest_all

    created = T0 - dt.timedelta(minutes=14, seconds=59)
    clock = Clock(T0)
    services = build_services(Config(database_url=database, mappings_dir=str(mappings_for_tests(tmp_path))), clock)
    ingest_all(services, [1, 2, 3], created)
    clock.advance(seconds=5)  # every first-response breach is due
    with services.sessions.begin() as session:  # a row no decision can read (say, written by a buggy version)
        stored = session.get(Ticket, 2)
        good, stored.escalation = stored.escalation, {"steps": [{"level": "two"}]}
    assert services.ingestor.fire_due_timers() > 0
    with services.sessions() as session:
        levels = {t.id: t.level for t in session.scalars(select(Ticket))}
        unfired = session.scalars(select(Timer.ticket_id).where(Timer.fired_at.is_(None),
                                                                 Timer.kind == "first_response_breach")).all()
    assert levels == {1: 2, 2: 1, 3: 2} and list(unfired) == [2]
    with services.sessions.begin() as session:  # mended
        session.get(Ticket, 2).escalation = good
    clock.advance(minutes=1)  # past the failed timer's lease
    services.ingestor.fire_due_timers()
    with services.sessions() as session:
        assert session.get(Ticket, 2).level == 2
    services.engine.dispose()


def test_a_claim_that_does_not_drop_still_never_hands_out_an_action_past_its_instant(sessions):
    put(sessions, Action("slack", "post_message", {"ticket_id": 3, "channel": "C1", "text": "80%"}, "warn-3",
                         expires_at=T0 + MINUTE),
        Action("slack", "post_message", {"ticket_id": 3, "channel": "C1", "text": "escalated"}, "step-3"))
    with sessions.begin() as session:  # the worker drops expired actions once a second, not on every claim
        assert [c.idempotency_key for c in outbox.claim(session, T0 + 2 * MINUTE, 10, drop=False)] == ["step-3"]
    assert {r.idempotency_key: r.status for r in rows(sessions)}["warn-3"] == "pending"
    with sessions.begin() as session:
        assert outbox.claim(session, T0 + 2 * MINUTE, 10) == []
    assert {r.idempotency_key: r.status for r in rows(sessions)}["warn-3"] == "dropped"


def test_a_delivery_round_claims_only_for_the_targets_with_something_due(sessions):
    from integration.worker import Worker

    targets = ("zendesk", "slack", "open", "slack-thread", "zendesk-thread")
    deliverers = {target: Recording() for target in targets}
    worker = Worker(sessions, deliverers, now=lambda: T0 + MINUTE)

    def claims(sent) -> list[str]:
        return [statement for statement, _ in sent if "ORDER BY outbox.lane" in statement]

    with statements_sent(sessions.kw["bind"]) as sent:
        assert worker.run_once() == 0
    assert claims(sent) == []  # nothing due: no target's claim ran (it was one claim per target a round)
    put(sessions, Action("slack", "post_message", {"ticket_id": 7, "channel": "C1", "text": "hi"}, "post-7"))
    with statements_sent(sessions.kw["bind"]) as sent:
        assert worker.run_once() == 1
    assert deliverers["slack"].delivered == ["post-7"]
    assert len(claims(sent)) == 1  # the slack claim only


def test_a_claim_looks_up_each_tickets_older_actions_in_the_ticket_index(sessions):
    """With hundreds of actions pending among thousands done and no statistics yet (a fresh deploy), PostgreSQL ran
    the old NOT EXISTS as a nested loop comparing every pending row with every other; each candidate's lookup is
    now a probe of its own ticket's pending actions."""
    from sqlalchemy import insert

    from tests.db import plan_of

    tickets = 700
    rows = [dict(ticket_id=n % tickets + 1, target="zendesk", kind="update_ticket",
                 payload={"ticket_id": n % tickets + 1}, lane=LANE_SLA, expires_at=None, idempotency_key=f"k{n}",
                 status="pending" if n >= 5600 else "done", attempts=0, next_attempt_at=T0, created_at=T0,
                 last_error="", done_at=None) for n in range(6000)]
    with sessions.begin() as session:
        session.add_all([Ticket(id=ticket_id, created_at=T0, updated_at=T0) for ticket_id in range(1, tickets + 1)])
        session.flush()
        session.execute(insert(OutboxAction.__table__), rows)
    with sessions.begin() as session:
        claimed, plan = plan_of(session, lambda: outbox.claim(session, T0 + MINUTE, 100, target="zendesk", drop=False),
                                "ORDER BY outbox.lane")
    assert [c.idempotency_key for c in claimed] == [f"k{n}" for n in range(5600, 5700)]  # each ticket's first
    assert "ix_outbox_pending_ticket" in plan and "Anti Join" not in plan, plan
