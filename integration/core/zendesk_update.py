"""What the Zendesk ticket should carry, compared with what it carries: only the difference is written.

Zendesk allows 100 ticket updates a minute per account and 30 per ticket per 10 minutes, so an
update that would change nothing is never sent.
"""
from __future__ import annotations

import datetime as dt
import hashlib

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


def desired_update(mappings: Mappings, state: TicketState, sla: dict[Target, TargetStatus]) -> dict:
    update: dict = {}
    zendesk_name = mappings.priority.priority_to_zendesk[Priority(state.priority)]
    if state.zendesk_priority != zendesk_name:
        update["priority"] = zendesk_name
    fields = {name: pair for name, pair in desired_fields(mappings, state, sla).items()
              if state.written.get(name) != pair[1]}
    if fields:
        update["custom_fields"] = [{"id": fid, "value": value} for fid, value in fields.values()]
        update["fields_by_name"] = {name: value for name, (_, value) in fields.items()}
    add, remove = desired_tags(state, sla)
    if add:
        update["additional_tags"] = sorted(add)
    if remove:
        update["remove_tags"] = sorted(remove)
    update["has_changes"] = bool(update)
    return update


def merge_owner_fields(update: dict, owner_fields: dict, mappings: Mappings) -> dict:
    """Add an escalation step's reassignment, tag and priority raise to the SLA update (one API call)."""
    if not owner_fields:
        return update
    merged = dict(update)
    for name in ("group_id", "assignee_id"):
        if name in owner_fields:
            merged[name] = owner_fields[name]
    merged["additional_tags"] = sorted(set(merged.get("additional_tags", ())) | set(owner_fields["additional_tags"]))
    if "raise_priority" in owner_fields:
        merged["priority"] = mappings.priority.priority_to_zendesk[Priority(owner_fields["raise_priority"])]
    merged["has_changes"] = True
    return merged


def fetch_action(ticket_id: int, source_key: str) -> Action:
    """Read the ticket's authoritative state from the API (in the worker, never on the request path)."""
    digest = hashlib.sha256(source_key.encode()).hexdigest()[:24]
    return Action("zendesk", "fetch_ticket", {"ticket_id": ticket_id}, f"fetch-{ticket_id}-{digest}", LANE_SLA)


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
