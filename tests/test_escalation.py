"""The matrix rules, pure: levels only rise, may skip, fire once; warnings once per due; reminders."""
import datetime as dt
import shutil

import pytest

from integration.core.escalation_record import EscalationRecord, StepRecord, Warned
from integration.core.matrix import Trigger, due_warnings, manager_of, next_step, renotify_due
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
    assert due_warnings(sla, EscalationRecord(), NOW) == [Target.FIRST_RESPONSE]
    warned = EscalationRecord().with_warning(Target.FIRST_RESPONSE, due)
    assert due_warnings(sla, warned, NOW) == []
    moved = {Target.FIRST_RESPONSE: status(State.RUNNING, due + dt.timedelta(hours=1), warning)}
    assert due_warnings(moved, warned, NOW) == [Target.FIRST_RESPONSE]


def test_a_due_moved_by_seconds_is_a_new_promise_and_warns_again():
    due, warning = NOW + dt.timedelta(minutes=10, seconds=10), NOW - dt.timedelta(minutes=1)
    warned = EscalationRecord().with_warning(Target.FIRST_RESPONSE, due)
    later = {Target.FIRST_RESPONSE: status(State.RUNNING, due + dt.timedelta(seconds=30), warning)}
    assert due_warnings(later, warned, NOW) == [Target.FIRST_RESPONSE]


def test_a_warning_stored_to_the_minute_by_an_older_version_still_counts():
    due, warning = NOW + dt.timedelta(minutes=10, seconds=10), NOW - dt.timedelta(minutes=1)
    old = EscalationRecord.from_json({"steps": [], "warned": {"first_response": due.strftime("%Y-%m-%d %H:%M UTC")}})
    sla = {Target.FIRST_RESPONSE: status(State.RUNNING, due, warning)}
    assert due_warnings(sla, old, NOW) == []
    assert old.to_json()["warned"] == {"first_response": due.strftime("%Y-%m-%d %H:%M UTC")}
    moved = {Target.FIRST_RESPONSE: status(State.RUNNING, due + dt.timedelta(minutes=1), warning)}
    assert due_warnings(moved, old, NOW) == [Target.FIRST_RESPONSE]


def test_no_warning_before_its_instant_or_once_met_paused_or_breached():
    future = {Target.FIRST_RESPONSE: status(State.RUNNING, NOW + dt.timedelta(hours=1), NOW + dt.timedelta(1))}
    assert due_warnings(future, {}, NOW) == []
    for state in (State.MET, State.PAUSED, State.BREACHED):
        sla = {Target.FIRST_RESPONSE: status(state, NOW + dt.timedelta(minutes=5), NOW - dt.timedelta(minutes=1))}
        assert due_warnings(sla, {}, NOW) == []


def test_reminders_until_acknowledged_or_solved():
    record = EscalationRecord().with_step(StepRecord(level=2, owner="Support Manager", at=NOW, notified_at=NOW))
    every = dt.timedelta(minutes=30)
    assert renotify_due(record, "open", every) == NOW + every
    assert renotify_due(record.acknowledged(2, "U1", NOW), "open", every) is None
    assert renotify_due(record, "solved", every) is None
    assert renotify_due(EscalationRecord(), "open", every) is None


def test_warnings_go_to_the_manager_level_below_it_and_to_the_next_level_above_it():
    roles = [manager_of(ESCALATION, level).role for level in (1, 2, 3, 4, 5)]
    assert roles == ["Support Manager", "Customer Success", "VP Customer Success", "CRO/CEO", "CRO/CEO"]


def test_manager_level_from_the_file_picks_who_is_warned(tmp_path):
    mappings = tmp_path / "mappings"
    shutil.copytree("mappings", mappings)
    text = (mappings / "escalation.yaml").read_text()
    (mappings / "escalation.yaml").write_text(text.replace("manager_level: 2", "manager_level: 3"))
    escalation = load_mappings(mappings).escalation

    assert escalation.manager_level == 3
    assert [manager_of(escalation, level).role for level in (1, 2, 3, 4)] == [
        "Customer Success", "Customer Success", "VP Customer Success", "CRO/CEO"]


def test_a_reset_lowers_the_level_forgets_the_steps_above_and_is_audited():
    from integration.core.reset import ResetRefused, reset_level
    from integration.core.state import TicketState

    steps = (StepRecord(level=2, owner="Support Manager", at=NOW, notified_at=NOW),
             StepRecord(level=5, owner="CRO/CEO", at=NOW, notified_at=NOW))
    warned = {Target.RESOLUTION: Warned(NOW)}
    state = TicketState(id=7, created_at=NOW, level=5, version=3, escalation=EscalationRecord(steps, warned))
    decision = reset_level(state, 2, "tagged by mistake")

    after = decision.state
    assert (after.level, after.version) == (2, 4)
    assert after.escalation == EscalationRecord(steps[:1], warned)
    assert decision.change == {"level": [5, 2]} and decision.detail == "reset by an admin: tagged by mistake"
    assert decision.timers is None and decision.actions == ()
    for level in (5, 6):
        with pytest.raises(ResetRefused, match="reset only lowers it"):
            reset_level(state, level, "x")


def test_the_stored_record_reads_back_as_it_was_written():
    stored = {"steps": [{"level": 2, "owner": "Support Manager", "at": NOW.isoformat(), "notified_at": NOW.isoformat(),
                         "triggers": [{"kind": "first_response_breached", "detail": "was due", "by": None}],
                         "reminders": 2, "acknowledged_at": NOW.isoformat(), "acknowledged_by": "U05SUPMGR01"},
                        {"level": 3, "owner": "Customer Success", "at": NOW.isoformat(),
                         "notified_at": NOW.isoformat(), "triggers": []}],
              "warned": {"resolution": NOW.isoformat()}}
    record = EscalationRecord.from_json(stored)
    assert record.steps[0].acknowledged_by == "U05SUPMGR01" and record.steps[0].reminders == 2
    assert record.warned == {Target.RESOLUTION: Warned(NOW)}
    assert record.to_json() == stored
    assert EscalationRecord.from_json({}) == EscalationRecord.from_json(None) == EscalationRecord()
