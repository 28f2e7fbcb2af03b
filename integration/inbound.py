"""Reading untrusted request bodies safely: UTF-8, bounded nesting, strings that store, ids that fit.

Shared by the Zendesk and Slack payload modules. Everything here raises InputError (a short reason, safe
to show and to log) and nothing else, so the routes can answer 400 without a traceback.
"""
from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl

MAX_DEPTH = 32  # real Zendesk and Slack bodies nest fewer than 10 levels
MAX_ID = 2**63 - 1  # ids are BIGINT columns; Zendesk's own ids fit 63 bits
MAX_FORM_FIELDS = 100
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


class InputError(ValueError):
    pass


def decode_utf8(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"body is not UTF-8 (byte {exc.start})") from None


def check_depth(body: bytes, limit: int = MAX_DEPTH) -> None:
    """Refuse deep nesting before the parser recurses into it."""
    brackets = body.count(b"[") + body.count(b"{")
    if brackets <= limit:
        return
    depth = 0
    for byte in _STRINGS.sub(b"", body).translate(None, _NOT_BRACKETS):
        depth += 1 if byte in b"[{" else -1
        if depth > limit:
            raise InputError(f"JSON nested deeper than {limit} levels")


def _no_constants(name: str):
    raise InputError(f"{name} is not a JSON number")


def load_json(body: bytes) -> object:
    text = decode_utf8(body)
    check_depth(body)
    try:
        document = json.loads(text, parse_constant=_no_constants)
    except RecursionError:
        raise InputError(f"JSON nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(f"body is not JSON: {str(exc)[:80]}") from None
    # Strict UTF-8 text holds no lone surrogate, and JSON refuses a raw NUL: only a \u escape can make either.
    if "\\u" in text:
        check_strings(document)
    return document


def check_strings(value: object, where: str = "body") -> None:
    """Every string (keys too) must be storable: UTF-8 encodable (no lone surrogate) and without NUL."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            check_text(item, where)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def check_text(text: str, where: str = "body") -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(f"{where} holds a string that is not valid Unicode (a lone surrogate)") from None
    if "\x00" in text:
        raise InputError(f"{where} holds a NUL character")
    return text


def parse_form(body: bytes) -> dict[str, str]:
    """application/x-www-form-urlencoded: first value of each field; strict UTF-8 after percent-decoding."""
    text = decode_utf8(body)
    try:
        pairs = parse_qsl(text, keep_blank_values=True, errors="strict", max_num_fields=MAX_FORM_FIELDS)
    except UnicodeDecodeError:
        raise InputError("a form field is not UTF-8 once percent-decoded") from None
    except ValueError:
        raise InputError(f"more than {MAX_FORM_FIELDS} form fields") from None
    form: dict[str, str] = {}
    for key, value in pairs:
        form.setdefault(check_text(key, "form"), check_text(value, "form"))
    return form


def bounded_id(text: object) -> int | None:
    """A positive id that fits a BIGINT, from an int or digits (an optional leading '#'); None otherwise."""
    if isinstance(text, bool):
        return None
    if isinstance(text, int):
        number = text
    else:
        digits = str(text).strip().lstrip("#")
        if not digits.isascii() or not digits.isdigit() or len(digits) > 19:
            return None
        number = int(digits)
    return number if 0 < number <= MAX_ID else None


def short(value: object, limit: int = 60) -> str:
    """A value for a reason or a log line: repr'd (so any string prints), cut short."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def storable(text: str, limit: int = 2000) -> str:
    """Any text made safe for a TEXT column: encodable, no NUL, bounded."""
    cleaned = str(text).encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")
    return cleaned[:limit]


def flatten_messages(messages) -> str:
    """marshmallow's nested error messages as one line: `field: message; other.field: message`."""
    if isinstance(messages, dict):
        return "; ".join(f"{key}: {flatten_messages(value)}" for key, value in sorted(messages.items(), key=str))
    if isinstance(messages, list):
        return ", ".join(flatten_messages(m) for m in messages)
    return str(messages)
