"""Compaction (integration.core.compaction): a history folded into a clock checkpoint at any instant answers
every question exactly as the whole history does: the clock, and the history questions of the core."""
from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from integration.core import history as rows
from integration.core import timeline
from integration.core.checkpoint import ClockCheckpoint
from integration.core.compaction import Bounds, FullHistoryNeeded, compact, require_fit, whole_history
from integration.core.customers import match_customer
from integration.core.csat_follow_up import follow_up
from integration.core.escalation_record import EscalationRecord, FollowUp
from integration.core.exclusions import current_exclusion
from integration.core.sidebar_view import _paused_since
from integration.core.signals import TicketSignal
from integration.core.sla.priority import Priority
from integration.core.sla.ticket import compute_sla
from integration.core.state import TicketState
from tests.core.values import MAPPINGS, T0, minutes

ORGS = (360000000101, 360000000103, 360000000104)  # enterprise 24x7 New York, growth extended, starter business
TIERS = ("starter", "growth", "pro", "enterprise", "retired")  # "retired": a tier since removed from the mappings
FAR = T0 + dt.timedelta(days=400)

row_kinds = st.one_of(
    st.builds(lambda s: ("status", s), st.sampled_from(["new", "open", "pending", "hold", "solved", "closed"])),
    st.builds(lambda t, p: ("policy", t, p), st.sampled_from(TIERS), st.sampled_from(list(Priority))),
    st.builds(lambda pub, agent: ("comment", pub, agent), st.booleans(), st.booleans()),
    st.builds(lambda r: ("exclusion", r), st.sampled_from([None, "customer_caused", "third_party"])),
)
# Minutes after creation (some before it, many sharing an instant), and what happened.
histories = st.lists(st.tuples(st.integers(-30, 9000), row_kinds), min_size=1, max_size=60)


def built(first_tier: str, first_priority: Priority, spec) -> tuple[rows.HistoryRow, ...]:
    made: list[rows.HistoryRow] = [rows.PolicyRow(T0, first_tier, first_priority)]
    for offset, kind in spec:
        at = T0 + minutes(offset)
        if kind[0] == "status":
            made.append(rows.StatusRow(at, kind[1]))
        elif kind[0] == "policy":
            made.append(rows.PolicyRow(at, kind[1], kind[2]))
        elif kind[0] == "comment":
            made.append(rows.CommentRow(at, kind[1], kind[2]))
        else:
            made.append(rows.ExclusionRow(at, kind[1]))
    return tuple(made)


def at(row: rows.HistoryRow) -> dt.datetime:
    return row.at


def folded(state: TicketState, keep: int, customer) -> TicketState:
    return compact(MAPPINGS, customer, state, FAR, Bounds(limit=0, keep=keep, window=dt.timedelta(0), most=keep))


def answers(state: TicketState, customer, after: dt.datetime) -> dict:
    """Every question the core asks of a history, at instants after `after`."""
    history = list(state.history)
    clock = rows.to_clock_history(MAPPINGS, customer, state.created_at, history, state.checkpoint)
    instants = [after + minutes(m) for m in (1, 90, 2000, 9500)]
    record = EscalationRecord(follow_ups=(FollowUp(opened_at=after + minutes(1), due=after + minutes(600),
                                                   rating="Slack CSAT 2/5"),))
    return {
        "clock": [compute_sla(clock, at, MAPPINGS.escalation.warning_ratio) for at in instants],
        "status": [rows.status_at(history, at) for at in instants + [None]],
        "status_before": [rows.status_before(history, at) for at in instants],
        "policy": [rows.policy_at(history, at) for at in instants] + [rows.current_policy(history)],
        "policy_before": [rows.policy_before(history, at) for at in instants],
        "exclusion": current_exclusion(history),
        "paused_since": [_paused_since(state, pause) for pause in
                         (frozenset(), frozenset({"pending"}), frozenset({"hold"}), frozenset({"pending", "hold"}))],
        "follow_up": follow_up(record, TicketSignal(ticket_id=1, kind="tick", at=after), state.history, dt.timedelta(hours=10),
                               after + minutes(700)).record,
        "reply": timeline.with_comment(history, rows.CommentRow(after + minutes(5), True, True)) == history,
    }


