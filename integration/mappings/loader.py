"""`load_mappings(directory)`: read, validate and build the immutable Mappings, or raise MappingsError
listing every problem in every file with its file:line."""
from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from marshmallow import ValidationError

from integration.mappings import yamlpos
from integration.mappings.checks import canonical_subdivision, cross_checks, effective_holidays
from integration.mappings.errors import MappingIssue, MappingsError
from integration.mappings.fields import AtKey, got
from integration.mappings.model import (
    DEFAULT_EXCLUSIONS,
    Csm,
    Duration,
    DefaultOrganization,
    Escalation,
    KeywordRule,
    Mappings,
    Organization,
    Owner,
    PriorityRules,
    Tier,
    ZendeskFields,
)
from integration.mappings.schema import FILE_SCHEMAS
from integration.mappings.structure import allowed
from integration.core.sla.calendar import Calendar
from integration.core.sla.priority import PRIORITIES, Priority

FILES = tuple(FILE_SCHEMAS)  # tiers.yaml, organizations.yaml, escalation.yaml, priority.yaml, zendesk.yaml


def file_paths(directory: str | Path) -> list[Path]:
    return [Path(directory) / name for name in FILES]


def fingerprint_of(contents: Mapping[str, bytes | None]) -> str:
    """sha256 over the files' names and bytes, in FILES order (a missing file counts too)."""
    digest = hashlib.sha256()
    for name in FILES:
        data = contents.get(name)
        digest.update(name.encode() + (b"\0" + data if data is not None else b"\1") + b"\0")
    return digest.hexdigest()


def read_files(directory: str | Path) -> dict[str, bytes | None]:
    """Each file's bytes, None when missing. Other OS errors are raised."""
    contents: dict[str, bytes | None] = {}
    for path in file_paths(directory):
        try:
            contents[path.name] = path.read_bytes()
        except FileNotFoundError:
            contents[path.name] = None
    return contents


def load_mappings(directory: str | Path) -> Mappings:
    """Load and validate the five mapping files in `directory`; raise MappingsError with all problems."""
    if not Path(directory).is_dir():
        raise no_directory_error(directory)
    return load_from_bytes(directory, read_files(directory))


def no_directory_error(directory: str | Path) -> MappingsError:
    return MappingsError(
        [MappingIssue(str(directory), None, "", f"no such directory (it should hold {', '.join(FILES)})")],
        directory=str(directory),
    )


def load_from_bytes(directory: str | Path, contents: Mapping[str, bytes | None]) -> Mappings:
    fingerprint = fingerprint_of(contents)
    issues: list[MappingIssue] = []
    docs: dict[str, yamlpos.Document] = {}
    loaded: dict[str, dict[str, Any]] = {}
    for name, schema_cls in FILE_SCHEMAS.items():
        file = str(Path(directory) / name)
        data = contents.get(name)
        if data is None:
            issues.append(MappingIssue(file, None, "", f"missing file (the directory {directory} needs {', '.join(FILES)})"))
            continue
        doc = _parse(file, data, issues)
        if doc is None:
            continue
        docs[name] = doc
        schema = schema_cls()
        if not isinstance(doc.data, Mapping):
            shape = "the file is empty" if doc.data is None else f"got {got(doc.data)}"
            issues.append(MappingIssue(file, doc.line(()), "", f"expected a mapping with keys {allowed(schema)}; {shape}"))
            continue
        try:
            loaded[name] = schema.load(doc.data)
        except ValidationError as error:
            issues.extend(_issues(file, doc, error.messages))
    for name, path, message, at_key in cross_checks(docs):
        issues.append(_issue(str(Path(directory) / name), docs[name], path, message, at_key))
    if issues:
        raise MappingsError(issues, directory=str(directory), fingerprint=fingerprint)
    return build(loaded, source=str(directory), fingerprint=fingerprint)


def _parse(file: str, data: bytes, issues: list[MappingIssue]) -> yamlpos.Document | None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        issues.append(MappingIssue(file, line, "", "not UTF-8 text (save the file as UTF-8)"))
        return None
    try:
        doc = yamlpos.parse(text)
    except yaml.YAMLError as error:
        issues.append(MappingIssue(file, yamlpos.error_line(error), "", yamlpos.error_message(error)))
        return None
    for path, line, first_line in doc.duplicates:
        issues.append(MappingIssue(
            file, line, yamlpos.format_path(path[:-1]),
            f"duplicate key {path[-1]!r} (first at line {first_line}; give each key once)",
        ))
    for path, line, message in doc.problems:
        issues.append(MappingIssue(file, line, yamlpos.format_path(path), message))
    return doc


def _flatten(messages: Any, path: yamlpos.Path = ()):
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            yield from _flatten(value, path if key == "_schema" else path + (key,))
    elif isinstance(messages, list):
        for item in messages:
            yield from _flatten(item, path)
    else:
        yield path, messages


def _issue(file: str, doc: yamlpos.Document, path: yamlpos.Path, message: str, at_key: bool) -> MappingIssue:
    shown = path[:-1] if at_key else path
    return MappingIssue(file, doc.line(path, at_key=at_key), yamlpos.format_path(shown), str(message))


def _issues(file: str, doc: yamlpos.Document, messages: Any) -> list[MappingIssue]:
    issues = []
    for path, message in _flatten(messages):
        if isinstance(message, AtKey):
            issues.append(_issue(file, doc, path, message, at_key=True))
        elif str(message).startswith("missing required key") and path:
            # reported on the mapping that lacks the key (doc.line falls back to it)
            issues.append(MappingIssue(file, doc.line(path), yamlpos.format_path(path[:-1]), str(message)))
        else:
            issues.append(_issue(file, doc, path, message, at_key=False))
    return issues


