"""What the sidebar app shows (integration.core.sidebar_view) on plain values: states, pauses, lateness, steps."""
import dataclasses

from integration.core.decide import decide
from integration.core.escalation_record import EscalationRecord, StepRecord, TriggerRecord
from integration.core.history import status_row
from integration.core.sidebar_view import Commitment, agent_state, ticket_view
from integration.core.sla_summary import SlaSummary, TargetSummary
from tests.core.values import MAPPINGS, T0, minutes, snapshot


def summary(first: TargetSummary, resolution: TargetSummary = TargetSummary("running", T0 + minutes(120))):
    return SlaSummary(first, resolution)


def test_agent_state_in_the_order_agents_care_about():
    running = TargetSummary("running", due=T0 + minutes(15), warning=T0 + minutes(12))
    assert agent_state(summary(running), T0) == "on track"
    assert agent_state(summary(running), T0 + minutes(12)) == "warning"
    assert agent_state(summary(TargetSummary("breached", due=T0)), T0) == "breached"
    assert agent_state(SlaSummary(TargetSummary("met"), TargetSummary("paused")), T0) == "paused"
    assert agent_state(SlaSummary(TargetSummary("met"), TargetSummary("met")), T0) == "met"
    assert agent_state(SlaSummary(TargetSummary("met"), running), T0) == "on track"


def test_a_new_ticket_shows_its_clock_owner_and_no_acknowledge():
    state = decide(MAPPINGS, None, snapshot(7), T0).state
    view = ticket_view(MAPPINGS, state, T0 + minutes(1), (Commitment("reminder", "x", T0),))
    assert (view["state"], view["tier"], view["priority"], view["level"]) == ("on track", "enterprise", "critical", 1)
    assert view["priority_source"] == "Zendesk priority field"
    assert view["organization"] == {"name": "Northwind Logistics", "timezone": "America/New_York"}
    assert [(t["target"], t["state"], t["due"]) for t in view["targets"]] == [
        ("first_response", "on track", "2026-03-02T14:15:00Z"), ("resolution", "on track", "2026-03-02T16:00:00Z")]
    assert view["owner"]["role"] == "Support Agent" and view["owner"]["why"] == "ticket created"
    assert view["acknowledge"] is None and view["steps"] == []
    assert view["commitments"] == [{"kind": "reminder", "text": "x", "at": "2026-03-02T14:00:00Z"}]


def test_paused_since_is_the_start_of_the_current_pause():
    state = decide(MAPPINGS, None, snapshot(7), T0).state
    history = state.history + (status_row(T0 + minutes(5), "pending"), status_row(T0 + minutes(10), "open"),
                               status_row(T0 + minutes(20), "pending"), status_row(T0 + minutes(30), "hold"))
    paused = dataclasses.replace(state, history=history, status="hold",
                                 sla=SlaSummary(TargetSummary("met"), TargetSummary("paused")))
    resolution = ticket_view(MAPPINGS, paused, T0 + minutes(40))["targets"][1]
    assert (resolution["state"], resolution["paused_since"]) == ("paused", "2026-03-02T14:20:00Z")


def test_breached_by_runs_on_while_open_and_stops_once_solved():
    state = decide(MAPPINGS, None, snapshot(7), T0).state
    late = TargetSummary("breached", due=T0 + minutes(15), elapsed_seconds=1500, target_seconds=900)
    breached = dataclasses.replace(state, sla=summary(late))
    assert ticket_view(MAPPINGS, breached, T0 + minutes(45))["targets"][0]["breached_by_seconds"] == 1800
    solved = dataclasses.replace(breached, status="solved")
    assert ticket_view(MAPPINGS, solved, T0 + minutes(45))["targets"][0]["breached_by_seconds"] == 600


def test_the_current_step_is_offered_for_acknowledgement_until_acknowledged():
    state = decide(MAPPINGS, None, snapshot(7), T0).state
    step = StepRecord(2, "Support Manager", T0 + minutes(15), T0 + minutes(15),
                      (TriggerRecord("first_response_breached", "was due 14:15 UTC"),))
    escalated = dataclasses.replace(state, level=2, escalation=EscalationRecord((step,)))
    view = ticket_view(MAPPINGS, escalated, T0 + minutes(16))
    assert view["acknowledge"] == {"level": 2, "owner": "Support Manager"}
    assert view["steps"][0]["why"] == ["first-response target breached: was due 14:15 UTC"]
    done = dataclasses.replace(escalated, escalation=escalated.escalation.acknowledged(2, "U1", T0 + minutes(17)))
    view = ticket_view(MAPPINGS, done, T0 + minutes(18))
    assert view["acknowledge"] is None and view["steps"][0]["acknowledged_by"] == "U1"
