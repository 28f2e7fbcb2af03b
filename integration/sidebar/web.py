"""The Zendesk app's API: GET /api/v1/tickets/<id>/sla, GET /api/v1/queue, POST /api/v1/tickets/<id>/acknowledge.

Authenticated by an API token (`escalator api-token create`) that the app sends through Zendesk's proxy as a
secure setting, so agents' browsers never hold it. Unknown ticket: 404; missing, wrong or revoked token: 401.
"""
from __future__ import annotations

import functools
import logging

from flask import Blueprint, current_app, jsonify, request

from integration.core.signals import TicketSignal
from integration.dashboard.data import open_tickets
from integration.sidebar.data import sidebar
from integration.storage import api_tokens

log = logging.getLogger("escalator.api")
blueprint = Blueprint("sidebar_api", __name__, url_prefix="/api/v1")


def _services():
    return current_app.extensions["escalator.services"]


def _error(status: int, message: str, **headers):
    response = jsonify(error=message)
    response.status_code = status
    response.headers.update(headers)
    return response


def token_required(view):
    @functools.wraps(view)
    def guarded(*args, **kwargs):
        scheme, _, presented = (request.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not presented.strip():
            return _error(401, "send Authorization: Bearer <token> (escalator api-token create)",
                          **{"WWW-Authenticate": 'Bearer realm="escalator"'})
        services = _services()
        with services.sessions.begin() as session:
            token = api_tokens.authenticate(session, presented.strip(), services.now())
        if token is None:
            log.warning("refused an API request with an unknown or revoked token from %s", request.remote_addr)
            return _error(401, "unknown or revoked token",
                          **{"WWW-Authenticate": 'Bearer realm="escalator", error="invalid_token"'})
        return view(*args, **kwargs)

    return guarded


@blueprint.after_request
def _no_store(response):
    response.headers["Cache-Control"] = "no-store"  # always live: a cached SLA state would be a stale one
    return response


@blueprint.get("/tickets/<int:ticket_id>/sla")
@token_required
def ticket_sla(ticket_id: int):
    services = _services()
    with services.sessions() as session:
        view = sidebar(session, services.mappings.current, ticket_id, services.now())
    if view is None:
        return _error(404, f"ticket {ticket_id} is not known to Escalator")
    return jsonify(view)


@blueprint.post("/tickets/<int:ticket_id>/acknowledge")
@token_required
def acknowledge(ticket_id: int):
    """Acknowledge the current escalation step, exactly as Slack's Acknowledge button does."""
    services = _services()
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return _error(400, 'send a JSON object: {"level": N, "user": {"id": ZENDESK_USER_ID, "name": NAME}}')
    user = body.get("user") if isinstance(body.get("user"), dict) else {}
    user_id, name = str(user.get("id") or "").strip()[:32], str(user.get("name") or "").strip()[:80]
    level = body.get("level")
    if not user_id or type(level) is not int:
        return _error(400, "level (an integer) and user.id are required")
    with services.sessions() as session:
        view = sidebar(session, services.mappings.current, ticket_id, services.now())
    if view is None:
        return _error(404, f"ticket {ticket_id} is not known to Escalator")
    if (view["acknowledge"] or {}).get("level") != level:
        return _error(409, f"ticket {ticket_id} has no unacknowledged step at level {level}")
    actor = f"{name} (Zendesk user {user_id})" if name else f"Zendesk user {user_id}"
    signal = TicketSignal(ticket_id=ticket_id, kind="acknowledge", at=None, actor=actor, ack_level=level)
    result = services.ingestor.ingest(source="zendesk_app", dedup_key=f"ack:{ticket_id}:{level}:{user_id}",
                                      event_type="acknowledge", payload={"ticket_id": ticket_id, "level": level,
                                                                         "user": {"id": user_id, "name": name}},
                                      signal=signal)
    with services.sessions() as session:
        view = sidebar(session, services.mappings.current, ticket_id, services.now())
    return jsonify(outcome=result.outcome, ticket=view)


@blueprint.get("/queue")
@token_required
def queue():
    """The dashboard's open tickets, nearest breach first, optionally one tier, organization or level."""
    services = _services()
    mappings = services.mappings.current
    tier = request.args.get("tier") or None
    if tier is not None and tier not in mappings.tiers:
        return _error(400, f"unknown tier {tier!r}; known: {', '.join(sorted(mappings.tiers))}")
    organization = _organization(mappings, request.args.get("organization") or None)
    if organization is False:
        return _error(400, "organization: a Zendesk organization id, a mapped organization's name, or 'unmapped'")
    level = request.args.get("level") or None
    levels = mappings.escalation.levels
    if level is not None and not (level.isdigit() and 1 <= int(level) <= max(len(levels), 1)):
        return _error(400, f"level: 1 to {max(len(levels), 1)}")
    with services.sessions() as session:
        tickets = open_tickets(session, mappings, services.now(), tier=tier, organization=organization,
                               level=int(level) if level else None)
    return jsonify(now=services.now().isoformat(), tickets=tickets, filters={
        "tiers": sorted(mappings.tiers),
        "organizations": [{"id": o.zendesk_id, "name": o.name or str(o.zendesk_id)} for o in mappings.organizations]
        + [{"id": "unmapped", "name": "unmapped"}],
        "levels": [{"level": o.level, "role": o.role} for o in levels]})


def _organization(mappings, raw: str | None):
    if raw is None:
        return None
    if raw == "unmapped":
        return raw
    if raw.isdigit():
        return int(raw)
    for org in mappings.organizations:
        if org.name and org.name.casefold() == raw.strip().casefold():
            return org.zendesk_id
    return False
