"""Glyphs → text runs read in the reading order of their rotation, split into tokens.

A run is one line of text at one angle; its glyphs are ordered along the reading direction
``u`` and share a band across it (``v``, growing towards the top of the glyphs). This is
what turns a vertical ``35.00`` (glyphs stacked bottom to top) back into ``35.00``.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from cadextract.extractors.drawing.model import BBox, Segment, TextItem

#: glyphs further apart than this (× size) along the reading direction start a new run
RUN_GAP = 1.0
#: a gap wider than this (× size) without a space glyph reads as a space
SPACE_GAP = 0.2
#: glyph centres further apart than this (× size) across the reading direction are other lines
LINE_BAND = 0.3
#: width (page units) of the bands runs are indexed by while they are built
BAND_BUCKET = 3.0
#: angles closer than this (degrees) are one reading direction
ANGLE_TOL = 3.0


def frame(angle: float) -> tuple[tuple[float, float], tuple[float, float]]:
    """Reading direction ``d`` and glyph-up direction ``n`` of ``angle`` in y-down page space."""
    a = math.radians(angle)
    return (math.cos(a), -math.sin(a)), (-math.sin(a), -math.cos(a))


def to_uv(x: float, y: float, angle: float) -> tuple[float, float]:
    d, n = frame(angle)
    return x * d[0] + y * d[1], x * n[0] + y * n[1]


@dataclass
class Glyph:
    item: TextItem
    u: float
    v: float
    half: float  # half the extent along u


@dataclass
class Token:
    """A word of a run: its text, reading-frame extent and page box."""

    text: str
    u0: float
    u1: float
    v: float
    size: float
    angle: float
    bbox: BBox
    run: int
    index: int
    used: bool = False


@dataclass
class Run:
    text: str
    angle: float
    size: float
    u0: float
    u1: float
    v: float
    bbox: BBox
    glyphs: list[Glyph] = field(default_factory=list)
    tokens: list[Token] = field(default_factory=list)

    @property
    def start(self) -> tuple[float, float]:
        """Page position of the first glyph's centre (where the run begins)."""
        return self.glyphs[0].item.center if self.glyphs else (self.bbox[0], self.bbox[1])


def _union(boxes: list[BBox]) -> BBox:
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def _angle_key(angle: float) -> float:
    a = angle % 360.0
    return 0.0 if a > 360.0 - ANGLE_TOL / 2 else a


def _walled(a: TextItem, b: TextItem, walls: list[tuple[float, float, float]]) -> bool:
    """Whether a vertical rule stands between the facing edges of two upright items."""
    lo, hi = sorted((a.x1, b.x0))
    y = (a.center[1] + b.center[1]) / 2
    start = bisect.bisect_left(walls, (lo, -math.inf, -math.inf))
    for x, y0, y1 in walls[start:]:
        if x > hi:
            return False
        if y0 <= y <= y1:
            return True
    return False