def build(loaded: Mapping[str, dict[str, Any]], *, source: str = "", fingerprint: str = "") -> Mappings:
    """The immutable Mappings from the schemas' output (only called when there are no errors)."""
    tiers_file, orgs_file = loaded["tiers.yaml"], loaded["organizations.yaml"]
    esc_file, prio_file = loaded["escalation.yaml"], loaded["priority.yaml"]
    calendars = {
        name: Calendar(
            name=name,
            week=None if spec["always_open"] else spec["hours"],
            closes_on_holidays=(
                not spec["always_open"] if spec["closes_on_holidays"] is None else spec["closes_on_holidays"]
            ),
        )
        for name, spec in tiers_file["calendars"].items()
    }
    tiers = {
        name: Tier(
            name=name,
            calendar=spec["calendar"],
            calendar_by_priority={Priority(p): c for p, c in spec["calendar_by_priority"].items()},
            first_response={Priority(p): d for p, d in spec["first_response"].items()},
            resolution={Priority(p): d for p, d in spec["resolution"].items()},
            pause_statuses=frozenset(spec["pause_statuses"]),
            slack_channel=spec["slack_channel"],
            dedicated_csm=spec["dedicated_csm"],
            resolution_starts=spec["resolution_starts"],
        )
        for name, spec in tiers_file["tiers"].items()
    }
    default_raw = orgs_file["default"]
    default = DefaultOrganization(
        tier=default_raw["tier"],
        timezone=default_raw["timezone"],
        holiday_country=default_raw["holiday_country"],
        holiday_subdivision=_subdivision(default_raw["holiday_country"], default_raw["holiday_subdivision"]),
    )
    organizations = tuple(_organization(org, default_raw) for org in orgs_file["organizations"])
    escalation = Escalation(
        levels=tuple(
            Owner(
                level=lvl["level"],
                role=lvl["role"],
                zendesk_group_id=lvl["zendesk_group_id"],
                zendesk_assignee_id=lvl["zendesk_assignee_id"],
                slack_channel_ids=tuple(dict.fromkeys(lvl["slack_channel_ids"])),
                slack_user_ids=tuple(dict.fromkeys(lvl["slack_user_ids"])),
                raise_priority_to=lvl["raise_priority_to"],
                customer_visible=lvl["customer_visible"],
            )
            for lvl in esc_file["levels"]
        ),
        warning_ratio=esc_file["warning_ratio"],
        executive_tag=esc_file["executive_tag"],
        renotify_minutes=esc_file["renotify_minutes"],
        manager_level=esc_file["manager_level"],
        staff_slack_channel_ids=tuple(dict.fromkeys(esc_file["staff_slack_channel_ids"])),
        exclusions={**DEFAULT_EXCLUSIONS, **esc_file["exclusions"]},
        csat_follow_up_seconds=_wall_clock_seconds(esc_file["csat_follow_up"], 24 * 3600),
        billing_slack_channel_ids=tuple(dict.fromkeys(esc_file["billing_slack_channel_ids"])),
        csat_alert_below=esc_file["csat_alert_below"],
        csat_alert_at_minutes=9 * 60 if esc_file["csat_alert_at"] is None else esc_file["csat_alert_at"],
    )
    keywords = prio_file["keywords"]
    priority = PriorityRules(
        zendesk_to_priority=dict(prio_file["zendesk"]),
        default=prio_file["default"],
        keyword_rules=tuple(
            KeywordRule(priority=p, keywords=tuple(keywords[p.value]))
            for p in sorted(PRIORITIES, key=lambda p: -p.rank)
            if keywords.get(p.value)
        ),
        vip_floor=prio_file["vip_floor"],
        vip_requesters=tuple(dict.fromkeys(prio_file["vip_requesters"])),
    )
    return Mappings(
        calendars=calendars,
        tiers=tiers,
        organizations=organizations,
        default=default,
        escalation=escalation,
        priority=priority,
        zendesk=ZendeskFields(**loaded["zendesk.yaml"]["fields_"]),
        source=source,
        fingerprint=fingerprint,
    )


def _wall_clock_seconds(duration: Duration | None, default: int) -> int:
    """A duration on the clock on the wall: a day is 24 hours."""
    return default if duration is None else duration.minutes * 60 + duration.days * 24 * 3600


def _subdivision(country: str | None, subdivision: Any) -> str | None:
    if country is None or subdivision is None:
        return None
    return canonical_subdivision(country, subdivision)


def _organization(org: Mapping[str, Any], default: Mapping[str, Any]) -> Organization:
    country, subdivision = effective_holidays(org, default)
    fee = org.get("monthly_fee")
    return Organization(
        zendesk_id=org["zendesk_id"],
        tier=org.get("tier", default["tier"]),
        timezone=org.get("timezone", default["timezone"]),
        holiday_country=country,
        holiday_subdivision=_subdivision(country, subdivision),
        closed_dates=frozenset(org.get("closed_dates", ())),
        name=org.get("name"),
        domains=tuple(dict.fromkeys(org.get("domains", ()))),
        slack_channel_id=org.get("slack_channel_id"),
        monthly_fee=float(fee) if fee is not None else None,
        vip_requesters=tuple(dict.fromkeys(org.get("vip_requesters", ()))),
        csm=Csm(**org["csm"]) if org.get("csm") else None,
        auto_ticket=bool(org.get("auto_ticket", False)),
    )
