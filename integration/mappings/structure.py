"""The building blocks of the file schemas: unknown keys reported with the allowed ones, nested
mappings and lists with messages that say what they take, and `name: {…}` maps (tiers, calendars)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validates_schema

from integration.mappings.fields import NAME_RE, AtKey, Base, got


def keys_of(schema: Schema) -> list[str]:
    """The keys a schema takes, as written in the file."""
    return [field.data_key or name for name, field in schema.load_fields.items()]


def allowed(schema: Schema) -> str:
    return ", ".join(keys_of(schema))


class BaseSchema(Schema):
    """Unknown keys are errors that list the allowed keys; a missing key names itself."""

    required_hint = ""

    class Meta:
        unknown = EXCLUDE  # reported by `_unknown_keys` below, with the allowed keys

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        field_obj.error_messages = {
            **field_obj.error_messages,
            "required": f"missing required key '{field_obj.data_key or field_name}'{self.required_hint}",
            "null": "must have a value (got null)",
        }

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _unknown_keys(self, data: Any, original: Any, **kwargs: Any) -> None:
        if not isinstance(original, Mapping):
            return
        known = set(keys_of(self))
        unknown = [key for key in original if key not in known]
        if unknown:
            raise ValidationError(
                {key: [AtKey(f"unknown key {key!r} (allowed: {allowed(self)})")] for key in unknown}
            )


class Obj(fields.Nested):
    """A nested mapping; anything else is an error that lists the keys it takes."""

    def deserialize(self, value, attr=None, data=None, **kwargs):
        if value is None and not self.required:
            return {}  # an optional mapping written as `key:` with nothing under it
        return super().deserialize(value, attr, data, **kwargs)

    def _deserialize(self, value, attr, data, partial=None, **kwargs):
        if not isinstance(value, Mapping):
            raise ValidationError(f"expected a mapping with keys {allowed(self.schema)}, got {got(value)}")
        return super()._deserialize(value, attr, data, partial=partial, **kwargs)


class ListOf(fields.List):
    """A list; anything else is an error that says what goes in it."""

    def __init__(self, inner: fields.Field, *, what: str, **kwargs: Any):
        super().__init__(inner, **kwargs)
        self.what = what

    def deserialize(self, value, attr=None, data=None, **kwargs):
        if value is None and not self.required:
            return []  # an optional list written as `key:` with nothing after it
        return super().deserialize(value, attr, data, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, list):
            raise ValidationError(f"expected a list of {self.what} (like [a, b] or one '- item' per line), got {got(value)}")
        return super()._deserialize(value, attr, data, **kwargs)


class NamedMap(Base):
    """`name: {…}` entries (calendars, tiers), each loaded with `schema`; returns {name: dict}."""

    def __init__(self, schema: type[Schema], *, what: str, example: str, **kwargs: Any):
        super().__init__(**kwargs)
        self.schema, self.what, self.example = schema, what, example

    def convert(self, value):
        keys = allowed(self.schema())
        if not isinstance(value, Mapping) or not value:
            raise ValidationError(f"expected a mapping of {self.what} names to their settings ({keys}), got {got(value)}")
        result: dict[str, Any] = {}
        errors: dict[str, Any] = {}
        for name, item in value.items():
            if not NAME_RE.match(name):
                errors[name] = [AtKey(
                    f"{name!r} is not a valid {self.what} name (lower-case letters, digits, - and _, like {self.example})"
                )]
            elif not isinstance(item, Mapping):
                errors[name] = [f"expected a mapping with keys {keys}, got {got(item)}"]
            else:
                try:
                    result[name] = self.schema().load(item)
                except ValidationError as error:
                    errors[name] = error.messages
        if errors:
            raise ValidationError(errors, valid_data=result)
        return result
