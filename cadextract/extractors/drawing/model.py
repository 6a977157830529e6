"""Neutral input (positioned text, drawn primitives) and output (annotations) of the drawing parser.

Coordinates are page units with the origin at the top-left corner and y growing downwards
(pdfplumber's ``top``/``bottom``, image pixels for OCR). Angles are degrees counter-clockwise
as seen on the page: 0 reads left to right, 90 reads bottom to top.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

BBox = tuple[float, float, float, float]


@dataclass(frozen=True)
class TextItem:
    """One glyph (vector PDF) or one word (OCR) with its box and reading direction."""

    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    angle: float = 0.0
    size: float = 10.0
    #: extent along the reading direction; None = derived from the box
    length: float | None = None
    font: str = ""
    confidence: float | None = None

    @property
    def center(self) -> tuple[float, float]:
        return (self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2

    def extent(self) -> float:
        if self.length is not None:
            return self.length
        a = math.radians(self.angle)
        w, h = self.x1 - self.x0, self.y1 - self.y0
        c, s = abs(math.cos(a)), abs(math.sin(a))
        return w if c > 0.99 else h if s > 0.99 else max(0.0, (w - self.size * s) / max(c, 0.1))


@dataclass(frozen=True)
class Segment:
    """A straight drawn line (ruled cells, frame boxes, symbol strokes)."""

    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def horizontal(self) -> bool:
        return abs(self.y1 - self.y0) <= 0.5 and abs(self.x1 - self.x0) > 0.5

    @property
    def vertical(self) -> bool:
        return abs(self.x1 - self.x0) <= 0.5 and abs(self.y1 - self.y0) > 0.5

    @property
    def length(self) -> float:
        return math.hypot(self.x1 - self.x0, self.y1 - self.y0)


@dataclass(frozen=True)
class Curve:
    """A drawn curve (circles and arcs of symbols), by its points."""

    points: tuple[tuple[float, float], ...]
    closed: bool = False

    @property
    def bbox(self) -> BBox:
        xs = [p[0] for p in self.points]
        ys = [p[1] for p in self.points]
        return min(xs), min(ys), max(xs), max(ys)


@dataclass
class Sheet:
    """Everything the parser reads from one page or one drawing sheet."""

    items: list[TextItem]
    width: float
    height: float
    page: int = 1
    segments: list[Segment] = field(default_factory=list)
    curves: list[Curve] = field(default_factory=list)
    #: tables already found by the source (rows of cell strings), for parts lists
    tables: list[list[list[str | None]]] = field(default_factory=list)


# ----------------------------------------------------------------------------- output


def _round(v: float | None, digits: int = 4) -> float | None:
    return None if v is None else round(v, digits)


def _bbox(b: BBox | None) -> list[float] | None:
    return None if b is None else [round(v, 2) for v in b]


@dataclass
class Dimension:
    kind: str  # linear, diameter, radius, angle, chamfer, thread
    nominal: float | None
    text: str
    page: int
    bbox: BBox | None
    unit: str | None = None
    count: int | None = None
    upper: float | None = None
    lower: float | None = None
    tolerance: float | None = None  # symmetric ± value
    fit: str | None = None
    range: tuple[float, float] | None = None
    limit: str | None = None  # "max" / "min"
    basic: bool = False  # theoretically exact (boxed)
    depth: float | None = None
    pitch: float | None = None
    angle: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("nominal", "upper", "lower", "tolerance", "depth", "pitch"):
            d[k] = _round(d[k], 6)
        d["range"] = None if self.range is None else [round(v, 6) for v in self.range]
        d["bbox"] = _bbox(self.bbox)
        d["angle"] = round(self.angle, 1)
        return d


@dataclass
class DatumRef:
    letter: str
    modifier: str | None = None  # MMC / LMC


@dataclass
class FeatureControlFrame:
    characteristic: str | None
    tolerance: float | None
    page: int | None
    bbox: BBox | None
    text: str
    diameter: bool = False
    modifier: str | None = None
    datums: list[DatumRef] = field(default_factory=list)
    cells: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["tolerance"] = _round(self.tolerance, 6)
        d["bbox"] = _bbox(self.bbox)
        return d


@dataclass
class Datum:
    letter: str
    page: int
    bbox: BBox | None

    def to_dict(self) -> dict[str, Any]:
        return {"letter": self.letter, "page": self.page, "bbox": _bbox(self.bbox)}


@dataclass
class SurfaceFinish:
    parameter: str  # Ra, Rz, ...
    value: float | None
    text: str
    page: int
    bbox: BBox | None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["bbox"] = _bbox(self.bbox)
        return d


@dataclass
class Note:
    kind: str  # general_tolerance, edges, units, do_not_scale, note
    text: str
    page: int
    value: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TitleField:
    value: str
    label: str
    method: str  # same_cell, cell_right, cell_below, row_column, text, page_size
    page: int
    bbox: BBox | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "source": {
                "page": self.page,
                "method": self.method,
                "label": self.label,
                "bbox": _bbox(self.bbox),
            },
        }


@dataclass
class BomItem:
    position: str | None
    quantity: float | None
    part_number: str | None
    description: str | None
    material: str | None
    source: str  # pdf_table, acad_table, block_attributes
    page: int | None = None
    cells: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Annotations:
    dimensions: list[Dimension] = field(default_factory=list)
    gdt: list[FeatureControlFrame] = field(default_factory=list)
    datums: list[Datum] = field(default_factory=list)
    surface_finish: list[SurfaceFinish] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    title_block: dict[str, TitleField] = field(default_factory=dict)
    bom: list[BomItem] = field(default_factory=list)
    #: the page reads as a drawing (a title block, or dimension marks); else no dimensions are read
    drawing: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "dimensions": [d.to_dict() for d in self.dimensions],
            "gdt": [g.to_dict() for g in self.gdt],
            "datums": [d.to_dict() for d in self.datums],
            "surface_finish": [s.to_dict() for s in self.surface_finish],
            "notes": [n.to_dict() for n in self.notes],
            "title_block": {k: v.to_dict() for k, v in self.title_block.items()},
            "bom": [b.to_dict() for b in self.bom],
        }
