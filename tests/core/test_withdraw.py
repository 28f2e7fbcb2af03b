"""withdraw_unearned: a step the corrected history no longer earns is withdrawn, with what it did.

The tests' escalation.yaml: level 2 Support Manager (Slack C05SUPPMGRS, U05SUPMGR01), level 3 Customer
Success (C05CUSTSUCC, customer-visible). Northwind (enterprise) has the customer channel C05NWLOGIST;
Brandt (pro) has none, but a dedicated CSM (U05CSMBRAND) mentioned at level 3.
"""
import dataclasses

from integration.core.escalation_record import EscalationRecord, StepRecord, TriggerRecord
from integration.core.sla.priority import Priority
from integration.core.sla.ticket import State, Target
from integration.core.state import TicketState
from integration.core.steps import step_key
from integration.core.withdraw import priority_back, withdraw_unearned
from tests.core.values import BRANDT, MAPPINGS, NORTHWIND, T0, customer, minutes, running_sla, target

FIRST = TriggerRecord("first_response_breached", "was due 14:15 UTC")
RESOLUTION = TriggerRecord("resolution_breached", "was due 16:00 UTC")


def step(level: int, at_minutes: int, trigger=FIRST, **fields) -> StepRecord:
    at = T0 + minutes(at_minutes)
    owner = MAPPINGS.escalation.owner(level).role
    return StepRecord(level=level, owner=owner, at=at, notified_at=at, triggers=(trigger,), **fields)


def ticket(*steps: StepRecord, priority: str = "high", organization_id: int = NORTHWIND) -> TicketState:
    return TicketState(id=7, created_at=T0, organization_id=organization_id, status="open", priority=priority,
                       tier="enterprise" if organization_id == NORTHWIND else "pro",
                       level=max(s.level for s in steps), escalation=EscalationRecord(steps=steps))


def first_response_breached():
    sla = running_sla()
    sla[Target.FIRST_RESPONSE] = target(Target.FIRST_RESPONSE, State.BREACHED, due=T0 + minutes(15),
                                        breached_at=T0 + minutes(15))
    return sla


def test_a_withdrawn_raise_goes_back_to_where_the_ticket_was():
    gone = step(2, 16, raised_from="medium", raised_to="high")
    assert priority_back(ticket(gone, priority="high"), [], [gone]) is Priority.MEDIUM


def test_a_priority_set_since_the_raise_stands():
    gone = step(2, 16, raised_from="medium", raised_to="high")
    assert priority_back(ticket(gone, priority="critical"), [], [gone]) is None


def test_a_standing_step_keeps_its_own_raise():
    kept = step(2, 16, raised_from="medium", raised_to="high")
    gone = step(3, 130, RESOLUTION, raised_from="high", raised_to="critical")
    assert priority_back(ticket(kept, gone, priority="critical"), [kept], [gone]) is Priority.HIGH


def test_a_step_that_raised_nothing_lowers_nothing():
    state, correction = withdraw_unearned(MAPPINGS, ticket(step(2, 16)), customer(), running_sla(), "u", T0)
    assert state.level == 1 and correction.priority is None


def test_every_post_of_a_withdrawn_step_is_dropped_and_each_correction_names_what_it_corrects():
    gone = dataclasses.replace(step(3, 130, RESOLUTION), reminders=2)
    state = ticket(step(2, 16), gone)
    after, correction = withdraw_unearned(MAPPINGS, state, customer(), first_response_breached(), "u", T0)
    assert after.level == 2
    assert set(correction.drop) == {"slack-7-L3-C05CUSTSUCC", "slack-7-L3-remind-1-C05CUSTSUCC",
                                    "slack-7-L3-remind-2-C05CUSTSUCC", "slack-7-L3-customer-C05NWLOGIST"}
    (told,) = correction.slack  # the staff channel, not the customer's
    assert told.payload["channel"] == "C05CUSTSUCC"
    assert told.retracts == ("slack-7-L3-C05CUSTSUCC", "slack-7-L3-remind-1-C05CUSTSUCC",
                             "slack-7-L3-remind-2-C05CUSTSUCC")


def test_the_dedicated_csm_mentioned_in_the_step_is_told_of_its_withdrawal():
    state = ticket(step(3, 130, RESOLUTION), organization_id=BRANDT)
    _, correction = withdraw_unearned(MAPPINGS, state, customer(BRANDT), running_sla(), "u", T0)
    assert [a.payload["channel"] for a in correction.slack] == ["C05CUSTSUCC", "U05CSMBRAND"]


def test_a_level_reached_again_after_a_withdrawal_is_keyed_anew():
    first = dataclasses.replace(step(2, 16), withdrawn_at=T0 + minutes(20))
    again = step(2, 300)
    record = EscalationRecord(steps=(first, again))
    assert step_key(record, first) == "L2"
    assert step_key(record, again) == f"L2-{again.at.isoformat()}"
