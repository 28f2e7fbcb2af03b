import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from integration.zendesk.payloads import PayloadError, parse_payload

FIXTURES = Path(__file__).parent / "fixtures" / "zendesk"
UTC = dt.timezone.utc


def parse(name: str):
    raw = (FIXTURES / f"{name}.json").read_bytes()
    return parse_payload(json.loads(raw), raw)


def test_ticket_created_event_is_trusted_and_keyed_by_event_id():
    parsed = parse("ticket_created")
    signal = parsed.signal
    assert parsed.dedup_key == "event:0b7f3c52-6d1e-4a0c-9f4e-2f8d8c1a7e01"
    assert (signal.ticket_id, signal.kind, signal.status, signal.zendesk_priority) == (35436, "created", "new", "urgent")
    assert signal.organization_id == 1001 and signal.organization_known
    assert signal.created_at == dt.datetime(2026, 3, 2, 14, 5, 31, tzinfo=UTC)
    assert signal.at == dt.datetime(2026, 3, 2, 14, 5, 31, 672717, tzinfo=UTC)  # nanoseconds cut to micro
    assert not signal.needs_refresh and not signal.authoritative


def test_ticket_without_organization():
    signal = parse("ticket_created_no_organization").signal
    assert signal.organization_id is None and signal.organization_known


@pytest.mark.parametrize("name, public, by_agent", [
    ("ticket_comment_added_public_agent", True, True),
    ("ticket_comment_added_internal", False, True),
    ("ticket_comment_added_end_user", True, False),
])
def test_comments_carry_visibility_and_author_kind(name, public, by_agent):
    (comment,) = parse(name).signal.comments
    assert (comment.public, comment.by_agent) == (public, by_agent)


def test_status_changed_lowercases_the_enum():
    assert parse("ticket_status_changed").signal.status == "pending"
    assert parse("ticket_status_changed_solved").signal.status == "solved"


@pytest.mark.parametrize("name", ["trigger_ticket_created", "trigger_ticket_updated",
                                  "trigger_ticket_updated_localized_es", "trigger_ticket_updated_empty_fields",
                                  "trigger_satisfaction_rated_bad", "trigger_agent_replied_public"])
def test_trigger_bodies_only_say_which_ticket_to_read(name):
    parsed = parse(name)
    signal = parsed.signal
    assert signal.needs_refresh
    assert (signal.status, signal.zendesk_priority, signal.organization_id) == (None, None, None)
    assert parsed.dedup_key.startswith("trigger:") and len(parsed.dedup_key) == 8 + 64


def test_localized_priority_is_never_taken_as_a_priority():
    document = json.loads((FIXTURES / "trigger_ticket_updated_localized_es.json").read_text())
    assert document["ticket"]["priority"] == "Urgente"
    assert parse("trigger_ticket_updated_localized_es").signal.zendesk_priority is None


def test_non_ticket_events_are_ignored_with_a_reason():
    document = {"id": "u1", "type": "zen:event-type:user.created", "time": "2026-03-02T14:05:31Z", "detail": {}}
    parsed = parse_payload(document, b"{}")
    assert parsed.signal is None and "not about tickets" in parsed.ignore_reason


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d["detail"].update(id="35436abc"), "not a numeric id"),
    (lambda d: d["detail"].update(status="En espera"), "not a Zendesk status"),
    (lambda d: d["detail"].update(priority="Urgente"), "not a Zendesk priority"),
    (lambda d: d.update(time="yesterday"), "not an ISO-8601 time"),
    (lambda d: d.pop("id"), "id"),
    (lambda d: d["detail"].pop("created_at"), "created_at"),
    (lambda d: d.update(type="ticket.created"), "type"),
])
def test_anomalous_events_are_refused_with_a_message(mutate, message):
    document = json.loads((FIXTURES / "ticket_created.json").read_text())
    mutate(document)
    with pytest.raises(PayloadError, match=message):
        parse_payload(document, b"")


def test_a_body_that_is_neither_shape_is_refused():
    with pytest.raises(PayloadError, match="neither"):
        parse_payload({"hello": "world"}, b"")
    with pytest.raises(PayloadError, match="JSON object"):
        parse_payload([1, 2], b"")


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
                           max_leaves=20)


@given(document=json_values)
def test_parsing_arbitrary_json_either_parses_or_raises_payload_error(document):
    try:
        parse_payload(document, json.dumps(document).encode())
    except PayloadError:
        pass


@given(detail=st.dictionaries(st.sampled_from(["id", "created_at", "status", "priority", "organization_id",
                                                 "subject", "tags"]), json_values, max_size=7))
def test_event_shaped_bodies_with_arbitrary_details_never_escape_as_other_errors(detail):
    document = {"id": "e1", "type": "zen:event-type:ticket.status_changed", "time": "2026-03-02T14:05:31Z",
                "detail": detail, "event": {}}
    try:
        parsed = parse_payload(document, b"")
    except PayloadError:
        return
    assert parsed.signal.ticket_id > 0 and parsed.signal.status in ("new", "open", "pending", "hold", "solved",
                                                                    "closed")
