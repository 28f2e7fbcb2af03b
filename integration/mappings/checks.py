"""Checks across keys and files: names that must exist elsewhere, and values that must be unique.

They read the raw YAML data (so they still run when a file has other errors) and skip values of
the wrong type, which the schemas already report.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from integration.mappings.fields import holiday_countries
from integration.mappings.yamlpos import Document, Path, format_path

# (file name, path, message, at_key)
Found = tuple[str, Path, str, bool]


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _mapping(value: Any) -> Mapping:
    return value if isinstance(value, Mapping) else {}


def _items(value: Any) -> list:
    return value if isinstance(value, list) else []


def cross_checks(docs: dict[str, Document]) -> Iterator[Found]:
    tiers_doc = docs.get("tiers.yaml")
    orgs_doc = docs.get("organizations.yaml")
    esc_doc = docs.get("escalation.yaml")
    if tiers_doc is not None:
        yield from _calendars_exist(_mapping(tiers_doc.data))
    if orgs_doc is not None:
        data = _mapping(orgs_doc.data)
        if tiers_doc is not None and isinstance(_mapping(tiers_doc.data).get("tiers"), Mapping):
            yield from _tiers_exist(data, list(tiers_doc.data["tiers"]))
            yield from _csm_allowed(data, _mapping(tiers_doc.data)["tiers"])
        yield from _subdivisions(data)
        yield from _unique(data, orgs_doc)
        if esc_doc is not None:
            yield from _staff_channels(data, _mapping(esc_doc.data), esc_doc)


def _calendars_exist(tiers_file: Mapping) -> Iterator[Found]:
    calendars = tiers_file.get("calendars")
    if not isinstance(calendars, Mapping):
        return  # reported by the schema; nothing to check against
    names = ", ".join(calendars)
    for tier, settings in _mapping(tiers_file.get("tiers")).items():
        settings = _mapping(settings)
        refs = [(("tiers", tier, "calendar"), settings.get("calendar"))]
        refs += [
            (("tiers", tier, "calendar_by_priority", priority), name)
            for priority, name in _mapping(settings.get("calendar_by_priority")).items()
        ]
        for path, name in refs:
            if _text(name) is not None and _text(name) not in calendars:
                yield "tiers.yaml", path, f"{name!r} is not a calendar ({names})", False


def _tiers_exist(orgs_file: Mapping, tiers: list[str]) -> Iterator[Found]:
    names = ", ".join(tiers)
    refs = [(("default", "tier"), _mapping(orgs_file.get("default")).get("tier"))]
    refs += [
        (("organizations", i, "tier"), _mapping(org).get("tier"))
        for i, org in enumerate(_items(orgs_file.get("organizations")))
    ]
    for path, name in refs:
        if _text(name) is not None and _text(name) not in tiers:
            yield "organizations.yaml", path, f"{name!r} is not a tier ({names})", False


def _csm_allowed(orgs_file: Mapping, tiers: Mapping) -> Iterator[Found]:
    """A dedicated CSM only where the organization's tier promises one (tiers.yaml dedicated_csm)."""
    default_tier = _text(_mapping(orgs_file.get("default")).get("tier"))
    allowing = [name for name, spec in tiers.items() if _mapping(spec).get("dedicated_csm") is True]
    for i, org in enumerate(_items(orgs_file.get("organizations"))):
        org = _mapping(org)
        if org.get("csm") is None:
            continue
        tier = _text(org.get("tier")) if "tier" in org else default_tier
        if tier is None or tier not in tiers or tier in allowing:
            continue  # an unknown tier is reported by _tiers_exist
        where = f"tiers with dedicated_csm: true: {', '.join(allowing)}" if allowing else "no tier has dedicated_csm: true"
        yield "organizations.yaml", ("organizations", i, "csm"), (
            f"tier {tier!r} has no dedicated CSM ({where}); remove csm or give the organization such a tier"), False


def canonical_subdivision(country: str, subdivision: Any) -> str | None:
    """The python-holidays spelling of `subdivision` in `country`, or None if it has none such."""
    known = holiday_countries().get(country.upper(), ())
    text = str(subdivision).strip()
    if text in known:
        return text
    matches = [s for s in known if s.lower() == text.lower()]
    return matches[0] if len(matches) == 1 else None


