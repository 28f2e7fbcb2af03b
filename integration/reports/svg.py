"""Inline SVG charts, generated here (no script, no fetched library). Each chart has a <title> and <desc>
(read by screen readers through aria-labelledby) and every bar its own <title> with the exact figures."""
from __future__ import annotations

from decimal import Decimal
from html import escape

FIRST_COLOR, RESOLUTION_COLOR, AXIS_COLOR, TEXT_COLOR = "#2b6cb0", "#d97706", "#9ca3af", "#1f2937"


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _open(chart_id: str, width: int, height: int, title: str, desc: str) -> list[str]:
    return [f'<svg role="img" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" aria-labelledby="{chart_id}-title {chart_id}-desc" '
            f'font-family="system-ui, sans-serif" font-size="12">',
            f'<title id="{chart_id}-title">{_e(title)}</title>',
            f'<desc id="{chart_id}-desc">{_e(desc)}</desc>']


def compliance_bars(chart_id: str, title: str, rows: list[tuple[str, Decimal | None, str, Decimal | None, str]]
                    ) -> str:
    """Rows of (label, first-response %, its detail, resolution %, its detail): two horizontal bars per row."""
    label_w, bar_w, row_h, top = 170, 400, 40, 34
    width, height = label_w + bar_w + 70, top + row_h * max(len(rows), 1) + 24
    desc = "; ".join(f"{label}: first response {_pct(fr)}, resolution {_pct(res)}" for label, fr, _, res, _ in rows)
    parts = _open(chart_id, width, height, title, desc or "no tickets")
    parts += _legend(label_w, 14)
    for tick in (0, 25, 50, 75, 100):
        x = label_w + bar_w * tick / 100
        parts.append(f'<line x1="{x:.1f}" y1="{top - 6}" x2="{x:.1f}" y2="{height - 20}" stroke="{AXIS_COLOR}" '
                     f'stroke-width="0.5"/>')
        parts.append(f'<text x="{x:.1f}" y="{height - 6}" text-anchor="middle" fill="{TEXT_COLOR}">{tick}%</text>')
    for i, (label, fr, fr_detail, res, res_detail) in enumerate(rows):
        y = top + i * row_h
        parts.append(f'<text x="{label_w - 8}" y="{y + 18}" text-anchor="end" fill="{TEXT_COLOR}">{_e(label)}</text>')
        for j, (value, detail, color, name) in enumerate(((fr, fr_detail, FIRST_COLOR, "first response"),
                                                          (res, res_detail, RESOLUTION_COLOR, "resolution"))):
            bar_y = y + 3 + j * 16
            tip = f"{label}, {name}: {_pct(value)} ({detail})"
            if value is None:
                parts.append(f'<text x="{label_w + 4}" y="{bar_y + 11}" fill="{TEXT_COLOR}" font-style="italic">'
                             f'<title>{_e(tip)}</title>no decided targets</text>')
                continue
            w = bar_w * float(value) / 100
            parts.append(f'<rect x="{label_w}" y="{bar_y}" width="{w:.1f}" height="14" fill="{color}">'
                         f'<title>{_e(tip)}</title></rect>')
            parts.append(f'<text x="{label_w + w + 4:.1f}" y="{bar_y + 11}" fill="{TEXT_COLOR}">{_e(_pct(value))}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def histogram(chart_id: str, title: str, labels: list[str], first: tuple[int, ...], resolution: tuple[int, ...]
              ) -> str:
    """Counts per time bucket, first response and resolution side by side."""
    left, plot_h, top, col_w = 36, 160, 34, 64
    width, height = left + col_w * len(labels) + 10, top + plot_h + 40
    peak = max([*first, *resolution, 1])
    desc = "; ".join(f"{label}: {f} first responses, {r} resolutions" for label, f, r in zip(labels, first, resolution))
    parts = _open(chart_id, width, height, title, desc)
    parts += _legend(left, 14)
    base = top + plot_h
    for step in sorted({0, peak // 2, peak}):
        y = base - plot_h * step / peak
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}" stroke="{AXIS_COLOR}" '
                     f'stroke-width="0.5"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="{TEXT_COLOR}">{step}</text>')
    for i, label in enumerate(labels):
        x = left + i * col_w + 8
        for j, (count, color, name) in enumerate(((first[i], FIRST_COLOR, "first responses"),
                                                  (resolution[i], RESOLUTION_COLOR, "resolutions"))):
            h = plot_h * count / peak
            parts.append(f'<rect x="{x + j * 24}" y="{base - h:.1f}" width="22" height="{h:.1f}" fill="{color}">'
                         f'<title>{_e(f"{label}: {count} {name}")}</title></rect>')
        parts.append(f'<text x="{x + 23}" y="{base + 16}" text-anchor="middle" fill="{TEXT_COLOR}">{_e(label)}</text>')
    parts.append(f'<text x="{left}" y="{height - 4}" fill="{TEXT_COLOR}">business time, clocks that have stopped</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def _legend(x: int, y: int) -> list[str]:
    return [f'<rect x="{x}" y="{y - 10}" width="12" height="12" fill="{FIRST_COLOR}"/>',
            f'<text x="{x + 16}" y="{y}" fill="{TEXT_COLOR}">first response</text>',
            f'<rect x="{x + 120}" y="{y - 10}" width="12" height="12" fill="{RESOLUTION_COLOR}"/>',
            f'<text x="{x + 136}" y="{y}" fill="{TEXT_COLOR}">resolution</text>']


def _pct(value: Decimal | None) -> str:
    return "n/a" if value is None else f"{value}%"
