"""Every kind of mapping error: copy tests/fixtures/mappings, break one thing, expect one exact message.

Line numbers are exact. So that editing the files' comments does not break the table, a
`{line}` (or other `{name}`) in an expected message stands for the line of an anchor text in the
edited file: by default the replacement text itself. `test_lines_are_literal` pins a
few numbers to the test copy's layout as written.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from integration.mappings.errors import MappingIssue, MappingsError
from integration.mappings.loader import load_mappings

ORG_KEYS = (
    "zendesk_id, name, domains, tier, timezone, holiday_country, holiday_subdivision, closed_dates, "
    "slack_channel_id, monthly_fee, vip_requesters, csm, auto_ticket"
)
ESC_KEYS = "warning_ratio, renotify_minutes, executive_tag, manager_level, staff_slack_channel_ids, levels, exclusions, csat_follow_up, billing_slack_channel_ids, csat_alert_below, csat_alert_at"
FILES = "tiers.yaml, organizations.yaml, escalation.yaml, priority.yaml, zendesk.yaml"
WINDOW = 'HH:MM-HH:MM in local time, like "09:00-18:00"; 24:00 only as a closing time'


@dataclass
class Case:
    file: str
    old: str | None  # the text to replace (once); "*" = the whole file; None = delete the file
    new: str
    expected: str  # one issue, as str(issue), with {anchor} placeholders
    # name -> text whose line it stands for, in the edited file or, as "other.yaml::text", in another
    anchors: dict[str, str] = field(default_factory=dict)


def copy_mappings(source: Path, tmp_path: Path, monkeypatch) -> Path:
    shutil.copytree(source, tmp_path / "mappings")
    monkeypatch.chdir(tmp_path)
    return tmp_path / "mappings"


def edit(directory: Path, name: str, old: str, new: str) -> str:
    path = directory / name
    text = path.read_text()
    assert text.count(old) == 1, f"{old!r} must occur once in {name}"
    text = text.replace(old, new)
    path.write_text(text)
    return text


def line_of(text: str, anchor: str) -> int:
    """Line of the first character of `anchor` (leading newlines skipped), which must occur once."""
    assert text.count(anchor) == 1, f"anchor {anchor!r} must occur once"
    skipped = len(anchor) - len(anchor.lstrip("\n"))
    return text[: text.index(anchor)].count("\n") + 1 + skipped


def errors_of(directory: str | Path) -> list[str]:
    with pytest.raises(MappingsError) as caught:
        load_mappings(directory)
    return [str(issue) for issue in caught.value.errors]


CASES = {
    "unknown key": Case(
        "organizations.yaml", "    tier: pro\n", "    tier: pro\n    tierr: pro\n",
        f"mappings/organizations.yaml:{{line}} organizations[1]: unknown key 'tierr' (allowed: {ORG_KEYS})",
        {"line": "tierr"},
    ),
    "unknown top-level key": Case(
        "escalation.yaml", "warning_ratio: 0.8\n", "warning_ratio: 0.8\nwarning_ration: 0.9\n",
        f"mappings/escalation.yaml:{{line}} unknown key 'warning_ration' (allowed: {ESC_KEYS})",
        {"line": "warning_ration"},
    ),
    "missing key": Case(
        "organizations.yaml", "  - zendesk_id: 360000000104\n    name:", "  - name:",
        "mappings/organizations.yaml:{line} organizations[3]: missing required key 'zendesk_id'",
    ),
    "missing priority": Case(
        "tiers.yaml", "      medium: 7d\n      low: 14d\n", "      medium: 7d\n",
        "mappings/tiers.yaml:{line} tiers.starter.resolution: missing required key 'low' "
        "(a target for each priority: critical, high, medium, low)",
        {"line": "    resolution:\n      critical: 24h"},
    ),
    "wrong type": Case(
        "organizations.yaml", "monthly_fee: 4500", "monthly_fee: lots",
        "mappings/organizations.yaml:{line} organizations[1].monthly_fee: "
        "expected a number of 0 or more (the monthly fee), got 'lots'",
    ),
    "wrong type: text for a list": Case(
        "organizations.yaml", "domains: [pennyworth.example]", "domains: pennyworth.example",
        "mappings/organizations.yaml:{line} organizations[3].domains: expected a list of email domains "
        "(like [a, b] or one '- item' per line), got 'pennyworth.example'",
    ),
    "null for a required value": Case(
        "organizations.yaml", "  tier: starter\n  timezone: UTC", "  tier:\n  timezone: UTC",
        "mappings/organizations.yaml:{line} default.tier: must have a value (got null)",
    ),
    "bad tier name": Case(
        "organizations.yaml", "tier: pro", "tier: enterprize",
        "mappings/organizations.yaml:{line} organizations[1].tier: "
        "'enterprize' is not a tier (starter, growth, scale, pro, enterprise)",
    ),
    "bad calendar name": Case(
        "tiers.yaml", "calendar: extended ", "calendar: extendd ",
        "mappings/tiers.yaml:{line} tiers.growth.calendar: 'extendd' is not a calendar (business, extended, 24x7)",
    ),
    "bad timezone": Case(
        "organizations.yaml", "timezone: Asia/Kolkata", "timezone: Asia/Kolkatta",
        "mappings/organizations.yaml:{line} organizations[2].timezone: 'Asia/Kolkatta' is not an IANA timezone "
        "(like America/New_York, Europe/Berlin, Asia/Kolkata, UTC); did you mean Asia/Kolkata?",
    ),
    "bad holiday country": Case(
        "organizations.yaml", "holiday_country: IN", "holiday_country: XX",
        "mappings/organizations.yaml:{line} organizations[2].holiday_country: 'XX' is not a holiday country "
        "known to python-holidays (two-letter ISO 3166 codes like US, DE, GB, IN; null for no public holidays)",
    ),
    "bad subdivision": Case(
        "organizations.yaml", "holiday_subdivision: ENG", "holiday_subdivision: XYZ",
        "mappings/organizations.yaml:{line} organizations[3].holiday_subdivision: "
        "'XYZ' is not a subdivision of GB (allowed: ENG, NIR, SCT, WLS)",
    ),
    "subdivision without a country": Case(
        "organizations.yaml", "    holiday_country: GB\n", "    holiday_country: null\n",
        "mappings/organizations.yaml:{line} organizations[3].holiday_subdivision: 'ENG' needs a holiday_country "
        "(like US with CA, DE with BE); remove it or name the country",
        {"line": "holiday_subdivision: ENG"},
    ),
    "duplicate zendesk id": Case(
        "organizations.yaml", "zendesk_id: 360000000104", "zendesk_id: 360000000102",
        "mappings/organizations.yaml:{line} organizations[3].zendesk_id: zendesk_id 360000000102 is already "
        "used by organizations[1] at line {first} (each organization once)",
        {"line": "  - zendesk_id: 360000000102\n    name: Pennyworth", "first": "  - zendesk_id: 360000000102\n    name: Brandt"},
    ),
    "duplicate organization name": Case(
        "organizations.yaml", "name: Pennyworth Tea Co", "name: northwind logistics",
        "mappings/organizations.yaml:{line} organizations[3].name: name 'northwind logistics' is already used by "
        "organizations[0] at line {first} (names match case-insensitively)",
        {"first": "name: Northwind Logistics"},
    ),
    "duplicate domain": Case(
        "organizations.yaml", "domains: [pennyworth.example]", "domains: [pennyworth.example, Chowringhee.example]",
        "mappings/organizations.yaml:{line} organizations[3].domains[1]: domain 'Chowringhee.example' is already "
        "used by organizations[2] at line {first} (a domain maps to one organization)",
        {"first": "domains: [chowringhee.example]"},
    ),
    "staff channel as a customer channel": Case(
        "organizations.yaml", "slack_channel_id: C05NWLOGIST", "slack_channel_id: C05SUPPSTAFF",
        "mappings/organizations.yaml:{line} organizations[0].slack_channel_id: 'C05SUPPSTAFF' is a staff channel "
        "(escalation.yaml line {staff}); a customer channel must be the customer's own, or it would show them "
        "every organization's tickets",
        {"staff": "escalation.yaml::staff_slack_channel_ids: [C05SUPPSTAFF]"},
    ),
    "duplicate key in a mapping": Case(
        "priority.yaml", "default: medium\n", "default: medium\ndefault: high\n",
        "mappings/priority.yaml:{line} duplicate key 'default' (first at line {first}; give each key once)",
        {"line": "default: high", "first": "default: medium"},
    ),
    "duplicate key in a nested mapping": Case(
        "tiers.yaml", "      high: 30m\n", "      high: 30m\n      high: 1h\n",
        "mappings/tiers.yaml:{line} tiers.enterprise.first_response: duplicate key 'high' (first at line {first}; "
        "give each key once)",
        {"line": "      high: 1h\n      medium: 2h", "first": "      high: 30m"},
    ),
    "bad target format": Case(
        "tiers.yaml", "critical: 30m", "critical: 30 minutes",
        "mappings/tiers.yaml:{line} tiers.pro.first_response.critical: '30 minutes' is not a duration "
        "(like 30m, 4h, 3d or 1h30m: m minutes, h hours, d days of the tier's calendar)",
    ),
    "zero target": Case(
        "tiers.yaml", "critical: 15m", "critical: 0m",
        "mappings/tiers.yaml:{line} tiers.enterprise.first_response.critical: '0m' must be longer than zero "
        "(like 30m, 4h, 3d)",
    ),
    "negative target": Case(
        "tiers.yaml", "critical: 15m", "critical: -15m",
        "mappings/tiers.yaml:{line} tiers.enterprise.first_response.critical: '-15m' is not a duration "
        "(like 30m, 4h, 3d or 1h30m: m minutes, h hours, d days of the tier's calendar)",
    ),
    "bad window": Case(
        "tiers.yaml", '\n      mon-fri: ["09:00-18:00"]', '\n      mon-fri: ["9-18"]',
        f"mappings/tiers.yaml:{{line}} calendars.business.hours.mon-fri[0]: '9-18' is not an opening window ({WINDOW})",
    ),
    "window closes before it opens": Case(
        "tiers.yaml", '\n      sat: ["09:00-17:00"]', '\n      sat: ["17:00-09:00"]',
        f"mappings/tiers.yaml:{{line}} calendars.extended.hours.sat[0]: '17:00-09:00' closes before it opens "
        f"({WINDOW}; split hours past midnight into two days)",
    ),
    "overlapping windows": Case(
        "tiers.yaml", 'mon-fri: ["06:00-22:00"]', 'mon-fri: ["06:00-12:00", "11:00-22:00"]',
        "mappings/tiers.yaml:{line} calendars.extended.hours.mon-fri[1]: '11:00-22:00' overlaps 06:00-12:00 "
        "(the windows of a day must not overlap)",
    ),
    "bad day name": Case(
        "tiers.yaml", '\n      sat: ["09:00-17:00"]', '\n      saturday: ["09:00-17:00"]',
        "mappings/tiers.yaml:{line} calendars.extended.hours: 'saturday' is not a day or day range "
        "(mon, tue, wed, thu, fri, sat, sun, or a range like mon-fri)",
    ),
    "day given twice": Case(
        "tiers.yaml", '\n      sat: ["09:00-17:00"]', '\n      fri: ["09:00-17:00"]',
        "mappings/tiers.yaml:{line} calendars.extended.hours: 'fri' repeats fri, already given by 'mon-fri' "
        "(name each day once)",
    ),
    "calendar that never opens": Case(
        "tiers.yaml", '\n      mon-fri: ["09:00-18:00"]', "\n      mon-fri: []",
        'mappings/tiers.yaml:{line} calendars.business.hours: this calendar never opens (give at least one window, '
        'like mon-fri: ["09:00-18:00"])',
        {"line": "    hours:\n      mon-fri: []"},
    ),
    "always_open calendar closing on holidays": Case(
        "tiers.yaml", "    always_open: true\n", "    always_open: true\n    closes_on_holidays: true\n",
        "mappings/tiers.yaml:{line} calendars.24x7.closes_on_holidays: an always_open calendar runs through "
        "holidays (set closes_on_holidays: false or leave it out)",
        {"line": "closes_on_holidays: true"},
    ),
    "bad pause status": Case(
        "tiers.yaml", "    pause_statuses: [pending, hold]\n    slack_channel: true",
        "    pause_statuses: [pending, on-hold]\n    slack_channel: true",
        "mappings/tiers.yaml:{line} tiers.enterprise.pause_statuses[1]: 'on-hold' is not a Zendesk status that can "
        "pause the clock (pending, hold; on-hold is 'hold' in Zendesk)",
    ),
    "bad warning ratio": Case(
        "escalation.yaml", "warning_ratio: 0.8", "warning_ratio: 80",
        "mappings/escalation.yaml:{line} warning_ratio: 80 is not a warning ratio "
        "(a number between 0 and 1, exclusive, like 0.8 for 80%)",
    ),
    "manager level at the agents' level": Case(
        "escalation.yaml", "manager_level: 2", "manager_level: 1",
        "mappings/escalation.yaml:{line} manager_level: expected a level above the agents' (2, 3, …), got 1",
    ),
    "bad slack channel id": Case(
        "organizations.yaml", "slack_channel_id: C05NWLOGIST", "slack_channel_id: '#northwind'",
        "mappings/organizations.yaml:{line} organizations[0].slack_channel_id: '#northwind' is not a Slack channel id "
        "(like C0123ABCD or G0123ABCD: the channel's ID, not its #name)",
    ),
    "bad slack user id": Case(
        "escalation.yaml", "slack_user_ids: [U05VPCS0001]", "slack_user_ids: [U05VPCS0001, '@vp']",
        "mappings/escalation.yaml:{line} levels[3].slack_user_ids[1]: '@vp' is not a Slack user id "
        "(like U0123ABCD or W0123ABCD: the member ID, not the @name)",
    ),
    "bad priority name": Case(
        "priority.yaml", "vip_floor: high", "vip_floor: urgent",
        "mappings/priority.yaml:{line} vip_floor: 'urgent' is not a priority (critical, high, medium, low)",
    ),
    "zendesk priority mapped twice": Case(
        "priority.yaml", "  high: high\n", "  high: critical\n",
        "mappings/priority.yaml:{line} zendesk.high: critical is already mapped from urgent (map the four Zendesk "
        "priorities to four different priorities: critical, high, medium, low)",
    ),
    "keyword listed twice": Case(
        "priority.yaml", "    - training\n", "    - training\n    - Bug\n",
        "mappings/priority.yaml:{line} keywords.low[7]: 'bug' is already listed under medium (list each phrase once)",
        {"line": "- Bug"},
    ),
    "levels out of order": Case(
        "escalation.yaml", "  - level: 3\n", "  - level: 4\n",
        "mappings/escalation.yaml:{line} levels[2].level: expected level 3 here, got 4 "
        "(levels are numbered 1, 2, 3, … in order)",
        {"line": "  - level: 4\n    role: Customer Success"},
    ),
    "duplicate zendesk field id": Case(
        "zendesk.yaml", "*", "fields:\n  tier_field_id: 360001\n  resolution_due_field_id: 360001\n",
        "mappings/zendesk.yaml:3 fields.resolution_due_field_id: field id 360001 is already used by "
        "tier_field_id (each field has its own id)",
    ),
    "YAML syntax error": Case(
        "organizations.yaml", "    tier: pro\n", "   tier: pro\n",
        "mappings/organizations.yaml:{line} YAML syntax error: expected <block end>, but found "
        "'<block mapping start>' (while parsing a block collection at line {collection}); check the indentation: "
        "the keys of one mapping line up, list items start with '- '",
        {"collection": "  - zendesk_id: 360000000101"},
    ),
    "tab in YAML": Case(
        "organizations.yaml", "    monthly_fee: 199", "\tmonthly_fee: 199",
        "mappings/organizations.yaml:{line} YAML syntax error: found character '\\t' that cannot start any token "
        "(while scanning for the next token); indent with spaces, not tabs",
    ),
    "missing file": Case(
        "zendesk.yaml", None, "",
        f"mappings/zendesk.yaml missing file (the directory mappings needs {FILES})",
    ),
    "empty file": Case(
        "zendesk.yaml", "*", "# nothing here yet\n",
        "mappings/zendesk.yaml:1 expected a mapping with keys fields; the file is empty",
    ),
    "bad date in closed_dates": Case(
        "organizations.yaml", '"2025-12-31"', '"2025-02-30"',
        "mappings/organizations.yaml:{line} organizations[0].closed_dates[1]: '2025-02-30' is not a date "
        "(YYYY-MM-DD, like 2025-12-24)",
    ),
    "csm on a tier without a dedicated csm": Case(
        "organizations.yaml", "    monthly_fee: 1200\n", "    monthly_fee: 1200\n    csm:\n      zendesk_user_id: 5\n",
        "mappings/organizations.yaml:{line} organizations[2].csm: tier 'growth' has no dedicated CSM (tiers with "
        "dedicated_csm: true: pro, enterprise); remove csm or give the organization such a tier",
        {"line": "    csm:\n      zendesk_user_id: 5"},
    ),
    "csm without a zendesk user id": Case(
        "organizations.yaml", "      zendesk_user_id: 360000400102\n", "",
        "mappings/organizations.yaml:{line} organizations[1].csm: missing required key 'zendesk_user_id'",
        {"line": "    csm:\n      slack_user_id: U05CSMBRAND"},
    ),
    "bad csm slack user id": Case(
        "organizations.yaml", "slack_user_id: U05CSMBRAND", "slack_user_id: '@anna'",
        "mappings/organizations.yaml:{line} organizations[1].csm.slack_user_id: '@anna' is not a Slack user id "
        "(like U0123ABCD or W0123ABCD: the member ID, not the @name)",
    ),
    "bad resolution_starts": Case(
        "tiers.yaml", "    dedicated_csm: true      # Dedicated CSM: Pro and Enterprise\n\n  enterprise:",
        "    dedicated_csm: true      # Dedicated CSM: Pro and Enterprise\n    resolution_starts: acknowledged\n\n  enterprise:",
        "mappings/tiers.yaml:{line} tiers.pro.resolution_starts: 'acknowledged' is not when the resolution clock "
        "starts (created, first_response)",
        {"line": "resolution_starts: acknowledged"},
    ),
    "exclusion tag used twice": Case(
        "escalation.yaml", "force_majeure: sla_excluded_force_majeure", "force_majeure: sla_excluded_third_party",
        "mappings/escalation.yaml:{line} exclusions.force_majeure: tag 'sla_excluded_third_party' is already the "
        "tag of third_party (one tag per reason)",
    ),
    "bad exclusion tag": Case(
        "escalation.yaml", "customer_caused: sla_excluded_customer_caused", "customer_caused: Customer Caused",
        "mappings/escalation.yaml:{line} exclusions.customer_caused: 'Customer Caused' is not a Zendesk tag "
        "(lower-case, no spaces, like sla_excluded_third_party)",
    ),
    "bad csat follow-up": Case(
        "escalation.yaml", "csat_follow_up: 24h", "csat_follow_up: tomorrow",
        "mappings/escalation.yaml:{line} csat_follow_up: 'tomorrow' is not a duration (like 24h, 1d or 90m; on the "
        "clock on the wall, a day is 24 hours)",
    ),
    "billing channel by name": Case(
        "escalation.yaml", "billing_slack_channel_ids: [C05BILLING1]", "billing_slack_channel_ids: ['#billing']",
        "mappings/escalation.yaml:{line} billing_slack_channel_ids[0]: '#billing' is not a Slack channel id "
        "(like C0123ABCD or G0123ABCD: the channel's ID, not its #name)",
    ),
    "billing channel as a customer channel": Case(
        "organizations.yaml", "slack_channel_id: C05NWLOGIST", "slack_channel_id: C05BILLING1",
        "mappings/organizations.yaml:{line} organizations[0].slack_channel_id: 'C05BILLING1' is a billing channel "
        "(escalation.yaml line {billing}); a customer channel must be the customer's own, or it would show them "
        "every organization's credits",
        {"billing": "escalation.yaml::billing_slack_channel_ids: [C05BILLING1]"},
    ),
    "csat alert threshold out of range": Case(
        "escalation.yaml", "csat_alert_below: 4.0", "csat_alert_below: 40",
        "mappings/escalation.yaml:{line} csat_alert_below: 40 is not a CSAT threshold (a number above 1 and at most "
        "5, like 4.0)",
    ),
    "csat alert time not a time": Case(
        "escalation.yaml", 'csat_alert_at: "09:00"', 'csat_alert_at: "9am"',
        "mappings/escalation.yaml:{line} csat_alert_at: '9am' is not a time of day (HH:MM in the organization's "
        'timezone, like "09:00")',
    ),
    "date in another format": Case(
        "organizations.yaml", '"2025-12-24"', "12/24/2025",
        "mappings/organizations.yaml:{line} organizations[0].closed_dates[0]: '12/24/2025' is not a date "
        "(YYYY-MM-DD, like 2025-12-24)",
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_each_kind_of_error(case: Case, mappings_dir: Path, tmp_path: Path, monkeypatch) -> None:
    directory = copy_mappings(mappings_dir, tmp_path, monkeypatch)
    if case.old is None:
        (directory / case.file).unlink()
        text = ""
    elif case.old == "*":
        (directory / case.file).write_text(text := case.new)
    else:
        text = edit(directory, case.file, case.old, case.new)
    lines = {}
    for name, anchor in {"line": case.new, **case.anchors}.items():
        if "{" + name + "}" in case.expected:
            other, sep, anchor_text = anchor.partition("::")
            lines[name] = line_of((directory / other).read_text(), anchor_text) if sep else line_of(text, anchor)
    assert errors_of("mappings") == [case.expected.format(**lines)]


def test_lines_are_literal(mappings_dir: Path, tmp_path: Path, monkeypatch) -> None:
    """The same checks with the numbers written out, against the test copy's layout."""
    directory = copy_mappings(mappings_dir, tmp_path, monkeypatch)
    edit(directory, "organizations.yaml", "tier: starter\n    timezone: Europe/London", "tier: enterprize\n    timezone: Europe/London")
    edit(directory, "organizations.yaml", "zendesk_id: 360000000103", "zendesk_id: 360000000101")
    assert errors_of("mappings") == [
        "mappings/organizations.yaml:79 organizations[2].zendesk_id: zendesk_id 360000000101 is already used by "
        "organizations[0] at line 54 (each organization once)",
        "mappings/organizations.yaml:91 organizations[3].tier: 'enterprize' is not a tier "
        "(starter, growth, scale, pro, enterprise)",
    ]


