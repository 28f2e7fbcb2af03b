"""What the Zendesk ticket should carry, compared with what it carries: only the difference is written.

Zendesk allows 100 ticket updates a minute per account and 30 per ticket per 10 minutes, so an
update that would change nothing is never sent.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, replace

from integration.mappings.model import Mappings
from integration.core.sla.priority import Priority
from integration.core.sla.ticket import State, Target, TargetStatus
from integration.core.state import LANE_SLA, Action, TicketState

TIER_TAG_PREFIX = "sla_tier_"
UPDATE_FIELDS = ("priority", "custom_fields", "additional_tags", "remove_tags", "group_id", "assignee_id")
BREACH_TAGS = {Target.FIRST_RESPONSE: "sla_first_response_breached", Target.RESOLUTION: "sla_resolution_breached"}


def zulu(instant: dt.datetime | None) -> str | None:
    return instant.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if instant else None


def desired_fields(mappings: Mappings, state: TicketState, sla: dict[Target, TargetStatus]) -> dict[str, tuple]:
    """name -> (field id, value) for the custom fields that are installed."""
    ids = mappings.zendesk
    resolution = sla[Target.RESOLUTION]
    values = {
        "tier": (ids.tier_field_id, state.tier),
        "first_response_due": (ids.first_response_due_field_id, zulu(sla[Target.FIRST_RESPONSE].due)),
        # A paused clock has no due time; showing the old one would mislead agents.
        "resolution_due": (ids.resolution_due_field_id,
                           None if resolution.state is State.PAUSED else zulu(resolution.due)),
    }
    return {name: pair for name, pair in values.items() if pair[0]}


def desired_tags(state: TicketState, sla: dict[Target, TargetStatus]) -> tuple[set[str], set[str]]:
    wanted = {f"{TIER_TAG_PREFIX}{state.tier}"}
    wanted |= {tag for target, tag in BREACH_TAGS.items() if sla[target].state is State.BREACHED}
    # A breach tag the (corrected) history no longer earns goes too; an agent's own tags are never touched.
    ours = {t for t in state.tags if t.startswith(TIER_TAG_PREFIX) or t in BREACH_TAGS.values()}
    return wanted - set(state.tags), ours - wanted


@dataclass(frozen=True)
class OwnerChange:
    """What an escalation step changes on the ticket: its owner, its level tag, maybe its priority."""

    level_tag: str
    group_id: int | None = None
    assignee_id: int | None = None
    raise_priority: Priority | None = None


@dataclass(frozen=True)
class DesiredUpdate:
    """What the Zendesk ticket must be sent: API fields only, each set only where it differs."""

    priority: str | None = None  # Zendesk's word (urgent, high, normal, low)
    fields: tuple[tuple[str, int, str | None], ...] = ()  # our custom fields: (name, field id, value)
    additional_tags: tuple[str, ...] = ()
    remove_tags: tuple[str, ...] = ()
    group_id: int | None = None
    assignee_id: int | None = None

    @property
    def has_changes(self) -> bool:
        return bool(self.api_fields())

    @property
    def written(self) -> dict[str, str | None]:
        """The custom field values this update makes Zendesk hold, by our name for them."""
        return {name: value for name, _, value in self.fields}

    def api_fields(self) -> dict:
        """The body of Zendesk's ticket update (without the comment)."""
        body: dict = {}
        if self.priority is not None:
            body["priority"] = self.priority
        if self.fields:
            body["custom_fields"] = [{"id": field_id, "value": value} for _, field_id, value in self.fields]
        for name in ("additional_tags", "remove_tags"):
            if getattr(self, name):
                body[name] = list(getattr(self, name))
        for name in ("group_id", "assignee_id"):
            if getattr(self, name) is not None:
                body[name] = getattr(self, name)
        return body

    def tags_after(self, tags: tuple[str, ...]) -> tuple[str, ...]:
        kept = [t for t in tags if t not in set(self.remove_tags)]
        return tuple(kept + [t for t in self.additional_tags if t not in kept])

    def with_owner(self, owner: OwnerChange | None, mappings: Mappings) -> "DesiredUpdate":
        """An escalation step's reassignment, tag and priority raise join the SLA update (one API call)."""
        if owner is None:
            return self
        raised = mappings.priority.priority_to_zendesk[owner.raise_priority] if owner.raise_priority else None
        return replace(self, group_id=owner.group_id if owner.group_id is not None else self.group_id,
                       assignee_id=owner.assignee_id if owner.assignee_id is not None else self.assignee_id,
                       additional_tags=tuple(sorted({*self.additional_tags, owner.level_tag})),
                       priority=raised or self.priority)


def desired_update(mappings: Mappings, state: TicketState, sla: dict[Target, TargetStatus]) -> DesiredUpdate:
    zendesk_name = mappings.priority.priority_to_zendesk[Priority(state.priority)]
    fields = tuple((name, field_id, value) for name, (field_id, value) in desired_fields(mappings, state, sla).items()
                   if state.written.get(name) != value)
    add, remove = desired_tags(state, sla)
    return DesiredUpdate(priority=zendesk_name if state.zendesk_priority != zendesk_name else None, fields=fields,
                         additional_tags=tuple(sorted(add)), remove_tags=tuple(sorted(remove)))


def fetch_action(ticket_id: int, source_key: str) -> Action:
    """Read the ticket's authoritative state from the API (in the worker, never on the request path)."""
    digest = hashlib.sha256(source_key.encode()).hexdigest()[:24]
    return Action("zendesk", "fetch_ticket", {"ticket_id": ticket_id, "asked_by": source_key},
                  f"fetch-{ticket_id}-{digest}", LANE_SLA)


def merge_updates(older: dict, newer: dict, newer_key: str) -> dict:
    """One desired state per ticket: a queued update that has not been attempted yet absorbs a newer one
    (the newer fields win, tags add up, the notes join into one note under the newer marker)."""
    merged = {**older, **{name: newer[name] for name in ("priority", "group_id", "assignee_id") if name in newer}}
    fields = {item["id"]: item for item in older.get("custom_fields", [])}
    fields.update({item["id"]: item for item in newer.get("custom_fields", [])})
    if fields:
        merged["custom_fields"] = list(fields.values())
    add = (set(older.get("additional_tags", ())) - set(newer.get("remove_tags", ()))) | set(newer.get("additional_tags", ()))
    remove = (set(older.get("remove_tags", ())) - set(newer.get("additional_tags", ()))) | set(newer.get("remove_tags", ()))
    for name, tags in (("additional_tags", add), ("remove_tags", remove)):
        if tags:
            merged[name] = sorted(tags)
        else:
            merged.pop(name, None)
    if newer.get("note"):
        earlier = older.get("note", "").removesuffix(f"\n\n(ref {older.get('marker')})")
        merged["note"] = f"{earlier}\n\n{newer['note']}" if earlier else newer["note"]
        merged["marker"] = newer["marker"]
    merged["merged_keys"] = [*older.get("merged_keys", []), newer_key]
    return merged
