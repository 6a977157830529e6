"""DXF drawing annotations: dimension tolerances from dimension-style overrides, the readable
dimension text, GD&T frames of TOLERANCE entities, ACAD_TABLE tables and parts lists (from tables
and from block attributes). Pure functions of ezdxf entities; the payload shape is shared with PDF."""

from __future__ import annotations

import re
from typing import Any

from cadextract.extractors.drawing import gdt as G
from cadextract.extractors.drawing.bom import bom_from_rows
from cadextract.extractors.drawing.dimensions import DIMENSION, num
from cadextract.extractors.drawing.labels import bom_column
from cadextract.extractors.drawing.model import BomItem, DatumRef, FeatureControlFrame
from cadextract.extractors.shared import attempt, tolerated

#: DXF dimension type name (dxf.records.DIMTYPE_NAMES) → annotation kind
KIND = {"linear": "linear", "aligned": "linear", "ordinate": "linear", "angular": "angle",
        "angular_3point": "angle", "arc": "linear", "diameter": "diameter", "radius": "radius",
        "large_radial": "radius"}  # fmt: skip
PREFIX = {"diameter": "Ø", "radius": "R"}


def _style(entity: Any, name: str) -> Any:
    return attempt(lambda: entity.override().get(name), None)


def _fmt(value: float, decimals: int, zin: int = 0) -> str:
    text = f"{value:.{max(0, min(decimals, 8))}f}"
    if zin & 8 and "." in text:  # DIMZIN bit 8: trailing zeros suppressed
        text = text.rstrip("0").rstrip(".")
    return text


def dimension_annotation(entity: Any, record: dict[str, Any]) -> dict[str, Any]:
    """Annotation fields of one DIMENSION: kind, nominal, tolerances, and the text as drawn."""
    kind = KIND.get(str(record.get("type")), "linear")
    m = record.get("measurement")
    scale = _style(entity, "dimlfac") or 1.0
    if m is not None and kind != "angle":
        m = round(float(m) * float(scale), 9)  # the value the drawing states (DIMLFAC scales it)
    decimals = int(
        _style(entity, "dimadec" if kind == "angle" else "dimdec") or (0 if kind == "angle" else 2)
    )
    zin = int(_style(entity, "dimzin") or 0)
    shown = (
        ""
        if m is None
        else PREFIX.get(kind, "") + _fmt(float(m), decimals, zin) + ("°" if kind == "angle" else "")
    )
    override = record.get("text_override")
    text = shown if not override else override.replace("<>", shown)
    text = text.replace("%%c", "Ø").replace("%%C", "Ø").replace("%%d", "°").replace("%%p", "±")
    text = re.sub(r"\\[A-Za-z][^;]*;|[{}]", "", text).replace("\\P", " ").strip()
    out: dict[str, Any] = {"kind": kind, "nominal": m, "upper": None, "lower": None, "tolerance": None,
                           "range": None, "fit": None, "count": None}  # fmt: skip
    parsed = DIMENSION.search(text)
    if parsed and (override and "<>" not in override):
        out["nominal"] = num(parsed.group("value"))  # the drawing states another value than measured
    if parsed:
        out["fit"] = parsed.group("fit")
        out["count"] = int(parsed.group("count")) if parsed.group("count") else None
        tol = num(parsed.group("tol"))
        if tol is not None:
            out.update(tolerance=tol, upper=tol, lower=-tol)
        if parsed.group("up"):
            out.update(upper=num(parsed.group("up")), lower=num(parsed.group("lo")))
    tp, tm = _style(entity, "dimtp") or 0.0, _style(entity, "dimtm") or 0.0
    nominal = out["nominal"]
    if _style(entity, "dimlim") and nominal is not None:
        out["range"] = [round(nominal - tm, 9), round(nominal + tp, 9)]
        text = f"{_fmt(nominal + tp, decimals)}/{_fmt(nominal - tm, decimals)}"
    elif _style(entity, "dimtol") and (tp or tm):
        tdec = int(_style(entity, "dimtdec") or decimals)
        if abs(tp - tm) < 1e-12:
            out.update(tolerance=tp, upper=tp, lower=-tp)
            text = f"{text} ±{_fmt(tp, tdec)}"
        else:
            out.update(upper=tp, lower=-tm)
            text = f"{text} +{_fmt(tp, tdec)}/-{_fmt(tm, tdec)}"
    out["readable"] = text
    return out


def tolerance_frames(content: str) -> list[FeatureControlFrame]:
    """Feature control frames of a TOLERANCE entity's content (``%%v`` between cells, ``^J`` rows)."""
    frames = []
    for row in re.split(r"\^J|\\P", content):
        cells = [c for c in row.split("%%v")]
        if len(cells) < 2:
            continue
        symbol = None
        m = re.search(r"\{\\Fgdt;(\w)\}", cells[0])
        if m:
            symbol = G.GDT_FONT_LETTERS.get(m.group(1))
        tol_raw = cells[1]
        plain = [_plain(c) for c in cells]
        dia = bool(re.search(r"\{\\Fgdt;n\}|%%c", tol_raw, re.I))
        modifier = _gdt_modifier(tol_raw)
        value = num(m2.group(0)) if (m2 := re.search(r"\d+(?:[.,]\d+)?|[.,]\d+", _plain(tol_raw))) else None
        datums = []
        for cell in cells[2:]:
            letter = _plain(cell).strip()
            if letter:
                datums.append(DatumRef(letter, _gdt_modifier(cell)))
        frames.append(
            FeatureControlFrame(
                characteristic=symbol,
                tolerance=value,
                page=None,
                bbox=None,  # type: ignore[arg-type]
                text=" | ".join(plain),
                diameter=dia,
                modifier=modifier,
                datums=datums,
                cells=plain,
            )
        )
    return frames


