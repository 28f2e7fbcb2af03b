"""Slack `message` events (record only): a customer's reply in a ticket's thread, or a new message in a channel
that opens tickets by itself. Our own posts, other bots, deletions and staff channels are never mirrored."""
from __future__ import annotations

from integration.core.threads import classify_slack_message
from integration.slack.binding import bind_channel
from integration.slack.handlers import open_ticket_action
from integration.storage.threads import Threads


def handle_message(services, envelope: dict) -> str:
    event = envelope.get("event")
    message = classify_slack_message(event if isinstance(event, dict) else {})
    if message.kind == "ignore":
        return message.reason
    binding = bind_channel(services.mappings.current, message.channel)
    if binding.kind != "customer":
        return "not a customer's channel: not mirrored"
    key = f"event:{envelope.get('event_id')}"
    if message.kind == "top_level":
        if not binding.organization.auto_ticket:
            return "a new message in the channel: not a ticket (auto_ticket is off)"
        action = open_ticket_action(binding, text=message.text or None, user=message.user, channel=message.channel,
                                    key=f"open-auto-{message.channel}-{message.ts}", message_ts=message.ts)
        recorded = services.ingestor.enqueue_action(source="slack", dedup_key=key, action=action, payload=envelope)
        return "opening a ticket" if recorded else "duplicate"
    return Threads(services.sessions, services.now).from_slack(key, message, binding.organization.zendesk_id, envelope)
