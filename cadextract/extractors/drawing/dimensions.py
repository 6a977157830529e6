"""Dimension text → :class:`Dimension`: counts, Ø/R/M prefixes, fits, ± and stacked deviations,
stacked limits, max/min, depth. Stacks are paired by position (see :func:`pair_stacks`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from cadextract.extractors.drawing.model import BBox, Dimension
from cadextract.extractors.drawing.runs import Run, Token

_N = r"\d+(?:[.,]\d+)?|[.,]\d+"
NUMBER = re.compile(rf"^(?:{_N})$")
SIGNED = re.compile(rf"^[+\-−±]\s?(?:{_N})$")
ZERO = re.compile(r"^0(?:[.,]0+)?$")
FIT = re.compile(r"^[A-HJKMNP-Za-hjkmnp-z]{1,2}\d{1,2}$")
#: a prefix with no value of its own: "R", "Ø", "2x Ø" (its value is a stack beside it)
PREFIX_ONLY = re.compile(r"^(?:\d+\s*[xX×]\s*)?(?:[Ø⌀∅]|S?R|M|SØ)?$")
DIAMETER_SIGNS = "Ø⌀∅"
#: two stacked plain numbers are upper/lower limits only when within this fraction of each other
LIMIT_BAND = 0.05

CHAMFER = re.compile(
    rf"(?<![\w.,])(?P<value>{_N})\s*[xX×]\s*45\s*°|(?<![\w.,])45\s*°\s*[xX×]\s*(?P<value2>{_N})"
)
DIMENSION = re.compile(
    rf"(?<![\w.,])(?:(?P<count>\d+)\s*[xX×]\s*(?=[Ø⌀∅RM\d.,]))?"
    rf"(?P<prefix>S[Ø⌀∅]|[Ø⌀∅]|%%[cC]|S?R(?=\s?\d)|M(?=\d))?\s*"
    rf"(?P<value>{_N})"
    rf"(?:-(?P<hi>{_N})(?![\d.,]))?"
    rf"(?:\s*[xX×]\s*(?P<pitch>{_N})(?!\s*°))?"
    rf"(?P<chamfer>\s*[xX×]\s*45\s*°)?"
    rf"(?P<deg>\s*°)?"
    rf"(?:\s*(?P<fit>[A-HJKMNP-Za-hjkmnp-z]{{1,2}}\d{{1,2}}(?:\s*/\s*[a-hjkmnp-z]{{1,2}}\d{{1,2}})?)(?![\w.,]))?"
    rf"(?:\s*±\s*(?P<tol>{_N})\s*°?)?"
    rf"(?:\s*\(?\s*(?P<up>[+\-−]\s?(?:{_N}))\s*/?\s*(?P<lo>[+\-−]\s?(?:{_N})|0(?:[.,]0+)?(?![\d.,]))\s*\)?)?"
    rf"(?:\s*(?P<lim>max|min|MAX|MIN)\.?)?"
    rf"(?:\s*↧\s*(?P<depth>{_N}))?"
)


def num(text: str | None) -> float | None:
    if text is None:
        return None
    t = text.replace(" ", "").replace(",", ".").replace("−", "-").lstrip("±")
    try:
        return float(t)
    except ValueError:
        return None


@dataclass
class Attachment:
    """What a stack beside a token adds to it."""

    kind: str  # deviation, fit, limits
    upper: Token
    lower: Token


def _stackable(a: Token, b: Token) -> str | None:
    ta, tb = a.text, b.text
    signed_or_zero = all(SIGNED.match(t) or ZERO.match(t) for t in (ta, tb))
    if signed_or_zero and (SIGNED.match(ta) or SIGNED.match(tb)):
        return "deviation"
    if FIT.match(ta) and FIT.match(tb) and ta[0].isupper() and tb[0].islower():
        return "fit"
    hi, lo = num(ta) or 0.0, num(tb) or 0.0
    # limits of one size differ by a tolerance band, not by a different feature's size
    if NUMBER.match(ta) and NUMBER.match(tb) and lo < hi <= lo * (1 + LIMIT_BAND):
        return "limits"
    return None


def pair_stacks(tokens: list[Token]) -> list[Attachment]:
    """Pairs of tokens stacked one over the other (deviations, fits, limits) at one angle."""
    cands: list[tuple[float, Token, Token, str]] = []
    # only numbers, signed numbers and fit codes stack; the lower token is looked up by its band
    stackable = [t for t in tokens if NUMBER.match(t.text) or SIGNED.match(t.text) or FIT.match(t.text)]
    bands: dict[tuple[int, int], list[Token]] = {}
    for t in stackable:
        bands.setdefault((round(t.angle), int(t.v // 4)), []).append(t)
    for a in stackable:
        lowest, highest = int((a.v - 1.6 * 1.4 * a.size) // 4), int((a.v - 0.6 * 0.7 * a.size) // 4)
        for key in range(lowest, highest + 1):
            for b in bands.get((round(a.angle), key), ()):
                if a is b or a.run == b.run or abs(a.angle - b.angle) > 3:
                    continue
                size = max(a.size, b.size)
                dv = a.v - b.v
                if not 0.6 * size <= dv <= 1.6 * size or not 0.7 <= a.size / b.size <= 1.4:
                    continue
                if abs(a.u0 - b.u0) > 0.6 * size and abs(a.u1 - b.u1) > 0.6 * size:
                    continue
                kind = _stackable(a, b)
                if kind:
                    cands.append((abs(dv / size - 1.0), a, b, kind))
    cands.sort(key=lambda c: c[0])
    taken: set[int] = set()
    out: list[Attachment] = []
    for _, a, b, kind in cands:
        if id(a) in taken or id(b) in taken:
            continue
        taken.update((id(a), id(b)))
        out.append(Attachment(kind, a, b))
    return out


def host_of(att: Attachment, tokens: list[Token]) -> Token | None:
    """The token just before a stack in reading order, level with it (its nominal or prefix)."""
    size = max(att.upper.size, att.lower.size)
    start = min(att.upper.u0, att.lower.u0)
    best, best_gap = None, 1.6 * size
    for t in tokens:
        if t is att.upper or t is att.lower or abs(t.angle - att.upper.angle) > 3:
            continue
        if not att.lower.v - 0.35 * size <= t.v <= att.upper.v + 0.35 * size:
            continue
        gap = start - t.u1
        if -0.3 * size <= gap < best_gap:
            best, best_gap = t, gap
    return best


def union(boxes: list[BBox]) -> BBox:
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def parse_run(run: Run, attachments: dict[int, Attachment], page: int, basic: bool) -> list[Dimension]:
    """The dimensions in one run's unused tokens; stacks attached to a token complete it."""
    tokens = [t for t in run.tokens if not t.used]
    if not tokens:
        return []
    text = ""
    spans: list[tuple[int, int, Token]] = []
    for t in tokens:
        if text:
            text += " "
        spans.append((len(text), len(text) + len(t.text), t))
        text += t.text
    out: list[Dimension] = []
    for m in CHAMFER.finditer(text):
        value = num(m.group("value") or m.group("value2"))
        covered = [t for a, b, t in spans if a < m.end() and b > m.start()]
        out.append(
            Dimension(
                kind="chamfer",
                nominal=value,
                text=m.group(0),
                page=page,
                bbox=union([t.bbox for t in covered]),
                basic=basic,
                angle=run.angle,
            )
        )
        text = text[: m.start()] + " " * (m.end() - m.start()) + text[m.end() :]
    for m in DIMENSION.finditer(text):
        if not m.group("value"):
            continue
        covered = [t for a, b, t in spans if a < m.end() and b > m.start()]
        value_tok = next(t for a, b, t in spans if a <= m.start("value") < b)
        dim = _from_match(m, text, page, basic, run)
        att = attachments.get(id(value_tok)) or (attachments.get(id(covered[-1])) if covered else None)
        if att is not None:
            _apply(dim, att)
            covered += [att.upper, att.lower]
        dim.bbox = union([t.bbox for t in covered])
        base = re.sub(r"([Ø⌀∅])\s+", r"\1", m.group(0).strip())  # a drawn Ø sits a little apart
        dim.text = base if att is None else f"{base} {att.upper.text}/{att.lower.text}"
        out.append(dim)
    return out


