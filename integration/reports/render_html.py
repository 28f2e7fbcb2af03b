"""The report as one self-contained HTML page: inline CSS and inline SVG charts, nothing fetched, no script."""
from __future__ import annotations

from html import escape

from integration.reports import svg
from integration.reports.figures import BUCKETS, LEVELS, NOTES, Group, Report, TargetStats
from integration.reports.stats import hmm, pct
from integration.reports.credits import NO_FEE, OrgCredit, money

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2937; margin: 2rem; max-width: 1200px; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { margin-top: 2rem; border-bottom: 1px solid #e5e7eb; }
.scope { background: #f3f4f6; padding: .6rem .9rem; border-left: 4px solid #2b6cb0; }
.billing { background: #fffbeb; padding: .6rem .9rem; border-left: 4px solid #d97706; }
table { border-collapse: collapse; margin: .6rem 0 1rem; font-size: .9rem; }
th, td { border: 1px solid #e5e7eb; padding: .3rem .5rem; text-align: right; vertical-align: top; }
th:first-child, td:first-child { text-align: left; } thead th { background: #f9fafb; }
thead th[colspan] { text-align: center; }
td.na { color: #6b7280; font-style: italic; } .small { color: #6b7280; font-size: .85rem; }
figure { margin: 1rem 0; } figcaption { font-size: .85rem; color: #4b5563; }
"""


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def render(report: Report) -> str:
    title = f"SLA report — {report.month.label}"
    if report.organization_id is not None:
        title += f" — {report.organizations[0].name if report.organizations else report.organization_id}"
    body = [
        f"<h1>{_e(title)}</h1>",
        f'<p class="scope"><strong>Scope:</strong> {_e(report.scope)} '
        f"{report.total.tickets} ticket(s). All times are business time on each customer's SLA calendar; "
        "instants are UTC.</p>",
        '<p class="billing"><strong>For the billing team.</strong> Service credits for late first responses are '
        "applied <em>upon request</em> (the SLA's Support Response credit): check a customer's request against the "
        "credits table below. 2% of the monthly fee per hour of delay, partial hours rounded up to the next whole "
        "hour, capped at 25% of the monthly fee per month.</p>",
        "<h2>Summary by tier</h2>", _summary_table([report.total, *report.tiers], "Tier"),
        "<h2>Summary by organization</h2>", _summary_table(list(report.organizations), "Organization"),
        "<h2>Charts</h2>", _charts(report),
        "<h2>Escalations by level</h2>", _escalations([report.total, *report.tiers, *report.organizations]),
        "<h2>Customer satisfaction</h2>", _csat([report.total, *report.tiers, *report.organizations]),
        "<h2>First contact resolution</h2>", _fcr([report.total, *report.tiers, *report.organizations]),
        "<h2>Excluded from the SLA</h2>", _excluded(report),
        "<h2>Service credits</h2>", _credits(report.credits),
        "<h2>How the figures are made</h2>",
        "<ul>" + "".join(f"<li>{_e(note)}</li>" for note in NOTES) + "</ul>",
        f'<p class="small">Mappings fingerprint {_e(report.mappings_fingerprint[:12] or "—")}; '
        f"as of {report.as_of:%Y-%m-%d %H:%M:%S} UTC.</p>",
    ]
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{_e(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
            + "\n".join(body) + "\n</body>\n</html>\n")


def _summary_table(groups: list[Group], first_column: str) -> str:
    if not groups:
        return '<p class="small">No tickets.</p>'
    head = (f"<thead><tr><th rowspan=\"2\">{first_column}</th><th rowspan=\"2\">Tickets</th>"
            "<th colspan=\"6\">First response</th><th colspan=\"6\">Resolution</th></tr><tr>"
            + "<th>Compliance</th><th>Met</th><th>Breached</th><th>Open</th><th>Median</th><th>p90</th>" * 2
            + "</tr></thead>")
    rows = []
    for g in groups:
        label = g.name + (f" ({g.tier})" if g.kind == "organization" and g.tier else "")
        rows.append(f"<tr><td>{_e(label)}</td><td>{g.tickets}</td>{_target_cells(g.first_response)}"
                    f"{_target_cells(g.resolution)}</tr>")
    return f"<table>{head}<tbody>{''.join(rows)}</tbody></table>"


def _target_cells(stats: TargetStats) -> str:
    return (f"<td>{_e(pct(stats.compliance_pct))}</td><td>{stats.met}</td><td>{stats.breached}</td>"
            f"<td>{stats.open}</td><td>{hmm(stats.median_seconds)}</td><td>{hmm(stats.p90_seconds)}</td>")


def _charts(report: Report) -> str:
    def rows(groups):
        return [(g.name, g.first_response.compliance_pct, _detail(g.first_response), g.resolution.compliance_pct,
                 _detail(g.resolution)) for g in groups]

    labels = [label for _, label in BUCKETS]
    parts = [
        _figure(svg.compliance_bars("chart-tiers", f"Compliance by tier, {report.month.label}", rows(report.tiers)),
                "Share of decided targets met, per tier."),
        _figure(svg.compliance_bars("chart-orgs", f"Compliance by organization, {report.month.label}",
                                    rows(report.organizations)),
                "Share of decided targets met, per organization."),
        _figure(svg.histogram("chart-times", f"Response and resolution times, {report.month.label}", labels,
                              report.total.first_response.histogram, report.total.resolution.histogram),
                "How many first responses and resolutions took how long (business time)."),
    ]
    return "\n".join(parts)


def _figure(chart: str, caption: str) -> str:
    return f"<figure>{chart}<figcaption>{_e(caption)}</figcaption></figure>"


def _detail(stats: TargetStats) -> str:
    return f"{stats.met} met of {stats.met + stats.breached} decided, {stats.open} open"


def _escalations(groups: list[Group]) -> str:
    head = "<thead><tr><th>Group</th>" + "".join(f"<th>Level {level}</th>" for level in LEVELS) + "</tr></thead>"
    rows = "".join(f"<tr><td>{_e(g.name)}</td>" + "".join(f"<td>{g.escalations.get(level, 0)}</td>"
                                                           for level in LEVELS) + "</tr>" for g in groups)
    return (f"<table>{head}<tbody>{rows}</tbody></table><p class=\"small\">Level 2 Support Manager (first response "
            "breached), 3 Customer Success (resolution breached), 4 VP Customer Success (customer dissatisfied), "
            "5 CRO/CEO (executive complaint).</p>")


def _csat(groups: list[Group]) -> str:
    head = ("<thead><tr><th>Group</th><th>Slack average (1–5)</th><th>Slack ratings</th>"
            "<th>Zendesk % good</th><th>Good</th><th>Bad</th><th>Follow-ups met</th><th>missed</th><th>open</th>"
            "</tr></thead>")
    rows = []
    for g in groups:
        c = g.csat
        average = "—" if c.slack_average is None else f"{c.slack_average} / 5"
        rows.append(f"<tr><td>{_e(g.name)}</td><td>{average}</td><td>{c.slack_count}</td>"
                    f"<td>{_e(pct(c.zendesk_good_pct))}</td><td>{c.zendesk_good}</td><td>{c.zendesk_bad}</td>"
                    + "".join(f"<td>{(g.follow_ups or {}).get(k, 0)}</td>" for k in ("met", "missed", "open"))
                    + "</tr>")
    return f"<table>{head}<tbody>{''.join(rows)}</tbody></table>"


def _fcr(groups: list[Group]) -> str:
    head = "<thead><tr><th>Group</th><th>Solved</th><th>At first contact</th><th>FCR</th></tr></thead>"
    rows = "".join(f"<tr><td>{_e(g.name)}</td><td>{g.fcr.solved}</td><td>{g.fcr.first_contact}</td>"
                   f"<td>{_e(pct(g.fcr.pct))}</td></tr>" for g in groups if g.fcr is not None)
    return (f"<table>{head}<tbody>{rows}</tbody></table><p class=\"small\">Solved with exactly one public agent "
            "reply and no customer comment after it; the seed calls 70–80% good.</p>")


def _excluded(report: Report) -> str:
    if not report.excluded:
        return '<p class="small">No excluded tickets.</p>'
    rows = "".join(f"<tr><td>#{t.id}</td><td>{_e(t.organization_id or '—')}</td><td>{_e(t.tier)}</td>"
                   f"<td>{t.created_at:%Y-%m-%d %H:%M}</td><td>{_e((t.excluded or '').replace('_', ' '))}</td></tr>"
                   for t in report.excluded)
    head = ("<thead><tr><th>Ticket</th><th>Organization</th><th>Tier</th><th>Created (UTC)</th><th>Reason</th>"
            "</tr></thead>")
    return (f"<table>{head}<tbody>{rows}</tbody></table><p class=\"small\">Left out of every figure above and of "
            "service credits.</p>")


def _credits(credits: tuple[OrgCredit, ...]) -> str:
    if not credits:
        return '<p class="small">No organizations in scope.</p>'
    head = ("<thead><tr><th>Organization</th><th>Monthly fee</th><th>Late first responses</th><th>Hours</th>"
            "<th>Uncapped</th><th>Cap (25%)</th><th>Credit</th></tr></thead>")
    rows, details = [], []
    for c in credits:
        note = " (capped)" if c.capped else ""
        note += " (provisional: a first response is still not given)" if c.provisional else ""
        if c.credit is None:
            cells = f'<td class="na">{NO_FEE}</td><td>{len(c.lines)}</td><td>{c.hours}</td>' \
                    f'<td class="na">n/a</td><td class="na">n/a</td><td class="na">{NO_FEE}</td>'
        else:
            cells = (f"<td>{money(c.monthly_fee)}</td><td>{len(c.lines)}</td><td>{c.hours}</td>"
                     f"<td>{money(c.uncapped)}</td><td>{money(c.cap)}</td><td><strong>{money(c.credit)}</strong>"
                     f"{_e(note)}</td>")
        rows.append(f"<tr><td>{_e(c.name)}</td>{cells}</tr>")
        for line in c.lines:
            d = line.delay
            details.append(f"<tr><td>{_e(c.name)}</td><td>#{d.ticket_id}</td><td>{d.created_at:%Y-%m-%d %H:%M}</td>"
                           f"<td>{hmm(d.target_seconds)}</td><td>{hmm(d.elapsed_seconds)}</td>"
                           f"<td>{hmm(d.delay_seconds)}</td><td>{d.hours}</td>"
                           f"<td>{money(line.amount) if line.amount is not None else NO_FEE}</td>"
                           f"<td>{'final' if d.final else 'provisional'}</td></tr>")
    table = f"<table>{head}<tbody>{''.join(rows)}</tbody></table>"
    if not details:
        return table + '<p class="small">No late first responses.</p>'
    detail_head = ("<thead><tr><th>Organization</th><th>Ticket</th><th>Created (UTC)</th><th>Target</th>"
                   "<th>First response took</th><th>Delay</th><th>Hours</th><th>2% × hours</th><th>Status</th>"
                   "</tr></thead>")
    return (table + "<h3>Late first responses</h3>"
            + f"<table>{detail_head}<tbody>{''.join(details)}</tbody></table>")
