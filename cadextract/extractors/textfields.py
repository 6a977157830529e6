"""Callouts and title-block fields read from plain text and table cells (pure functions).

Used by the PDF extractor (text layers and pdfplumber tables) and by the OCR path (scans):
dimension callouts (Ø, R, M threads, angles, ± tolerances, +/- deviations) in page text,
and label/value pairs of a title block (``DWG NO: 123``, a label cell next to its value).
"""

from __future__ import annotations

import re
from typing import Any

from cadextract.extractors.drawing.labels import SHEET_SIZE
from cadextract.extractors.shared import number

_NUM = r"\d+(?:[.,]\d+)?"
#: (kind, pattern) in priority order; a later pattern never re-reports text an earlier one took
CALLOUT_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (
        "diameter",
        re.compile(
            rf"(?:[Øø⌀∅]|%%[cC])\s*(?P<value>{_NUM})"
            rf"(?:\s*(?P<fit>[A-HJ-NP-Za-hj-np-z]{{1,2}}\d{{1,2}})(?![\w]))?"
            rf"(?:\s*±\s*(?P<tol>{_NUM}))?"
        ),
    ),
    ("radius", re.compile(rf"(?<![A-Za-z0-9])S?R\s?(?P<value>{_NUM})(?![\d])(?:\s*±\s*(?P<tol>{_NUM}))?")),
    ("thread", re.compile(rf"(?<![A-Za-z0-9])M(?P<value>{_NUM})(?:\s*[x×]\s*(?P<pitch>{_NUM}))?(?![\d.,])")),
    ("angle", re.compile(rf"(?<![\d.,])(?P<value>{_NUM})\s*°(?:\s*±\s*(?P<tol>{_NUM})\s*°?)?")),
    ("tolerance", re.compile(rf"(?<![\d.,])(?P<value>{_NUM})\s*±\s*(?P<tol>{_NUM})")),
    (
        "deviation",
        re.compile(
            rf"(?<![\d.,])(?P<value>{_NUM})\s+(?P<upper>[+-]\s?{_NUM})\s*/?\s*(?P<lower>[+-]\s?{_NUM})"
        ),
    ),
]

#: normalised title-block field -> label regex (longest alternatives first)
TITLE_LABELS: dict[str, str] = {
    "drawing_number": (
        r"DWG\.?\s*NO\.?|DWG\.?\s*#|DRAWING\s*(?:NO\.?|NUMBER|#)|DRG\.?\s*NO\.?|"
        r"ZEICHNUNGS\s*-?\s*NR\.?|ZEICHNUNGSNUMMER|ZEICHN\.?\s*-?\s*NR\.?"
    ),
    "title": r"TITLE|BENENNUNG|TITEL",
    "revision": r"REVISION|REV\.?",
    "date": r"DATE|DATUM",
    "scale": r"SCALE|MASSSTAB|MAßSTAB",
    "sheet": r"SHEET|BLATT|SHT\.?",
    "drawn_by": r"DRAWN\s*BY|DRAWN|GEZEICHNET|GEZ\.",
}
LABEL_RE = re.compile(
    "|".join(
        f"(?P<{name}>(?<![A-Za-zÄÖÜäöü])(?:{rx})(?![A-Za-zÄÖÜäöü]))" for name, rx in TITLE_LABELS.items()
    ),
    re.IGNORECASE,
)
#: other title-block labels: never taken as the value of a neighbouring label
STOP_LABEL_RE = re.compile(
    r"^\s*(?:CHK'?D|CHECKED|APPV'?D|APPROVED|MFG|Q\.?\s?A\.?|NAME|SIGNATURE|MATERIAL|WEIGHT|FINISH|"
    r"GEPR[ÜU]FT|GENEHMIGT|NORM|PRODUKTION|QUALIT[ÄA]T|WERKSTOFF|GEWICHT|SIGNATUR|DATUM|BEARB\.?)\s*:?\s*$",
    re.IGNORECASE,
)
_VALIDATORS: dict[str, re.Pattern[str]] = {
    "scale": re.compile(r"^\s*(?:\d+(?:[.,]\d+)?\s*:\s*\d+(?:[.,]\d+)?|NTS|NONE|AS SHOWN)\b", re.IGNORECASE),
    "sheet": re.compile(r"\d"),
    "date": re.compile(r"\d"),
    "drawing_number": re.compile(r"[\d\-_]"),
    "revision": re.compile(r"^\s*[A-Za-z0-9][A-Za-z0-9.\-]{0,5}\s*$"),
}


