"""sla_note: the internal note agents read when a ticket's SLA is set or changes.

It says the tier, priority and why, the targets and calendar, each due and warning time in UTC and in
the customer's zone (Northwind: New York, EST in March before DST), and what changed.
"""
import datetime as dt

from integration.core.notes import sla_note
from integration.core.sla.ticket import State, Target
from integration.core.state import TicketState
from tests.core.values import BRANDT, MAPPINGS, T0, customer, minutes, running_sla, target

SET = {"tier": "enterprise", "priority": "critical", "first_response_due": "2026-03-02T14:15:00+00:00",
       "resolution_due": "2026-03-02T16:00:00+00:00", "resolution_paused": False}


def ticket(**fields) -> TicketState:
    values = dict(id=7, created_at=T0, organization_id=360000000101, tier="enterprise", priority="critical",
                  priority_reason="Zendesk priority 'urgent'")
    return TicketState(**(values | fields))


def test_a_new_sla_is_set_with_targets_due_and_warning_times_in_utc_and_local_time():
    note = sla_note(MAPPINGS, ticket(), customer(), running_sla(), {}, SET)
    assert note.splitlines() == [
        "SLA set by Escalator: enterprise tier, critical priority (Zendesk priority 'urgent').",
        "Targets: first response 15m, resolution 2h, on the 24x7 calendar (America/New_York).",
        "First response: due 2026-03-02 14:15 UTC (Mon 09:15 EST); warning at 2026-03-02 14:12 UTC (Mon 09:12 EST).",
        "Resolution: due 2026-03-02 16:00 UTC (Mon 11:00 EST); warning at 2026-03-02 15:36 UTC (Mon 10:36 EST).",
    ]


def test_a_change_is_an_update_that_lists_what_changed():
    state = ticket(priority="high", priority_reason="keyword 'slow'")
    sla = running_sla(first_due=T0 + minutes(30), resolution_due=T0 + minutes(8 * 60))
    new = SET | {"priority": "high", "first_response_due": "2026-03-02T14:30:00+00:00",
                 "resolution_due": "2026-03-02T22:00:00+00:00"}
    note = sla_note(MAPPINGS, state, customer(), sla, SET, new)
    lines = note.splitlines()
    assert lines[0] == "SLA updated by Escalator: enterprise tier, high priority (keyword 'slow')."
    assert lines[1] == "Targets: first response 30m, resolution 8h, on the 24x7 calendar (America/New_York)."
    assert lines[-1] == ("Changed: Priority: critical → high; First response due: 2026-03-02T14:15:00+00:00 → "
                         "2026-03-02T14:30:00+00:00; Resolution due: 2026-03-02T16:00:00+00:00 → "
                         "2026-03-02T22:00:00+00:00.")


def test_a_paused_resolution_shows_the_time_left_and_the_change_says_yes_and_none():
    sla = running_sla()
    sla[Target.RESOLUTION] = target(Target.RESOLUTION, State.PAUSED, due=None, length=minutes(120),
                                    elapsed=minutes(40))
    new = SET | {"resolution_due": None, "resolution_paused": True}
    note = sla_note(MAPPINGS, ticket(status="pending"), customer(), sla, SET, new)
    assert "Resolution: paused, 1h20m left when it resumes." in note.splitlines()
    assert note.splitlines()[-1] == ("Changed: Resolution due: 2026-03-02T16:00:00+00:00 → none; "
                                     "Resolution clock paused: no → yes.")


def test_met_and_breached_targets_are_said_plainly():
    sla = {
        Target.FIRST_RESPONSE: target(Target.FIRST_RESPONSE, State.MET, due=T0 + minutes(15), elapsed=minutes(5)),
        Target.RESOLUTION: target(Target.RESOLUTION, State.BREACHED, due=T0 + minutes(120), length=minutes(120),
                                  elapsed=minutes(150), breached_at=T0 + minutes(120)),
    }
    lines = sla_note(MAPPINGS, ticket(), customer(), sla, {}, SET).splitlines()
    assert lines[2] == "First response: met."
    assert lines[3] == "Resolution: BREACHED, was due 2026-03-02 16:00 UTC (Mon 11:00 EST)."


def test_local_times_follow_the_customers_zone():
    state = ticket(organization_id=BRANDT, tier="pro", priority="high", priority_reason="Zendesk priority 'high'")
    sla = running_sla(first_due=T0 + dt.timedelta(hours=1), resolution_due=T0 + dt.timedelta(hours=12))
    lines = sla_note(MAPPINGS, state, customer(BRANDT), sla, {}, SET).splitlines()
    assert lines[1] == "Targets: first response 1h, resolution 12h, on the 24x7 calendar (Europe/Berlin)."
    assert lines[2].startswith("First response: due 2026-03-02 15:00 UTC (Mon 16:00 CET)")
