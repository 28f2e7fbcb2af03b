"""Schemas for the support-contract keys: an organization's dedicated CSM, SLA exclusion tags, wall-clock durations."""
from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, validates_schema

from integration.mappings.fields import TAG_RE, Base, Text, email, got, slack_user_id, zendesk_id
from integration.mappings.structure import BaseSchema
from integration.mappings.timespec import parse_duration, parse_time


class CsmSchema(BaseSchema):
    zendesk_user_id = zendesk_id("a Zendesk user id (a positive integer)", required=True)
    slack_user_id = slack_user_id(allow_none=True, load_default=None)
    email = email(allow_none=True, load_default=None)


def _exclusion_tag() -> Text:
    return Text(pattern=TAG_RE, what="a Zendesk tag", hint="lower-case, no spaces, like sla_excluded_third_party")


class ExclusionsSchema(BaseSchema):
    customer_caused = _exclusion_tag()
    third_party = _exclusion_tag()
    force_majeure = _exclusion_tag()

    @validates_schema(skip_on_field_errors=False)
    def _distinct(self, data: dict, **kwargs: Any) -> None:
        seen: dict[str, str] = {}
        for reason, tag in data.items():
            if tag in seen:
                raise ValidationError(f"tag {tag!r} is already the tag of {seen[tag]} (one tag per reason)", reason)
            seen[tag] = reason


class WallClockDuration(Base):
    def convert(self, value):
        try:
            return parse_duration(value)
        except ValidationError:
            raise ValidationError(f"{got(value)} is not a duration (like 24h, 1d or 90m; on the clock on the wall, "
                                  "a day is 24 hours)") from None


class LocalTime(Base):
    """A time of day in an organization's own timezone, like "09:00" (the daily CSAT alert)."""

    def convert(self, value):
        minutes = parse_time(value, closing=False) if isinstance(value, str) else None
        if minutes is None:
            raise ValidationError(f"{got(value)} is not a time of day (HH:MM in the organization's timezone, "
                                  'like "09:00")')
        return minutes


class CsatAlertBelow(Base):
    def convert(self, value):
        if isinstance(value, (int, float)) and not isinstance(value, bool) and 1 < value <= 5:
            return float(value)
        raise ValidationError(f"{got(value)} is not a CSAT threshold (a number above 1 and at most 5, like 4.0)")
