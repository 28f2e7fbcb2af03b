"""plan_escalation: what the matrix does on one decision, given the ticket, its SLA and the event.

The tests' escalation.yaml: level 2 Support Manager (group 360000200002; Slack C05SUPPMGRS and
U05SUPMGR01), level 3 Customer Success (group 360000200003, customer-visible), level 5 CRO/CEO
(C05EXECESC, U05CRO00001, U05CEO00001, customer-visible); reminders every 30 minutes; the executive
tag is `executive_complaint`.
"""
import dataclasses

from integration.core.context import Context
from integration.core.escalation_record import EscalationRecord, StepRecord, TriggerRecord, Warned
from integration.core.signals import TicketSignal
from integration.core.sla.ticket import State, Target
from integration.core.state import TicketState
from integration.core.steps import plan_escalation
from integration.core.zendesk_update import OwnerChange
from tests.core.values import BRANDT, MAPPINGS, NORTHWIND, T0, customer, minutes, running_sla, target, tick

FIRST_DUE = T0 + minutes(15)
CTX = Context(zendesk_url="https://acme.zendesk.com")


def ticket(level: int = 1, steps: tuple = (), organization_id: int = NORTHWIND, **fields) -> TicketState:
    tier = "enterprise" if organization_id == NORTHWIND else "pro"
    return TicketState(id=7, created_at=T0, organization_id=organization_id, subject="Checkout is down",
                       status="open", tier=tier, priority="critical", level=level,
                       escalation=EscalationRecord(steps=tuple(steps)), **fields)


def breached_first_response(at):
    sla = running_sla()
    sla[Target.FIRST_RESPONSE] = target(Target.FIRST_RESPONSE, State.BREACHED, due=FIRST_DUE,
                                        warning=FIRST_DUE - minutes(3), elapsed=at - T0, breached_at=FIRST_DUE)
    return sla


def plan(state, sla, signal, now, organization_id=NORTHWIND):
    return plan_escalation(MAPPINGS, CTX, state, customer(organization_id), sla, signal, now)


def test_nothing_due_nothing_planned():
    result = plan(ticket(), running_sla(), tick(at=T0 + minutes(1)), T0 + minutes(1))
    assert (result.level, result.zendesk, result.note, result.slack) == (1, None, None, [])
    assert result.escalation == EscalationRecord()
    assert result.renotify_at is None  # no step taken: nobody to remind


def test_a_breached_first_response_moves_level_1_to_the_support_manager():
    now = FIRST_DUE + minutes(2)
    result = plan(ticket(), breached_first_response(now), tick(at=now), now)
    assert result.level == 2
    assert result.zendesk == OwnerChange("escalation_level_2", group_id=360000200002)
    assert result.note == ("Escalated by Escalator to level 2, Support Manager. Why: first-response target "
                           "breached: was due 2026-03-02 14:15 UTC, over by 2m. Owner now: Support Manager "
                           "(group 360000200002).")
    (step,) = result.escalation.steps
    assert (step.level, step.owner, step.at) == (2, "Support Manager", now)
    assert [t.kind for t in step.triggers] == ["first_response_breached"]
    assert [(a.target, a.kind, a.payload["channel"], a.idempotency_key) for a in result.slack] == [
        ("slack", "post_message", "C05SUPPMGRS", "slack-7-L2-C05SUPPMGRS"),
        ("slack", "post_message", "U05SUPMGR01", "slack-7-L2-U05SUPMGR01")]
    assert "https://acme.zendesk.com/agent/tickets/7" in str(result.slack[0].payload["blocks"])
    assert result.renotify_at == now + minutes(30)


def test_an_executive_tag_on_a_fresh_ticket_goes_straight_to_level_5_and_tells_the_customer():
    signal = TicketSignal(ticket_id=7, kind="updated", at=T0, tags=("executive_complaint",), source_key="w1")
    result = plan(ticket(), running_sla(), signal, T0)
    assert result.level == 5
    assert result.zendesk == OwnerChange("escalation_level_5")  # CRO/CEO: no group, no assignee
    channels = [a.payload["channel"] for a in result.slack]
    assert channels == ["C05EXECESC", "U05CRO00001", "U05CEO00001", "C05NWLOGIST"]
    assert result.slack[-1].idempotency_key == "slack-7-L5-customer-C05NWLOGIST"


def test_a_customer_without_a_slack_channel_gets_no_notice():
    signal = TicketSignal(ticket_id=7, kind="updated", at=T0, tags=("executive_complaint",), source_key="w1")
    result = plan(ticket(organization_id=BRANDT), running_sla(), signal, T0, organization_id=BRANDT)
    assert result.level == 5
    assert [a.payload["channel"] for a in result.slack] == ["C05EXECESC", "U05CRO00001", "U05CEO00001"]


def test_bad_satisfaction_is_the_dissatisfied_step_to_level_4():
    signal = TicketSignal(ticket_id=7, kind="updated", at=T0, satisfaction="bad", source_key="w2")
    result = plan(ticket(level=2), running_sla(), signal, T0)
    assert result.level == 4
    assert result.zendesk == OwnerChange("escalation_level_4", assignee_id=360000300004)
    assert [a.payload["channel"] for a in result.slack] == ["C05CSLEADER", "U05VPCS0001", "C05NWLOGIST"]
    assert result.note == ("Escalated by Escalator to level 4, VP Customer Success. Why: customer dissatisfied: "
                           "Zendesk satisfaction rating: bad. Owner now: VP Customer Success (assignee 360000300004).")


