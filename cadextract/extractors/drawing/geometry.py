"""Drawn primitives read as meaning: symbol glyphs drawn as paths (Ø, depth ↧), boxes around
text (basic dimensions, datum labels, feature control frame cells) and ruled cells."""

from __future__ import annotations

import bisect
import itertools
import math
from dataclasses import dataclass
from typing import TypeVar

from cadextract.extractors.drawing.model import BBox, Curve, Segment, TextItem
from cadextract.extractors.drawing.runs import to_uv

_T = TypeVar("_T")
#: a box edge belongs to the text inside when it is at most this far (× text size) from it
BOX_REACH = 1.5
#: … and a side at most this far (values sit left-aligned in wider frame cells)
SIDE_REACH = 2.5

#: Ø drawn as a circle of this size range (× neighbouring text size) crossed by one stroke
DIAMETER_CIRCLE = (0.45, 0.95)


def _near(a: tuple[float, float], b: tuple[float, float], tol: float) -> bool:
    return math.hypot(a[0] - b[0], a[1] - b[1]) <= tol


def _mid(s: Segment) -> tuple[float, float]:
    return (s.x0 + s.x1) / 2, (s.y0 + s.y1) / 2


def _ends(s: Segment) -> tuple[tuple[float, float], tuple[float, float]]:
    return (s.x0, s.y0), (s.x1, s.y1)


def _nearest_text(items: list[TextItem], x: float, y: float, reach: float) -> TextItem | None:
    best, best_d = None, reach
    for it in items:
        cx, cy = (it.x0 + it.x1) / 2, (it.y0 + it.y1) / 2
        if abs(cx - x) > reach or abs(cy - y) > reach:
            continue
        d = math.hypot(cx - x, cy - y)
        if d < best_d:
            best, best_d = it, d
    return best


def drawn_symbols(items: list[TextItem], segments: list[Segment], curves: list[Curve]) -> list[TextItem]:
    """Synthetic glyphs for symbols a CAD export drew as paths instead of text."""
    out: list[TextItem] = []
    # Ø: a small circle crossed by exactly one stroke through its centre, next to text
    for curve in curves:
        x0, y0, x1, y1 = curve.bbox
        w, h = x1 - x0, y1 - y0
        if not (1.0 < w < 30 and 0.8 < w / max(h, 1e-6) < 1.25):
            continue
        c = ((x0 + x1) / 2, (y0 + y1) / 2)
        near = _nearest_text(items, c[0], c[1], 2.5 * w)
        if near is None or not DIAMETER_CIRCLE[0] <= w / near.size <= DIAMETER_CIRCLE[1]:
            continue
        strokes = [s for s in segments if _near(_mid(s), c, 0.25 * w) and 1.05 * w <= s.length <= 1.9 * w]
        if len(strokes) != 1:
            continue
        out.append(_glyph("Ø", (x0, y0, x1, y1), near))
    # depth ↧: a bar, a stem from its middle, and an arrow head at the stem's other end
    short = [(s, s.length) for s in segments if 1.0 < s.length < 25]
    mids: dict[tuple[int, int], list[tuple[Segment, float]]] = {}
    ends: dict[tuple[int, int], list[Segment]] = {}
    for s, n in short:
        mx, my = _mid(s)
        mids.setdefault((round(mx / 4), round(my / 4)), []).append((s, n))
        for e in _ends(s):
            ends.setdefault((round(e[0] / 4), round(e[1] / 4)), []).append(s)

    def around(table: dict[tuple[int, int], list[_T]], p: tuple[float, float]) -> list[_T]:
        kx, ky = round(p[0] / 4), round(p[1] / 4)
        return [v for dx in (-1, 0, 1) for dy in (-1, 0, 1) for v in table.get((kx + dx, ky + dy), [])]

    for stem, length in short:
        for top in _ends(stem):
            bar = next(
                (
                    b
                    for b, n in around(mids, top)
                    if b is not stem
                    and abs(n - length) <= 0.4 * length
                    and _near(top, _mid(b), 0.15 * length)
                ),
                None,
            )
            if bar is None:
                continue
            tip = _ends(stem)[1] if top == _ends(stem)[0] else _ends(stem)[0]
            heads = {
                id(h)
                for h in around(ends, tip)
                if h is not stem and h is not bar and any(_near(e, tip, 0.1 * length) for e in _ends(h))
            }
            if len(heads) < 2:
                continue
            xs = [bar.x0, bar.x1, stem.x0, stem.x1]
            ys = [bar.y0, bar.y1, stem.y0, stem.y1]
            box = (min(xs), min(ys), max(xs), max(ys))
            near = _nearest_text(items, (box[0] + box[2]) / 2, (box[1] + box[3]) / 2, 3 * length)
            if near is not None and 0.5 <= length / near.size <= 1.2:
                out.append(_glyph("↧", box, near))
            break
    return out


def _glyph(text: str, box: BBox, like: TextItem) -> TextItem:
    return TextItem(text, *box, angle=like.angle, size=like.size, length=0.7 * like.size, font="(drawn)")


# ----------------------------------------------------------------------------- boxes in a text frame


@dataclass
class FrameSeg:
    """A segment in a run's reading frame: along u (a top/bottom edge) or along v (a side)."""

    along_u: bool
    at: float  # v of an along-u segment, u of an along-v one
    lo: float
    hi: float


