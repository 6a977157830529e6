"""Pure geometry on positioned words: reading-order text, duplicate boxes, labelled fields.

A :class:`Word` is the neutral positioned-text item every OCR engine returns (and any
other text source can produce): its text, an axis-aligned box and a confidence. Boxes
are in the page's own coordinates (PDF points from the top-left for PDF pages, image
pixels for raster files), as pdfplumber words are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Word:
    """One recognised word, or a short run of words on one line (rapidocr returns runs)."""

    text: str
    x0: float
    top: float
    x1: float
    bottom: float
    confidence: float

    @property
    def height(self) -> float:
        return self.bottom - self.top

    @property
    def area(self) -> float:
        return max(0.0, self.x1 - self.x0) * max(0.0, self.bottom - self.top)

    def scaled(self, factor: float, dx: float = 0.0, dy: float = 0.0) -> Word:
        """The same word with its box multiplied by ``factor`` and then shifted."""
        return Word(
            self.text,
            self.x0 * factor + dx,
            self.top * factor + dy,
            self.x1 * factor + dx,
            self.bottom * factor + dy,
            self.confidence,
        )

    def as_item(self, digits: int = 2) -> dict[str, Any]:
        """The JSON form stored in results (``text, x0, top, x1, bottom, confidence``)."""
        return {
            "text": self.text,
            "x0": round(self.x0, digits),
            "top": round(self.top, digits),
            "x1": round(self.x1, digits),
            "bottom": round(self.bottom, digits),
            "confidence": round(self.confidence, 3),
        }


#: a whole OCR item that reads as a diameter whose Ø came out as 0, O or @ ("012 H7", "O8")
_MISREAD_DIAMETER = re.compile(
    r"^(?:[O@]|0(?=\d+(?:[.,]\d+)?\s*(?:[A-HJ-NP-Za-hj-np-z]{1,2}\d{1,2}\b|±)))"
    r"(?P<rest>\d+(?:[.,]\d+)?(?:\s*[A-HJ-NP-Za-hj-np-z]{1,2}\d{1,2})?(?:\s*±\s*\d+(?:[.,]\d+)?)?)$"
)


#: "SHEET 1 0F 2": the O of OF read as a zero between two numbers
_SHEET_OF = re.compile(r"(?<=\d)\s?0F\s?(?=\d)")


def normalise_text(text: str) -> str:
    """Undo OCR's usual misreadings on drawings: Φ for Ø, Ø read as 0/O/@, 1 0F 2 for 1 OF 2.

    A leading 0 becomes Ø only before a fit class or a ± tolerance ("012 H7"), where a
    number with a leading zero makes no sense; O and @ before digits always do.
    """
    text = text.replace("Φ", "Ø").replace("φ", "Ø")
    text = _SHEET_OF.sub(" OF ", text)
    m = _MISREAD_DIAMETER.match(text.strip())
    return f"Ø{m.group('rest')}" if m else text


def _overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def suppress_contained(boxes: Sequence[tuple[float, float, float, float]], share: float = 0.6) -> list[int]:
    """Indexes of the boxes to keep: a box mostly inside a bigger one is a duplicate.

    Tiled detection sees a word on a tile border twice, once cut; the cut copy lies
    (``share`` of its area or more) inside the whole one and is dropped.
    """
    order = sorted(range(len(boxes)), key=lambda i: -_box_area(boxes[i]))
    kept: list[int] = []
    for i in order:
        x0, y0, x1, y1 = boxes[i]
        area = _box_area(boxes[i])
        if area <= 0:
            continue
        duplicate = False
        for k in kept:
            a0, b0, a1, b1 = boxes[k]
            inter = _overlap(x0, x1, a0, a1) * _overlap(y0, y1, b0, b1)
            if inter >= share * area:
                duplicate = True
                break
        if not duplicate:
            kept.append(i)
    return sorted(kept)


def _box_area(b: tuple[float, float, float, float]) -> float:
    return max(0.0, b[2] - b[0]) * max(0.0, b[3] - b[1])


def lines(words: Iterable[Word]) -> list[list[Word]]:
    """Words grouped into lines (top to bottom), each line left to right.

    A word joins the line whose vertical band overlaps half of its height, so slightly
    skewed scans still give whole lines.
    """
    out: list[list[Word]] = []
    bands: list[tuple[float, float]] = []
    for w in sorted(words, key=lambda w: (w.top + w.bottom) / 2):
        placed = False
        for i, (top, bottom) in enumerate(bands):  # few lines per page: linear scan is fine
            if _overlap(top, bottom, w.top, w.bottom) >= 0.5 * min(w.height, bottom - top):
                out[i].append(w)  # the band stays the first word's: it cannot creep downwards
                placed = True
                break
        if not placed:
            out.append([w])
            bands.append((w.top, w.bottom))
    for line in out:
        line.sort(key=lambda w: w.x0)
    return out


def page_text(words: Iterable[Word]) -> str:
    """The page as plain text in reading order: one line per text line, words by spaces."""
    return "\n".join(" ".join(w.text for w in line) for line in lines(words))


def mean_confidence(words: Sequence[Word]) -> float | None:
    """Mean word confidence weighted by characters (0..1), None without words."""
    total = sum(len(w.text) for w in words)
    if not total:
        return None
    return round(sum(w.confidence * len(w.text) for w in words) / total, 4)


def fields_below(
    words: Sequence[Word], label_re: re.Pattern[str], is_value: Any
) -> dict[str, tuple[str, str, str]]:
    """Title-block fields whose value sits under (or right of) a label word in its own cell.

    ``label_re`` matches a whole label word and names the field by its group (as the PDF
    extractor's label pattern does); ``is_value(field, text)`` accepts a candidate. For
    each label the nearest word right of it on its line is tried, then the nearest word
    below it that overlaps it horizontally, within three label heights. Returns
    ``field -> (value, method, label)`` like the text-layer helpers.
    """
    found: dict[str, tuple[str, str, str]] = {}
    for label in words:
        m = label_re.fullmatch(label.text.strip().rstrip(":").strip())
        if m is None or not m.lastgroup or m.lastgroup in found:
            continue
        field = m.lastgroup
        h = max(label.height, 1.0)
        right = [
            w
            for w in words
            if w is not label
            and w.x0 >= label.x1 - h * 0.2
            and w.x0 - label.x1 < 12 * h
            and _overlap(w.top, w.bottom, label.top, label.bottom) >= 0.5 * min(h, w.height)
        ]
        below = [
            w
            for w in words
            if w is not label
            and w.top >= label.bottom - h * 0.2
            and w.top - label.bottom < 3 * h
            and _overlap(w.x0, w.x1, label.x0, label.x1) > 0
        ]
        for method, pool, key in (
            ("ocr_right", right, lambda w: w.x0),
            ("ocr_below", below, lambda w: w.top),
        ):
            for cand in sorted(pool, key=key)[:1]:
                value = cand.text.strip()
                if is_value(field, value):
                    found[field] = (value, method, label.text.strip())
            if field in found:
                break
    return found