def _from_match(m: re.Match[str], text: str, page: int, basic: bool, run: Run) -> Dimension:
    prefix = (m.group("prefix") or "").upper()
    kind = "linear"
    if m.group("chamfer"):
        kind = "chamfer"
    elif prefix.endswith(("Ø", "⌀", "∅", "%%C")):
        kind = "diameter"
    elif prefix.endswith("R"):
        kind = "radius"
    elif prefix == "M":
        kind = "thread"
    elif m.group("deg"):
        kind = "angle"
    value = num(m.group("value"))
    dim = Dimension(kind=kind, nominal=value, text=m.group(0).strip(), page=page, bbox=None, basic=basic)
    dim.angle = run.angle
    if m.group("count"):
        dim.count = int(m.group("count"))
    if kind == "angle":
        dim.unit = "deg"
    tol = num(m.group("tol"))
    if tol is not None:
        dim.tolerance, dim.upper, dim.lower = tol, tol, -tol
    if m.group("up"):
        dim.upper, dim.lower = num(m.group("up")), num(m.group("lo"))
        if dim.upper is not None and dim.lower is not None and dim.upper < dim.lower:
            dim.upper, dim.lower = dim.lower, dim.upper
    if m.group("fit"):
        dim.fit = re.sub(r"\s+", "", m.group("fit"))
    hi = num(m.group("hi"))
    if hi is not None and value is not None and hi > value:
        dim.range = (value, hi)
    if m.group("lim"):
        dim.limit = m.group("lim").lower()
    dim.depth = num(m.group("depth"))
    if kind == "thread":
        dim.pitch = num(m.group("pitch"))
    return dim


def _apply(dim: Dimension, att: Attachment) -> None:
    up, lo = num(att.upper.text), num(att.lower.text)
    if att.kind == "deviation":
        dim.upper, dim.lower = up, lo
        if up is not None and lo is not None and up < lo:
            dim.upper, dim.lower = lo, up
    elif att.kind == "fit":
        dim.fit = f"{att.upper.text}/{att.lower.text}"
    elif att.kind == "limits" and up is not None and lo is not None:
        dim.range = (lo, up)
        dim.nominal = lo


def limits_alone(att: Attachment, prefix: str, page: int, basic: bool) -> Dimension:
    """A stacked pair of limits with no nominal in front (``16.00`` over ``15.50``; ``R`` + stack)."""
    m = re.match(r"^(?:(\d+)\s*[xX×]\s*)?(.*)$", prefix.strip())
    count = int(m.group(1)) if m and m.group(1) else None
    sign = (m.group(2) if m else "").upper()
    kind = (
        "diameter" if any(c in sign for c in DIAMETER_SIGNS) else "radius" if sign.endswith("R") else "linear"
    )
    lo, up = num(att.lower.text), num(att.upper.text)
    dim = Dimension(
        kind=kind,
        nominal=lo,
        text=f"{prefix.strip()} {att.upper.text}/{att.lower.text}".strip(),
        page=page,
        bbox=union([att.upper.bbox, att.lower.bbox]),
        count=count,
        basic=basic,
        angle=att.upper.angle,
    )
    if lo is not None and up is not None:
        dim.range = (lo, up)
    return dim
