"""pdfplumber page → the drawing parser's neutral :class:`Sheet` (glyphs with their matrices,
ruled lines, rectangle edges, curves). The only place pdfplumber objects meet the parser."""

from __future__ import annotations

import itertools
import math
from typing import Any

from cadextract.extractors.drawing.model import Curve, Segment, Sheet, TextItem


def page_sheet(page: Any, number: int, tables: list[list[list[str | None]]]) -> Sheet:
    items: list[TextItem] = []
    for c in page.chars:
        a, b, _, _, _, _ = c["matrix"]
        size = math.hypot(a, b) or float(c.get("size") or 1.0)
        adv = c.get("adv")
        items.append(
            TextItem(
                text=str(c["text"]),
                x0=float(c["x0"]),
                y0=float(c["top"]),
                x1=float(c["x1"]),
                y1=float(c["bottom"]),
                angle=math.degrees(math.atan2(b, a)),  # PDF space is y-up: counter-clockwise on the page
                size=size,
                length=float(adv) * size if adv else None,
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
        if len(pts) >= 2:
            curves.append(Curve(pts))
    return Sheet(items, float(page.width), float(page.height), number, segments, curves, tables)
