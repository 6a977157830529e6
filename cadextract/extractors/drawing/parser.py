"""One sheet of positioned text and strokes → :class:`Annotations` (the shared entry point)."""

from __future__ import annotations

import re

from cadextract.extractors.drawing import dimensions as D
from cadextract.extractors.drawing import gdt as G
from cadextract.extractors.drawing.bom import bom_from_tables
from cadextract.extractors.drawing.geometry import (
    Box,
    Grid,
    SegIndex,
    box_around,
    drawn_symbols,
    row_of_cells,
)
from cadextract.extractors.drawing.model import (
    Annotations,
    Datum,
    FeatureControlFrame,
    Note,
    Sheet,
    SurfaceFinish,
)
from cadextract.extractors.drawing.runs import Run, Token, build_runs, frame, to_uv
from cadextract.extractors.drawing.titleblock import find_title_block

#: a page without a title block is a drawing when at least this many runs carry dimension marks…
DRAWING_MIN_MARKS = 2
#: … and they are at least this share of the runs with digits
DRAWING_MARK_SHARE = 0.1
#: runs this short near the page edge are zone markers of the border (A–F, 1–8)
MARGIN_FRACTION = 0.06
SURFACE = re.compile(r"\b(?P<p>R[azqtp]|Rmax|Rsm)\s*(?P<v>\d+(?:[.,]\d+)?)\b")
NOTE_RULES: list[tuple[str, re.Pattern[str]]] = [
    (
        "general_tolerance",
        re.compile(
            r"(?:DIN\s*)?ISO\s*(?:2768|8015|13920|22081)[\s\-–]*[a-zA-Z]{0,2}\b|\bTOL(?:ERANCES|ERANZEN)?\b.*?(?:LINEAR|LINEAR:)\s*:?\s*[±+\-]\s*\d[^\s]*",
            re.I,
        ),
    ),
    ("edges", re.compile(r"BREAK\s+(?:ALL\s+)?(?:SHARP\s+)?EDGES|DEBURR|ENTGRATEN|KANTEN\s+BRECHEN", re.I)),
    (
        "units",
        re.compile(
            r"DIMENSIONS\s+ARE\s+IN\s+(?:MILLIMETERS?|INCHES)|BEMASSUNGEN\s+SIND\s+IN\s+MILLIMETERN?", re.I
        ),
    ),
    ("do_not_scale", re.compile(r"DO\s+NOT\s+SCALE|NICHT\s+SKALIEREN", re.I)),
]


def parse_sheet(sheet: Sheet) -> Annotations:
    items = sheet.items + drawn_symbols(sheet.items, sheet.segments, sheet.curves)
    grid = Grid.of(sheet.segments)
    # OCR words are whole word boxes whose gaps say little: a cell's rule keeps two apart
    # (a text layer's glyph spacing does that by itself)
    ocr = any(i.confidence is not None for i in sheet.items)
    runs = build_runs(items, grid.vertical if ocr else ())
    block = find_title_block(runs, grid, sheet.width, sheet.height, sheet.page)
    out = Annotations(title_block=dict(block.fields))
    outside = [r for r in runs if not block.contains(*r.start) and not _margin(r, sheet)]
    out.notes = _notes(block.cell_texts + [r.text for r in outside], sheet.page)
    unit = _unit(out.notes)
    out.bom = bom_from_tables(sheet.tables, sheet.page)
    out.drawing = block.region is not None or _looks_drawn(outside)
    if not out.drawing:
        return out  # a report or a table, not a drawing: its numbers are no dimensions
    for r in outside:
        for m in SURFACE.finditer(r.text):
            v = D.num(m.group("v"))
            out.surface_finish.append(SurfaceFinish(m.group("p"), v, m.group(0), sheet.page, r.bbox))
            for t in r.tokens:
                t.used = True
    cache: dict[int, SegIndex] = {}
    basic: set[int] = set()
    framed: list[tuple[float, list[Box]]] = []
    for i, r in enumerate(outside):
        if any(t.used for t in r.tokens):
            continue
        segs = G.segments_for(r.angle, cache, sheet.segments)
        box = box_around(r.u0, r.u1, r.v, r.size, segs)
        if box is None:
            continue
        cells = row_of_cells(box, r.size, segs.all)
        if len(cells) >= 2:
            if not any(abs(a - r.angle) < 3 and _same_row(cells, c) for a, c in framed):
                framed.append((r.angle, cells))
        elif re.fullmatch(r"[A-Z]", r.text.strip()):
            out.datums.append(Datum(r.text.strip(), sheet.page, r.bbox))
            for t in r.tokens:
                t.used = True
        else:
            basic.add(i)
    for angle, cells in framed:
        out.gdt.append(_frame(angle, cells, outside, sheet))
    tokens = [t for r in outside for t in r.tokens if not t.used]
    attachments: dict[int, D.Attachment] = {}
    for att in D.pair_stacks(tokens):
        host = D.host_of(att, tokens)
        att.upper.used = att.lower.used = True
        if host is not None and re.search(r"\d\s*°?\.?$|max\.?$|min\.?$", host.text):
            attachments[id(host)] = att
        elif att.kind == "limits":
            prefix = ""
            if host is not None and D.PREFIX_ONLY.match(_run_prefix(outside, host)):
                prefix = _run_prefix(outside, host)
                for t in outside[_index(outside, host)].tokens:
                    t.used = True
            dim = D.limits_alone(att, prefix, sheet.page, False)
            dim.unit = unit
            out.dimensions.append(dim)
    for i, r in enumerate(outside):
        if any(rx.search(r.text) for _, rx in NOTE_RULES):
            continue  # a note's numbers (ISO 2768, "break edges 0.5") are no dimensions
        for dim in D.parse_run(r, attachments, sheet.page, i in basic):
            if dim.nominal is None:
                continue
            if dim.unit is None:
                dim.unit = unit
            out.dimensions.append(dim)
    out.dimensions.sort(key=lambda d: (d.bbox[1], d.bbox[0]) if d.bbox else (0.0, 0.0))
    return out