def build_runs(items: list[TextItem], walls: Sequence[Segment] = ()) -> list[Run]:
    """Group items into runs: same angle, same band, close along the reading direction.

    ``walls`` are vertical rules no upright run may cross (a cell's edge on a scan).
    """
    wall_x = sorted((s.x0, min(s.y0, s.y1), max(s.y0, s.y1)) for s in walls)
    by_angle: list[tuple[float, list[TextItem]]] = []
    for item in sorted(items, key=lambda i: _angle_key(i.angle)):
        key = _angle_key(item.angle)
        if by_angle and abs(by_angle[-1][0] - key) <= ANGLE_TOL:
            by_angle[-1][1].append(item)
        else:
            by_angle.append((key, [item]))
    runs: list[Run] = []
    for _, group in by_angle:
        angle = sum(i.angle for i in group) / len(group)
        glyphs = []
        for item in group:
            u, v = to_uv(*item.center, angle)
            glyphs.append(Glyph(item, u, v, item.extent() / 2))
        glyphs.sort(key=lambda g: g.u)
        # runs indexed by the band (v) of their last glyph: a glyph only looks at runs near its band
        found: list[list[Glyph]] = []
        bands: dict[int, list[int]] = {}
        top_size = max(g.item.size for g in glyphs)
        for g in glyphs:
            size = g.item.size
            key = int(g.v // BAND_BUCKET)
            best = -1
            best_gap = math.inf
            horizon = g.u - g.half - RUN_GAP * top_size  # a run ending before this cannot grow again
            # runs of glyphs up to twice this one's size are within reach of its band
            reach = int(LINE_BAND * 2 * size // BAND_BUCKET) + 1
            for k in range(key - reach, key + reach + 1):
                live = bands.get(k)
                if not live:
                    continue
                if len(live) > 8:
                    live[:] = [i for i in live if found[i][-1].u + found[i][-1].half >= horizon]
                for idx in live:
                    last = found[idx][-1]
                    if abs(last.v - g.v) > LINE_BAND * max(size, last.item.size):
                        continue
                    gap = (g.u - g.half) - (last.u + last.half)
                    if -0.5 * size <= gap <= RUN_GAP * max(size, last.item.size) and gap < best_gap:
                        if wall_x and abs(angle) < ANGLE_TOL and _walled(last.item, g.item, wall_x):
                            continue
                        best, best_gap = idx, gap
            if best < 0:
                found.append([g])
                bands.setdefault(key, []).append(len(found) - 1)
            else:
                old = int(found[best][-1].v // BAND_BUCKET)
                found[best].append(g)
                if old != key:
                    if best in bands.get(old, ()):
                        bands[old].remove(best)
                    bands.setdefault(key, []).append(best)
        for cur in found:
            runs.append(_make_run(cur, angle))
    runs.sort(key=lambda r: (round(r.bbox[1]), r.bbox[0]))
    for i, run in enumerate(runs):
        run.tokens = _tokens(run, i)
    return runs


def _make_run(glyphs: list[Glyph], angle: float) -> Run:
    parts: list[str] = []
    prev: Glyph | None = None
    for g in glyphs:
        if prev is not None and g.item.text[:1] != " " and not parts[-1].endswith(" "):
            gap = (g.u - g.half) - (prev.u + prev.half)
            if gap > SPACE_GAP * g.item.size:
                parts.append(" ")
        parts.append(g.item.text)
        prev = g
    size = max(g.item.size for g in glyphs)
    return Run(
        text="".join(parts),
        angle=angle,
        size=size,
        u0=glyphs[0].u - glyphs[0].half,
        u1=glyphs[-1].u + glyphs[-1].half,
        v=sum(g.v for g in glyphs) / len(glyphs),
        bbox=_union([(g.item.x0, g.item.y0, g.item.x1, g.item.y1) for g in glyphs]),
        glyphs=glyphs,
    )


def _tokens(run: Run, run_index: int) -> list[Token]:
    out: list[Token] = []
    word: list[Glyph] = []
    prev: Glyph | None = None

    def flush() -> None:
        if word:
            text = "".join(g.item.text for g in word).strip()
            if text:
                out.append(
                    Token(
                        text=text,
                        u0=word[0].u - word[0].half,
                        u1=word[-1].u + word[-1].half,
                        v=sum(g.v for g in word) / len(word),
                        size=max(g.item.size for g in word),
                        angle=run.angle,
                        bbox=_union([(g.item.x0, g.item.y0, g.item.x1, g.item.y1) for g in word]),
                        run=run_index,
                        index=len(out),
                    )
                )
            word.clear()

    for g in run.glyphs:
        gap = 0.0 if prev is None else (g.u - g.half) - (prev.u + prev.half)
        if g.item.text.isspace() or (prev is not None and gap > SPACE_GAP * g.item.size):
            flush()
        if not g.item.text.isspace():
            if " " in g.item.text.strip():  # an OCR item may hold several words
                word.append(g)
                flush()
            else:
                word.append(g)
        prev = g
    flush()
    return out
