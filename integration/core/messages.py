"""Slack Block Kit messages, built by pure functions from decisions."""
from __future__ import annotations

from integration.core.customer_views import AUDIENCE, NEUTRAL_OWNER, OPENED_HERE
from integration.core.matrix import TRIGGER_WORDS, Step

ACK_ACTION = "escalation_acknowledge"
TAKE_ACTION = "escalation_take_ownership"
ACK_ALL_ACTION = "escalation_acknowledge_all"  # value: "ticket:level,ticket:level,..." (see core/digest.py)


def _section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(text: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _facts(pairs: list[tuple[str, str]]) -> dict:
    return {"type": "section", "fields": [{"type": "mrkdwn", "text": f"*{k}*\n{v}"} for k, v in pairs]}


def _buttons(ticket_id: int, level: int) -> dict:
    value = f"{ticket_id}:{level}"
    return {"type": "actions", "block_id": f"escalation:{value}", "elements": [
        {"type": "button", "action_id": ACK_ACTION, "style": "primary", "value": value,
         "text": {"type": "plain_text", "text": "Acknowledge"}},
        {"type": "button", "action_id": TAKE_ACTION, "value": value,
         "text": {"type": "plain_text", "text": "Take ownership"}},
    ]}


def escalation_message(*, ticket_id: int, url: str, subject: str, organization: str, tier: str,
                       priority: str, step: Step, reminder: bool = False) -> dict:
    why = "; ".join(f"{TRIGGER_WORDS[t.kind]} ({t.detail})" for t in step.triggers)
    head = (f"{':repeat: Reminder: ' if reminder else ':rotating_light: '}Ticket <{url}|#{ticket_id}> "
            f"escalated to level {step.level}: {step.owner.role}")
    return {
        "text": f"{'Reminder: ' if reminder else ''}Ticket #{ticket_id} escalated to level {step.level} "
                f"({step.owner.role}): {why}",
        "blocks": [
            _section(f"*{head}*\n{_plain(subject)}"),
            _facts([("Organization", organization), ("Tier", tier), ("Priority", priority),
                    ("Why", why)]),
            _buttons(ticket_id, step.level),
            _context("Acknowledge to stop reminders. Take ownership to be assigned in Zendesk."),
        ],
    }


def warning_message(*, ticket_id: int, url: str, subject: str, organization: str, tier: str,
                    target: str, due: str, percent: int, owner_role: str) -> dict:
    words = target.replace("_", " ")
    return {
        "text": f"Ticket #{ticket_id}: {percent}% of its {words} target used, due {due}",
        "blocks": [
            _section(f"*:warning: Ticket <{url}|#{ticket_id}>: {percent}% of the {words} target used*\n"
                     f"{_plain(subject)}"),
            _facts([("Organization", organization), ("Tier", tier), ("Due", due),
                    ("Held by", owner_role)]),
            _context("It escalates automatically if the target is breached."),
        ],
    }


def customer_notice(*, ticket_id: int, level: int, role: str) -> dict:
    """Neutral on purpose: no internal title (level and role stay ours) and nothing that hints at a rating."""
    text = f"{NEUTRAL_OWNER[0].upper()}{NEUTRAL_OWNER[1:]} now owns #{ticket_id} and will follow up with you directly."
    return {"text": text, "blocks": [_section(text)], AUDIENCE: OPENED_HERE}


def _plain(text: str) -> str:
    # Subjects come from customers; keep Slack from turning them into mentions or links.
    return (text or "(no subject)").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")[:300]
