"""`cadextract result`: what one file says, as tables an engineer reads (not JSON dumps).

Per format: DXF layers, dimensions (type, measured value, text), texts and inserts; IFC
classes by count and, with detail=full, one property panel per element; STEP solids with
units; PDF pages. Long lists stop at ``limit`` and say how to see more; repeated
warnings are grouped and counted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rich import box
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table

from cadextract.display import safe_text
from cadextract.fmt import number, unit_name, unit_symbol

MORE = "--limit N or --all for more"


def value_text(key: str, value: Any, *, unit: str | None = None, scale: float | None = None) -> str:
    """One cell: numbers with sensible precision and (for lengths, areas, volumes) a unit."""
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        text = number(value, scale=scale)
    elif isinstance(value, int):
        text = f"{value:,}" if abs(value) >= 10000 else str(value)
    elif key.endswith(("unit", "units")):
        return unit_name(str(value)) or "-"
    else:
        return str(value)
    symbol = unit_symbol(unit)
    if symbol and text != "0":
        if "volume" in key:
            return f"{text} {symbol}³"
        if "area" in key:
            return f"{text} {symbol}²"
        if key.startswith(("bbox_", "com_", "extents_")) or key in ("x", "y", "height", "value"):
            return f"{text} {symbol}"
    return text


def summary_table(summary: Mapping[str, Any], *, unit: str | None) -> Table:
    table = Table(title="summary", box=box.SIMPLE_HEAD, title_justify="left", show_header=False)
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for key, value in summary.items():
        table.add_row(key, safe_text(value_text(key, value, unit=unit)))
    return table


def _title(name: str, total: int, shown: int) -> str:
    return f"{name} ({total})" if shown >= total else f"{name} (first {shown} of {total}; {MORE})"


def list_table(
    name: str,
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    *,
    limit: int | None,
    unit: str | None = None,
    wrap: Sequence[str] = (),  # kept for call sites: every text column may wrap
) -> Table:
    """A titled table of the first ``limit`` rows (None: all), numbers formatted."""
    shown = list(rows if limit is None else rows[:limit])
    title = _title(name, len(rows), len(shown))
    table = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left", min_width=len(title))
    for c in columns:
        numeric = any(isinstance(r.get(c), (int, float)) and not isinstance(r.get(c), bool) for r in shown)
        table.add_column(c, justify="right" if numeric else "left", overflow="fold", no_wrap=numeric)
    scale = max((abs(r[c]) for r in shown for c in columns if isinstance(r.get(c), float)), default=None)
    for r in shown:
        table.add_row(*[safe_text(value_text(c, r.get(c), unit=unit, scale=scale)) for c in columns])
    return table


def grouped_warnings(warnings: Iterable[str]) -> list[tuple[str, int]]:
    """Warnings that differ only in numbers or handles, as (first example, count), most first."""
    groups: dict[str, list[Any]] = {}
    for w in warnings:
        key = re.sub(r"\b(?=[0-9A-Fa-f]*\d)[0-9A-Fa-f.]+\b", "#", w)
        entry = groups.setdefault(key, [w, 0])
        entry[1] += 1
    return sorted(((str(w), int(n)) for w, n in groups.values()), key=lambda x: -x[1])


def warnings_view(warnings: Sequence[str]) -> RenderableType:
    table = Table(title=f"warnings ({len(warnings)})", box=box.SIMPLE_HEAD, title_justify="left")
    table.add_column("count", justify="right", style="yellow")
    table.add_column("warning (first of its kind)", overflow="fold")
    for text, n in grouped_warnings(warnings):
        table.add_row(str(n), safe_text(text))
    return table


def _dxf(p: Mapping[str, Any], limit: int | None) -> list[RenderableType]:
    unit = p.get("units")
    layers = sorted(p.get("layers") or [], key=lambda layer: str(layer.get("name")))
    layer_rows = [
        {
            "name": la.get("name"),
            "on": la.get("on"),
            "frozen": la.get("frozen"),
            "locked": la.get("locked"),
            "colour": la.get("color"),
            "linetype": la.get("linetype"),
            "entities": la.get("entity_count"),
        }
        for la in layers
    ]
    dims = [
        {
            "type": d.get("type"),
            "measured": d.get("measurement"),
            "text": d.get("text_override") or d.get("display_text"),
            "layer": d.get("layer"),
            "layout": d.get("layout"),
            "handle": d.get("handle"),
        }
        for d in p.get("dimensions") or []
    ]
    texts = [
        {
            "type": t.get("type"),
            "text": t.get("text"),
            "height": t.get("height"),
            "layer": t.get("layer"),
            "layout": t.get("layout"),
        }
        for t in p.get("texts") or []
    ]
    inserts = [
        {
            "block": i.get("block"),
            "attributes": "; ".join(f"{k}={v}" for k, v in (i.get("attribs") or {}).items()) or None,
            "layer": i.get("layer"),
            "layout": i.get("layout"),
        }
        for i in p.get("inserts") or []
    ]
    out: list[RenderableType] = [
        list_table("layers", layer_rows, list(layer_rows[0]) if layer_rows else ["name"], limit=limit)
    ]
    if dims:
        out.append(list_table("dimensions", dims, list(dims[0]), limit=limit, unit=unit, wrap=["text"]))
    if texts:
        out.append(list_table("texts", texts, list(texts[0]), limit=limit, unit=unit, wrap=["text"]))
    if inserts:
        out.append(list_table("inserts", inserts, list(inserts[0]), limit=limit, wrap=["attributes"]))
    return out


def _ifc(p: Mapping[str, Any], limit: int | None) -> list[RenderableType]:
    by_class = sorted((p.get("elements_by_class") or {}).items(), key=lambda kv: (-kv[1], kv[0]))
    classes = [{"class": c, "count": n} for c, n in by_class]
    out: list[RenderableType] = [list_table("elements by class", classes, ["class", "count"], limit=limit)]
    elements = p.get("elements")
    if elements:
        shown = elements if limit is None else elements[:limit]
        panels = [element_panel(e) for e in shown]
        out.append(safe_text(_title("elements", len(elements), len(shown)), style="bold"))
        out.extend(panels)
    return out


def element_panel(e: Mapping[str, Any]) -> Panel:
    """One IFC element like a property panel: identity, then 'Pset / property  value' lines."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for key in ("global_id", "type_name", "storey", "container"):
        if e.get(key):
            grid.add_row(key, safe_text(str(e[key])))
    if e.get("materials"):
        grid.add_row("materials", safe_text("; ".join(map(str, e["materials"]))))
    for group in ("property_sets", "quantity_sets"):
        for set_name, props in sorted((e.get(group) or {}).items()):
            grid.add_row(safe_text(set_name, style="cyan"), "")
            for prop, value in (props or {}).items():
                shown = value_text(prop, value) if not isinstance(value, (dict, list)) else str(value)
                grid.add_row(safe_text(f"  {prop}"), safe_text(shown))
    title = f"{e.get('ifc_class')}  {e.get('name') or ''}".strip()
    return Panel(grid, title=safe_text(title), title_align="left", box=box.ROUNDED, expand=False)


