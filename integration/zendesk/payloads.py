"""Zendesk webhook bodies → TicketSignal. Two shapes: event subscriptions and our trigger template.

Event subscriptions (`zen:event-type:ticket.*`) carry API enums in upper case, never localized: we
trust them. Our trigger bodies are rendered from placeholders in the requester's language
("Urgente", "En espera") with times to the minute: we trust only the ticket id, and let the worker
read the ticket from the API before anything is decided.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass

from marshmallow import EXCLUDE, INCLUDE, Schema, ValidationError, fields, validate

from integration.core.signals import ZENDESK_PRIORITIES, Comment, TicketSignal
from integration.core.statuses import ZENDESK_STATUSES
from integration.inbound import InputError, bounded_id, flatten_messages, load_json, short
from integration.zendesk.transitions import TransitionError, event_transition

EVENT_PREFIX = "zen:event-type:"
TRIGGER_SCHEMA = "escalator.zendesk.trigger/1"
TRIGGER_EVENTS = ("ticket_created", "ticket_updated", "agent_replied_public", "satisfaction_rated")
# Tickets that no longer exist for agents: their clocks stop as if closed.
GONE = {"deleted": "closed", "archived": "closed", "scrubbed": "closed"}


class PayloadError(ValueError):
    pass


@dataclass(frozen=True)
class Parsed:
    dedup_key: str
    event_type: str
    document: dict
    signal: TicketSignal | None
    ignore_reason: str = ""


class _Id(fields.Field):
    """A Zendesk id, as a number or digits: positive and within 63 bits (our BIGINT columns)."""

    def _deserialize(self, value, attr, data, **kwargs):
        number = bounded_id(value) if isinstance(value, (int, str)) else None
        if number is None:
            raise ValidationError(f"{short(value, 30)} is not a numeric id (1 to 2^63-1)")
        return number


class EnvelopeSchema(Schema):
    class Meta:
        unknown = INCLUDE  # Zendesk adds envelope fields over time; they must not break us

    id = fields.String(required=True, validate=validate.Length(min=1, max=100))
    type = fields.String(required=True, validate=validate.Regexp(rf"^{EVENT_PREFIX}[a-z_.]+$"))
    time = fields.String(required=True)
    detail = fields.Dict(load_default=dict)
    event = fields.Dict(load_default=dict, allow_none=True)


class TicketDetailSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    id = _Id(required=True)
    created_at = fields.String(required=True)
    status = fields.String(required=True)
    priority = fields.String(allow_none=True, load_default=None)
    organization_id = _Id(allow_none=True, load_default=None)
    subject = fields.String(allow_none=True, load_default=None)
    description = fields.String(allow_none=True, load_default=None)
    tags = fields.List(fields.String(), allow_none=True, load_default=None)


class TriggerSchema(Schema):
    class Meta:
        unknown = INCLUDE

    schema = fields.String(required=True, validate=validate.Equal(TRIGGER_SCHEMA))
    event = fields.String(required=True)
    ticket = fields.Dict(required=True)


def parse_body(raw: bytes) -> Parsed:
    """The raw (verified) body → Parsed; PayloadError with a short reason for anything we do not accept."""
    try:
        document = load_json(raw)
    except InputError as exc:
        raise PayloadError(str(exc)) from None
    return parse_payload(document, raw)


def parse_payload(document: object, raw: bytes) -> Parsed:
    if not isinstance(document, dict):
        raise PayloadError("the body must be a JSON object")
    if "schema" in document:
        return _parse_trigger(document, raw)
    if "type" in document:
        return _parse_event(document)
    raise PayloadError("neither a Zendesk event (no 'type') nor an Escalator trigger body (no 'schema')")


def _load(schema: Schema, data: object, where: str) -> dict:
    try:
        return schema.load(data)
    except ValidationError as exc:
        raise PayloadError(f"{where}: {flatten_messages(exc.messages)}") from None


def parse_time(text: str, where: str) -> dt.datetime:
    # Zendesk sends nanoseconds ("…05.672717030Z"), which Python's fromisoformat refuses.
    cleaned = re.sub(r"(\.\d{6})\d+", r"\1", text.strip()).replace("Z", "+00:00")
    try:
        instant = dt.datetime.fromisoformat(cleaned)
    except ValueError:
        raise PayloadError(f"{where}: {short(text)} is not an ISO-8601 time") from None
    if instant.tzinfo is None:
        raise PayloadError(f"{where}: {short(text)} has no timezone")
    # Clock arithmetic must not overflow: Zendesk's times are all of this era.
    if not 1970 < instant.year < 2200:
        raise PayloadError(f"{where}: {short(text)} is out of range")
    return instant.astimezone(dt.timezone.utc)


# One instance each, shared by every request: marshmallow schemas may be loaded with many times, and
# building one per request cost the webhook more CPU than its INSERT.
_ENVELOPE, _DETAIL = EnvelopeSchema(), TicketDetailSchema()


def _parse_event(document: dict) -> Parsed:
    envelope = _load(_ENVELOPE, document, "event")
    event_type = envelope["type"].removeprefix(EVENT_PREFIX)
    key = f"event:{envelope['id']}"
    if not event_type.startswith("ticket."):
        return Parsed(key, event_type, document, None, f"'{event_type}' events are not about tickets")
    detail = _load(_DETAIL, envelope["detail"], "detail")
    at = parse_time(envelope["time"], "time")
    try:
        transition = event_transition(event_type, envelope.get("event"), at)
    except TransitionError as exc:
        raise PayloadError(str(exc)) from None
    signal = TicketSignal(
        ticket_id=detail["id"], kind=event_type.removeprefix("ticket."), at=at,
        created_at=parse_time(detail["created_at"], "detail.created_at"),
        status=_status(detail["status"]), zendesk_priority=_priority(detail["priority"]),
        organization_id=detail["organization_id"], organization_known=True,
        subject=detail["subject"], description=detail["description"],
        tags=tuple(detail["tags"]) if detail["tags"] is not None else None,
        comments=_comment(event_type, envelope.get("event") or {}, at), source_key=key, transition=transition,
    )
    return Parsed(key, event_type, document, signal)


def _status(value: str) -> str:
    status = value.strip().lower()
    status = GONE.get(status, status)
    if status not in ZENDESK_STATUSES:
        raise PayloadError(f"detail.status: {value!r} is not a Zendesk status")
    return status


def _priority(value: str | None) -> str:
    priority = (value or "").strip().lower()
    if priority and priority not in ZENDESK_PRIORITIES:
        raise PayloadError(f"detail.priority: {value!r} is not a Zendesk priority")
    return priority  # "" = the ticket has no priority


def _comment(event_type: str, event: dict, at: dt.datetime) -> tuple[Comment, ...]:
    if event_type != "ticket.comment_added":
        return ()
    comment = event.get("comment")
    if not isinstance(comment, dict) or not isinstance(comment.get("is_public"), bool):
        raise PayloadError("event.comment: needs is_public (true/false) and author.is_staff")
    author = comment.get("author")
    if not isinstance(author, dict) or not isinstance(author.get("is_staff"), bool):
        raise PayloadError("event.comment.author.is_staff: must be true or false")
    return (Comment(at=at, public=comment["is_public"], by_agent=author["is_staff"]),)


def _parse_trigger(document: dict, raw: bytes) -> Parsed:
    body = _load(TriggerSchema(), document, "trigger body")
    ticket_id = _load(Schema.from_dict({"id": _Id(required=True)})(unknown=EXCLUDE), body["ticket"], "ticket")["id"]
    key = "trigger:" + hashlib.sha256(raw).hexdigest()
    if body["event"] not in TRIGGER_EVENTS:
        return Parsed(key, body["event"], document, None,
                      f"unknown trigger event {body['event']!r} (known: {', '.join(TRIGGER_EVENTS)})")
    updated = str(body["ticket"].get("updated_at") or "")
    at = parse_time(updated, "ticket.updated_at") if updated else None
    # Everything but the id is rendered text in the requester's language: only a hint.
    signal = TicketSignal(ticket_id=ticket_id, kind=body["event"], at=at,
                          untrusted=("status", "priority", "organization", "satisfaction", "times"),
                          source_key=key)
    return Parsed(key, body["event"], document, signal)
