"""Slack digests, pure: many manager-facing notifications for one channel become one message.

Each staff-facing post carries a DigestItem in its outbox payload; when several of one kind and level
wait for the same channel, the gateway posts `digest_messages(...)` instead of one message per ticket.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from integration.core.messages import ACK_ACTION, ACK_ALL_ACTION, _context, _plain, _section
from integration.core.sla.priority import Priority

LISTED = 10  # tickets shown with their own row and button; the rest are counted and linked
MAX_BUTTON_VALUE = 2000  # Slack's limit on a button's value
KINDS = ("step", "reminder", "warning")


@dataclass(frozen=True)
class DigestItem:
    kind: str  # step | reminder | warning
    ticket_id: int
    level: int  # steps and reminders: the level reached; warnings: the ticket's level when warned
    subject: str
    url: str
    organization: str
    tier: str | None
    priority: str | None
    why: str
    late_by_seconds: int = 0  # steps and reminders: how far past due the breached target is (0: unknown)
    target: str | None = None  # warnings: first_response | resolution
    due_at: str | None = None  # warnings: ISO instant the warned-about target falls due

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> "DigestItem":
        return cls(**{name: data[name] for name in cls.__dataclass_fields__ if name in data})

    @property
    def ack_value(self) -> str:
        return f"{self.ticket_id}:{self.level}"

    def past_due(self, now: dt.datetime) -> bool:
        """A warning whose instant has passed says nothing the breach message won't say better."""
        return self.kind == "warning" and self.due_at is not None and dt.datetime.fromisoformat(self.due_at) <= now


def worst_first(items: list[DigestItem]) -> list[DigestItem]:
    return sorted(items, key=lambda i: (-_rank(i.priority), -i.late_by_seconds, i.ticket_id))


def parse_ack_all(value: str) -> list[tuple[int, int]]:
    """"35436:2,35437:2" -> [(35436, 2), (35437, 2)]; ValueError if any pair is malformed."""
    pairs = []
    for part in value.split(","):
        ticket, level = part.split(":")
        pairs.append((int(ticket), int(level)))
    return pairs


def digest_chunks(items: list[DigestItem]) -> list[list[DigestItem]]:
    """The items split into digests, worst first, each small enough for one Acknowledge-all button."""
    chunks: list[list[DigestItem]] = [[]]
    for item in worst_first(items):
        if chunks[-1] and len(_ack_all_value(chunks[-1] + [item])) > MAX_BUTTON_VALUE:
            chunks.append([])
        chunks[-1].append(item)
    return chunks


def digest_message(items: list[DigestItem], *, dashboard_url: str | None, listed: int = LISTED) -> dict:
    """One Block Kit message for items of one kind and level (at least one)."""
    items = worst_first(items)
    kind, level, count = items[0].kind, items[0].level, len(items)
    head = (f":repeat: Reminder: {count} escalations at level {level} still unacknowledged" if kind == "reminder"
            else f":warning: {count} tickets passed 80% of a target" if kind == "warning"
            else f":rotating_light: {count} tickets escalated to level {level}")
    shown, rest = items[:listed], items[listed:]
    blocks = [_section(f"*{head}*")] + [_row(item, kind != "warning") for item in shown]
    if rest:
        blocks.append(_section(_more(rest, dashboard_url)))
    if kind != "warning":
        blocks.append({"type": "actions", "block_id": f"digest:{level}:{items[0].ticket_id}", "elements": [
            {"type": "button", "action_id": ACK_ALL_ACTION, "style": "primary", "value": _ack_all_value(items),
             "text": {"type": "plain_text", "text": f"Acknowledge all {count}"}}]})
        blocks.append(_context("Acknowledge to stop reminders; Acknowledge all does it for every ticket above."))
    numbers = ", ".join(f"#{i.ticket_id}" for i in items[:20]) + (" …" if count > 20 else "")
    return {"text": f"{head.split(' ', 1)[1]}: {numbers}", "blocks": blocks}


def _row(item: DigestItem, button: bool) -> dict:
    facts = " · ".join(_plain(x) for x in (item.organization, item.tier or "", item.priority or "") if x)
    late = f" · {_duration(item.late_by_seconds)} late" if item.late_by_seconds > 0 else ""
    block = _section(f"<{item.url}|#{item.ticket_id}> {_plain(item.subject)[:150]}\n{facts}{late} · "
                     f"{_plain(item.why)[:300]}")
    block["block_id"] = f"digest-row:{item.ticket_id}:{item.level}"
    if button:
        block["accessory"] = {"type": "button", "action_id": ACK_ACTION, "value": item.ack_value,
                              "text": {"type": "plain_text", "text": "Acknowledge"}}
    return block


def _more(rest: list[DigestItem], dashboard_url: str | None) -> str:
    if not dashboard_url:
        return f"…and {len(rest)} more."
    ids = ",".join(str(i.ticket_id) for i in rest)
    return f"…and <{dashboard_url.rstrip('/')}/?tickets={ids}|{len(rest)} more on the dashboard>."


def _ack_all_value(items: list[DigestItem]) -> str:
    return ",".join(i.ack_value for i in items)


def _rank(priority: str | None) -> int:
    try:
        return Priority.parse(priority or "").rank
    except ValueError:
        return -1


def _duration(seconds: int) -> str:
    minutes = seconds // 60
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m"