def effective_holidays(entry: Mapping, default: Mapping) -> tuple[Any, Any]:
    """(country, subdivision) for an organization entry: its own if it names a country, else default's."""
    if "holiday_country" in entry:
        return entry.get("holiday_country"), entry.get("holiday_subdivision")
    return default.get("holiday_country"), entry.get("holiday_subdivision", default.get("holiday_subdivision"))


def _subdivisions(orgs_file: Mapping) -> Iterator[Found]:
    default = _mapping(orgs_file.get("default"))
    entries = [(("default",), default)] + [
        (("organizations", i), _mapping(org)) for i, org in enumerate(_items(orgs_file.get("organizations")))
    ]
    for path, entry in entries:
        if entry.get("holiday_subdivision") is None:
            continue
        country, subdivision = effective_holidays(entry, default)
        where = path + ("holiday_subdivision",)
        if country is None:
            yield "organizations.yaml", where, (
                f"{subdivision!r} needs a holiday_country (like US with CA, DE with BE); "
                "remove it or name the country"), False
            continue
        if not isinstance(country, str) or country.strip().upper() not in holiday_countries():
            continue  # the country itself is reported
        country = country.strip().upper()
        if canonical_subdivision(country, subdivision) is None:
            known = holiday_countries()[country]
            allowed = f"allowed: {', '.join(known)}" if known else f"{country} has none; remove holiday_subdivision"
            yield "organizations.yaml", where, f"{subdivision!r} is not a subdivision of {country} ({allowed})", False


def _unique(orgs_file: Mapping, doc: Document) -> Iterator[Found]:
    """No two organizations share a zendesk_id, a name, a domain or a Slack channel."""
    first: dict[tuple[str, Any], Path] = {}
    what = {
        "zendesk_id": "(each organization once)",
        "name": "(names match case-insensitively)",
        "domains": "(a domain maps to one organization)",
        "slack_channel_id": "(a customer channel belongs to one organization)",
    }
    for i, org in enumerate(_items(orgs_file.get("organizations"))):
        org = _mapping(org)
        values: list[tuple[str, Path, Any, Any]] = []
        if isinstance(org.get("zendesk_id"), int) and not isinstance(org.get("zendesk_id"), bool):
            values.append(("zendesk_id", ("organizations", i, "zendesk_id"), org["zendesk_id"], org["zendesk_id"]))
        if _text(org.get("name")):
            values.append(("name", ("organizations", i, "name"), _text(org["name"]).casefold(), org["name"]))
        for j, domain in enumerate(_items(org.get("domains"))):
            if _text(domain):
                values.append(("domains", ("organizations", i, "domains", j), _text(domain).lower(), domain))
        if _text(org.get("slack_channel_id")):
            channel = org["slack_channel_id"]
            values.append(("slack_channel_id", ("organizations", i, "slack_channel_id"), _text(channel), channel))
        for key, path, norm, shown in values:
            earlier = first.setdefault((key, norm), path)
            if earlier != path:
                owner = format_path(earlier[:2])
                yield "organizations.yaml", path, (
                    f"{key.rstrip('s')} {shown!r} is already used by {owner} at line {doc.line(earlier)} {what[key]}"
                ), False


def _staff_channels(orgs_file: Mapping, esc_file: Mapping, esc_doc: Document) -> Iterator[Found]:
    """A staff channel sees every organization, a billing channel every credit: never a customer's channel."""
    for key, what in (("staff_slack_channel_ids", "a staff channel"), ("billing_slack_channel_ids", "a billing channel")):
        found = {_text(c): j for j, c in enumerate(_items(esc_file.get(key))) if _text(c)}
        for i, org in enumerate(_items(orgs_file.get("organizations"))):
            channel = _text(_mapping(org).get("slack_channel_id"))
            if channel in found:
                line = esc_doc.line((key, found[channel]))
                yield "organizations.yaml", ("organizations", i, "slack_channel_id"), (
                    f"{channel!r} is {what} (escalation.yaml line {line}); a customer channel must be the "
                    "customer's own, or it would show them every organization's "
                    + ("tickets" if key.startswith("staff") else "credits")), False
