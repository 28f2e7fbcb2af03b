"""GET / (the live dashboard) and GET /api/dashboard (its data), admin only."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template, request

from integration.auth import admin_required
from integration.dashboard.data import dashboard

blueprint = Blueprint("dashboard", __name__, template_folder="templates")


def _data() -> dict:
    services = current_app.extensions["escalator.services"]
    with services.sessions() as session:
        return dashboard(session, services.mappings.current, services.now(), only=_only())


def _only() -> tuple[int, ...] | None:
    """?tickets=1,2,3 narrows the open tickets to those (a Slack digest links here); bad ids are ignored."""
    raw = request.args.get("tickets")
    if raw is None:
        return None
    return tuple(int(part) for part in raw.split(",") if part.strip().isdigit())[:500]


@blueprint.get("/")
@admin_required
def page():
    refresh = request.args.get("refresh", default=15, type=int)
    return render_template("dashboard.html", data=_data(), refresh=max(2, min(refresh or 15, 600)))


@blueprint.get("/api/dashboard")
@admin_required
def data():
    return jsonify(_data())
