"""Feature control frames (rows of adjacent boxes) and their cells: characteristic symbols from
Unicode, from the AutoCAD ``gdt`` font's letters, or from the strokes drawn in the cell."""

from __future__ import annotations

import math
import re

from cadextract.extractors.drawing.geometry import Box, SegIndex, frame_index
from cadextract.extractors.drawing.model import Curve, DatumRef, Segment
from cadextract.extractors.drawing.runs import to_uv

#: Unicode GD&T symbols (ISO 1101 / ASME Y14.5) → characteristic
UNICODE_SYMBOLS: dict[str, str] = {
    "⏤": "straightness",
    "⏥": "flatness",
    "○": "circularity",
    "◯": "circularity",
    "⌭": "cylindricity",
    "⌒": "profile_of_line",
    "⌓": "profile_of_surface",
    "⟂": "perpendicularity",
    "⊥": "perpendicularity",
    "∠": "angularity",
    "∥": "parallelism",
    "//": "parallelism",
    "⫽": "parallelism",
    "⌖": "position",
    "◎": "concentricity",
    "⌯": "symmetry",
    "↗": "circular_runout",
    "⌰": "total_runout",
}
#: letters of the AutoCAD/SolidWorks ``gdt`` font (gdt.shx, GDT.ttf) → characteristic
GDT_FONT_LETTERS: dict[str, str] = {
    "a": "angularity",
    "b": "perpendicularity",
    "c": "flatness",
    "d": "profile_of_surface",
    "e": "circularity",
    "f": "parallelism",
    "g": "cylindricity",
    "h": "circular_runout",
    "i": "symmetry",
    "j": "position",
    "k": "profile_of_line",
    "r": "concentricity",
    "t": "total_runout",
    "u": "straightness",
}
GDT_FONT_MODIFIERS = {"m": "MMC", "l": "LMC", "s": "RFS", "p": "projected", "n": "diameter"}
MODIFIERS = {"Ⓜ": "MMC", "Ⓛ": "LMC", "Ⓢ": "RFS", "Ⓟ": "projected", "Ⓕ": "free_state", "Ⓣ": "tangent_plane"}
_TOL = re.compile(r"(?P<dia>[Ø⌀∅])?\s*(?P<value>\d+(?:[.,]\d+)?|[.,]\d+)")


def symbol_from_text(text: str, font: str = "") -> str | None:
    t = text.strip()
    if "gdt" in font.lower() and t[:1] in GDT_FONT_LETTERS:
        return GDT_FONT_LETTERS[t[:1]]
    for sym, name in UNICODE_SYMBOLS.items():
        if t.startswith(sym):
            return name
    return None


def _slanted(a: float) -> bool:
    return 20 <= a <= 160 and not 80 <= a <= 100


def symbol_from_strokes(cell: Box, angle: float, segments: list[Segment], curves: list[Curve]) -> str | None:
    """The characteristic drawn inside a cell, from the kind of strokes found there."""
    pad = 0.08 * (cell.v1 - cell.v0)

    def inside(x: float, y: float) -> bool:
        u, v = to_uv(x, y, angle)
        return cell.u0 + pad < u < cell.u1 - pad and cell.v0 + pad < v < cell.v1 - pad

    strokes = [s for s in segments if inside(s.x0, s.y0) and inside(s.x1, s.y1)]
    rounds = [c for c in curves if all(inside(x, y) for x, y in c.points)]
    dirs = []
    for s in strokes:
        (u0, v0), (u1, v1) = to_uv(s.x0, s.y0, angle), to_uv(s.x1, s.y1, angle)
        dirs.append(math.degrees(math.atan2(v1 - v0, u1 - u0)) % 180)
    along = sum(1 for a in dirs if min(a, 180 - a) < 10)
    across = sum(1 for a in dirs if abs(a - 90) < 10)
    slant = [a for a in dirs if _slanted(a)]
    circles = [c for c in rounds if _round_shape(c)]
    arcs = [c for c in rounds if not _round_shape(c)]
    if circles:
        if len(circles) >= 2:
            return "concentricity"
        if along and across:
            return "position"
        if len(slant) >= 2:
            return "cylindricity"
        return "circularity"
    if arcs:
        return "profile_of_surface" if along else "profile_of_line"
    if len(slant) == 2 and abs(slant[0] - slant[1]) < 5 and not along and not across:
        return "parallelism"
    if along >= 2 and len(slant) == 2:
        return "flatness"
    if along == 1 and across == 1 and not slant:
        return "perpendicularity"
    if along == 1 and len(slant) == 1 and not across:
        return "angularity"
    if along >= 3 and not slant:
        return "symmetry"
    if along == 1 and not slant and not across:
        return "straightness"
    if slant and len(strokes) >= 3:
        long_ones = sum(1 for a in slant if 40 <= a <= 50)
        return "total_runout" if long_ones >= 2 else "circular_runout"
    return None


def _round_shape(c: Curve) -> bool:
    x0, y0, x1, y1 = c.bbox
    w, h = x1 - x0, y1 - y0
    if not 0.8 < w / max(h, 1e-6) < 1.25:
        return False
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    r = [math.hypot(x - cx, y - cy) for x, y in c.points]
    return max(r) - min(r) < 0.15 * max(w, h) and len(c.points) >= 8


def read_tolerance(text: str) -> tuple[float | None, bool, str | None]:
    """(value, diameter zone, material modifier) of a tolerance cell's text."""
    m = _TOL.search(text)
    value = float(m.group("value").replace(",", ".")) if m else None
    dia = bool(m and m.group("dia")) or text.strip()[:1] in "Ø⌀∅"
    modifier = next((name for sym, name in MODIFIERS.items() if sym in text), None)
    rest = text[m.end() :] if m else text
    if modifier is None and re.search(r"\(M\)|\bM\b", rest):
        modifier = "MMC"
    elif modifier is None and re.search(r"\(L\)|\bL\b", rest):
        modifier = "LMC"
    return value, dia, modifier


def read_datums(texts: list[str]) -> list[DatumRef]:
    out: list[DatumRef] = []
    for text in texts:
        for m in re.finditer(r"([A-Z](?:-[A-Z])?)\s*(Ⓜ|Ⓛ|\(M\)|\(L\)|(?<=\s)M\b|(?<=\s)L\b)?", text):
            letter, mod = m.group(1), m.group(2) or ""
            if letter in {"M", "L"} and out:
                out[-1].modifier = "MMC" if letter == "M" else "LMC"
                continue
            modifier = "MMC" if "M" in mod else "LMC" if "L" in mod else None
            out.append(DatumRef(letter, modifier))
    return out


def segments_for(angle: float, cache: dict[int, SegIndex], segments: list[Segment]) -> SegIndex:
    key = round(angle) % 360
    if key not in cache:
        cache[key] = frame_index(segments, angle)
    return cache[key]
