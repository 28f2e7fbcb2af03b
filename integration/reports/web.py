"""GET /reports/<YYYY-MM>?org=ID&format=html|csv|json — the monthly report, for admins only; and
GET /reports/<YYYY-MM>/credits (same parameters) — the Service Credits Report for billing."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from integration.auth import admin_required
from integration.reports.figures import Month
from integration.reports.formats import FORMATS, file_name, media_type, render
from integration.reports.queries import load_credits_report, load_report, organization_known

blueprint = Blueprint("reports", __name__)


def _plain(text: str, status: int) -> Response:
    return Response(text + "\n", status=status, mimetype="text/plain")


@blueprint.get("/reports/<month>")
@admin_required
def monthly_report(month: str):
    return _report(month, "sla")


@blueprint.get("/reports/<month>/credits")
@admin_required
def credits_report(month: str):
    return _report(month, "credits")


def _report(month: str, kind: str):
    try:
        period = Month.parse(month)
    except ValueError as exc:
        return _plain(str(exc), 400)
    fmt = request.args.get("format", "html")
    if fmt not in FORMATS:
        return _plain(f"format must be one of {', '.join(FORMATS)}", 400)
    org_text = request.args.get("org")
    try:
        org = int(org_text) if org_text not in (None, "") else None
    except ValueError:
        return _plain(f"org must be a Zendesk organization id (a number), not {org_text!r}", 400)
    services = current_app.extensions["escalator.services"]
    now = services.now()
    if now < period.start:
        return _plain(f"{period} has not started yet: nothing to report", 400)
    mappings = services.mappings.current
    report = load_report(services.sessions, mappings, period, now, org)
    if not organization_known(mappings, report):
        return _plain(f"organization {org} is not in the mappings and has no tickets in {period}", 404)
    if kind == "credits":
        report = load_credits_report(services.sessions, mappings, report)
    response = Response(render(report, fmt), status=200, content_type=media_type(fmt))
    response.headers["Cache-Control"] = "no-store"  # billing figures behind a login: never cached
    if fmt != "html":
        response.headers["Content-Disposition"] = f'attachment; filename="{file_name(report, fmt)}"'
    return response
