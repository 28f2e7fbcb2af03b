"""Slack's inbound bodies, validated at the edge (marshmallow): commands, events and interactions.

Each parser takes the verified raw body and returns the validated fields as a plain dict with the keys Slack
uses, or raises PayloadError with a short reason. Unknown fields are kept out of the result: what the
handlers read is exactly what was checked.
"""
from __future__ import annotations

from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, validate

from integration.core.credit_messages import INPUT_ACTION, INPUT_BLOCK

from integration.inbound import InputError, flatten_messages, load_json, parse_form

SLACK_ID = validate.Length(min=1, max=255)
MAX_TEXT = 4000  # Slack caps a command's text well below this


class PayloadError(ValueError):
    pass


class _Strict(Schema):
    class Meta:
        unknown = EXCLUDE


def _id(**kwargs):
    return fields.String(validate=SLACK_ID, **kwargs)


def _url(**kwargs):
    return fields.Url(schemes={"http", "https"}, require_tld=False, validate=validate.Length(max=2000), **kwargs)


class CommandSchema(_Strict):
    command = fields.String(required=True, validate=validate.Length(max=100))
    text = fields.String(load_default="", validate=validate.Length(max=MAX_TEXT))
    channel_id = _id(load_default=None)
    user_id = _id(load_default=None)
    team_id = _id(load_default=None)
    trigger_id = _id(load_default=None)
    response_url = _url(load_default=None)


class ItemSchema(_Strict):
    type = fields.String(load_default=None)
    channel = _id(load_default=None)
    ts = fields.String(load_default=None, validate=validate.Length(max=40))


class EventSchema(_Strict):
    type = fields.String(load_default=None, validate=validate.Length(max=100))
    reaction = fields.String(load_default=None, validate=validate.Length(max=200))
    user = _id(load_default=None)
    item = fields.Nested(ItemSchema, load_default=lambda: ItemSchema().load({}))


class EnvelopeSchema(_Strict):
    type = fields.String(required=True, validate=validate.Length(max=100))
    challenge = fields.String(load_default="", validate=validate.Length(max=500))
    event_id = _id(load_default=None)
    event = fields.Nested(EventSchema, load_default=lambda: EventSchema().load({}))


class UserSchema(_Strict):
    id = _id(required=True)
    team_id = _id(load_default=None)


class ChannelSchema(_Strict):
    id = _id(load_default=None)


class ContainerSchema(_Strict):
    channel_id = _id(load_default=None)


class ActionSchema(_Strict):
    action_id = fields.String(required=True, validate=validate.Length(min=1, max=255))
    value = fields.String(load_default="", validate=validate.Length(max=2000))


class ViewSchema(_Strict):
    """A submitted modal (view_submission): which dialog, for what, and the one text it asked for."""

    callback_id = fields.String(load_default="", validate=validate.Length(max=255))
    private_metadata = fields.String(load_default="", validate=validate.Length(max=3000))
    state = fields.Dict(load_default=dict)

    @post_load
    def _value(self, data: dict, **kwargs) -> dict:
        entry = ((data.pop("state").get("values") or {}).get(INPUT_BLOCK) or {}).get(INPUT_ACTION) or {}
        value = entry.get("value") if isinstance(entry, dict) else None
        if value is not None and (not isinstance(value, str) or len(value) > MAX_TEXT):
            raise ValidationError({"state": ["the dialog's text must be text of at most 4000 characters"]})
        data["value"] = value or ""
        return data


class InteractionSchema(_Strict):
    type = fields.String(required=True, validate=validate.Length(max=100))
    user = fields.Nested(UserSchema, load_default=dict)
    channel = fields.Nested(ChannelSchema, load_default=dict, allow_none=True)
    container = fields.Nested(ContainerSchema, load_default=dict, allow_none=True)
    response_url = _url(load_default=None)
    trigger_id = _id(load_default=None)
    actions = fields.List(fields.Nested(ActionSchema), load_default=list, validate=validate.Length(max=25))
    view = fields.Nested(ViewSchema, load_default=None, allow_none=True)


def parse_command(body: bytes) -> dict:
    return _load(CommandSchema(), _form(body), "command")


def parse_event(body: bytes) -> tuple[dict, dict]:
    """(validated fields, the whole document as received: stored for audit)."""
    try:
        document = load_json(body)
    except InputError as exc:
        raise PayloadError(str(exc)) from None
    return _load(EnvelopeSchema(), document, "event"), document


def parse_interaction(body: bytes) -> dict:
    form = _form(body)
    if "payload" not in form:
        raise PayloadError("expected a form field 'payload' holding JSON")
    try:
        document = load_json(form["payload"].encode("utf-8"))
    except InputError as exc:
        raise PayloadError(f"payload: {exc}") from None
    loaded = _load(InteractionSchema(), document, "payload")
    loaded["channel"], loaded["container"] = loaded["channel"] or {}, loaded["container"] or {}
    return loaded


def _form(body: bytes) -> dict:
    try:
        return parse_form(body)
    except InputError as exc:
        raise PayloadError(str(exc)) from None


def _load(schema: Schema, data: object, where: str) -> dict:
    if not isinstance(data, dict):
        raise PayloadError(f"{where}: expected a JSON object")
    try:
        loaded = schema.load(data)
    except ValidationError as exc:
        raise PayloadError(f"{where}: {flatten_messages(exc.messages)}"[:300]) from None
    return loaded