def test_the_level_never_goes_down_and_a_reached_level_is_not_stepped_again():
    now = FIRST_DUE + minutes(2)
    result = plan(ticket(level=3), breached_first_response(now), tick(at=now), now)
    assert (result.level, result.zendesk, result.note, result.slack) == (3, None, None, [])


def test_the_warning_goes_to_the_next_level_once_per_due_time():
    now = FIRST_DUE - minutes(2)  # past the warning (12m), before the due (15m)
    first = plan(ticket(), running_sla(), tick(at=now), now)
    assert first.level == 1 and first.zendesk is None
    assert [a.payload["channel"] for a in first.slack] == ["C05SUPPMGRS", "U05SUPMGR01"]
    assert first.escalation.warned == {Target.FIRST_RESPONSE: Warned(FIRST_DUE)}
    warned = dataclasses.replace(ticket(), escalation=first.escalation)
    assert plan(warned, running_sla(), tick(at=now), now).slack == []
    # A new due time (a priority change, say) is a new promise: warned again.
    later_due = running_sla(first_due=FIRST_DUE + minutes(30))
    assert plan(warned, later_due, tick(at=now + minutes(30)), now + minutes(30)).slack != []


STEP_2 = StepRecord(level=2, owner="Support Manager", at=FIRST_DUE, notified_at=FIRST_DUE,
                    triggers=(TriggerRecord("first_response_breached", "was due 2026-03-02 14:15 UTC", None),))


def test_an_unacknowledged_step_is_reminded_every_renotify_interval():
    now = FIRST_DUE + minutes(30)
    result = plan(ticket(level=2, steps=(STEP_2,)), breached_first_response(now), tick(at=now), now)
    assert [(a.payload["channel"], a.idempotency_key) for a in result.slack] == [
        ("C05SUPPMGRS", "slack-7-L2-remind-1-C05SUPPMGRS"), ("U05SUPMGR01", "slack-7-L2-remind-1-U05SUPMGR01")]
    assert result.escalation.steps[-1].reminders == 1
    assert result.renotify_at == now + minutes(30)
    early = plan(ticket(level=2, steps=(STEP_2,)), breached_first_response(now), tick(at=now - minutes(1)),
                 now - minutes(1))
    assert early.slack == []


def test_acknowledging_records_who_and_when_and_stops_the_reminders():
    now = FIRST_DUE + minutes(5)
    signal = TicketSignal(ticket_id=7, kind="acknowledge", at=now, actor="U0AGENT01", ack_level=2, source_key="a1")
    result = plan(ticket(level=2, steps=(STEP_2,)), breached_first_response(now), signal, now)
    step = result.escalation.steps[-1]
    assert (step.acknowledged_by, step.acknowledged_at) == ("U0AGENT01", now)
    assert result.renotify_at is None
    later = FIRST_DUE + minutes(45)
    acknowledged = dataclasses.replace(ticket(level=2), escalation=result.escalation)
    assert plan(acknowledged, breached_first_response(later), tick(at=later), later).slack == []


def breached_resolution(at):
    sla = running_sla()
    resolution_due = T0 + minutes(120)
    sla[Target.RESOLUTION] = target(Target.RESOLUTION, State.BREACHED, due=resolution_due, length=minutes(120),
                                    elapsed=at - T0, breached_at=resolution_due)
    return sla


def test_the_customer_success_step_assigns_the_dedicated_csm_inside_the_level_group_and_mentions_them():
    # Brandt (pro, dedicated_csm) names CSM 360000400102 / U05CSMBRAND in the tests' organizations.yaml.
    now = T0 + minutes(125)
    result = plan(ticket(level=2, organization_id=BRANDT), breached_resolution(now), tick(at=now), now,
                  organization_id=BRANDT)
    assert result.level == 3
    assert result.zendesk == OwnerChange("escalation_level_3", group_id=360000200003, assignee_id=360000400102)
    assert result.note.endswith("Owner now: Customer Success (group 360000200003). "
                                "Assigned to the organization's dedicated CSM (assignee 360000400102).")
    assert [a.payload["channel"] for a in result.slack] == ["C05CUSTSUCC", "U05CSMBRAND"]


def test_without_a_csm_the_customer_success_step_goes_to_the_level_owners_as_before():
    now = T0 + minutes(125)
    result = plan(ticket(level=2), breached_resolution(now), tick(at=now), now)
    assert result.zendesk == OwnerChange("escalation_level_3", group_id=360000200003)
    assert [a.payload["channel"] for a in result.slack] == ["C05CUSTSUCC", "C05NWLOGIST"]


def test_a_csm_on_a_tier_that_lost_dedicated_csm_is_not_used():
    tiers = {**MAPPINGS.tiers, "pro": dataclasses.replace(MAPPINGS.tiers["pro"], dedicated_csm=False)}
    mappings = dataclasses.replace(MAPPINGS, tiers=tiers)
    now = T0 + minutes(125)
    result = plan_escalation(mappings, CTX, ticket(level=2, organization_id=BRANDT), customer(BRANDT),
                             breached_resolution(now), tick(at=now), now)
    assert result.zendesk.assignee_id is None
