"""Late and repeated events (issue 16): the SLA is what the ticket's true history says, whatever the order.

The three reproductions from the issue, each delivered as Zendesk's event subscription bodies (parsed by
the real parser) and decided one after the other; Brandt is a pro customer on 24x7.
"""
import datetime as dt

from integration.core.decide import decide
from integration.core.sla.ticket import State
from integration.zendesk.payloads import parse_payload
from tests.core.values import BRANDT, INSTALLED, snapshot, tick

UTC = dt.timezone.utc
ENUM = {"status": str.upper, "priority": str.upper, "organization": str}


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def event(kind: str, when: str, *, status="open", priority="normal", created: str, change=None, comment=None,
          ticket_id=7) -> object:
    """One event subscription body, parsed: the ticket's values at `when`, and the change (field, old, new)."""
    body = {"id": f"{kind}-{when}", "type": f"zen:event-type:ticket.{kind}", "time": f"{when}.123456789Z",
            "detail": {"id": str(ticket_id), "created_at": f"{created}Z", "status": status.upper(),
                       "priority": priority.upper() if priority else None, "organization_id": str(BRANDT),
                       "subject": "Exports time out", "tags": []},
            "event": {}}
    if change:
        field, old, new = change
        body["event"] = {"previous": ENUM[field](old), "current": ENUM[field](new)}
    if comment:
        body["event"] = {"comment": {"is_public": comment == "public", "author": {"is_staff": True}}}
    return parse_payload(body, raw=b"").signal


def run(created: str, priority: str, events, now: str):
    """Decide the ticket (read from the API at creation) and then each event at its delivery time."""
    state = decide(INSTALLED, None, snapshot(7, at=at(created), created_at=at(created), priority=priority,
                                            organization_id=BRANDT), at(created)).state
    decisions = []
    for delivered, signal in events:
        decision = decide(INSTALLED, state, signal, at(delivered))
        decisions.append(decision)
        state = decision.state or state
    final = decide(INSTALLED, state, tick(7, at=at(now)), at(now))
    return final.state, decisions + [final]


def test_a_late_pending_does_not_erase_the_open_that_was_delivered_before_it():
    created = "2026-03-02T09:00:00"
    pending_1 = event("status_changed", "2026-03-02T11:40:00", status="pending", created=created,
                      change=("status", "open", "pending"))
    opened = event("status_changed", "2026-03-02T16:46:52", created=created, change=("status", "pending", "open"))
    pending_2 = event("status_changed", "2026-03-02T17:15:01", status="pending", created=created,
                      change=("status", "open", "pending"))
    reopened = event("status_changed", "2026-03-04T10:00:00", created=created, change=("status", "pending", "open"))
    in_order, _ = run(created, "normal", [("2026-03-02T11:40:01", pending_1), ("2026-03-02T16:46:53", opened),
                                          ("2026-03-02T17:15:02", pending_2), ("2026-03-04T10:00:01", reopened)],
                      now="2026-03-04T12:00:00")
    late, _ = run(created, "normal", [("2026-03-02T16:46:53", opened), ("2026-03-02T17:15:02", pending_2),
                                      ("2026-03-02T18:00:00", pending_1), ("2026-03-04T10:00:01", reopened)],
                  now="2026-03-04T12:00:00")
    # 2h40m before the first pause + 28m09s between 16:46:52 and 17:15:01, then running from day 3, 10:00.
    expected = at("2026-03-04T10:00:00") + dt.timedelta(days=2) - dt.timedelta(hours=2, minutes=40) \
        - dt.timedelta(minutes=28, seconds=9)
    assert in_order.sla.resolution.due == expected
    assert late.sla.resolution.due == expected
    assert late.status == "open"


def test_a_late_priority_change_is_placed_at_its_own_instant():
    created = "2026-03-02T06:42:49"
    lowered = event("priority_changed", "2026-03-02T10:38:57", created=created, change=("priority", "low", "normal"))
    later = event("comment_added", "2026-03-02T11:00:00", created=created, comment="internal")
    state, _ = run(created, "low", [("2026-03-02T11:00:01", later), ("2026-03-02T11:05:00", lowered)],
                   now="2026-03-02T11:10:00")
    # 3h56m08s used of low's 12h when it became normal (4h): due 10:42:49, breached since.
    assert state.sla.first_response.due == at("2026-03-02T10:42:49")
    assert state.sla.first_response.state == State.BREACHED.value


def test_breach_tags_and_the_level_of_a_breach_that_never_happened_are_corrected_once():
    created = "2026-03-02T09:00:00"
    reply = event("comment_added", "2026-03-02T09:50:00", priority="high", created=created, comment="public")
    timer = tick(7, at=at("2026-03-02T10:01:00"))
    state, decisions = run(created, "high", [("2026-03-02T10:01:00", timer), ("2026-03-02T10:10:00", reply)],
                           now="2026-03-02T10:20:00")
    breached, corrected = decisions[0], decisions[1]
    assert "sla_first_response_breached" in breached.actions[0].payload["additional_tags"]
    assert breached.state.level == 2
    update = corrected.actions[0].payload
    assert "sla_first_response_breached" in update["remove_tags"]
    assert "escalation_level_2" in update["remove_tags"]
    assert "Correction by Escalator" in update["note"]
    assert state.sla.first_response.state == State.MET.value
    assert "sla_first_response_breached" not in state.tags
    assert state.level == 1
    (step,) = state.escalation.steps  # the escalation stays in the record, marked
    assert step.level == 2 and step.withdrawn_at is not None
    slack = [a for d in decisions for a in d.actions if "withdrawn" in a.idempotency_key]
    assert slack and len({a.payload["channel"] for a in slack}) == len(slack)  # once to each of the same owner's
    first = {a.payload["channel"] for a in breached.actions if a.target == "slack"}
    assert {a.payload["channel"] for a in slack} <= first


def test_a_ticket_paused_after_its_resolution_breach_keeps_the_breached_due():
    created = "2026-03-02T09:00:00"  # pro urgent: resolution 4h, due 13:00
    pending = event("status_changed", "2026-03-02T14:00:00", status="pending", priority="urgent", created=created,
                    change=("status", "open", "pending"))
    state, decisions = run(created, "urgent", [("2026-03-02T14:00:01", pending)], now="2026-03-02T15:00:00")
    assert state.status == "pending"
    assert state.sla.resolution.state == State.BREACHED.value
    assert state.sla.resolution.due == at("2026-03-02T13:00:00")
    written = [a.payload for d in decisions for a in d.actions if a.kind == "update_ticket"]
    assert all({"id": 9003, "value": None} not in p.get("custom_fields", []) for p in written)


def test_a_ticket_paused_before_its_breach_has_no_resolution_due():
    created = "2026-03-02T09:00:00"
    pending = event("status_changed", "2026-03-02T10:00:00", status="pending", priority="urgent", created=created,
                    change=("status", "open", "pending"))
    state, decisions = run(created, "urgent", [("2026-03-02T10:00:01", pending)], now="2026-03-02T15:00:00")
    assert state.sla.resolution.state == State.PAUSED.value and state.sla.resolution.due is None
    assert {"id": 9003, "value": None} in decisions[0].actions[0].payload["custom_fields"]
