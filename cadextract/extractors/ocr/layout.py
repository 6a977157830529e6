"""Pure geometry on positioned words: reading-order text, duplicate boxes, labelled fields.

A :class:`Word` is the neutral positioned-text item every OCR engine returns (and any
other text source can produce): its text, an axis-aligned box and a confidence. Boxes
are in the page's own coordinates (PDF points from the top-left for PDF pages, image
pixels for raster files), as pdfplumber words are.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
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
    r"^(?P<count>\d+\s*[xX×]\s*)?"
    r"(?:[O@]|0(?=\d+(?:[.,]\d+)?\s*(?:[A-HJ-NP-Za-hj-np-z]{1,2}\d{1,2}\b|±))|0(?=[1-9]\d*[.,]\d))"
    r"(?P<rest>\d+(?:[.,]\d+)?(?:\s*[A-HJ-NP-Za-hj-np-z]{1,2}\d{1,2})?"
    r"(?:\s*±\s*\d+(?:[.,]\d+)?|\s*-\s*\d+(?:[.,]\d+)?)?)$"
)


#: "SHEET 1 0F 2", "1OF1", "1VON1": OF (its O read as a zero) or VON squeezed between two numbers
_SHEET_OF = re.compile(r"(?<=\d)\s?(?P<of>[0O]F|VON)\s?(?=\d)")


def normalise_text(text: str) -> str:
    """Undo OCR's usual misreadings on drawings: Φ for Ø, Ø read as 0/O/@, 1 0F 2 for 1 OF 2.

    A leading 0 becomes Ø only before a fit class or a ± tolerance ("012 H7") or in a
    decimal ("06.60", "05.8-5.85"), where a number with a leading zero makes no sense; O
    and @ before digits always do. A count may come first ("2x 06.60 ±0.05").
    """
    text = text.replace("Φ", "Ø").replace("φ", "Ø")
    text = _SHEET_OF.sub(lambda m: " VON " if m.group("of") == "VON" else " OF ", text)
    m = _MISREAD_DIAMETER.match(text.strip())
    return f"{m.group('count') or ''}Ø{m.group('rest')}" if m else text


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


#: words closer than this many line heights belong to one cell of a table or title block
CELL_GAP = 1.5


@dataclass(frozen=True)
class _Cell:
    """A run of words on one line with no wide gap: one cell's text (or part of a label)."""

    text: str
    x0: float
    top: float
    x1: float
    bottom: float
    field: str | None = None  # the title-block field this piece labels, if it is a label
    label: str = ""
    value: str = ""  # text following the label inside the same cell


def cells(words: Iterable[Word]) -> list[_Cell]:
    """Words joined into cells: neighbours on a line closer than CELL_GAP line heights."""
    out: list[_Cell] = []
    for line in lines(words):
        run = [line[0]]
        for word in line[1:]:
            height = max(min(word.height, run[-1].height), 1.0)
            if word.x0 - run[-1].x1 > CELL_GAP * height:
                out.append(_join(run))
                run = []
            run.append(word)
        out.append(_join(run))
    return out


def _join(run: list[Word]) -> _Cell:
    return _Cell(
        " ".join(w.text for w in run),
        min(w.x0 for w in run),
        min(w.top for w in run),
        max(w.x1 for w in run),
        max(w.bottom for w in run),
    )


def _split_labels(cell: _Cell, label_re: re.Pattern[str]) -> list[_Cell]:
    """A cell cut at each label it holds; x positions shared out by character count."""
    found = list(label_re.finditer(cell.text))
    if not found:
        return [cell]
    width, n = cell.x1 - cell.x0, max(len(cell.text), 1)

    def piece(start: int, end: int, **kw: Any) -> _Cell:
        return _Cell(
            cell.text[start:end].strip(),
            cell.x0 + width * start / n,
            cell.top,
            cell.x0 + width * end / n,
            cell.bottom,
            **kw,
        )

    out = [piece(0, found[0].start())] if cell.text[: found[0].start()].strip() else []
    for i, m in enumerate(found):
        end = found[i + 1].start() if i + 1 < len(found) else len(cell.text)
        value = cell.text[m.end() : end].strip().lstrip(":=#").strip().rstrip(":").strip()
        out.append(piece(m.start(), end, field=m.lastgroup, label=m.group(0), value=value))
    return out


