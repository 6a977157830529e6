"""OCR words → the drawing parser's neutral :class:`Sheet`, so a scanned page is read by the
same annotation parser as a vector page (dimensions, frames, notes, parts lists)."""

from __future__ import annotations

from collections.abc import Sequence

from cadextract.extractors.drawing.model import Sheet, TextItem
from cadextract.extractors.ocr.layout import Word


def ocr_sheet(
    words: Sequence[Word],
    width: float,
    height: float,
    page: int,
    tables: list[list[list[str | None]]] | None = None,
) -> Sheet:
    """A sheet of OCR words (page units, top-left origin). Scans carry no drawn lines here."""
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
    return Sheet(items, width, height, page, [], [], tables or [])
