"""The CSAT follow-up commitment through decide: a rating below 4 must be answered within 24 h (wall-clock).

Brandt: pro, 24x7, Berlin, CSM 360000400102 / U05CSMBRAND (tests' organizations.yaml). The bad rating
is also the dissatisfied step (level 4, VP Customer Success: C05CSLEADER, U05VPCS0001).
"""
import datetime as dt

from integration.core.decide import decide
from integration.core.signals import Comment, TicketSignal
from tests.core.values import BRANDT, MAPPINGS, T0, minutes, snapshot, tick

RATED = T0 + minutes(30)
DUE = RATED + dt.timedelta(hours=24)


def rated_bad():
    first = decide(MAPPINGS, None, snapshot(7, organization_id=BRANDT), T0)
    signal = snapshot(7, at=RATED, organization_id=BRANDT, satisfaction="bad")
    return decide(MAPPINGS, first.state, signal, RATED)


def reply(state, at, public=True, by_agent=True):
    signal = TicketSignal(ticket_id=7, kind="comment", at=at, comments=(Comment(at, public, by_agent),),
                          source_key=f"c-{at.isoformat()}")
    return decide(MAPPINGS, state, signal, at)


def test_a_bad_rating_opens_a_follow_up_due_24_hours_later_with_its_timer():
    decision = rated_bad()
    (follow,) = decision.state.escalation.follow_ups
    assert (follow.opened_at, follow.due, follow.rating, follow.outcome) == \
        (RATED, DUE, "Zendesk satisfaction: bad", "open")
    assert ("csat_follow_up", DUE) in {(t.kind, t.due_at) for t in decision.timers}
    assert decision.state.level == 4


def test_the_next_public_agent_comment_meets_it_and_an_internal_note_does_not():
    state = rated_bad().state
    note = reply(state, RATED + minutes(10), public=False)
    assert note.state.escalation.follow_ups[0].outcome == "open"
    met = reply(note.state, RATED + minutes(90))
    assert met.state.escalation.follow_ups[0].met_at == RATED + minutes(90)
    assert "csat_follow_up" not in {t.kind for t in met.timers}
    later = decide(MAPPINGS, met.state, tick(7, at=DUE), DUE)
    assert later.state.level == 4 and later.state.escalation.follow_ups[0].outcome == "met"


def test_missed_tells_the_owner_and_the_csm_and_moves_one_level_up():
    state = rated_bad().state
    missed = decide(MAPPINGS, state, tick(7, at=DUE), DUE)
    assert missed.state.escalation.follow_ups[0].missed_at == DUE
    assert missed.state.level == 5
    told = [a.payload["channel"] for a in missed.actions
            if a.kind == "post_message" and "follow-up-missed" in a.idempotency_key]
    assert told == ["C05CSLEADER", "U05VPCS0001", "U05CSMBRAND"]
    steps = missed.state.escalation.steps
    assert [t.kind for t in steps[-1].triggers] == ["csat_follow_up_missed"]
    again = decide(MAPPINGS, missed.state, tick(7, at=DUE + minutes(1)), DUE + minutes(1))
    assert not [a for a in again.actions if "follow-up-missed" in a.idempotency_key]


def test_a_reply_after_the_due_instant_does_not_meet_it():
    state = rated_bad().state
    late = reply(state, DUE + minutes(5))
    assert late.state.escalation.follow_ups[0].outcome == "missed"


def test_a_slack_rating_of_3_opens_one_and_a_rating_of_4_does_not():
    first = decide(MAPPINGS, None, snapshot(7, organization_id=BRANDT), T0)
    four = TicketSignal(ticket_id=7, kind="csat", at=RATED, csat=4, source_key="s4")
    assert decide(MAPPINGS, first.state, four, RATED).state.escalation.follow_ups == ()
    three = TicketSignal(ticket_id=7, kind="csat", at=RATED, csat=3, escalation_request="CSAT 3/5 in Slack",
                         source_key="s3")
    (follow,) = decide(MAPPINGS, first.state, three, RATED).state.escalation.follow_ups
    assert (follow.rating, follow.due) == ("Slack CSAT 3/5", DUE)


def test_every_api_read_repeats_zendesk_bad_but_only_a_new_bad_rating_opens_another_follow_up():
    met = reply(rated_bad().state, RATED + minutes(90)).state
    reread = decide(MAPPINGS, met, snapshot(7, at=RATED + minutes(120), organization_id=BRANDT,
                                             satisfaction="bad"), RATED + minutes(120))
    assert len(reread.state.escalation.follow_ups) == 1
    good = decide(MAPPINGS, reread.state, snapshot(7, at=RATED + minutes(130), organization_id=BRANDT,
                                                    satisfaction="good"), RATED + minutes(130)).state
    bad_again = decide(MAPPINGS, good, snapshot(7, at=RATED + minutes(140), organization_id=BRANDT,
                                                satisfaction="bad"), RATED + minutes(140))
    assert [f.outcome for f in bad_again.state.escalation.follow_ups] == ["met", "open"]
