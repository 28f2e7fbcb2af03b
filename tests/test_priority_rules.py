import pytest

from integration.mappings.model import KeywordRule, PriorityRules
from integration.core.priority_rules import is_vip, settle_priority
from integration.core.sla.priority import Priority

RULES = PriorityRules(
    zendesk_to_priority={"urgent": Priority.CRITICAL, "high": Priority.HIGH,
                         "normal": Priority.MEDIUM, "low": Priority.LOW},
    default=Priority.MEDIUM,
    keyword_rules=(
        KeywordRule(Priority.CRITICAL, ("outage", "data loss", "security breach", "payment failure")),
        KeywordRule(Priority.HIGH, ("not working", "integration failure")),
        KeywordRule(Priority.LOW, ("how do i", "feature request")),
    ),
    vip_floor=Priority.HIGH,
    vip_requesters=("ceo@acme.example", "@board.example"),
)


@pytest.mark.parametrize("zendesk, expected", [
    ("urgent", Priority.CRITICAL), ("high", Priority.HIGH), ("normal", Priority.MEDIUM),
    ("low", Priority.LOW), ("URGENT", Priority.CRITICAL),
])
def test_zendesk_priority_wins_over_keywords(zendesk, expected):
    decision = settle_priority(RULES, zendesk_priority=zendesk, subject="Total outage")
    assert (decision.priority, decision.source) == (expected, "zendesk")


@pytest.mark.parametrize("subject, expected, word", [
    ("Total OUTAGE in EU", Priority.CRITICAL, "outage"),
    ("We suffered data   loss overnight", Priority.CRITICAL, "data loss"),
    ("SSO integration failure", Priority.HIGH, "integration failure"),
    ("How do I export leads?", Priority.LOW, "how do i"),
])
def test_keywords_decide_when_zendesk_has_no_priority(subject, expected, word):
    decision = settle_priority(RULES, zendesk_priority=None, subject=subject)
    assert decision.priority is expected
    assert decision.source == "keyword"
    assert f"'{word}'" in decision.reason


def test_localized_placeholder_is_not_trusted_and_falls_back_to_keywords():
    decision = settle_priority(RULES, zendesk_priority="Urgente", subject="Pregunta: how do I log in")
    assert (decision.priority, decision.source) == (Priority.LOW, "keyword")


def test_keywords_match_whole_words_only():
    decision = settle_priority(RULES, zendesk_priority="", subject="Outages page typo")
    assert (decision.priority, decision.source) == (Priority.MEDIUM, "default")


def test_first_rule_wins_when_several_match():
    decision = settle_priority(RULES, zendesk_priority=None, subject="feature request after the outage")
    assert decision.priority is Priority.CRITICAL


@pytest.mark.parametrize("email", ["ceo@acme.example", "CEO@Acme.Example", "chair@board.example"])
def test_vip_raises_to_the_floor(email):
    decision = settle_priority(RULES, zendesk_priority="low", requester_email=email)
    assert (decision.priority, decision.source, decision.vip) == (Priority.HIGH, "vip", True)
    assert "VIP" in decision.reason


def test_vip_never_lowers_a_priority():
    decision = settle_priority(RULES, zendesk_priority="urgent", requester_email="ceo@acme.example")
    assert (decision.priority, decision.source, decision.vip) == (Priority.CRITICAL, "zendesk", True)


def test_organization_vips_count_too():
    decision = settle_priority(RULES, zendesk_priority="low", requester_email="boss@x.example",
                               extra_vips=("boss@x.example",))
    assert decision.priority is Priority.HIGH


def test_domain_vip_does_not_match_a_lookalike_domain():
    assert not is_vip("mallory@notboard.example", ("@board.example",))
    assert is_vip("a@board.example", ("@board.example",))
