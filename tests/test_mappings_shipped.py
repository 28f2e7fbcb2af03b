"""The shipped mapping files load, pass `escalator mappings check`, and say what the seed SLA says."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from integration.cli import cli
from integration.mappings.loader import load_mappings
from integration.mappings.model import Duration, Mappings
from integration.core.sla.priority import Priority

REPO = Path(__file__).resolve().parent.parent
TIERS = ("starter", "growth", "scale", "pro", "enterprise")
C, H, M, L = Priority.CRITICAL, Priority.HIGH, Priority.MEDIUM, Priority.LOW

# The seed's tables, copied as written ("hours" and "days" per tier: starter … enterprise).
RESPONSE_HOURS = {  # Response Time Commitments
    C: (4, 2, 1, 0.5, 0.25),
    H: (8, 4, 2, 1, 0.5),
    M: (24, 12, 8, 4, 2),
    L: (72, 48, 24, 12, 8),
}
RESOLUTION = {  # Resolution Time Commitments: (hours) for critical/high, (days) for medium/low
    C: ((24, "h"), (12, "h"), (8, "h"), (4, "h"), (2, "h")),
    H: ((72, "h"), (48, "h"), (24, "h"), (12, "h"), (8, "h")),
    M: ((7, "d"), (5, "d"), (3, "d"), (2, "d"), (1, "d")),
    L: ((14, "d"), (10, "d"), (7, "d"), (5, "d"), (3, "d")),
}
CHAT_SUPPORT = ("business", "extended", "24x7", "24x7", "24x7")  # Support Channel Access: Chat Support
SLACK_CHANNEL = (False, False, False, False, True)  # Support Channel Access: Slack Channel
DEDICATED_CSM = (False, False, False, True, True)  # Support Channel Access: Dedicated CSM


@pytest.fixture(scope="module")
def shipped() -> Mappings:
    return load_mappings(REPO / "mappings")


def test_shipped_files_load(shipped: Mappings) -> None:
    assert tuple(shipped.tiers) == TIERS
    assert set(shipped.calendars) == {"business", "extended", "24x7"}
    assert len(shipped.fingerprint) == 64
    assert shipped.source == str(REPO / "mappings")


@pytest.mark.parametrize("index,tier", list(enumerate(TIERS)))
def test_targets_match_the_seed(shipped: Mappings, index: int, tier: str) -> None:
    t = shipped.tiers[tier]
    for priority, hours in RESPONSE_HOURS.items():
        assert t.first_response[priority].minutes == hours[index] * 60 and t.first_response[priority].days == 0
    for priority, row in RESOLUTION.items():
        amount, unit = row[index]
        expected = Duration(text=f"{amount}{unit}", minutes=amount * 60 if unit == "h" else 0,
                            days=amount if unit == "d" else 0)
        assert t.resolution[priority] == expected


@pytest.mark.parametrize("index,tier", list(enumerate(TIERS)))
def test_channels_and_calendars_match_the_seed(shipped: Mappings, index: int, tier: str) -> None:
    t = shipped.tiers[tier]
    assert t.calendar == CHAT_SUPPORT[index]
    assert t.calendar_by_priority == {}  # "critical always 24/7" is shipped only as a commented example
    assert t.slack_channel is SLACK_CHANNEL[index]
    assert t.dedicated_csm is DEDICATED_CSM[index]
    assert t.resolution_starts == "created"  # seed 000: resolution times count from the ticket's creation
    assert t.pause_statuses == frozenset({"pending", "hold"})


def test_calendars_match_the_support_hours_definition(shipped: Mappings) -> None:
    weekday_business, weekday_extended = ((9 * 60, 18 * 60),), ((6 * 60, 22 * 60),)
    assert shipped.calendars["business"].week == (weekday_business,) * 5 + ((), ())
    assert shipped.calendars["extended"].week == (weekday_extended,) * 5 + (((9 * 60, 17 * 60),), ())
    assert shipped.calendars["business"].closes_on_holidays and shipped.calendars["extended"].closes_on_holidays
    assert shipped.calendars["24x7"].always_open and not shipped.calendars["24x7"].closes_on_holidays


def test_day_length_per_calendar(shipped: Mappings) -> None:
    three_days = Duration(text="3d", days=3)
    assert three_days.seconds_on(shipped.calendars["business"]) == 27 * 3600  # 3 x 9 h
    assert three_days.seconds_on(shipped.calendars["extended"]) == 48 * 3600  # 3 x 16 h
    assert three_days.seconds_on(shipped.calendars["24x7"]) == 72 * 3600
    assert shipped.tiers["scale"].resolution[M].seconds_on(shipped.calendars["24x7"]) == 72 * 3600


def test_escalation_matrix(shipped: Mappings) -> None:
    esc = shipped.escalation
    assert [o.role for o in esc.levels] == [
        "Support Agent", "Support Manager", "Customer Success", "VP Customer Success", "CRO/CEO",
    ]
    assert [o.level for o in esc.levels] == [1, 2, 3, 4, 5]
    assert esc.warning_ratio == 0.8  # "80% of SLA target -> Manager notification"
    assert esc.manager_level == 2 and esc.owner(esc.manager_level).role == "Support Manager"
    assert esc.executive_tag == "executive_complaint"
    assert esc.renotify_minutes == 30


def test_priority_rules(shipped: Mappings) -> None:
    rules = shipped.priority
    assert rules.zendesk_to_priority == {"urgent": C, "high": H, "normal": M, "low": L}
    assert rules.priority_to_zendesk == {C: "urgent", H: "high", M: "normal", L: "low"}
    assert rules.default is M and rules.vip_floor is H
    assert [r.priority for r in rules.keyword_rules] == [C, H, M, L]
    words = {r.priority: r.keywords for r in rules.keyword_rules}
    for phrase in ("outage", "platform inaccessible", "data loss", "data corruption", "security breach",
                   "payment processing"):
        assert phrase in words[C]
    for phrase in ("not working", "performance degradation", "integration failure", "billing discrepancy"):
        assert phrase in words[H]
    assert {"bug", "ui issue", "documentation"} <= set(words[M])
    assert {"how to", "feature request", "feedback", "training"} <= set(words[L])


def test_organizations_and_default(shipped: Mappings) -> None:
    assert shipped.default.tier == "starter" and shipped.default.timezone == "UTC"
    by_tier = {o.tier: o for o in shipped.organizations}
    enterprise = by_tier["enterprise"]
    assert (enterprise.timezone, enterprise.holiday_country, enterprise.holiday_subdivision) == (
        "America/New_York", "US", "NY")
    assert enterprise.slack_channel_id and shipped.tiers["enterprise"].slack_channel
    assert by_tier["pro"].timezone == "Europe/Berlin" and by_tier["growth"].timezone == "Asia/Kolkata"
    assert shipped.organization_by_id(enterprise.zendesk_id) is enterprise
    assert shipped.zendesk.tier_field_id is None


def test_cli_check_passes_on_shipped_files() -> None:
    result = CliRunner().invoke(cli, ["mappings", "check", str(REPO / "mappings")])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("mappings OK: 5 tiers, 3 calendars, 4 organizations, 5 escalation levels (fingerprint ")


def test_cli_check_defaults_to_mappings_dir_env(monkeypatch) -> None:
    monkeypatch.setenv("MAPPINGS_DIR", str(REPO / "mappings"))
    result = CliRunner().invoke(cli, ["mappings", "check"])
    assert result.exit_code == 0, result.output


def test_escalator_command_checks_shipped_files() -> None:
    escalator = Path(sys.executable).parent / "escalator"
    command = [str(escalator)] if escalator.exists() else [sys.executable, "-m", "integration.cli"]
    env = {k: v for k, v in os.environ.items() if k != "MAPPINGS_DIR"}
    done = subprocess.run([*command, "mappings", "check", "mappings"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("mappings OK: 5 tiers")
    assert done.stderr == ""