@dataclass
class SegIndex:
    """Frame segments of one angle, the edges along u and the sides along v each sorted by position."""

    all: list[FrameSeg]
    edges: list[FrameSeg]
    edge_at: list[float]
    sides: list[FrameSeg]
    side_at: list[float]

    def edges_between(self, lo: float, hi: float) -> list[FrameSeg]:
        return self.edges[bisect.bisect_left(self.edge_at, lo) : bisect.bisect_right(self.edge_at, hi)]

    def sides_between(self, lo: float, hi: float) -> list[FrameSeg]:
        return self.sides[bisect.bisect_left(self.side_at, lo) : bisect.bisect_right(self.side_at, hi)]


def frame_index(segments: list[Segment], angle: float) -> SegIndex:
    segs = frame_segments(segments, angle)
    edges = sorted((s for s in segs if s.along_u), key=lambda s: s.at)
    sides = sorted((s for s in segs if not s.along_u), key=lambda s: s.at)
    return SegIndex(segs, edges, [s.at for s in edges], sides, [s.at for s in sides])


def frame_segments(segments: list[Segment], angle: float, tol_deg: float = 3.0) -> list[FrameSeg]:
    """The segments parallel or perpendicular to ``angle``, in that frame."""
    out: list[FrameSeg] = []
    for s in segments:
        if s.length < 1.0:
            continue
        (u0, v0), (u1, v1) = to_uv(s.x0, s.y0, angle), to_uv(s.x1, s.y1, angle)
        ang = math.degrees(math.atan2(v1 - v0, u1 - u0)) % 180
        if min(ang, 180 - ang) <= tol_deg:
            out.append(FrameSeg(True, (v0 + v1) / 2, min(u0, u1), max(u0, u1)))
        elif abs(ang - 90) <= tol_deg:
            out.append(FrameSeg(False, (u0 + u1) / 2, min(v0, v1), max(v0, v1)))
    return out


@dataclass
class Box:
    u0: float
    u1: float
    v0: float  # bottom (lower v)
    v1: float  # top


def box_around(u0: float, u1: float, v: float, size: float, index: SegIndex) -> Box | None:
    """The closed box drawn tightly around text spanning [u0, u1] at band v, or None."""
    tol = 0.15 * size
    reach = BOX_REACH * size
    near = [s for s in index.edges_between(v - reach, v + reach) if s.lo <= u0 + tol and s.hi >= u1 - tol]
    tops = [s.at for s in near if s.at > v]
    bots = [s.at for s in near if s.at < v]
    if not tops or not bots:
        return None
    top, bot = min(tops), max(bots)
    sides = [
        s
        for s in index.sides_between(u0 - SIDE_REACH * size, u1 + SIDE_REACH * size)
        if s.lo <= bot + tol and s.hi >= top - tol
    ]
    lefts = [s.at for s in sides if s.at <= u0 + tol]
    rights = [s.at for s in sides if s.at >= u1 - tol]
    if not lefts or not rights:
        return None
    return Box(max(lefts), min(rights), bot, top)


def row_of_cells(box: Box, size: float, segs: list[FrameSeg]) -> list[Box]:
    """The row of adjacent cells sharing ``box``'s top and bottom edges (a feature control frame)."""
    tol = 0.2 * size
    height = box.v1 - box.v0
    sides = sorted(
        {round(s.at, 1) for s in segs if not s.along_u and s.lo <= box.v0 + tol and s.hi >= box.v1 - tol}
    )

    def edged(a: float, b: float) -> bool:
        def covered(level: float) -> bool:
            return any(
                s.along_u and abs(s.at - level) <= tol and s.lo <= a + tol and s.hi >= b - tol for s in segs
            )

        return covered(box.v0) and covered(box.v1)

    inner = [x for x in sides if box.u0 + 0.3 * height < x < box.u1 - 0.3 * height]
    edges = [box.u0, *inner, box.u1]
    cells = [Box(a, b, box.v0, box.v1) for a, b in itertools.pairwise(edges)]
    left = box.u0
    while True:
        cands = [x for x in sides if left - 4 * height <= x < left - 0.3 * height]
        if not cands or not edged(max(cands), left):
            break
        cells.insert(0, Box(max(cands), left, box.v0, box.v1))
        left = max(cands)
    right = box.u1
    while True:
        cands = [x for x in sides if right + 0.3 * height < x <= right + 4 * height]
        if not cands or not edged(right, min(cands)):
            break
        cells.append(Box(right, min(cands), box.v0, box.v1))
        right = min(cands)
    return cells


# ----------------------------------------------------------------------------- ruled cells (upright)


@dataclass
class Grid:
    """Axis-aligned ruled lines of a page, for finding the cell around a point."""

    horizontal: list[Segment]
    vertical: list[Segment]

    @classmethod
    def of(cls, segments: list[Segment]) -> Grid:
        return cls([s for s in segments if s.horizontal], [s for s in segments if s.vertical])

    def cell(self, x: float, y: float) -> BBox | None:
        lefts = [
            s.x0 for s in self.vertical if s.x0 <= x and min(s.y0, s.y1) - 0.5 <= y <= max(s.y0, s.y1) + 0.5
        ]
        rights = [
            s.x0 for s in self.vertical if s.x0 >= x and min(s.y0, s.y1) - 0.5 <= y <= max(s.y0, s.y1) + 0.5
        ]
        tops = [
            s.y0 for s in self.horizontal if s.y0 <= y and min(s.x0, s.x1) - 0.5 <= x <= max(s.x0, s.x1) + 0.5
        ]
        bots = [
            s.y0 for s in self.horizontal if s.y0 >= y and min(s.x0, s.x1) - 0.5 <= x <= max(s.x0, s.x1) + 0.5
        ]
        if not (lefts and rights and tops and bots):
            return None
        return max(lefts), max(tops), min(rights), min(bots)