def fields_from_words(
    words: Sequence[Word], label_re: re.Pattern[str], is_value: Callable[[str, str], bool]
) -> dict[str, tuple[str, str, str]]:
    """Title-block fields read from positioned OCR words: ``field -> (value, method, label)``.

    ``label_re`` names each field by its group (the PDF extractor's label pattern) and
    ``is_value(field, text)`` accepts a value. A label followed by its value in the same
    cell gives ``ocr_cell``. A label alone in its cell takes the nearest cell after it
    (right of it, or under it within 2.5 line heights: ``ocr_right`` / ``ocr_below``);
    when that is another label (a column of labels), the nearest cell right of it on its
    line. A cell nearer to another label belongs to that one.
    """
    pieces = [p for c in cells(words) for p in _split_labels(c, label_re)]
    found: dict[str, tuple[str, str, str]] = {}
    for p in pieces:
        if p.field and p.field not in found and p.value and is_value(p.field, p.value):
            found[p.field] = (p.value, "ocr_cell", p.label)
    nearest = {id(p): _nearest(p, pieces) for p in pieces if p.field and not p.value}
    owner: dict[int, float] = {}  # cell -> distance to the label nearest to it
    for cand, dist in filter(None, nearest.values()):
        owner[id(cand)] = min(dist, owner.get(id(cand), math.inf))
    for label in pieces:
        hit = nearest.get(id(label))
        if hit is None or label.field is None or label.field in found:
            continue
        cand, dist = hit
        if cand.field or not is_value(label.field, cand.text):
            # a column of labels (values to their right): the next label is nearest
            right = _right(label, pieces)
            if right is None:
                continue
            cand, dist = right
        if cand.field or dist > owner.get(id(cand), math.inf) or not is_value(label.field, cand.text):
            continue
        h = max(label.bottom - label.top, 1.0)
        below = cand.top >= label.bottom - 0.2 * h
        text = _continued(cand, pieces) if label.field == "title" else cand.text
        found[label.field] = (text, "ocr_below" if below else "ocr_right", label.label)
    return found


def _nearest(label: _Cell, pieces: Sequence[_Cell]) -> tuple[_Cell, float] | None:
    """The closest cell right of or under a label (distance between top-left corners)."""
    h = max(label.bottom - label.top, 1.0)
    best: tuple[_Cell, float] | None = None
    for p in pieces:
        if p is label or p.x1 <= label.x0 or p.x0 < label.x0 - h:
            continue
        if p.top < label.top - 0.3 * h or p.top > label.bottom + 2.5 * h:
            continue
        if p.top < label.bottom - 0.2 * h and p.x0 < label.x1 - 0.2 * h:
            continue  # overlaps the label itself
        dist = math.hypot(max(0.0, p.x0 - label.x0), max(0.0, p.top - label.top))
        if best is None or dist < best[1]:
            best = (p, dist)
    return best


def _right(label: _Cell, pieces: Sequence[_Cell]) -> tuple[_Cell, float] | None:
    """The nearest cell right of a label on its own line."""
    h = max(label.bottom - label.top, 1.0)
    same_line = [
        p
        for p in pieces
        if p is not label
        and p.x0 >= label.x1 - 0.2 * h
        and _overlap(p.top, p.bottom, label.top, label.bottom) >= 0.5 * min(h, p.bottom - p.top)
    ]
    best = min(same_line, key=lambda p: p.x0, default=None)
    return None if best is None else (best, math.hypot(best.x0 - label.x0, max(0.0, best.top - label.top)))


def _continued(first: _Cell, pieces: Sequence[_Cell]) -> str:
    """A title written over several lines: the cells straight under ``first``, close together."""
    parts, last = [first.text], first
    while len(parts) < 3:
        h = max(last.bottom - last.top, 1.0)
        nxt = [
            p
            for p in pieces
            if not p.field
            and -0.3 * h <= p.top - last.bottom < 0.8 * h
            and _overlap(p.x0, p.x1, first.x0, first.x1) > 0
        ]
        if not nxt:
            break
        last = min(nxt, key=lambda p: p.top)
        parts.append(last.text)
    out = parts[0]
    for part in parts[1:]:  # a line ending in "_" continues the word on the next line
        out = out + part if out.endswith("_") else f"{out} {part}"
    return out
