"""OCR words → the drawing parser's neutral :class:`Sheet`, so a scanned page is read by the
same annotation parser as a vector page (dimensions, frames, title block, notes, parts lists)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cadextract.extractors.drawing import Annotations, parse_sheet
from cadextract.extractors.drawing.model import Segment, Sheet, TextItem
from cadextract.extractors.ocr.layout import Word


def ocr_sheet(
    words: Sequence[Word],
    width: float,
    height: float,
    page: int,
    tables: list[list[list[str | None]]] | None = None,
    segments: list[Segment] | None = None,
) -> Sheet:
    """A sheet of OCR words and the rules found in the scan (page units, top-left origin)."""
    items = [
        TextItem(
            text=w.text,
            x0=w.x0,
            y0=w.top,
            x1=w.x1,
            y1=w.bottom,
            angle=0.0,  # the engines return upright lines; rotated text is read as it lies
            size=max(w.height, 0.5),
            length=w.x1 - w.x0,
            confidence=w.confidence,
        )
        for w in words
        if w.text.strip()
    ]
    return Sheet(items, width, height, page, segments or [], [], tables or [])


def ocr_annotations(
    words: Sequence[Word],
    segments: list[Segment],
    rec: dict[str, Any],
    tables: list[list[list[str | None]]],
    warnings: list[str],
) -> Annotations:
    """Drawing annotations of a page read by OCR; the page record gains the parser's counts."""
    number = int(rec["number"])
    try:
        sheet = ocr_sheet(
            words, float(rec["width"] or 0), float(rec["height"] or 0), number, tables, segments
        )
        notes = parse_sheet(sheet)
    except Exception as exc:  # the page's OCR text stands on its own: never lose it
        warnings.append(f"page {number}: drawing annotations could not be read ({type(exc).__name__}: {exc})")
        return Annotations()
    rec["drawing_sheet"] = notes.drawing
    rec["dimension_count"] = len(notes.dimensions)
    rec["gdt_count"] = len(notes.gdt)
    return notes
