"""One place that maps a format name to its renderer, media type and file name."""
from __future__ import annotations

from integration.reports import render_csv, render_html, render_json
from integration.reports.figures import Report

FORMATS = {
    "html": (render_html.render, "text/html; charset=utf-8"),
    "csv": (render_csv.render, "text/csv; charset=utf-8"),
    "json": (render_json.render, "application/json"),
}


def render(report: Report, fmt: str) -> str:
    return FORMATS[fmt][0](report)


def media_type(fmt: str) -> str:
    return FORMATS[fmt][1]


def file_name(report: Report, fmt: str) -> str:
    org = f"-org{report.organization_id}" if report.organization_id is not None else ""
    return f"escalator-sla-report-{report.month}{org}.{fmt}"
