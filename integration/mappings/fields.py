"""marshmallow fields for the mapping files, each with an error message that says what is allowed.

Every field turns the YAML value into its model form (Duration, Priority, window tuples…) or raises
a ValidationError whose text is shown to the admin after ``file:line path:``.
"""
from __future__ import annotations

import datetime as dt
import difflib
import functools
import math
import re
import zoneinfo
from collections.abc import Mapping
from typing import Any

import holidays
from marshmallow import ValidationError, fields

from integration.core.sla.priority import PRIORITIES, Priority

PRIORITY_NAMES = ", ".join(p.value for p in PRIORITIES)
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
SLACK_CHANNEL_RE = re.compile(r"^[CG][A-Z0-9]{6,20}$")
SLACK_USER_RE = re.compile(r"^[UW][A-Z0-9]{6,20}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
DOMAIN_RE = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$")
TAG_RE = re.compile(r"^[a-z0-9_\-:/.]+$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class AtKey(str):
    """An error about a key itself (unknown, misspelt): reported at the key's line, under its parent."""


def got(value: Any) -> str:
    """How to show a wrong value in a message."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return str(value)


def _suggest(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.75)
    return f"; did you mean {close[0]}?" if close else ""


class Base(fields.Field):
    """Takes a YAML value, returns the model value; `convert` raises ValidationError(message)."""

    default_error_messages = {"null": "must have a value (got null)", "required": "missing required key"}

    def _deserialize(self, value, attr, data, **kwargs):
        return self.convert(value)

    def convert(self, value: Any) -> Any:  # pragma: no cover - overridden
        return value


class Text(Base):
    """Non-empty text; with `pattern`, it must match: "'x' is not {what} ({hint})"."""

    def __init__(self, *, pattern: re.Pattern | None = None, what: str = "", hint: str = "",
                 lower: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.pattern, self.what, self.hint, self.lower = pattern, what, hint, lower

    def convert(self, value):
        expected = self.what or "text"
        hint = f" ({self.hint})" if self.hint else ""
        if not isinstance(value, str):
            raise ValidationError(f"expected {expected}{hint}, got {got(value)}")
        text = value.strip().lower() if self.lower else value.strip()
        if not text:
            raise ValidationError(f"expected {expected}{hint}, got an empty text")
        if self.pattern is not None and not self.pattern.match(text):
            raise ValidationError(f"{got(value)} is not {expected}{hint}")
        return text


class Int(Base):
    def __init__(self, *, minimum: int | None = None, what: str = "an integer", **kwargs):
        super().__init__(**kwargs)
        self.minimum, self.what = minimum, what

    def convert(self, value):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(f"expected {self.what}, got {got(value)}")
        if self.minimum is not None and value < self.minimum:
            raise ValidationError(f"expected {self.what}, got {value}")
        return value


class Number(Base):
    def __init__(self, *, minimum: float | None = None, what: str = "a number", **kwargs):
        super().__init__(**kwargs)
        self.minimum, self.what = minimum, what

    def convert(self, value):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValidationError(f"expected {self.what}, got {got(value)}")
        if self.minimum is not None and value < self.minimum:
            raise ValidationError(f"expected {self.what}, got {value}")
        return value


class Bool(Base):
    def convert(self, value):
        if not isinstance(value, bool):
            raise ValidationError(f"expected true or false, got {got(value)}")
        return value


class Choice(Base):
    def __init__(self, choices: tuple[str, ...], *, what: str, hint: str = "", **kwargs):
        super().__init__(**kwargs)
        self.choices, self.what, self.hint = choices, what, hint

    def convert(self, value):
        if isinstance(value, str) and value.strip().lower() in self.choices:
            return value.strip().lower()
        raise ValidationError(f"{got(value)} is not {self.what} ({', '.join(self.choices)}{self.hint})")


class PriorityField(Base):
    def convert(self, value):
        if isinstance(value, str) and value.strip().lower() in {p.value for p in PRIORITIES}:
            return Priority.parse(value)
        raise ValidationError(f"{got(value)} is not a priority ({PRIORITY_NAMES})")


@functools.cache
def timezone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones() - {"localtime", "Factory", "posixrules"})


class Timezone(Base):
    def convert(self, value):
        if isinstance(value, str) and value.strip() in timezone_names():
            return value.strip()
        hint = _suggest(value, timezone_names()) if isinstance(value, str) else ""
        raise ValidationError(
            f"{got(value)} is not an IANA timezone (like America/New_York, Europe/Berlin, Asia/Kolkata, UTC){hint}"
        )


@functools.cache
def holiday_countries() -> dict[str, tuple[str, ...]]:
    return {code: tuple(subs) for code, subs in holidays.list_supported_countries(include_aliases=False).items()}


class HolidayCountry(Base):
    def convert(self, value):
        if isinstance(value, str) and value.strip().upper() in holiday_countries():
            return value.strip().upper()
        raise ValidationError(
            f"{got(value)} is not a holiday country known to python-holidays (two-letter ISO 3166 codes "
            "like US, DE, GB, IN; null for no public holidays)"
        )


class HolidaySubdivision(Base):
    """Only its shape here; whether it belongs to the country is a cross-check in the loader."""

    def convert(self, value):
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
            return str(value).strip()
        raise ValidationError(f"expected a subdivision code like CA, NY or BE, got {got(value)}")


class Date(Base):
    def convert(self, value):
        if isinstance(value, str) and DATE_RE.match(value.strip()):
            try:
                return dt.date.fromisoformat(value.strip())
            except ValueError:
                pass
        raise ValidationError(f"{got(value)} is not a date (YYYY-MM-DD, like 2025-12-24)")


def slack_channel_id(**kwargs) -> Text:
    return Text(pattern=SLACK_CHANNEL_RE, what="a Slack channel id",
                hint="like C0123ABCD or G0123ABCD: the channel's ID, not its #name", **kwargs)


def slack_user_id(**kwargs) -> Text:
    return Text(pattern=SLACK_USER_RE, what="a Slack user id",
                hint="like U0123ABCD or W0123ABCD: the member ID, not the @name", **kwargs)


def email(**kwargs) -> Text:
    return Text(pattern=EMAIL_RE, lower=True, what="an email address", hint="like ceo@example.com", **kwargs)


class EmailOrDomain(Base):
    def convert(self, value):
        text = value.strip().lower() if isinstance(value, str) else ""
        if EMAIL_RE.match(text) or (text.startswith("@") and DOMAIN_RE.match(text[1:])):
            return text
        raise ValidationError(f"{got(value)} is not an email or @domain (like ceo@example.com or @board.example.com)")


def domain(**kwargs) -> Text:
    return Text(pattern=DOMAIN_RE, lower=True, what="an email domain",
                hint="like example.com, without @ or http://", **kwargs)


def zendesk_id(what: str = "a Zendesk id (a positive integer)", **kwargs) -> Int:
    return Int(minimum=1, what=what, **kwargs)

