"""Parsing `/support …` (pure)."""
from __future__ import annotations

import re
from dataclasses import dataclass

from integration.core.credits import parse_month
from integration.inbound import bounded_id

TICKET_REF = re.compile(r"^#?(\d{1,19})$")


@dataclass(frozen=True)
class Command:
    kind: str  # open | status | escalate | who | credit | sla | help | invalid
    ticket_id: int | None = None
    text: str = ""
    executive: bool = False
    problem: str = ""


def parse_support(text: str) -> Command:
    words = (text or "").strip().split()
    if not words or words[0].lower() == "help":
        return Command("help")
    verb, rest = words[0].lower(), words[1:]
    if verb == "status":
        if not rest:
            return Command("status")
        ticket = _ticket(rest[0])
        return Command("status", ticket) if ticket and len(rest) == 1 else _invalid("status takes one ticket, like #123")
    if verb in ("credit", "sla"):
        if len(rest) > 1 or (rest and parse_month(rest[0]) is None):
            return _invalid(f"`/support {verb}` takes an optional month, like `/support {verb} 2026-03`")
        return Command(verb, text=parse_month(rest[0]) if rest else "")
    if verb in ("escalate", "who"):
        ticket = _ticket(rest[0]) if rest else None
        if ticket is None:
            return _invalid(f"{verb} needs a ticket number, like `/support {verb} #123`")
        if verb == "who":
            return Command("who", ticket)
        executive = len(rest) > 1 and rest[1].lower() == "executive"
        reason = " ".join(rest[2:] if executive else rest[1:]).strip()
        if not reason:
            return _invalid("tell us why: `/support escalate #123 <reason>`")
        return Command("escalate", ticket, reason[:500], executive)
    return Command("open", text=text.strip()[:4000])


def _ticket(word: str) -> int | None:
    match = TICKET_REF.match(word)
    return bounded_id(match.group(1)) if match else None


def _invalid(problem: str) -> Command:
    return Command("invalid", problem=problem)
