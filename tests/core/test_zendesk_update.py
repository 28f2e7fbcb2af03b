"""desired_update: what the Zendesk ticket should carry, minus what it already carries.

Only the difference is written (Zendesk allows 100 ticket updates a minute per account), tags go
through additional_tags / remove_tags so agents' own tags survive, and a paused resolution clock
shows no due time.
"""
import dataclasses

from integration.core.sla.ticket import State, Target
from integration.core.state import TicketState
from integration.core.zendesk_update import desired_update
from tests.core.values import INSTALLED, MAPPINGS, T0, minutes, running_sla, target

FIRST_DUE, RESOLUTION_DUE = "2026-03-02T14:15:00Z", "2026-03-02T16:00:00Z"
IN_SYNC = {"tier": "enterprise", "first_response_due": FIRST_DUE, "resolution_due": RESOLUTION_DUE}


def ticket(**fields) -> TicketState:
    values = dict(id=7, created_at=T0, organization_id=360000000101, tier="enterprise", priority="critical",
                  zendesk_priority="urgent")
    return TicketState(**(values | fields))


def test_a_fresh_ticket_gets_the_three_fields_and_the_tier_tag():
    update = desired_update(INSTALLED, ticket(), running_sla())
    assert update.api_fields() == {
        "custom_fields": [{"id": 9001, "value": "enterprise"}, {"id": 9002, "value": FIRST_DUE},
                          {"id": 9003, "value": RESOLUTION_DUE}],
        "additional_tags": ["sla_tier_enterprise"],
    }
    assert update.written == IN_SYNC and update.has_changes


def test_a_ticket_that_already_carries_everything_gets_no_update():
    state = ticket(written=IN_SYNC, tags=("sla_tier_enterprise",))
    update = desired_update(INSTALLED, state, running_sla())
    assert update.api_fields() == {} and not update.has_changes


def test_our_priority_is_written_in_zendesk_words_when_zendesk_differs():
    state = ticket(zendesk_priority="high", written=IN_SYNC, tags=("sla_tier_enterprise",))
    update = desired_update(INSTALLED, state, running_sla())
    assert update.api_fields() == {"priority": "urgent"} and update.has_changes
    medium = ticket(priority="medium", zendesk_priority=None, written=IN_SYNC, tags=("sla_tier_enterprise",))
    assert desired_update(INSTALLED, medium, running_sla()).priority == "normal"


def test_only_the_field_that_moved_is_written():
    later = running_sla(first_due=T0 + minutes(45))
    update = desired_update(INSTALLED, ticket(written=IN_SYNC, tags=("sla_tier_enterprise",)), later)
    assert update.api_fields()["custom_fields"] == [{"id": 9002, "value": "2026-03-02T14:45:00Z"}]
    assert update.written == {"first_response_due": "2026-03-02T14:45:00Z"}
    assert "additional_tags" not in update.api_fields() and "remove_tags" not in update.api_fields()


def test_a_stale_tier_tag_is_removed_and_agents_tags_are_left_alone():
    state = ticket(written=IN_SYNC, tags=("sla_tier_pro", "vip_customer", "billing"))
    update = desired_update(INSTALLED, state, running_sla())
    assert update.api_fields()["additional_tags"] == ["sla_tier_enterprise"]
    assert update.api_fields()["remove_tags"] == ["sla_tier_pro"]


def test_a_breach_adds_its_tag():
    sla = running_sla()
    sla[Target.FIRST_RESPONSE] = target(Target.FIRST_RESPONSE, State.BREACHED, due=T0 + minutes(15),
                                        elapsed=minutes(20), breached_at=T0 + minutes(15))
    sla[Target.RESOLUTION] = target(Target.RESOLUTION, State.BREACHED, due=T0 + minutes(120), length=minutes(120),
                                    elapsed=minutes(130), breached_at=T0 + minutes(120))
    update = desired_update(INSTALLED, ticket(written=IN_SYNC, tags=("sla_tier_enterprise",)), sla)
    assert update.api_fields() == {"additional_tags": ["sla_first_response_breached", "sla_resolution_breached"]}
    assert update.has_changes


def test_a_paused_resolution_clock_empties_the_resolution_due_field():
    sla = running_sla()
    sla[Target.RESOLUTION] = target(Target.RESOLUTION, State.PAUSED, due=None, length=minutes(120),
                                    elapsed=minutes(40))
    update = desired_update(INSTALLED, ticket(written=IN_SYNC, tags=("sla_tier_enterprise",)), sla)
    assert update.api_fields()["custom_fields"] == [{"id": 9003, "value": None}]
    assert update.written == {"resolution_due": None}


def test_fields_that_are_not_installed_are_not_written():
    assert MAPPINGS.zendesk.tier_field_id is None  # the tests' zendesk.yaml before `zendesk install`
    update = desired_update(MAPPINGS, ticket(), running_sla())
    assert update.api_fields() == {"additional_tags": ["sla_tier_enterprise"]} and update.has_changes


def test_it_reads_the_state_and_changes_nothing_in_it():
    state = ticket(written=dict(IN_SYNC), tags=("sla_tier_pro",))
    before = dataclasses.asdict(state)
    desired_update(INSTALLED, state, running_sla())
    assert dataclasses.asdict(state) == before


def test_an_escalation_step_joins_the_sla_update_in_one_call():
    from integration.core.sla.priority import Priority
    from integration.core.zendesk_update import OwnerChange
    state = ticket(priority="medium", zendesk_priority="normal", written=IN_SYNC, tags=("sla_tier_pro",))
    step = OwnerChange("escalation_level_2", group_id=42, raise_priority=Priority.HIGH)
    update = desired_update(INSTALLED, state, running_sla()).with_owner(step, INSTALLED)
    assert update.api_fields() == {"priority": "high", "additional_tags": ["escalation_level_2", "sla_tier_enterprise"],
                                   "remove_tags": ["sla_tier_pro"], "group_id": 42}
    assert update.tags_after(state.tags) == ("escalation_level_2", "sla_tier_enterprise")
    assert desired_update(INSTALLED, state, running_sla()).with_owner(None, INSTALLED) == \
        desired_update(INSTALLED, state, running_sla())
