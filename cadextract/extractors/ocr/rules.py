"""Ruled lines of a scanned page (title-block cells, frames, borders) found in its pixels.

A vector page gives the drawing parser its strokes; a scan has only pixels. Long straight
horizontal and vertical runs of dark pixels are the rules a title block or a feature
control frame is drawn with: found by a morphological opening (OpenCV, which rapidocr
already needs), they become :class:`Segment` s so the parser can find cells on a scan too.
Strokes of letters are dropped: a segment that lies inside a recognised word's box is text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from cadextract.extractors.drawing.model import Segment
from cadextract.extractors.ocr.layout import Word

if TYPE_CHECKING:
    from PIL.Image import Image

#: a rule is at least this long (inches): 2.5 mm, shorter than the side of a frame's cell
MIN_RULE_IN = 0.1
#: pixels this much darker than the paper are ink (CAD sheets draw frames in light grey)
INK_CONTRAST = 30
#: at most this many segments per page (a hatched area gives thousands of short strokes)
MAX_SEGMENTS = 20_000


def ruled_lines(image: Image, dpi: float) -> list[Segment]:
    """Horizontal and vertical rules of a greyscale page image, in its pixels."""
    import cv2
    import numpy as np

    gray = np.asarray(image.convert("L"))
    paper = float(np.percentile(gray[::4, ::4], 90)) if gray.size else 255.0
    ink = (gray < paper - INK_CONTRAST).astype(np.uint8)
    length = max(8, round(MIN_RULE_IN * dpi))
    out: list[Segment] = []
    for horizontal in (True, False):
        kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (length, 1) if horizontal else (1, length))
        lines = cv2.morphologyEx(ink, cv2.MORPH_OPEN, kernel)
        count, _, stats, _ = cv2.connectedComponentsWithStats(lines, connectivity=8)
        for x, y, w, h, _area in stats[1:count]:
            out.append(_segment(int(x), int(y), int(w), int(h), horizontal))
            if len(out) >= MAX_SEGMENTS:
                return out
    return out


def _segment(x: int, y: int, w: int, h: int, horizontal: bool) -> Segment:
    """A component's centre line, exactly horizontal or vertical (the parser's grid wants that)."""
    if horizontal:
        mid = y + h / 2.0
        return Segment(float(x), mid, float(x + w), mid)
    mid = x + w / 2.0
    return Segment(mid, float(y), mid, float(y + h))


def outside_words(segments: Sequence[Segment], words: Sequence[Word], pad: float = 1.0) -> list[Segment]:
    """The segments that are not strokes of recognised letters (not inside a word's box)."""
    boxes = [(w.x0 - pad, w.top - pad, w.x1 + pad, w.bottom + pad) for w in words]
    return [s for s in segments if not any(_inside(s, b) for b in boxes)]


def split_at_rules(words: Sequence[Word], segments: Sequence[Segment]) -> list[Word]:
    """Words cut where a vertical rule crosses them: text never runs across a cell's rule.

    rapidocr returns runs of words; a run that spans two title-block cells ("Keyence-12.19
    A4": the drawing number and the sheet size) is cut at the space nearest the rule.
    """
    out: list[Word] = []
    todo = list(words)
    while todo:
        w = todo.pop()
        cut = _cut(w, segments)
        if cut is None:
            out.append(w)
        else:
            todo.extend(cut)
    return sorted(out, key=lambda w: (w.top, w.x0))


def _cut(w: Word, segments: Sequence[Segment]) -> tuple[Word, Word] | None:
    if " " not in w.text.strip():
        return None
    mid = (w.top + w.bottom) / 2
    width = w.x1 - w.x0
    for s in segments:
        if not s.vertical or not (min(s.y0, s.y1) <= mid <= max(s.y0, s.y1)):
            continue
        if not (w.x0 + 0.05 * width < s.x0 < w.x1 - 0.05 * width):
            continue
        text = w.text
        at = (s.x0 - w.x0) / width * len(text)  # characters share the width evenly
        spaces = [i for i, c in enumerate(text) if c == " "]
        i = min(spaces, key=lambda k: abs(k + 0.5 - at))
        left, right = text[:i].strip(), text[i + 1 :].strip()
        if not left or not right:
            continue
        x = w.x0 + width * (i + 0.5) / len(text)
        return (
            Word(left, w.x0, w.top, min(x, s.x0), w.bottom, w.confidence),
            Word(right, max(x, s.x0), w.top, w.x1, w.bottom, w.confidence),
        )
    return None


def _inside(s: Segment, box: tuple[float, float, float, float]) -> bool:
    x0, y0, x1, y1 = box
    return x0 <= min(s.x0, s.x1) and max(s.x0, s.x1) <= x1 and y0 <= min(s.y0, s.y1) and max(s.y0, s.y1) <= y1


def scaled(segments: Sequence[Segment], factor: float) -> list[Segment]:
    """Segments in page units (``factor`` page units a pixel)."""
    return [Segment(s.x0 * factor, s.y0 * factor, s.x1 * factor, s.y1 * factor) for s in segments]