def test_all_errors_in_all_files_are_reported(mappings_dir: Path, tmp_path: Path, monkeypatch) -> None:
    directory = copy_mappings(mappings_dir, tmp_path, monkeypatch)
    edit(directory, "tiers.yaml", "critical: 30m", "critical: soon")
    edit(directory, "tiers.yaml", "calendar: extended ", "calendar: extendd ")
    edit(directory, "organizations.yaml", "tier: pro", "tier: platinum")
    edit(directory, "organizations.yaml", "timezone: Europe/London", "timezone: London")
    edit(directory, "escalation.yaml", "warning_ratio: 0.8", "warning_ratio: 0")
    edit(directory, "priority.yaml", "default: medium", "default: normal")
    (directory / "zendesk.yaml").write_text("fields: [\n")
    errors = errors_of("mappings")
    assert [e.split(" ", 1)[0].rsplit(":", 1)[0] for e in errors] == [
        "mappings/escalation.yaml",
        "mappings/organizations.yaml",
        "mappings/organizations.yaml",
        "mappings/priority.yaml",
        "mappings/tiers.yaml",
        "mappings/tiers.yaml",
        "mappings/zendesk.yaml",
    ]
    assert "organizations[1].tier: 'platinum' is not a tier" in errors[1]
    assert "organizations[3].timezone: 'London' is not an IANA timezone" in errors[2]
    assert errors[6].startswith("mappings/zendesk.yaml:2 YAML syntax error:")


