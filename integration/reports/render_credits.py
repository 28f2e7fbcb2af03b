"""The Service Credits Report as HTML, CSV or JSON: amounts with two decimals, in each organization's fee currency."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal
from html import escape

from integration.reports.credits import NO_FEE, money
from integration.reports.credits_report import COLUMNS, CreditsReport, CreditsRow
from integration.reports.render_html import STYLE

TITLE = "Service Credits Report"
NOTES = (
    "Earned: the SLA report's service credit for the organization (2% of the monthly fee per started hour of "
    "first-response delay, capped at 25%), for tickets created in the month (UTC), as of the report.",
    "Requested: the amount stored with the organization's credit request for the month (one per month).",
    "Approved, denied, applied: that amount in the column of the request's outcome as of the report; "
    "applied means it is on an invoice. Outstanding: approved and not yet applied.",
    "Earned and not requested is not owed: credits are applied upon request.",
)
CSV_COLUMNS = ("month", "as_of", "organization_id", "name", "tier", *COLUMNS, "late_first_responses",
               "earned_provisional", "request_id", "status", "requested_at", "decided_at", "apply_due",
               "applied_at", "invoice", "denial_reason")


def _iso(value: dt.datetime | None) -> str:
    return "" if value is None else value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _amount(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def _row_dict(row: CreditsRow) -> dict:
    request = row.request
    return {
        "organization_id": row.organization_id, "name": row.name, "tier": row.tier,
        **{column: _amount(row.amount_in(column)) for column in COLUMNS},
        "late_first_responses": row.late_first_responses, "earned_provisional": row.provisional,
        "request": None if request is None else {
            "id": request.id, "status": request.status, "requested_at": _iso(request.requested_at),
            "decided_at": _iso(request.decided_at) or None, "apply_due": _iso(request.apply_due) or None,
            "applied_at": _iso(request.applied_at) or None, "invoice": request.invoice,
            "denial_reason": request.reason},
    }


def render_json(report: CreditsReport) -> str:
    body = {"report": TITLE, "month": str(report.month), "organization_filter": report.organization_id,
            "as_of": _iso(report.as_of), "audience": "billing team",
            "organizations": [_row_dict(r) for r in report.rows],
            "total": {column: _amount(report.total(column)) for column in COLUMNS},
            "notes": list(NOTES)}
    return json.dumps(body, indent=2, ensure_ascii=False) + "\n"


def render_csv(report: CreditsReport) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in report.rows:
        data = _row_dict(row)
        request = data.pop("request") or {}
        writer.writerow({"month": str(report.month), "as_of": _iso(report.as_of), **data,
                         "earned": data["earned"] or NO_FEE, "tier": row.tier or "",
                         "earned_provisional": "yes" if row.provisional else "no",
                         "request_id": request.get("id", ""), "status": request.get("status", "not requested"),
                         **{k: request.get(k) or "" for k in ("requested_at", "decided_at", "apply_due",
                                                              "applied_at", "invoice")},
                         "denial_reason": request.get("denial_reason") or ""})
    writer.writerow({"month": str(report.month), "as_of": _iso(report.as_of), "name": "Total",
                     **{column: f"{report.total(column):.2f}" for column in COLUMNS}})
    return out.getvalue()


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def render_html(report: CreditsReport) -> str:
    head = "".join(f"<th>{_e(c.capitalize())}</th>" for c in COLUMNS)
    lines = []
    for row in report.rows:
        request = row.request
        status = "not requested" if request is None else f"#{request.id} {request.status}"
        if request is not None and request.invoice:
            status += f" (invoice {request.invoice})"
        if request is not None and request.reason:
            status += f": {request.reason}"
        cells = "".join(f"<td>{_e(money(row.amount_in(c)))}</td>" for c in COLUMNS)
        lines.append(f"<tr><td>{_e(row.name)} <span class=\"small\">{row.organization_id}</span></td>{cells}"
                     f"<td>{_e(status)}</td></tr>")
    totals = "".join(f"<td><strong>{_e(money(report.total(c)))}</strong></td>" for c in COLUMNS)
    table = (f"<table><thead><tr><th>Organization</th>{head}<th>Request</th></tr></thead><tbody>{''.join(lines)}"
             f"<tr><td><strong>Total</strong></td>{totals}<td></td></tr></tbody></table>")
    notes = "".join(f"<li>{_e(n)}</li>" for n in NOTES)
    return (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{TITLE} — {report.month.label}"
            f"</title><style>{STYLE}</style></head><body><h1>{TITLE} — {_e(report.month.label)}</h1>"
            f"<p class=\"billing\">For the billing team: credits earned, requested and where each request stands, "
            f"as of {_iso(report.as_of)}.</p>{table}<h2>How the figures are made</h2><ul>{notes}</ul>"
            "</body></html>\n")
