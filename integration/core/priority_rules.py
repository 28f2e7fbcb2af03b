"""Settling a ticket's priority: Zendesk's own field, else keyword rules, else the default; VIPs raise the floor."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from integration.mappings.model import PriorityRules
from integration.core.sla.priority import Priority


@dataclass(frozen=True)
class PriorityDecision:
    priority: Priority
    source: str  # "zendesk" | "keyword" | "default"
    reason: str  # plain words for the internal note and `explain`
    vip: bool = False


def settle_priority(
    rules: PriorityRules,
    *,
    zendesk_priority: str | None,
    subject: str = "",
    description: str = "",
    requester_email: str | None = None,
    extra_vips: tuple[str, ...] = (),
) -> PriorityDecision:
    decision = _base_decision(rules, zendesk_priority, f"{subject}\n{description}")
    if not is_vip(requester_email, rules.vip_requesters + extra_vips):
        return decision
    if decision.priority.rank >= rules.vip_floor.rank:
        return PriorityDecision(decision.priority, decision.source, decision.reason, vip=True)
    return PriorityDecision(
        rules.vip_floor,
        "vip",
        f"{decision.reason}; raised to {rules.vip_floor.value}: requester {requester_email} is a VIP",
        vip=True,
    )


def _base_decision(rules: PriorityRules, zendesk_priority: str | None, text: str) -> PriorityDecision:
    # Only Zendesk's API names are trusted: trigger placeholders render localized labels ("Urgente").
    known = rules.zendesk_to_priority.get((zendesk_priority or "").strip().lower())
    if known is not None:
        return PriorityDecision(known, "zendesk", f"Zendesk priority '{zendesk_priority}'")
    for rule in rules.keyword_rules:
        match = _keyword_pattern(rule.keywords).search(text)
        if match:
            return PriorityDecision(rule.priority, "keyword", f"keyword '{' '.join(match.group(0).lower().split())}'")
    return PriorityDecision(rules.default, "default", "no Zendesk priority and no keyword matched")


@lru_cache(maxsize=256)
def _keyword_pattern(keywords: tuple[str, ...]) -> re.Pattern[str]:
    words = sorted(keywords, key=len, reverse=True)  # longest first, so "data loss" beats "data"
    alternatives = "|".join(r"\s+".join(map(re.escape, k.split())) for k in words)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def is_vip(email: str | None, vips: tuple[str, ...]) -> bool:
    if not email:
        return False
    email = email.strip().lower()
    return any(email == v or (v.startswith("@") and email.endswith(v)) for v in vips)