#: text only a drawing's dimensions carry: Ø, ±, °, R5, M8, a deviation
DRAWING_MARKS = re.compile(r"[Ø⌀∅±°↧]|(?<![A-Za-z])(?:R|M)\d|(?<![\w.,])[+\-−]\d+[.,]\d+\b")


def _looks_drawn(runs: list[Run]) -> bool:
    """Without a title block: do the page's numbers read like dimensions rather than a report's?"""
    marked = sum(1 for r in runs if DRAWING_MARKS.search(r.text))
    numeric = sum(1 for r in runs if any(c.isdigit() for c in r.text))
    return marked >= DRAWING_MIN_MARKS and marked >= DRAWING_MARK_SHARE * numeric


def _index(runs: list[Run], tok: Token) -> int:
    return next(i for i, r in enumerate(runs) if tok in r.tokens)


def _run_prefix(runs: list[Run], tok: Token) -> str:
    r = runs[_index(runs, tok)]
    return " ".join(t.text for t in r.tokens)


def _same_row(a: list[Box], b: list[Box]) -> bool:
    return abs(a[0].v0 - b[0].v0) < 0.5 and abs(a[0].u0 - b[0].u0) < 0.5


def _frame(angle: float, cells: list[Box], runs: list[Run], sheet: Sheet) -> FeatureControlFrame:
    texts: list[str] = []
    fonts: list[str] = []
    for cell in cells:
        inside: list[Token] = []
        font = ""
        for r in runs:
            if abs(r.angle - angle) > 3:
                continue
            for t in r.tokens:
                u, v = to_uv((t.bbox[0] + t.bbox[2]) / 2, (t.bbox[1] + t.bbox[3]) / 2, angle)
                if cell.u0 < u < cell.u1 and cell.v0 < v < cell.v1:
                    inside.append(t)
                    t.used = True
                    font = font or r.glyphs[0].item.font
        texts.append(" ".join(t.text for t in sorted(inside, key=lambda t: t.u0)))
        fonts.append(font)
    symbol = G.symbol_from_text(texts[0], fonts[0]) if texts[0] else None
    if symbol is None and not texts[0]:
        symbol = G.symbol_from_strokes(cells[0], angle, sheet.segments, sheet.curves)
    tol_text = texts[1] if len(texts) > 1 else ""
    value, dia, modifier = G.read_tolerance(tol_text)
    datums = G.read_datums(texts[2:])
    cell_strs = [t or (f"({symbol})" if i == 0 and symbol else "") for i, t in enumerate(texts)]
    corners = [(c.u0, c.v0) for c in cells] + [(c.u1, c.v1) for c in cells]
    bbox = _page_box(corners, angle)
    return FeatureControlFrame(
        characteristic=symbol,
        tolerance=value,
        page=sheet.page,
        bbox=bbox,
        text=" | ".join(cell_strs),
        diameter=dia,
        modifier=modifier,
        datums=datums,
        cells=texts,
    )


def _page_box(uv: list[tuple[float, float]], angle: float) -> tuple[float, float, float, float]:
    """The page box around points given in the reading frame of ``angle``."""
    d, n = frame(angle)
    pts = [(u * d[0] + v * n[0], u * d[1] + v * n[1]) for u, v in uv]
    return min(p[0] for p in pts), min(p[1] for p in pts), max(p[0] for p in pts), max(p[1] for p in pts)


def _margin(r: Run, sheet: Sheet) -> bool:
    if len(r.text.strip()) > 2:
        return False
    x, y = r.start
    m = MARGIN_FRACTION
    return (
        x < m * sheet.width or x > (1 - m) * sheet.width or y < m * sheet.height or y > (1 - m) * sheet.height
    )


def _notes(texts: list[str], page: int) -> list[Note]:
    out: list[Note] = []
    seen: set[tuple[str, str]] = set()
    for text in texts:
        for kind, rx in NOTE_RULES:
            m = rx.search(text)
            if m and (kind, m.group(0)) not in seen:
                seen.add((kind, m.group(0)))
                value = None
                if kind == "general_tolerance":
                    tol = re.search(
                        r"ISO\s*2768[\s\-–]*([a-zA-Z]{1,2})\b|([±+\-]\s*\d[^\s]*)", m.group(0), re.I
                    )
                    value = (tol.group(1) or tol.group(2)) if tol else None
                out.append(Note(kind, " ".join(text.split()), page, value))
    return out


def _unit(notes: list[Note]) -> str | None:
    for n in notes:
        if n.kind == "units":
            return "in" if "INCH" in n.text.upper() else "mm"
    return None


#: ISO 216 paper sizes in points (portrait): name → (width, height)
PAPER = {
    "A0": (2384, 3370),
    "A1": (1684, 2384),
    "A2": (1191, 1684),
    "A3": (842, 1191),
    "A4": (595, 842),
    "A5": (420, 595),
}


def paper_size(w: float, h: float) -> str | None:
    """The ISO paper size of a page of ``w`` × ``h`` points, if it is one."""
    a, b = sorted((w, h))
    for name, (pw, ph) in PAPER.items():
        if abs(a - pw) < 6 and abs(b - ph) < 6:
            return name
    return None