def find_callouts(text: str) -> list[dict[str, Any]]:
    """Dimension callouts (Ø, R, M threads, angles, ± tolerances, +/- deviations) in ``text``."""
    out: list[dict[str, Any]] = []
    for line in text.splitlines():
        taken: list[tuple[int, int]] = []
        for kind, rx in CALLOUT_PATTERNS:
            for m in rx.finditer(line):
                if any(m.start() < b and a < m.end() for a, b in taken):
                    continue
                taken.append((m.start(), m.end()))
                groups = m.groupdict()
                rec: dict[str, Any] = {
                    "kind": kind,
                    "text": m.group(0).strip(),
                    "value": _parse_number(groups.get("value")),
                    "tolerance": _parse_number(groups.get("tol")),
                    "fit": groups.get("fit"),
                }
                if kind == "deviation":
                    rec["upper"] = _parse_number(groups.get("upper"))
                    rec["lower"] = _parse_number(groups.get("lower"))
                if kind == "thread":
                    rec["pitch"] = _parse_number(groups.get("pitch"))
                out.append(rec)
    return out


def _labels_in(text: str) -> list[tuple[str, re.Match[str]]]:
    return [(m.lastgroup or "", m) for m in LABEL_RE.finditer(text)]


def valid(field: str, value: str) -> bool:
    if not value or len(value) > 80 or STOP_LABEL_RE.match(value):
        return False
    if field == "drawing_number" and SHEET_SIZE.match(value.strip()):
        return False  # "A3" in the next cell is the sheet size, never a drawing number
    check = _VALIDATORS.get(field)
    return check is None or bool(check.search(value))


def _strip_value(value: str) -> str:
    return value.strip().lstrip(":=#").strip().rstrip(":").strip()


def fields_from_tables(tables: list[list[list[str | None]]]) -> dict[str, tuple[str, str, str]]:
    found: dict[str, tuple[str, str, str]] = {}
    for rows in tables:
        for r, row in enumerate(rows):
            for c, cell in enumerate(row):
                if not cell:
                    continue
                flat = " ".join(cell.split())
                labels = _labels_in(flat)
                if not labels or labels[0][1].start() != 0:
                    continue
                field, m = labels[0]
                if field in found:
                    continue
                end = labels[1][1].start() if len(labels) > 1 else len(flat)
                value = _strip_value(flat[m.end() : end])
                method = "table_cell"
                if not value:
                    candidates = []
                    if c + 1 < len(row):
                        candidates.append(("table_right", row[c + 1]))
                    if r + 1 < len(rows) and c < len(rows[r + 1]):
                        candidates.append(("table_below", rows[r + 1][c]))
                    for how, other in candidates:
                        other_flat = " ".join((other or "").split())
                        if (
                            other_flat
                            and not _labels_in(other_flat[:20])
                            and not STOP_LABEL_RE.match(other_flat)
                        ):
                            value, method = other_flat, how
                            break
                if valid(field, value):
                    found[field] = (value, method, m.group(0))
    return found


def fields_from_text(text: str) -> dict[str, tuple[str, str, str]]:
    found: dict[str, tuple[str, str, str]] = {}
    for line in text.splitlines():
        labels = _labels_in(line)
        for i, (field, m) in enumerate(labels):
            if field in found:
                continue
            end = labels[i + 1][1].start() if i + 1 < len(labels) else len(line)
            after = line[m.end() : end]
            has_colon = after.lstrip().startswith(":")
            # a label needs a colon or the start of the line, so prose ("do not scale drawing") is skipped
            if not has_colon and m.start() != 0 and field not in {"sheet", "scale"}:
                continue
            value = _strip_value(after)
            if valid(field, value):
                found[field] = (value, "text_line", m.group(0))
    return found


def _parse_number(text: str | None) -> float | None:
    if text is None:
        return None
    return number(text.replace(" ", "").replace(",", "."), 6)