def _gdt_modifier(cell: str) -> str | None:
    m = re.search(r"\{\\Fgdt;([mlsp])\}", cell)
    return G.GDT_FONT_MODIFIERS.get(m.group(1)) if m else None


def _plain(cell: str) -> str:
    cell = re.sub(r"\{\\Fgdt;n\}", "Ø", cell)
    cell = re.sub(r"\{\\Fgdt;\w\}", "", cell)
    return re.sub(r"\\[A-Za-z][^;]*;|[{}]", "", cell).replace("%%c", "Ø").strip()


def table_rows(entity: Any) -> list[list[str | None]]:
    """The cells of an ACAD_TABLE as rows of plain strings."""
    from ezdxf.entities.acad_table import read_acad_table_content

    return [[None if c is None else _plain(str(c)) for c in row] for row in read_acad_table_content(entity)]


def bom_from_inserts(inserts: list[dict[str, Any]]) -> list[BomItem]:
    """Parts-list rows made of block references whose attribute tags name BOM columns."""
    by_block: dict[str, list[dict[str, Any]]] = {}
    for ins in inserts:
        tags = {t: bom_column(t.replace("_", " ")) for t in ins.get("attribs", {})}
        fields = {f for f in tags.values() if f}
        if len(fields) >= 3 and fields & {"position", "part_number"}:
            by_block.setdefault(str(ins.get("block")), []).append(ins)
    items: list[BomItem] = []
    for refs in by_block.values():
        names = list(refs[0]["attribs"])
        body: list[list[str | None]] = [[r["attribs"].get(t) for t in names] for r in refs]
        header: list[str | None] = [t.replace("_", " ") for t in names]
        for item, row in zip(bom_from_rows([header, *body], "block_attributes"), body, strict=False):
            item.cells = {t: str(v or "") for t, v in zip(names, row, strict=False)}
            items.append(item)
    return sorted(items, key=lambda b: _position_key(b.position))


def _position_key(pos: str | None) -> tuple[float, str]:
    n = num(pos) if pos else None
    return (n if n is not None else float("inf"), pos or "")


class DrawingParts:
    """Collects TOLERANCE and ACAD_TABLE entities while the extractor walks the layouts."""

    KINDS = ("TOLERANCE", "ACAD_TABLE")

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.gdt: list[dict[str, Any]] = []
        self.tables: list[dict[str, Any]] = []
        self.bom: list[dict[str, Any]] = []
        self.problems: list[str] = []

    def add(self, entity: Any, layout: str) -> None:
        where = {"handle": entity.dxf.get("handle"), "layout": layout, "layer": entity.dxf.get("layer", "0")}
        if entity.dxftype() == "TOLERANCE":
            for frame in tolerance_frames(str(entity.dxf.get("content", ""))):
                if len(self.gdt) < self.cap:
                    self.gdt.append({**frame.to_dict(), **where})
            return
        rows: list[list[str | None]] | None = None

        def unreadable(exc: Exception) -> None:  # a table ezdxf cannot read is reported, never fatal
            self.problems.append(
                f"ACAD_TABLE {where['handle']} could not be read ({type(exc).__name__}: {exc})"
            )

        with tolerated(unreadable):
            rows = table_rows(entity)
        if rows is None:
            return
        self.tables.append(
            {
                **where,
                "row_count": len(rows),
                "col_count": max((len(r) for r in rows), default=0),
                "rows": rows,
            }
        )
        for item in bom_from_rows(rows, "acad_table"):
            self.bom.append({**item.to_dict(), "handle": where["handle"]})

    def payload(
        self, texts: list[dict[str, Any]], inserts: list[dict[str, Any]], warnings: list[str]
    ) -> dict[str, Any]:
        from cadextract.extractors.drawing.parser import NOTE_RULES, SURFACE

        bom = self.bom + [{**b.to_dict(), "handle": None} for b in bom_from_inserts(inserts)]
        notes: list[dict[str, Any]] = []
        surface: list[dict[str, Any]] = []
        for t in texts:
            text = str(t.get("text") or "")
            for kind, rx in NOTE_RULES:
                if rx.search(text):
                    notes.append({"kind": kind, "text": " ".join(text.split()), "handle": t.get("handle")})
            for m in SURFACE.finditer(text):
                surface.append(
                    {
                        "parameter": m.group("p"),
                        "value": num(m.group("v")),
                        "text": m.group(0),
                        "handle": t.get("handle"),
                    }
                )
        warnings.extend(self.problems)
        return {"gdt": self.gdt, "tables": self.tables, "bom": bom[: self.cap], "notes": notes[: self.cap],
                "surface_finish": surface[: self.cap]}  # fmt: skip