def _step(p: Mapping[str, Any], limit: int | None) -> list[RenderableType]:
    unit = p.get("length_unit")
    solids = []
    for s in p.get("solids") or []:
        bbox = s.get("bbox") or {}
        com = s.get("center_of_mass") or [None, None, None]
        solids.append(
            {
                "name": s.get("name"),
                "path": s.get("path"),
                "volume": s.get("volume"),
                "surface_area": s.get("surface_area"),
                "bbox_dx": bbox.get("dx"),
                "bbox_dy": bbox.get("dy"),
                "bbox_dz": bbox.get("dz"),
                "com_x": com[0],
                "com_y": com[1],
                "com_z": com[2],
                "faces": s.get("faces"),
            }
        )
    return [list_table("solids", solids, list(solids[0]) if solids else ["name"], limit=limit, unit=unit)]


def details(
    fmt: str, payload: Mapping[str, Any], rows: Sequence[Mapping[str, Any]], limit: int | None
) -> list[RenderableType]:
    """The per-format sections below the summary."""
    if fmt == "dxf":
        return _dxf(payload, limit)
    if fmt == "ifc":
        return _ifc(payload, limit)
    if fmt == "step":
        return _step(payload, limit)
    if not rows:
        return []
    columns: list[str] = []
    for r in rows:
        columns += [k for k in r if k not in columns and r.get(k) not in (None, "")]
    return [list_table("pages" if fmt == "pdf" else "details", rows, columns, limit=limit)]


def result_view(
    *,
    path: str,
    job_id: str,
    document: Mapping[str, Any],
    summary: Mapping[str, Any] | None,
    rows: Sequence[Mapping[str, Any]],
    limit: int | None,
) -> RenderableType:
    """The whole `result` screen for one file."""
    payload = document.get("payload") or {}
    fmt = str(document.get("format"))
    unit = payload.get("length_unit") or payload.get("units")
    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold")
    head.add_column(overflow="fold")
    head.add_row("file", safe_text(path))
    head.add_row("format", fmt)
    head.add_row("job", job_id)
    parts: list[RenderableType] = [head]
    if summary:
        parts.append(summary_table(summary, unit=unit if isinstance(unit, str) else None))
    parts.extend(details(fmt, payload, rows, limit))
    if document.get("warnings"):
        parts.append(warnings_view([str(w) for w in document["warnings"]]))
    return Group(*parts)
