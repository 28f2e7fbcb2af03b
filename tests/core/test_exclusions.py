"""SLA exclusions through decide: a tag from escalation.yaml `exclusions` takes the ticket out of the SLA.

Northwind enterprise, urgent = critical on 24x7: first response 15m, resolution 2h, from T0.
"""
from integration.core.decide import decide
from integration.core.exclusions import current_exclusion, reason_of
from integration.core.history import ExclusionRow, row_from_json, row_to_json
from tests.core.values import INSTALLED, MAPPINGS, T0, minutes, snapshot, tick

TAG = "sla_excluded_third_party"


def test_the_default_tags_name_the_three_seed_reasons():
    assert MAPPINGS.escalation.exclusions == {"customer_caused": "sla_excluded_customer_caused",
                                              "third_party": "sla_excluded_third_party",
                                              "force_majeure": "sla_excluded_force_majeure"}
    assert reason_of(MAPPINGS, ("vip", TAG)) == "third_party"
    assert reason_of(MAPPINGS, ("vip",)) is None


def test_an_exclusion_tag_stops_the_clocks_notes_it_and_no_breach_step_follows():
    first = decide(INSTALLED, None, snapshot(7), T0)
    at = T0 + minutes(5)
    tagged = decide(INSTALLED, first.state, snapshot(7, at=at, tags=(TAG,)), at)
    assert current_exclusion(tagged.state.history) == ExclusionRow(at, "third_party")
    assert tagged.timers == ()  # nothing runs: no warning, no breach
    assert tagged.change["excluded"] == [None, "third_party"]
    (update,) = [a for a in tagged.actions if a.kind == "update_ticket"]
    assert "Excluded from the SLA since 2026-03-02 14:05 UTC: third-party failure (tag sla_excluded_third_party)" \
        in update.payload["note"]
    later = T0 + minutes(60)  # long past the 15m first-response due
    quiet = decide(INSTALLED, tagged.state, tick(7, at=later), later)
    assert quiet.state.level == 1 and quiet.actions == ()
    assert quiet.state.sla.first_response.state == "paused"


def test_removing_the_tag_puts_the_ticket_back_with_the_time_already_elapsed():
    first = decide(INSTALLED, None, snapshot(7), T0)
    tagged = decide(INSTALLED, first.state, snapshot(7, at=T0 + minutes(5), tags=(TAG,)), T0 + minutes(5))
    back_at = T0 + minutes(65)
    back = decide(INSTALLED, tagged.state, snapshot(7, at=back_at, tags=()), back_at)
    assert current_exclusion(back.state.history) is None
    # 5 of 15 minutes were used before the exclusion: 10 left from the moment it ends.
    assert back.state.sla.first_response.due == back_at + minutes(10)
    assert back.state.sla.resolution.due == back_at + minutes(115)
    assert {t.kind for t in back.timers} >= {"first_response_breach", "resolution_breach"}


def test_exclusion_rows_round_trip_through_json():
    row = ExclusionRow(T0, "force_majeure")
    assert row_from_json(row_to_json(row)) == row
    assert row_from_json(row_to_json(ExclusionRow(T0, None))) == ExclusionRow(T0, None)