@given(first_tier=st.sampled_from(TIERS[:4]), first_priority=st.sampled_from(list(Priority)), spec=histories,
       org=st.sampled_from(ORGS), keeps=st.lists(st.integers(0, 40), min_size=1, max_size=3))
def test_a_checkpoint_at_any_row_boundary_answers_as_the_whole_history(first_tier, first_priority, spec, org, keeps):
    customer = match_customer(MAPPINGS, organization_id=org)
    whole = TicketState(id=1, created_at=T0, history=built(first_tier, first_priority, spec))
    state, upto = whole, None
    for keep in sorted(keeps, reverse=True):  # fold further each time: a checkpoint made from a checkpoint
        state = folded(state, keep, customer)
        upto = state.checkpoint.upto if state.checkpoint else upto
    if state.checkpoint is None:
        return
    event("folded")
    # nothing lost, nothing doubled, in its (time, then recorded) order
    assert sorted(whole_history([], state).history, key=at) == sorted(whole.history, key=at)
    assert ClockCheckpoint.from_json(state.checkpoint.to_json()) == state.checkpoint
    assert [r for r in state.history if r.at > upto] == [r for r in whole.history if r.at > upto]
    assert answers(state, customer, max(upto, T0)) == answers(whole, customer, max(upto, T0))


def flapping(changes: int, customer) -> TicketState:
    """`changes` status changes 3 minutes apart, folded but for the last 10 rows."""
    spec = [(3 * n, ("status", "pending" if n % 2 else "open")) for n in range(1, changes + 1)]
    return folded(TicketState(id=1, created_at=T0, history=built("enterprise", Priority.HIGH, spec)), 10, customer)


def test_the_live_history_keeps_a_bounded_summary_of_what_was_folded():
    customer = match_customer(MAPPINGS, organization_id=ORGS[0])
    state = flapping(399, customer)
    upto = state.checkpoint.upto
    assert [r for r in state.history if r.at <= upto] == [rows.PolicyRow(T0, "enterprise", Priority.HIGH),
                                                          rows.StatusRow(upto, "pending")]
    assert len(state.history) == 12 and len(state.archived) == 399 - 10 + 1


def test_a_stale_checkpoint_or_an_instant_before_it_needs_the_whole_history():
    customer = match_customer(MAPPINGS, organization_id=ORGS[0])
    state = flapping(99, customer)
    upto = state.checkpoint.upto
    require_fit(state, MAPPINGS, customer, [upto + dt.timedelta(seconds=1)], upto)
    with pytest.raises(FullHistoryNeeded, match="at or before"):
        require_fit(state, MAPPINGS, customer, [upto], FAR)
    with pytest.raises(FullHistoryNeeded, match="at or before"):
        require_fit(state, MAPPINGS, customer, [FAR], upto - dt.timedelta(seconds=1))
    with pytest.raises(FullHistoryNeeded, match="mappings or the customer"):
        require_fit(state, dataclasses.replace(MAPPINGS, fingerprint="edited"), customer, [FAR], FAR)
    with pytest.raises(FullHistoryNeeded, match="mappings or the customer"):
        require_fit(state, MAPPINGS, match_customer(MAPPINGS, organization_id=ORGS[2]), [FAR], FAR)


def test_mappings_without_a_fingerprint_never_make_a_checkpoint():
    customer = match_customer(MAPPINGS, organization_id=ORGS[0])
    state = TicketState(id=1, created_at=T0, history=built("enterprise", Priority.HIGH,
                                                           [(n, ("status", "open")) for n in range(200)]))
    assert compact(dataclasses.replace(MAPPINGS, fingerprint=""), customer, state, FAR) == state
    assert compact(MAPPINGS, customer, state, FAR).checkpoint is not None
