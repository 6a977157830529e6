"""pdfplumber page → the drawing parser's neutral :class:`Sheet` (glyphs with their matrices,
ruled lines, rectangle edges, curves). The only place pdfplumber objects meet the parser."""

from __future__ import annotations

import itertools
import math
from typing import Any

from cadextract.extractors.drawing.model import Curve, Segment, Sheet, TextItem

#: a path of at most this many straight points is read as strokes, not as a curve
POLYGON_MAX = 8


def page_sheet(page: Any, number: int, tables: list[list[list[str | None]]]) -> Sheet:
    items: list[TextItem] = []
    for c in page.chars:
        a, b, _, _, _, _ = c["matrix"]
        angle = math.degrees(math.atan2(b, a))  # PDF space is y-up: counter-clockwise on the page
        x0, top, x1, bottom = float(c["x0"]), float(c["top"]), float(c["x1"]), float(c["bottom"])
        adv = c.get("adv")
        # the matrix holds the font size for some writers (SolidWorks: Tf 1) and not for others
        # (matplotlib: Tf 11): the advance scaled by the matrix is the glyph's length either way
        length = float(adv) * (math.hypot(a, b) or 1.0) if adv else None
        items.append(
            TextItem(
                text=str(c["text"]),
                x0=x0,
                y0=top,
                x1=x1,
                y1=bottom,
                angle=angle,
                size=_across(x1 - x0, bottom - top, angle, length) or float(c.get("size") or 1.0),
                length=length,
                font=str(c.get("fontname") or ""),
            )
        )
    segments: list[Segment] = []
    for line in page.lines:
        pts = line.get("pts") or []
        for p, q in itertools.pairwise(pts):
            segments.append(Segment(float(p[0]), float(p[1]), float(q[0]), float(q[1])))
    for r in page.rects:
        x0, top, x1, bottom = float(r["x0"]), float(r["top"]), float(r["x1"]), float(r["bottom"])
        segments += [
            Segment(x0, top, x1, top),
            Segment(x0, bottom, x1, bottom),
            Segment(x0, top, x0, bottom),
            Segment(x1, top, x1, bottom),
        ]
    curves: list[Curve] = []
    for curve in page.curves:
        pts = tuple((float(p[0]), float(p[1])) for p in curve.get("pts") or [])
        ops = [step[0] for step in curve.get("path") or []]
        if 2 <= len(pts) <= POLYGON_MAX and set(ops) <= {"m", "l", "h"}:
            # a few straight strokes (a drawn symbol, an arrow head): its edges are segments
            closing = [(pts[-1], pts[0])] if "h" in ops else []
            for p, q in [*itertools.pairwise(pts), *closing]:
                segments.append(Segment(p[0], p[1], q[0], q[1]))
        elif len(pts) >= 2:
            curves.append(Curve(pts))
    return Sheet(items, float(page.width), float(page.height), number, segments, curves, tables)


def _across(w: float, h: float, angle: float, length: float | None) -> float | None:
    """The glyph box's extent across its reading direction (the font size), from its page box."""
    cos, sin = abs(math.cos(math.radians(angle))), abs(math.sin(math.radians(angle)))
    along = length or 0.0
    size = (h - along * sin) / cos if cos >= sin else (w - along * cos) / sin
    return size if size > 0.5 else None