def test_errors_are_sorted_by_file_then_line(mappings_dir: Path, tmp_path: Path, monkeypatch) -> None:
    directory = copy_mappings(mappings_dir, tmp_path, monkeypatch)
    edit(directory, "organizations.yaml", "monthly_fee: 199", "monthly_fee: -1")
    edit(directory, "organizations.yaml", "monthly_fee: 12000", "monthly_fee: -1")
    with pytest.raises(MappingsError) as caught:
        load_mappings("mappings")
    lines = [issue.line for issue in caught.value.errors]
    assert lines == sorted(lines) and len(lines) == 2
    assert str(caught.value).splitlines()[0] == "2 errors in mappings"


def test_absolute_directory_gives_absolute_file_names(mappings_dir: Path, tmp_path: Path, monkeypatch) -> None:
    directory = copy_mappings(mappings_dir, tmp_path, monkeypatch)
    edit(directory, "escalation.yaml", "renotify_minutes: 30", "renotify_minutes: 0")
    [issue] = errors_of(directory)
    assert issue == f"{directory}/escalation.yaml:{line_of((directory / 'escalation.yaml').read_text(), 'renotify_minutes: 0')} " \
        "renotify_minutes: expected a number of minutes (1 or more), got 0"


def test_missing_directory(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert errors_of("nowhere") == [f"nowhere no such directory (it should hold {FILES})"]


def test_yaml_12_scalars(mappings_dir: Path, tmp_path: Path, monkeypatch) -> None:
    """`NO` (Norway) is a country code, not false; `yes` is not a boolean; 010 is ten, not octal 8."""
    directory = copy_mappings(mappings_dir, tmp_path, monkeypatch)
    edit(directory, "organizations.yaml", "holiday_country: GB\n    holiday_subdivision: ENG\n", "holiday_country: NO\n")
    mappings = load_mappings("mappings")
    assert mappings.organizations[3].holiday_country == "NO"
    edit(directory, "organizations.yaml", "monthly_fee: 199", "monthly_fee: 010")
    assert load_mappings("mappings").organizations[3].monthly_fee == 10
    edit(directory, "tiers.yaml", "    slack_channel: true", "    slack_channel: yes")
    assert [e.split(": ", 1)[1] for e in errors_of("mappings")] == ["expected true or false, got 'yes'"]


def test_issue_format() -> None:
    issue = MappingIssue("mappings/organizations.yaml", 14, "organizations[3].tier",
                         "'enterprize' is not a tier (starter, growth, scale, pro, enterprise)")
    assert str(issue) == ("mappings/organizations.yaml:14 organizations[3].tier: "
                          "'enterprize' is not a tier (starter, growth, scale, pro, enterprise)")
    assert str(MappingIssue("mappings/zendesk.yaml", None, "", "missing file")) == "mappings/zendesk.yaml missing file"
    assert isinstance(MappingsError([issue]), Exception)


def test_cli_check_reports_every_error_and_exits_1(mappings_dir: Path, tmp_path: Path, monkeypatch) -> None:
    from click.testing import CliRunner

    from integration.cli import cli

    directory = copy_mappings(mappings_dir, tmp_path, monkeypatch)
    text = edit(directory, "organizations.yaml", "tier: pro", "tier: enterprize")
    esc = edit(directory, "escalation.yaml", "warning_ratio: 0.8", "warning_ratio: 1.5")
    result = CliRunner().invoke(cli, ["mappings", "check", "mappings"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"mappings/escalation.yaml:{line_of(esc, 'warning_ratio: 1.5')} warning_ratio: 1.5 is not a warning "
        "ratio (a number between 0 and 1, "
        "exclusive, like 0.8 for 80%)",
        f"mappings/organizations.yaml:{line_of(text, 'enterprize')} organizations[1].tier: 'enterprize' is not a "
        "tier (starter, growth, scale, pro, enterprise)",
        "2 errors in mappings",
    ]


def test_optional_lists_and_mappings_may_be_left_empty(mappings_dir: Path, tmp_path: Path, monkeypatch) -> None:
    directory = copy_mappings(mappings_dir, tmp_path, monkeypatch)
    edit(directory, "priority.yaml", "vip_requesters: []", "vip_requesters:")
    edit(directory, "escalation.yaml", "staff_slack_channel_ids: [C05SUPPSTAFF]", "staff_slack_channel_ids:")
    edit(directory, "tiers.yaml", "    calendar: business       # Chat Support: Business hours\n",
         "    calendar: business\n    calendar_by_priority:\n")
    edit(directory, "organizations.yaml", "domains: [pennyworth.example]", "domains:")
    mappings = load_mappings("mappings")
    assert mappings.priority.vip_requesters == ()
    assert mappings.escalation.staff_slack_channel_ids == ()
    assert mappings.tiers["starter"].calendar_by_priority == {}
    assert mappings.organizations[3].domains == ()
    # an empty `organizations:` is fine too
    (directory / "organizations.yaml").write_text(
        "default:\n  tier: starter\n  timezone: UTC\n  holiday_country: null\norganizations:\n")
    assert load_mappings("mappings").organizations == ()


def test_calendar_by_priority_override(mappings_dir: Path, tmp_path: Path, monkeypatch) -> None:
    """The commented example in tiers.yaml, switched on."""
    from integration.core.sla.priority import Priority

    directory = copy_mappings(mappings_dir, tmp_path, monkeypatch)
    edit(directory, "tiers.yaml", "    # calendar_by_priority:   # example override, not active: critical tickets "
         "run around the clock\n    #   critical: 24x7\n", "    calendar_by_priority:\n      critical: 24x7\n")
    starter = load_mappings("mappings").tiers["starter"]
    assert starter.calendar_for(Priority.CRITICAL) == "24x7"
    assert starter.calendar_for(Priority.HIGH) == "business"
    edit(directory, "tiers.yaml", "      critical: 24x7\n", "      critical: 24-7\n")
    assert errors_of("mappings") == [
        f"mappings/tiers.yaml:{line_of((directory / 'tiers.yaml').read_text(), '24-7')} "
        "tiers.starter.calendar_by_priority.critical: '24-7' is not a calendar (business, extended, 24x7)"
    ]
