"""TicketSignal survives the inbox: to_json is plain JSON and from_json gives back an equal signal."""
from __future__ import annotations

import datetime as dt
import json

from hypothesis import given, strategies as st

from integration.core.signals import Comment, TicketSignal, Transition

UTC = dt.timezone.utc
instants = st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=st.just(UTC))
text = st.text(max_size=20)
values = st.none() | st.sampled_from(["open", "pending", "normal", ""]) | st.integers(1, 2**63 - 1)
transitions = st.builds(Transition, at=instants, field=st.sampled_from(["status", "priority", "organization"]),
                        current=values, previous=values, previous_known=st.booleans())


@given(at=st.none() | instants, created=st.none() | instants, tags=st.none() | st.lists(text, max_size=3),
       comments=st.lists(st.builds(Comment, at=instants, public=st.booleans(), by_agent=st.booleans()), max_size=3),
       status=st.none() | st.sampled_from(["new", "open", "solved"]), csat=st.none() | st.integers(1, 5),
       untrusted=st.lists(text, max_size=2), org=st.none() | st.integers(1, 2**63 - 1),
       transition=st.none() | transitions, timeline=st.none() | st.lists(transitions, max_size=3))
def test_a_signal_round_trips_through_json(at, created, tags, comments, status, csat, untrusted, org, transition,
                                           timeline):
    signal = TicketSignal(ticket_id=42, kind="updated", at=at, created_at=created, status=status,
                          tags=None if tags is None else tuple(tags), comments=tuple(comments), csat=csat,
                          untrusted=tuple(untrusted), organization_id=org, organization_known=org is not None,
                          transition=transition, timeline=None if timeline is None else tuple(timeline),
                          authoritative=False, source_key="zendesk:abc")
    stored = json.loads(json.dumps(signal.to_json()))
    assert TicketSignal.from_json(stored) == signal


def test_fields_left_at_their_default_are_not_stored():
    signal = TicketSignal(ticket_id=7, kind="status", at=None, status="open", zendesk_priority="")
    stored = signal.to_json()
    assert stored == {"ticket_id": 7, "kind": "status", "at": None, "status": "open", "zendesk_priority": ""}
    assert TicketSignal.from_json(stored) == signal


def test_an_old_row_with_every_field_or_without_a_newer_one_still_reads():
    # Rows queued before defaults were left out hold every field; rows older still lack the newer fields.
    every_field = {"ticket_id": 7, "kind": "created", "at": None, "created_at": None, "status": None,
                   "comments": [], "tags": None, "executive": False, "untrusted": [], "timeline": None,
                   "transition": None, "authoritative": False, "source_key": "", "actor_team": None}
    assert TicketSignal.from_json(every_field) == TicketSignal(ticket_id=7, kind="created", at=None)
    del every_field["actor_team"]
    assert TicketSignal.from_json(every_field) == TicketSignal(ticket_id=7, kind="created", at=None)
