"""The matrix rules, pure: levels only rise, may skip, fire once; warnings once per due; reminders."""
import datetime as dt

from integration.core.matrix import Trigger, due_warnings, next_step, renotify_due
from integration.mappings.loader import load_mappings
from integration.core.sla.ticket import State, Target, TargetStatus
from tests.harness import TEST_MAPPINGS

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
ESCALATION = load_mappings(TEST_MAPPINGS).escalation


def status(state, due=None, warning=None):
    return TargetStatus(Target.FIRST_RESPONSE, state, due, warning, dt.timedelta(0), dt.timedelta(0),
                        dt.timedelta(hours=1), None, None)


def test_first_response_breach_moves_level_1_to_the_support_manager():
    step = next_step(ESCALATION, 1, [Trigger("first_response_breached", "x")], NOW)
    assert (step.level, step.owner.role) == (2, "Support Manager")


def test_an_executive_complaint_on_a_fresh_ticket_goes_straight_to_the_top():
    step = next_step(ESCALATION, 1, [Trigger("executive", "tag")], NOW)
    assert (step.level, step.owner.role) == (5, "CRO/CEO")


def test_several_triggers_take_the_highest_and_keep_all_reasons():
    step = next_step(ESCALATION, 1, [Trigger("first_response_breached", "a"), Trigger("resolution_breached", "b")],
                     NOW)
    assert step.level == 3 and [t.kind for t in step.triggers] == ["first_response_breached",
                                                                    "resolution_breached"]


def test_a_level_is_never_reached_twice_and_never_goes_down():
    assert next_step(ESCALATION, 2, [Trigger("first_response_breached", "a")], NOW) is None
    assert next_step(ESCALATION, 4, [Trigger("resolution_breached", "b")], NOW) is None
    assert next_step(ESCALATION, 5, [Trigger("executive", "c")], NOW) is None


def test_warning_once_per_due_time():
    due, warning = NOW + dt.timedelta(minutes=10), NOW - dt.timedelta(minutes=1)
    sla = {Target.FIRST_RESPONSE: status(State.RUNNING, due, warning)}
    assert due_warnings(sla, {}, NOW) == [Target.FIRST_RESPONSE]
    assert due_warnings(sla, {"first_response": due.strftime("%Y-%m-%d %H:%M UTC")}, NOW) == []
    moved = {Target.FIRST_RESPONSE: status(State.RUNNING, due + dt.timedelta(hours=1), warning)}
    assert due_warnings(moved, {"first_response": due.strftime("%Y-%m-%d %H:%M UTC")}, NOW) == [Target.FIRST_RESPONSE]


def test_no_warning_before_its_instant_or_once_met_paused_or_breached():
    future = {Target.FIRST_RESPONSE: status(State.RUNNING, NOW + dt.timedelta(hours=1), NOW + dt.timedelta(1))}
    assert due_warnings(future, {}, NOW) == []
    for state in (State.MET, State.PAUSED, State.BREACHED):
        sla = {Target.FIRST_RESPONSE: status(state, NOW + dt.timedelta(minutes=5), NOW - dt.timedelta(minutes=1))}
        assert due_warnings(sla, {}, NOW) == []


def test_reminders_until_acknowledged_or_solved():
    steps = [{"level": 2, "notified_at": NOW.isoformat()}]
    every = dt.timedelta(minutes=30)
    assert renotify_due(steps, "open", every) == NOW + every
    assert renotify_due([{**steps[0], "acknowledged_at": NOW.isoformat()}], "open", every) is None
    assert renotify_due(steps, "solved", every) is None
    assert renotify_due([], "open", every) is None
