"""decide(mappings, state, signal, now): what Escalator does with one event about one ticket.

Plain values in, a Decision out: no database, no HTTP. Northwind is an enterprise customer on the
24x7 calendar (New York); an urgent ticket there is critical: first response 15m, resolution 2h,
warnings at 80%.
"""
import pytest

from integration.core.decide import decide
from integration.core.signals import TicketSignal
from tests.core.values import BRANDT, INSTALLED, T0, minutes, snapshot, tick

FIRST_DUE = T0 + minutes(15)


def new_ticket():
    """The first decision on ticket 7, read from the API at T0."""
    return decide(INSTALLED, None, snapshot(7), T0)


def test_a_new_ticket_read_from_the_api_gets_its_tier_priority_due_times_and_timers():
    decision = new_ticket()
    state = decision.state
    assert decision.outcome == "applied"
    assert (state.tier, state.priority, state.level) == ("enterprise", "critical", 1)
    assert state.priority_reason == "Zendesk priority 'urgent'"
    assert state.sla.first_response.due.isoformat() == "2026-03-02T14:15:00+00:00"
    assert state.sla.first_response.warning.isoformat() == "2026-03-02T14:12:00+00:00"
    assert state.sla.resolution.due.isoformat() == "2026-03-02T16:00:00+00:00"
    assert {(t.kind, t.due_at) for t in decision.timers} == {
        ("first_response_warning", T0 + minutes(12)), ("first_response_breach", FIRST_DUE),
        ("resolution_warning", T0 + minutes(96)), ("resolution_breach", T0 + minutes(120)),
    }


def test_a_new_ticket_gets_one_zendesk_update_with_the_sla_fields_tier_tag_and_a_note():
    (action,) = new_ticket().actions
    assert (action.target, action.kind, action.idempotency_key) == ("zendesk", "update_ticket", "esc-7-v1")
    assert action.payload["ticket_id"] == 7
    assert action.payload["custom_fields"] == [{"id": 9001, "value": "enterprise"},
                                               {"id": 9002, "value": "2026-03-02T14:15:00Z"},
                                               {"id": 9003, "value": "2026-03-02T16:00:00Z"}]
    assert action.payload["additional_tags"] == ["sla_tier_enterprise"]
    assert "priority" not in action.payload  # Zendesk already says urgent
    assert action.payload["note"].startswith("SLA set by Escalator: enterprise tier, critical priority")
    assert action.payload["note"].endswith("(ref esc-7-v1)")


def test_the_same_event_again_changes_nothing():
    first = new_ticket()
    again = decide(INSTALLED, first.state, snapshot(7), T0)
    assert again.outcome == "unchanged"
    assert again.actions == () and again.change == {}
    assert again.state.version == first.state.version == 1


def test_a_tick_at_the_warning_warns_the_manager_without_escalating():
    first = new_ticket()
    at = T0 + minutes(12)
    decision = decide(INSTALLED, first.state, tick(7, at=at), at)
    assert decision.outcome == "applied" and decision.state.level == 1
    assert [(a.target, a.kind, a.payload["channel"]) for a in decision.actions] == [
        ("slack", "post_message", "C05SUPPMGRS"), ("slack", "post_message", "U05SUPMGR01")]
    assert "80% of its first response target used" in decision.actions[0].payload["text"]


def test_a_tick_past_the_first_response_due_escalates_to_level_2():
    first = new_ticket()
    at = FIRST_DUE + minutes(1)
    decision = decide(INSTALLED, first.state, tick(7, at=at), at)
    assert decision.outcome == "applied"
    assert decision.state.level == 2
    assert decision.state.sla.first_response.state == "breached"
    assert decision.change["level"] == [1, 2]
    zendesk = [a for a in decision.actions if a.target == "zendesk"]
    slack = [a for a in decision.actions if a.target == "slack"]
    (update,) = zendesk
    assert update.kind == "update_ticket"
    assert update.payload["group_id"] == 360000200002  # the Support Manager's group
    assert update.payload["additional_tags"] == ["escalation_level_2", "sla_first_response_breached"]
    assert update.payload["note"].startswith("Escalated by Escalator to level 2, Support Manager.")
    assert [(a.kind, a.payload["channel"]) for a in slack] == [("post_message", "C05SUPPMGRS"),
                                                              ("post_message", "U05SUPMGR01")]
    assert slack[0].payload["text"].startswith("Ticket #7 escalated to level 2 (Support Manager)")
    # The breach timer has done its work; the reminder of the new owner is set.
    assert "first_response_breach" not in {t.kind for t in decision.timers}
    assert ("renotify", at + minutes(30)) in {(t.kind, t.due_at) for t in decision.timers}


def test_a_second_tick_after_the_escalation_does_not_escalate_again():
    first = new_ticket()
    at = FIRST_DUE + minutes(1)
    escalated = decide(INSTALLED, first.state, tick(7, at=at), at)
    later = at + minutes(1)
    again = decide(INSTALLED, escalated.state, tick(7, at=later), later)
    assert again.state.level == 2
    assert not [a for a in again.actions if a.kind == "update_ticket"]


@pytest.mark.parametrize("kind", ["tick", "acknowledge", "escalation_request", "csat"])
def test_a_local_signal_about_an_unknown_ticket_is_ignored(kind):
    decision = decide(INSTALLED, None, TicketSignal(ticket_id=99, kind=kind, at=T0, source_key="x"), T0)
    assert decision.outcome == "ignored"
    assert decision.detail == "ticket 99 is not known"
    assert (decision.state, decision.actions, decision.timers) == (None, (), None)


def test_a_webhook_about_a_new_ticket_asks_to_read_it_from_the_api_first():
    signal = snapshot(8, authoritative=False, organization_id=BRANDT)
    decision = decide(INSTALLED, None, signal, T0)
    assert decision.outcome == "refresh"
    assert decision.state is None and decision.timers is None
    (action,) = decision.actions
    assert (action.target, action.kind, action.payload) == ("zendesk", "fetch_ticket", {"ticket_id": 8, "asked_by": signal.source_key})
    # The same webhook delivered twice asks for the same read (one outbox row).
    assert decide(INSTALLED, None, signal, T0).actions[0].idempotency_key == action.idempotency_key
