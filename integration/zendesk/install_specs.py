"""What `escalator zendesk install` puts in Zendesk: the three ticket fields, the two webhooks (one
connected to triggers, one subscribed to ticket events) and the four triggers, and how an existing
object is compared with what it should be.

API shapes: developer.zendesk.com Ticket Fields, Webhooks ("Creating webhooks with the API"), Triggers
and the conditions reference.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

PREFIX = "Escalator: "
WEBHOOK_NAME = "Escalator"
EVENTS_WEBHOOK_NAME = "Escalator events"
WEBHOOK_PATH = "/webhooks/zendesk"
MANAGED = "Managed by `escalator zendesk install`; edits here are overwritten by the next install."
TRIGGER_SUBSCRIPTION = "conditional_ticket_events"
# The README's preferred path: API enums, never localized. A webhook cannot also serve triggers.
EVENT_SUBSCRIPTIONS = tuple(f"zen:event-type:ticket.{name}" for name in (
    "created", "status_changed", "priority_changed", "comment_added", "organization_changed"))
WEBHOOK_READ_ONLY = ("id", "created_at", "created_by", "updated_at", "updated_by", "signing_secret", "external_source")


@dataclass(frozen=True)
class FieldSpec:
    key: str  # its line in zendesk.yaml
    title: str
    description: str


FIELDS = (
    FieldSpec("tier_field_id", "SLA tier", "The organization's SLA tier. Written by Escalator."),
    FieldSpec("first_response_due_field_id", "First response due (UTC)",
              "When the first public agent reply is due, ISO-8601 UTC. Written by Escalator."),
    FieldSpec("resolution_due_field_id", "Resolution due (UTC)",
              "When the resolution is due, ISO-8601 UTC; empty while the clock is paused. Written by Escalator."),
)

# tests/fixtures/zendesk/trigger_template.json.txt and the README hold the same text (a test checks).
TRIGGER_TEMPLATE = """{
  "schema": "escalator.zendesk.trigger/1",
  "event": "ticket_updated",
  "ticket": {
    "id": "{{ticket.id}}",
    "external_id": "{{ticket.external_id}}",
    "status": "{{ticket.status}}",
    "priority": "{{ticket.priority}}",
    "ticket_type": "{{ticket.ticket_type}}",
    "via": "{{ticket.via}}",
    "tags": "{{ticket.tags}}",
    "assignee_id": "{{ticket.assignee.id}}",
    "created_at": "{{ticket.created_at_with_timestamp}}",
    "updated_at": "{{ticket.updated_at_with_timestamp}}"
  },
  "organization": {
    "id": "{{ticket.organization.id}}",
    "external_id": "{{ticket.organization.external_id}}"
  },
  "requester": {
    "id": "{{ticket.requester.id}}",
    "email": "{{ticket.requester.email}}",
    "locale": "{{ticket.requester.locale}}"
  },
  "current_user": {
    "id": "{{current_user.id}}",
    "role": "{{current_user.role}}"
  },
  "latest_comment": {
    "id": "{{ticket.latest_comment.id}}",
    "is_public": "{{ticket.latest_comment.is_public}}"
  },
  "satisfaction": {
    "current_rating": "{{satisfaction.current_rating}}"
  }
}
"""


def trigger_body(event: str) -> str:
    body = TRIGGER_TEMPLATE.replace('"event": "ticket_updated"', f'"event": "{event}"')
    assert body.count(f'"event": "{event}"') == 1
    return body


def _condition(field_name: str, operator: str, value: Any) -> dict:
    return {"field": field_name, "operator": operator, "value": value}


def trigger_specs(api_user_id: int) -> list[tuple[str, str, list[dict]]]:
    """(title, event, `all` conditions) of the four triggers in the README."""
    created, changed = _condition("update_type", "is", "Create"), _condition("update_type", "is", "Change")
    return [
        (f"{PREFIX}ticket created", "ticket_created", [created]),
        # "Current user is not <the API user>": our own updates never come back as trigger calls.
        (f"{PREFIX}ticket updated", "ticket_updated", [changed, _condition("role", "is_not", str(api_user_id))]),
        (f"{PREFIX}public agent reply", "agent_replied_public",
         [changed, _condition("comment_is_public", "is", "true"), _condition("role", "is", "agent")]),
        (f"{PREFIX}satisfaction rated", "satisfaction_rated", [_condition("satisfaction_score", "changed", None)]),
    ]


def normalized(value: Any) -> Any:
    """Zendesk may give back "true" for True, 123 as "123", null for "": compare values as it stores them."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [normalized(v) for v in value]
    return value


def comparable(key: str, value: Any) -> Any:
    if key == "conditions":
        value = value or {}
        return {part: [(c.get("field"), c.get("operator"), normalized(c.get("value"))) for c in value.get(part) or []]
                for part in ("all", "any")}
    if key == "actions":
        out = []
        for action in value or []:
            item = normalized(action.get("value"))
            if action.get("field") == "notification_webhook" and isinstance(item, list) and len(item) == 2:
                try:
                    item = [item[0], json.loads(item[1])]  # the body as JSON: whitespace is not a difference
                except (TypeError, ValueError):
                    pass
            out.append((action.get("field"), item))
        return out
    return normalized(value)
