import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from integration.cli import cli
from integration.core.customers import match_customer
from integration.mappings.loader import load_mappings
from tests.harness import TEST_MAPPINGS


def run(*args):
    # The tests' mappings unless a test names others (click keeps an option's last value).
    result = CliRunner().invoke(cli, ["explain", "--mappings", str(TEST_MAPPINGS), *args], catch_exceptions=False)
    return result


def explain(*args) -> dict:
    result = run(*args)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_pro_high_on_24x7_in_berlin():
    out = explain("--org", "360000000102", "--priority", "high", "--created", "2026-11-26T16:30:00Z",
                  "--now", "2026-11-26T16:31:00Z")
    assert (out["tier"], out["priority"], out["priority_source"]) == ("pro", "high", "zendesk")
    assert (out["calendar"], out["timezone"]) == ("24x7", "Europe/Berlin")
    assert out["first_response_due"] == "2026-11-26T17:30:00Z"
    assert out["resolution_due"] == "2026-11-27T04:30:00Z"
    assert out["first_response_warning"] == "2026-11-26T17:18:00Z"  # 80% of 1h
    assert [step["owner"] for step in out["escalation_path"]][:2] == ["Support Agent", "Support Manager"]
    assert out["escalation_path"][1]["at"] == out["first_response_due"]
    assert out["escalation_path"][2]["at"] == out["resolution_due"]


def test_starter_keyword_priority_over_christmas_in_london():
    # Thu 24 Dec 17:00 London: 1h left that day; 25th, the weekend and Mon 28th (Boxing Day
    # substitute) are closed; 3h more on Tue 29th → 12:00. Resolution 24h = 1 + 9 + 9 + 5 → Thu 31st 14:00.
    out = explain("--priority", "none", "--subject", "Total outage of the platform",
                  "--created", "2026-12-24T17:00:00Z", "--requester", "bob@pennyworth.example")
    assert out["organization"]["matched_by"] == "domain"
    assert (out["tier"], out["priority"], out["priority_source"]) == ("starter", "critical", "keyword")
    assert out["priority_reason"] == "keyword 'outage'"
    assert out["first_response_due"] == "2026-12-29T12:00:00Z"
    assert out["resolution_due"] == "2026-12-31T14:00:00Z"


def test_unmapped_organization_gets_the_default():
    out = explain("--org", "42", "--priority", "low", "--created", "2026-11-23T09:00:00Z")
    assert out["organization"]["matched_by"] == "default"
    assert out["tier"] == load_mappings(TEST_MAPPINGS).default.tier


def test_priority_accepts_our_names_as_well_as_zendesk_names():
    ours = explain("--org", "360000000101", "--priority", "critical", "--created", "2026-11-23T09:00:00Z")
    theirs = explain("--org", "360000000101", "--priority", "urgent", "--created", "2026-11-23T09:00:00Z")
    assert ours["first_response_due"] == theirs["first_response_due"] == "2026-11-23T09:15:00Z"


@pytest.mark.parametrize("args, message", [
    (["--created", "2026-11-23T09:00:00"], "has no UTC offset"),
    (["--created", "tomorrow"], "is not ISO-8601"),
    (["--created", "2026-11-23T09:00:00Z", "--priority", "urgentissimo"], "'urgentissimo' is not one of"),
    (["--created", "2026-11-23T09:00:00Z", "--org", "abc"], "'abc' is not a valid integer"),
    ([], "Missing option '--created'"),
])
def test_bad_arguments_get_a_clear_error(args, message):
    result = run(*args)
    assert result.exit_code == 2
    assert message in result.output


def test_broken_mappings_are_listed_and_fail(tmp_path):
    broken = tmp_path / "mappings"
    broken.mkdir()
    result = run("--created", "2026-11-23T09:00:00Z", "--mappings", str(broken))
    assert result.exit_code == 1
    assert "missing file" in result.output and "fix them first" in result.output


def test_installed_console_script_runs():
    completed = subprocess.run([sys.executable, "-m", "integration.cli", "explain", "--org", "360000000103",
                                "--priority", "normal", "--created", "2026-11-23T09:00:00Z",
                                "--mappings", str(TEST_MAPPINGS)],
                               capture_output=True, text=True, check=True)
    assert json.loads(completed.stdout)["calendar"] == "extended"


def test_match_order_id_then_name_then_domain():
    mappings = load_mappings(TEST_MAPPINGS)
    by_id = match_customer(mappings, organization_id=360000000101, organization_name="Pennyworth Tea Co",
                           requester_email="x@brandt-maschinenbau.example")
    by_name = match_customer(mappings, organization_id=9, organization_name="pennyworth tea co",
                             requester_email="x@brandt-maschinenbau.example")
    by_domain = match_customer(mappings, organization_id=9, requester_email="X@Brandt-Maschinenbau.Example")
    assert (by_id.matched_by, by_id.tier) == ("zendesk_id", "enterprise")
    assert (by_name.matched_by, by_name.tier) == ("name", "starter")
    assert (by_domain.matched_by, by_domain.tier) == ("domain", "pro")


def test_resolution_from_the_first_response_shows_its_start_and_the_due_for_a_reply_at_due(tmp_path):
    import shutil
    shutil.copytree(TEST_MAPPINGS, tmp_path / "m")
    tiers = tmp_path / "m" / "tiers.yaml"
    text = tiers.read_text()
    marker = "    dedicated_csm: true      # Dedicated CSM: Pro and Enterprise\n\n  enterprise:"
    tiers.write_text(text.replace(marker, marker.replace("\n\n", "\n    resolution_starts: first_response\n\n")))
    out = explain("--mappings", str(tmp_path / "m"), "--org", "360000000102", "--priority", "high",
                  "--created", "2026-11-26T16:30:00Z", "--now", "2026-11-26T16:31:00Z")
    assert out["resolution_starts"] == "first_response"
    assert out["first_response_due"] == "2026-11-26T17:30:00Z"
    assert out["resolution_due"] is None  # not started until the first public agent reply
    # pro/high on 24x7: 12h from a reply at the first-response due
    assert out["resolution_due_if_answered_at_first_response_due"] == "2026-11-27T05:30:00Z"
    assert explain("--org", "360000000102", "--priority", "high", "--created", "2026-11-26T16:30:00Z",
                   "--now", "2026-11-26T16:31:00Z")["resolution_starts"] == "created"
