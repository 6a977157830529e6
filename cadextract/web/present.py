"""Pure helpers the templates use: result tables, the throughput chart, short durations."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from markupsafe import Markup, escape

from cadextract import views
from cadextract.extractors import registry
from cadextract.web.reads import Minute

ROWS_LIMIT = 200
COLUMNS_LIMIT = 10


def result_tables(document: Mapping[str, Any] | None) -> dict[str, Any]:
    """The content of `cadextract result`: a summary, the detail rows, warnings."""
    if not document:
        return {"summary": {}, "columns": [], "rows": [], "total_rows": 0, "warnings": []}
    summary: dict[str, Any] = {}
    rows: list[Mapping[str, Any]] = []
    try:
        extractor = registry.get(str(document.get("format")))
        payload = document.get("payload", {})
        if extractor.summarize is not None:
            summary = dict(extractor.summarize(payload))
        if extractor.rows is not None:
            rows = list(extractor.rows(payload))
    except (registry.UnknownFormat, ImportError, KeyError, TypeError, ValueError):
        pass  # a plugin format or an old document: the JSON download still has everything
    columns: list[str] = []
    for r in rows[:ROWS_LIMIT]:
        for k in r:
            if k not in columns:
                columns.append(k)
    return {
        "summary": {k: cell(v) for k, v in summary.items()},
        "columns": columns[:COLUMNS_LIMIT],
        "rows": [[cell(r.get(c)) for c in columns[:COLUMNS_LIMIT]] for r in rows[:ROWS_LIMIT]],
        "total_rows": len(rows),
        "warnings": [str(w) for w in document.get("warnings", []) or []],
    }


def cell(value: Any) -> str:
    """One value as table text (escaped later by the template, like every string)."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, default=str)[:300]
    return str(value)


def chart(minutes: Sequence[Minute], *, width: int = 600, height: int = 110) -> Markup:
    """Jobs finished per minute over the last hour as inline SVG bars (failed stacked in red)."""
    top = max([m.completed + m.failed for m in minutes] + [1])
    bar = width / max(len(minutes), 1)
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height + 16}" role="img" '
        f'aria-label="jobs finished per minute, last hour">'
    ]
    for i, m in enumerate(minutes):
        x = i * bar
        ok_h = height * m.completed / top
        bad_h = height * m.failed / top
        label = escape(f"{m.at:%H:%M}: {m.completed} completed, {m.failed} failed")
        parts.append(f"<g><title>{label}</title>")
        parts.append(
            f'<rect x="{x + 1:.1f}" y="{height - ok_h:.1f}" width="{bar - 2:.1f}" '
            f'height="{ok_h:.1f}" fill="#3c8d5a"/>'
        )
        if m.failed:
            parts.append(
                f'<rect x="{x + 1:.1f}" y="{height - ok_h - bad_h:.1f}" width="{bar - 2:.1f}" '
                f'height="{bad_h:.1f}" fill="#c0392b"/>'
            )
        parts.append("</g>")
    parts.append(f'<line x1="0" y1="{height}" x2="{width}" y2="{height}" stroke="#999"/>')
    parts.append(f'<text x="0" y="{height + 13}" font-size="11" fill="#666">-60 min</text>')
    parts.append(
        f'<text x="{width}" y="{height + 13}" font-size="11" fill="#666" text-anchor="end">now</text>'
    )
    parts.append(f'<text x="2" y="11" font-size="11" fill="#666">{top}/min</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def ago(when: datetime | None) -> str:
    return views.ago(when, datetime.now(UTC)) if when else "-"


def duration(seconds: float | None) -> str:
    return "-" if seconds is None else views.duration(seconds)


def short(job_id: Any) -> str:
    return views.short_id(job_id)
