"""One place that maps a format name to its renderer, media type and file name."""
from __future__ import annotations

from integration.reports import render_credits, render_csv, render_html, render_json
from integration.reports.credits_report import CreditsReport
from integration.reports.figures import Report

FORMATS = {
    "html": (render_html.render, "text/html; charset=utf-8"),
    "csv": (render_csv.render, "text/csv; charset=utf-8"),
    "json": (render_json.render, "application/json"),
}


CREDIT_RENDERERS = {"html": render_credits.render_html, "csv": render_credits.render_csv,
                    "json": render_credits.render_json}
KINDS = ("sla", "credits")


def render(report: Report | CreditsReport, fmt: str) -> str:
    if isinstance(report, CreditsReport):
        return CREDIT_RENDERERS[fmt](report)
    return FORMATS[fmt][0](report)


def media_type(fmt: str) -> str:
    return FORMATS[fmt][1]


def file_name(report: Report | CreditsReport, fmt: str) -> str:
    org = f"-org{report.organization_id}" if report.organization_id is not None else ""
    kind = "credits" if isinstance(report, CreditsReport) else "sla"
    return f"escalator-{kind}-report-{report.month}{org}.{fmt}"
