"""What each Slack button does (block_actions), by action_id. Record and decide only: outbound work goes to the outbox."""
from __future__ import annotations

from integration.core.credit_messages import APPLIED_ACTION, APPROVE_ACTION, DENY_ACTION
from integration.core.customer_views import CSAT_ACTION, ESCALATE_ACTION
from integration.core.messages import ACK_ACTION, ACK_ALL_ACTION, TAKE_ACTION
from integration.core.signals import TicketSignal
from integration.core.state import Action
from integration.inbound import bounded_id, short
from integration.slack.binding import bind_channel
from integration.slack.credits import approve_button, dialog_button
from integration.slack.handlers import handle_csat, handle_customer_escalate


def handle_actions(services, payload: dict) -> str:
    return "; ".join(_handler_for(a["action_id"])(services, payload, a) for a in payload["actions"]) or "no actions"


def _step_of(value: str) -> tuple[int, int] | None:
    """'35436:2' → (35436, 2); None unless both are ids that fit our columns."""
    parts = value.split(":")
    if len(parts) != 2:
        return None
    ticket_id, level = bounded_id(parts[0]), bounded_id(parts[1])
    return (ticket_id, level) if ticket_id is not None and level is not None and level <= 100 else None


def _acknowledge(services, payload: dict, action: dict) -> str:
    step = _step_of(action["value"])
    if step is None:
        return f"malformed value {short(action['value'])}"
    return _acknowledge_step(services, payload, *step)


def _acknowledge_all(services, payload: dict, action: dict) -> str:
    """A digest's button: each listed step is acknowledged exactly as its own Acknowledge button would."""
    if not _staff_side(services.mappings.current, payload):
        return "Acknowledge all works only where digests are posted: staff and escalation channels, direct messages"
    steps = [_step_of(part) for part in action["value"].split(",")]
    if not steps or None in steps:
        return f"malformed value {short(action['value'])}"
    return "; ".join(_acknowledge_step(services, payload, ticket_id, level) for ticket_id, level in steps)


def _channel(payload: dict) -> str:
    return payload["channel"].get("id") or payload["container"].get("channel_id") or ""


def _staff_side(mappings, payload: dict) -> bool:
    """Digests go to staff channels, the matrix owners' channels and DMs; never to a customer's shared channel."""
    channel = _channel(payload)
    owners = {c for level in mappings.escalation.levels for c in level.slack_channel_ids}
    return channel.startswith("D") or channel in owners or bind_channel(mappings, channel).kind == "staff"


def _acknowledge_step(services, payload: dict, ticket_id: int, level: int) -> str:
    user = payload["user"].get("id")
    signal = TicketSignal(ticket_id=ticket_id, kind="acknowledge", at=None, actor=user, ack_level=level)
    result = services.ingestor.record(source="slack", dedup_key=f"ack:{ticket_id}:{level}:{user}",
                                      event_type="acknowledge", payload=payload, signal=signal)
    return f"acknowledged #{ticket_id} level {level}: {result.outcome}"


def _take_ownership(services, payload: dict, action: dict) -> str:
    """Acknowledge now; the worker finds the Zendesk agent with this Slack user's email and assigns the ticket."""
    answer = _acknowledge(services, payload, action)
    step = _step_of(action["value"])
    if step is None:
        return answer
    ticket_id, level = step
    user = payload["user"].get("id")
    work = Action("open", "take_ownership", {"ticket_id": ticket_id, "level": level, "user": user,
                                             "response_url": payload.get("response_url")},
                  f"take-{ticket_id}-{level}-{user}")
    services.ingestor.enqueue_action(source="slack", dedup_key=f"take:{payload.get('trigger_id')}", action=work,
                                     payload={"ticket_id": ticket_id, "user": user})
    return f"{answer}; assigning it to you in Zendesk"


def _unknown_action(services, payload: dict, action: dict) -> str:
    return f"action {short(action['action_id'])} is not handled"


ACTION_HANDLERS = {ACK_ACTION: _acknowledge, ACK_ALL_ACTION: _acknowledge_all, TAKE_ACTION: _take_ownership,
                   ESCALATE_ACTION: handle_customer_escalate, CSAT_ACTION: handle_csat,
                   APPROVE_ACTION: approve_button, DENY_ACTION: dialog_button, APPLIED_ACTION: dialog_button}


def _handler_for(action_id: str):
    # CSAT buttons are csat_rate_1 … csat_rate_5 (Slack wants distinct action ids within one block).
    base = CSAT_ACTION if action_id.startswith(CSAT_ACTION) else action_id
    return ACTION_HANDLERS.get(base, _unknown_action)
