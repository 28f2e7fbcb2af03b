"""marshmallow schemas, one per mapping file: the per-file checks (types, shapes, allowed values).

Checks that need two files (does this tier exist?) live in `checks.py`. Schemas return plain dicts
of model values; `loader.py` turns them into the immutable `Mappings`.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import ValidationError, validates_schema

from integration.mappings.fields import (
    PRIORITY_NAMES,
    TAG_RE,
    Base,
    Bool,
    Choice,
    Date,
    EmailOrDomain,
    HolidayCountry,
    HolidaySubdivision,
    Int,
    Number,
    PriorityField,
    Text,
    Timezone,
    domain,
    email,
    got,
    slack_channel_id,
    slack_user_id,
    zendesk_id,
)
from integration.mappings.contract_schema import (CsatAlertBelow, CsmSchema, ExclusionsSchema, LocalTime,
                                                  WallClockDuration)
from integration.mappings.structure import BaseSchema, ListOf, NamedMap, Obj
from integration.mappings.timespec import DurationField, Week

PAUSE_STATUSES = ("pending", "hold")
RESOLUTION_STARTS = ("created", "first_response")
ZENDESK_PRIORITIES = ("urgent", "high", "normal", "low")
MATRIX_LEVELS = 5  # 1 Support Agent, 2 Support Manager, 3 Customer Success, 4 VP CS, 5 CRO/CEO


# ---------------------------------------------------------------- tiers.yaml

class CalendarSchema(BaseSchema):
    always_open = Bool(load_default=False)
    closes_on_holidays = Bool(load_default=None)
    hours = Week(load_default=None)

    @validates_schema(skip_on_field_errors=False)
    def _hours(self, data: dict, **kwargs: Any) -> None:
        if "always_open" not in data or "hours" not in data:
            return  # already reported
        if data["always_open"] and data["hours"] is not None:
            raise ValidationError("an always_open calendar takes no hours (remove hours, or set always_open: false)", "hours")
        if data["always_open"] and data.get("closes_on_holidays"):
            raise ValidationError(
                "an always_open calendar runs through holidays (set closes_on_holidays: false or leave it out)",
                "closes_on_holidays",
            )
        if not data["always_open"] and data["hours"] is None:
            raise ValidationError('a calendar needs hours (like mon-fri: ["09:00-18:00"]) or always_open: true')
        if data["hours"] is not None and not any(data["hours"]):
            raise ValidationError('this calendar never opens (give at least one window, like mon-fri: ["09:00-18:00"])', "hours")


class PriorityCalendars(BaseSchema):
    critical = Text(what="a calendar name", hint="like 24x7")
    high = Text(what="a calendar name", hint="like 24x7")
    medium = Text(what="a calendar name", hint="like 24x7")
    low = Text(what="a calendar name", hint="like 24x7")


class Targets(BaseSchema):
    required_hint = " (a target for each priority: critical, high, medium, low)"
    critical = DurationField(required=True)
    high = DurationField(required=True)
    medium = DurationField(required=True)
    low = DurationField(required=True)


class TierSchema(BaseSchema):
    calendar = Text(what="a calendar name", hint="like business or 24x7", required=True)
    calendar_by_priority = Obj(PriorityCalendars, load_default=dict)
    first_response = Obj(Targets, required=True)
    resolution = Obj(Targets, required=True)
    pause_statuses = ListOf(
        Choice(PAUSE_STATUSES, what="a Zendesk status that can pause the clock", hint="; on-hold is 'hold' in Zendesk"),
        what="Zendesk statuses",
        load_default=lambda: list(PAUSE_STATUSES),
    )
    slack_channel = Bool(load_default=False)
    dedicated_csm = Bool(load_default=False)
    resolution_starts = Choice(RESOLUTION_STARTS, what="when the resolution clock starts", load_default="created")


class TiersFile(BaseSchema):
    calendars = NamedMap(CalendarSchema, what="calendar", example="business or 24x7", required=True)
    tiers = NamedMap(TierSchema, what="tier", example="starter or enterprise", required=True)


# ---------------------------------------------------------------- organizations.yaml

class DefaultSchema(BaseSchema):
    tier = Text(what="a tier name", hint="like starter", required=True)
    timezone = Timezone(required=True)
    holiday_country = HolidayCountry(required=True, allow_none=True)
    holiday_subdivision = HolidaySubdivision(allow_none=True, load_default=None)


class OrganizationSchema(BaseSchema):
    zendesk_id = zendesk_id("a Zendesk organization id (a positive integer)", required=True)
    name = Text(what="the organization's name in Zendesk")
    domains = ListOf(domain(), what="email domains")
    tier = Text(what="a tier name", hint="like enterprise")
    timezone = Timezone()
    holiday_country = HolidayCountry(allow_none=True)
    holiday_subdivision = HolidaySubdivision(allow_none=True)
    closed_dates = ListOf(Date(), what="dates (YYYY-MM-DD)")
    slack_channel_id = slack_channel_id(allow_none=True)
    monthly_fee = Number(minimum=0, what="a number of 0 or more (the monthly fee)", allow_none=True)
    vip_requesters = ListOf(email(), what="email addresses")
    csm = Obj(CsmSchema, allow_none=True)
    auto_ticket = Bool(load_default=False)


class OrganizationsFile(BaseSchema):
    default = Obj(DefaultSchema, required=True)
    organizations = ListOf(Obj(OrganizationSchema), what="organizations", load_default=list)


# ---------------------------------------------------------------- escalation.yaml

class LevelSchema(BaseSchema):
    level = Int(minimum=1, what="a level number (1, 2, 3, …)", required=True)
    role = Text(what="a role name", hint="like Support Manager", required=True)
    zendesk_group_id = zendesk_id("a Zendesk group id (a positive integer) or null", allow_none=True, load_default=None)
    zendesk_assignee_id = zendesk_id("a Zendesk user id (a positive integer) or null", allow_none=True, load_default=None)
    slack_channel_ids = ListOf(slack_channel_id(), what="Slack channel ids", load_default=list)
    slack_user_ids = ListOf(slack_user_id(), what="Slack user ids", load_default=list)
    raise_priority_to = PriorityField(allow_none=True, load_default=None)
    customer_visible = Bool(load_default=False)


class WarningRatio(Base):
    def convert(self, value):
        if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < 1:
            return float(value)
        raise ValidationError(f"{got(value)} is not a warning ratio (a number between 0 and 1, exclusive, like 0.8 for 80%)")


class EscalationFile(BaseSchema):
    warning_ratio = WarningRatio(required=True)
    renotify_minutes = Int(minimum=1, what="a number of minutes (1 or more)", required=True)
    executive_tag = Text(pattern=TAG_RE, what="a Zendesk tag", hint="lower-case, no spaces, like executive_complaint",
                         required=True)
    manager_level = Int(minimum=2, what="a level above the agents' (2, 3, …)", load_default=2)
    staff_slack_channel_ids = ListOf(slack_channel_id(), what="Slack channel ids", load_default=list)
    levels = ListOf(Obj(LevelSchema), what="levels", required=True)
    exclusions = Obj(ExclusionsSchema, load_default=dict)
    csat_follow_up = WallClockDuration(load_default=None)
    billing_slack_channel_ids = ListOf(slack_channel_id(), what="Slack channel ids", load_default=list)
    csat_alert_below = CsatAlertBelow(load_default=4.0)
    csat_alert_at = LocalTime(load_default=None)

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _numbering(self, data: dict, original: Any, **kwargs: Any) -> None:
        # On the raw list: the loaded one skips broken items, which would shift the indices.
        levels = original.get("levels") if isinstance(original, Mapping) else None
        if not isinstance(levels, list):
            return  # already reported
        for index, level in enumerate(levels):
            number = level.get("level") if isinstance(level, Mapping) else None
            if isinstance(number, int) and not isinstance(number, bool) and number != index + 1:
                raise ValidationError({"levels": {index: {"level": [
                    f"expected level {index + 1} here, got {number} (levels are numbered 1, 2, 3, … in order)"
                ]}}})
        if len(levels) != MATRIX_LEVELS:
            raise ValidationError(
                f"the matrix has exactly {MATRIX_LEVELS} levels (1 Support Agent, 2 Support Manager, "
                f"3 Customer Success, 4 VP Customer Success, 5 CRO/CEO), got {len(levels)}",
                "levels",
            )
        if data.get("manager_level", 1) > len(levels):
            raise ValidationError(f"expected one of the levels 1-{len(levels)}, got {data['manager_level']}", "manager_level")


# ---------------------------------------------------------------- priority.yaml

class ZendeskPriorities(BaseSchema):
    required_hint = " (map each of Zendesk's priorities: urgent, high, normal, low)"
    urgent = PriorityField(required=True)
    high = PriorityField(required=True)
    normal = PriorityField(required=True)
    low = PriorityField(required=True)

    @validates_schema(skip_on_field_errors=False)
    def _one_to_one(self, data: dict, **kwargs: Any) -> None:
        seen: dict[Any, str] = {}
        for name in ZENDESK_PRIORITIES:
            if name not in data:
                continue
            if data[name] in seen:
                raise ValidationError(
                    f"{data[name].value} is already mapped from {seen[data[name]]} "
                    f"(map the four Zendesk priorities to four different priorities: {PRIORITY_NAMES})",
                    name,
                )
            seen[data[name]] = name


class Keywords(BaseSchema):
    critical = ListOf(Text(lower=True, what="a phrase"), what="phrases")
    high = ListOf(Text(lower=True, what="a phrase"), what="phrases")
    medium = ListOf(Text(lower=True, what="a phrase"), what="phrases")
    low = ListOf(Text(lower=True, what="a phrase"), what="phrases")

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _once(self, data: dict, original: Any, **kwargs: Any) -> None:
        if not isinstance(original, Mapping):
            return
        seen: dict[str, str] = {}
        errors: dict[str, dict[int, list[str]]] = {}
        for priority in self.load_fields:
            phrases = original.get(priority)
            for index, phrase in enumerate(phrases if isinstance(phrases, list) else []):
                if not isinstance(phrase, str) or not phrase.strip():
                    continue  # reported by the field
                phrase = phrase.strip().lower()
                if phrase in seen:
                    errors.setdefault(priority, {})[index] = [
                        f"{phrase!r} is already listed under {seen[phrase]} (list each phrase once)"
                    ]
                seen.setdefault(phrase, priority)
        if errors:
            raise ValidationError(errors)


class PriorityFile(BaseSchema):
    zendesk = Obj(ZendeskPriorities, required=True)
    default = PriorityField(required=True)
    keywords = Obj(Keywords, load_default=dict)
    vip_floor = PriorityField(required=True)
    vip_requesters = ListOf(EmailOrDomain(), what="emails or @domains", load_default=list)


# ---------------------------------------------------------------- zendesk.yaml

def _field_id() -> Base:
    return zendesk_id("a Zendesk ticket field id (a positive integer) or null", allow_none=True, load_default=None)


class ZendeskFieldsSchema(BaseSchema):
    tier_field_id = _field_id()
    first_response_due_field_id = _field_id()
    resolution_due_field_id = _field_id()

    @validates_schema(skip_on_field_errors=False)
    def _distinct(self, data: dict, **kwargs: Any) -> None:
        seen: dict[int, str] = {}
        for name in self.load_fields:
            value = data.get(name)
            if value is not None and value in seen:
                raise ValidationError(f"field id {value} is already used by {seen[value]} (each field has its own id)", name)
            if value is not None:
                seen[value] = name


class ZendeskFile(BaseSchema):
    fields_ = Obj(ZendeskFieldsSchema, data_key="fields", required=True)


FILE_SCHEMAS: dict[str, type[BaseSchema]] = {
    "tiers.yaml": TiersFile,
    "organizations.yaml": OrganizationsFile,
    "escalation.yaml": EscalationFile,
    "priority.yaml": PriorityFile,
    "zendesk.yaml": ZendeskFile,
}
