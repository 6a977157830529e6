"""The title block of a DXF drawing: drawing number, title, revision and friends, from the
INSERT with the most recognised ATTRIB tags, the drawing's custom properties, or labelled texts."""

from __future__ import annotations

import re
from typing import Any

#: normalised title-block field -> accepted attribute tags / labels (upper case, only A-Z0-9)
TITLE_FIELDS: dict[str, tuple[str, ...]] = {
    "drawing_number": (
        "DWGNO",
        "DWGNUM",
        "DWGNUMBER",
        "DRAWINGNO",
        "DRAWINGNUMBER",
        "DRGNO",
        "DRWNO",
        "DOCNO",
        "DOCUMENTNO",
        "DOCUMENTNUMBER",
        "ZEICHNUNGSNR",
        "ZEICHNUNGSNUMMER",
        "ZEICHNR",
    ),
    "title": ("TITLE", "DWGTITLE", "DRAWINGTITLE", "TITLE1", "BENENNUNG", "TITEL"),
    "revision": ("REV", "REVISION", "REVNO", "REVISIONNO", "DWGREV", "INDEX"),
    "date": ("DATE", "DWGDATE", "DRAWNDATE", "DATUM"),
    "scale": ("SCALE", "DWGSCALE", "MASSSTAB", "MASTAB"),
    "sheet": ("SHEET", "SHEETNO", "SHEETNUMBER", "SHT", "SHTNO", "BLATT"),
    "drawn_by": ("DRAWNBY", "DRAWN", "DRN", "DRNBY", "DRAFTER", "AUTHOR", "GEZEICHNET", "GEZ"),
}
_TAG_TO_FIELD = {tag: name for name, tags in TITLE_FIELDS.items() for tag in tags}
_LABEL_RE = re.compile(
    r"^\s*(?P<label>[A-Za-zÄÖÜäöüß][A-Za-zÄÖÜäöüß .\-_#]{0,24}?)\s*(?:[:=#]|\.\s|\s{2,}|$)\s*(?P<value>.*)$"
)


def _norm_tag(tag: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", tag.upper().replace("Ä", "A").replace("ß", "SS"))


Fields = dict[str, dict[str, Any]]


def title_block(
    inserts: list[dict[str, Any]], texts: list[dict[str, Any]], custom: dict[str, str]
) -> dict[str, Any]:
    """``{block, fields}``: each field from the first source that has it, in this order."""
    fields: Fields = {}
    block_name = _from_attribs(inserts, fields)
    _from_custom_properties(custom, fields)
    if any(n not in fields for n in TITLE_FIELDS) and texts:
        _from_texts(texts, fields)
    ordered = {name: fields[name] for name in TITLE_FIELDS if name in fields}
    return {"block": block_name, "fields": ordered}


def _from_attribs(inserts: list[dict[str, Any]], fields: Fields) -> str | None:
    """ATTRIBs: the INSERT carrying the most recognised tags wins (ties: paperspace first)."""
    best: tuple[int, int, int] | None = None
    best_insert: dict[str, Any] | None = None
    for index, ins in enumerate(inserts):
        hits = sum(1 for tag in ins["attribs"] if _norm_tag(tag) in _TAG_TO_FIELD)
        if not hits:
            continue
        name_bonus = 1 if re.search(r"TITLE|BORDER|FRAME|SCHRIFT|RAHMEN", str(ins["block"]).upper()) else 0
        key = (hits, name_bonus, -index)
        if best is None or key > best:
            best, best_insert = key, ins
    if best_insert is None:
        return None
    for tag, value in best_insert["attribs"].items():
        name = _TAG_TO_FIELD.get(_norm_tag(tag))
        if name and name not in fields and value.strip():
            fields[name] = {
                "value": value.strip(),
                "source": {
                    "kind": "attrib",
                    "block": best_insert["block"],
                    "insert_handle": best_insert["handle"],
                    "handle": best_insert["_attrib_handles"].get(tag),
                    "tag": tag,
                    "layout": best_insert["layout"],
                },
            }
    return str(best_insert["block"]) if best_insert["block"] is not None else None


def _from_custom_properties(custom: dict[str, str], fields: Fields) -> None:
    """The drawing's custom properties (DWGPROPS)."""
    for prop, prop_value in custom.items():
        name = _TAG_TO_FIELD.get(_norm_tag(prop))
        if name and name not in fields and str(prop_value).strip():
            fields[name] = {
                "value": str(prop_value).strip(),
                "source": {"kind": "custom_property", "tag": prop},
            }


def _from_texts(texts: list[dict[str, Any]], fields: Fields) -> None:
    """TEXT/MTEXT labels: "DWG NO: 123" in one text, or a label text with the value beside/below it."""
    for rec in texts:
        line = rec["text"].strip().split("\n")[0]
        m = _LABEL_RE.match(line)
        if not m:
            continue
        name = _TAG_TO_FIELD.get(_norm_tag(m.group("label")))
        if name is None or name in fields:
            continue
        value = m.group("value").strip()
        if value.endswith((":", "/")):  # "Scale: 1:" with the "75" as a separate text beside it
            right = _nearest_value_text(rec, texts, same_line_only=True)
            if right is not None:
                value += right["text"].strip()
        label = m.group("label").strip()
        if value:
            source = {"kind": "text", "handle": rec["handle"], "label": label, "layout": rec["layout"]}
            fields[name] = {"value": value, "source": source}
            continue
        near = _nearest_value_text(rec, texts)
        if near is not None:
            fields[name] = {
                "value": near["text"].strip(),
                "source": {
                    "kind": "text_near_label",
                    "handle": near["handle"],
                    "label": label,
                    "label_handle": rec["handle"],
                    "layout": rec["layout"],
                },
            }


def _is_label(text: str) -> bool:
    m = _LABEL_RE.match(text.strip())
    return bool(m and not m.group("value").strip() and _norm_tag(m.group("label")) in _TAG_TO_FIELD)


def _nearest_value_text(
    label: dict[str, Any], texts: list[dict[str, Any]], *, same_line_only: bool = False
) -> dict[str, Any] | None:
    """The closest non-label text to the right on the same line, else just below the label."""
    pos = label.get("position")
    if not pos or pos[0] is None or pos[1] is None:
        return None
    h = label.get("height") or 2.5
    best: tuple[int, float, dict[str, Any]] | None = None
    for rec in texts:
        if rec is label or rec["layout"] != label["layout"] or not rec["text"].strip():
            continue
        p = rec.get("position")
        if not p or p[0] is None or p[1] is None or _is_label(rec["text"]):
            continue
        dx, dy = p[0] - pos[0], p[1] - pos[1]
        if 0 < dx <= 30 * h and abs(dy) <= 0.6 * h:  # to the right on the same line: preferred
            rank, dist = 0, dx
        elif not same_line_only and -8 * h <= dy < -0.3 * h and abs(dx) <= 10 * h:  # below
            rank, dist = 1, abs(dy) * 1.5 + abs(dx)
        else:
            continue
        if best is None or (rank, dist) < best[:2]:
            best = (rank, dist, rec)
    return best[2] if best else None
