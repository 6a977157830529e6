"""Title-block and parts-list label words per language, as data.

To add a language, add one entry to :data:`TITLE_LABELS` (field → label phrases as printed on
the sheet, upper or lower case, punctuation ``.:`` ignored) and to :data:`BOM_HEADERS`; nothing
else changes. Field names are the keys of the English entry.
"""

from __future__ import annotations

import functools
import re

TITLE_LABELS: dict[str, dict[str, list[str]]] = {
    "en": {
        "drawing_number": [
            "DWG NO",
            "DWG #",
            "DRAWING NO",
            "DRAWING NUMBER",
            "DRG NO",
            "PART NO",
            "PART NUMBER",
        ],
        "title": ["TITLE", "DESCRIPTION"],
        "revision": ["REVISION", "REV"],
        "date": ["DATE"],
        "scale": ["SCALE"],
        "sheet": ["SHEET", "SHT"],
        "material": ["MATERIAL", "MATL"],
        "weight": ["WEIGHT", "MASS"],
        "drawn_by": ["DRAWN BY", "DRAWN", "DRN"],
        "checked_by": ["CHECKED BY", "CHECKED", "CHK'D", "CHKD"],
        "approved_by": ["APPROVED BY", "APPROVED", "APPV'D", "APPD"],
    },
    "de": {
        "drawing_number": [
            "ZEICHNUNGSNUMMER",
            "ZEICHNUNGSNR",
            "ZEICHNUNGS-NR",
            "ZEICHN NR",
            "ZCHNG NR",
            "SACHNUMMER",
        ],
        "title": ["BENENNUNG", "TITEL"],
        "revision": ["ÄNDERUNG", "ÄNDERUNGSSTAND", "INDEX", "REVISION"],
        "date": ["DATUM"],
        "scale": ["MASSSTAB", "MAßSTAB"],
        "sheet": ["BLATT"],
        "material": ["WERKSTOFF", "MATERIAL"],
        "weight": ["GEWICHT", "MASSE"],
        "drawn_by": ["GEZEICHNET", "GEZ", "BEARBEITET", "BEARB"],
        "checked_by": ["GEPRÜFT", "GEPR"],
        "approved_by": ["GENEHMIGT", "FREIGEGEBEN", "FREIGABE"],
    },
}
#: column headers of the drawn/checked/approved rows: the name and the date columns
ROW_COLUMNS: dict[str, list[str]] = {"name": ["NAME"], "date": ["DATE", "DATUM"]}
#: fields that are rows of a people table (drawn by … on …): their date is field_date
PEOPLE_FIELDS = {"drawn_by": "drawn_date", "checked_by": "checked_date", "approved_by": "approved_date"}
#: other words of a title block: never a value, and they mark where the block is
OTHER_LABELS = [
    "NAME",
    "SIGNATURE",
    "SIGNATUR",
    "FINISH",
    "MFG",
    "Q.A",
    "QA",
    "UNLESS OTHERWISE SPECIFIED",
    "DO NOT SCALE DRAWING",
    "DEBURR AND",
    "PRODUKTION",
    "QUALITÄT",
    "OBERFLÄCHENGÜTE",
    "NORM",
    "WENN NICHT ANDERS DEFINIERT",
    "ZEICHNUNG NICHT SKALIEREN",
    "ENTGRATEN",
]
SHEET_SIZE = re.compile(r"^(?:ISO\s*)?(?:A[0-5]|B[0-5]|ANSI\s*[A-E]|LETTER|LEGAL|TABLOID)$", re.IGNORECASE)

BOM_HEADERS: dict[str, dict[str, list[str]]] = {
    "en": {
        "position": ["ITEM NO", "ITEM", "POS", "NO", "#", "FIND NO"],
        "quantity": ["QTY", "QUANTITY", "QTY.", "PCS"],
        "part_number": ["PART NUMBER", "PART NO", "PART #", "DWG NO", "PART"],
        "description": ["DESCRIPTION", "DESC", "TITLE", "NAME"],
        "material": ["MATERIAL", "MATL"],
    },
    "de": {
        "position": ["POS", "POSITION", "POS NR"],
        "quantity": ["MENGE", "STK", "STÜCK", "ANZAHL", "ANZ"],
        "part_number": ["SACHNUMMER", "TEILENUMMER", "ZEICHNUNGSNUMMER", "ARTIKELNUMMER", "ARTIKEL NR"],
        "description": ["BENENNUNG", "BEZEICHNUNG"],
        "material": ["WERKSTOFF", "MATERIAL"],
    },
}


def norm(text: str) -> str:
    """Upper case, ``.:`` dropped, whitespace single: how labels are compared."""
    return " ".join(re.sub(r"[.:]", " ", text.upper()).split())


def _phrases(table: dict[str, dict[str, list[str]]]) -> list[tuple[str, str]]:
    out = [(norm(p), f) for lang in table.values() for f, ps in lang.items() for p in ps]
    return sorted(set(out), key=lambda x: -len(x[0]))


TITLE_PHRASES = _phrases(TITLE_LABELS)
BOM_PHRASES = _phrases(BOM_HEADERS)
OTHER_PHRASES = sorted({norm(p) for p in OTHER_LABELS}, key=len, reverse=True)


@functools.lru_cache(maxsize=4096)
def match_label(text: str) -> tuple[str, str, str] | None:
    """(field, label as printed, rest) when ``text`` begins with a title-block label.

    The label's words may run together and its value may follow without a space
    (``DWGNO.``, ``SHEET1 OF 1``: OCR drops narrow gaps); a letter right after it means
    another word (``REVIEW`` is no ``REV``).
    """
    for phrase, fld in TITLE_PHRASES:
        m = _phrase_re(phrase).match(text)
        if m is not None:
            return fld, text[: m.end()].strip(), text[m.end() :].strip()
    return None


@functools.lru_cache(maxsize=256)
def _phrase_re(phrase: str) -> re.Pattern[str]:
    words = phrase.split(" ")
    return re.compile(
        r"\s*" + r"[\s.:]*".join(re.escape(w) for w in words) + r"(?![^\W\d_])[\s.:]*", re.IGNORECASE
    )


@functools.lru_cache(maxsize=4096)
def is_other_label(text: str) -> bool:
    n = norm(text)
    return any(n == p or n.startswith(p + " ") for p in OTHER_PHRASES)


def bom_column(text: str) -> str | None:
    n = norm(text or "")
    for phrase, fld in BOM_PHRASES:
        if n == phrase:
            return fld
    return None
