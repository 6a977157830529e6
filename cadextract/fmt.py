"""Numbers, units and paths as people read them: one spelling, sensible precision."""

from __future__ import annotations

import math

#: how libraries spell length units -> one spelling (ISO/SI, lower case)
_UNIT_SPELLING = {
    "millimeters": "millimetre",
    "millimeter": "millimetre",
    "centimeters": "centimetre",
    "centimeter": "centimetre",
    "meters": "metre",
    "meter": "metre",
    "kilometers": "kilometre",
    "inches": "inch",
    "feet": "foot",
    "micrometers": "micrometre",
    "micrometer": "micrometre",
}
_UNIT_SYMBOL = {
    "millimetre": "mm",
    "centimetre": "cm",
    "metre": "m",
    "kilometre": "km",
    "micrometre": "µm",
    "inch": "in",
    "foot": "ft",
}


def unit_name(raw: str | None) -> str | None:
    """'MILLIMETRE', 'Millimeters', 'millimetre' -> 'millimetre'."""
    if raw is None:
        return None
    name = str(raw).strip().lower().replace("_", " ")
    return _UNIT_SPELLING.get(name, name)


def unit_symbol(raw: str | None) -> str | None:
    """'millimetre' -> 'mm' (None when unknown)."""
    name = unit_name(raw)
    if name in _UNIT_SYMBOL.values():
        return name
    return _UNIT_SYMBOL.get(name or "")


def number(value: float, *, scale: float | None = None) -> str:
    """A float as an engineer writes it: 131,411,000 or 12.5 or 0.0042; ~0 (noise) is 0.

    ``scale``: the magnitude of the values around it; anything below 1e-9 of it is 0.
    """
    if not math.isfinite(value):
        return str(value)
    tiny = 1e-9 * (abs(scale) if scale else 1.0)
    if abs(value) < max(tiny, 1e-12):
        return "0"
    magnitude = abs(value)
    if magnitude >= 1e15:
        return f"{value:.4e}"
    if magnitude >= 1000:
        return f"{value:,.0f}" if magnitude >= 1e5 else f"{value:,.1f}".rstrip("0").rstrip(".")
    if magnitude >= 1:
        return f"{value:.6g}"
    return f"{value:.4g}"


def left_ellipsis(text: str, width: int) -> str:
    """Cut a path from the left ('…/site-a/plan.pdf') so its end, the file name, stays."""
    if width <= 1:
        return "…" if text else ""
    return text if len(text) <= width else "…" + text[-(width - 1) :]
