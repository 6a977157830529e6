"""One payload record per DXF entity: texts, dimensions, INSERTs with their ATTRIBs."""

from __future__ import annotations

from typing import Any

from cadextract.extractors import dxf_annotations
from cadextract.extractors.shared import attempt, number, tolerated

COORD_DIGITS = 9  # drawing units: keeps sub-micrometre detail, drops float noise
TEXT_TYPES = ("TEXT", "MTEXT")
DIMENSION_TYPES = ("DIMENSION", "ARC_DIMENSION", "LARGE_RADIAL_DIMENSION")
DIMTYPE_NAMES = {
    0: "linear",
    1: "aligned",
    2: "angular",
    3: "diameter",
    4: "radius",
    5: "angular_3point",
    6: "ordinate",
}


def num(value: Any) -> float | None:
    """A coordinate or size in drawing units (see :data:`COORD_DIGITS`)."""
    return number(value, COORD_DIGITS)


def vec(value: Any) -> list[float | None] | None:
    """The first three components of a point, or None when it is not one."""
    if value is None:
        return None
    try:
        return [num(c) for c in tuple(value)[:3]]
    except TypeError:
        return None


def plain_text(entity: Any) -> str:
    """The text as shown, without formatting codes (the raw text when ezdxf cannot strip them)."""
    text = attempt(lambda: str(entity.plain_text()), None)
    return text if text is not None else str(entity.dxf.get("text", ""))


def text_record(entity: Any, layout: str) -> dict[str, Any]:
    dxftype = entity.dxftype()
    if dxftype == "MTEXT":
        height = entity.dxf.get("char_height")
        raw = entity.text
    else:
        height = entity.dxf.get("height")
        raw = entity.dxf.get("text", "")
    return {
        "handle": entity.dxf.get("handle"),
        "type": dxftype,
        "layout": layout,
        "layer": entity.dxf.get("layer", "0"),
        "text": plain_text(entity),
        "raw": raw if raw != plain_text(entity) else None,
        "position": vec(entity.dxf.get("insert")),
        "height": num(height),
        "rotation": num(entity.dxf.get("rotation", 0.0)),
        "style": entity.dxf.get("style"),
    }


def _dimension_kind(dxftype: str, raw_dimtype: int) -> str:
    if dxftype == "ARC_DIMENSION":
        return "arc"
    if dxftype == "LARGE_RADIAL_DIMENSION":
        return "large_radial"
    return DIMTYPE_NAMES.get(raw_dimtype & 7, f"type_{raw_dimtype & 7}")


def _measurement(
    entity: Any, kind: str, raw_dimtype: int
) -> tuple[float | None, list[float | None] | None, str | None]:
    """(value, vector, where it came from): the stored measurement, else ezdxf's computation."""
    actual = entity.dxf.get("actual_measurement")
    if actual is not None and num(actual) is not None:
        return num(actual), None, "actual_measurement"
    vector: list[float | None] | None = None
    with tolerated():  # ezdxf cannot measure every dimension: then there is no source
        m = entity.get_measurement()
        if isinstance(m, int | float):
            return num(m), None, "computed"
        vector = vec(m)
        measurement = None
        if kind == "ordinate" and vector is not None:
            measurement = vector[0 if raw_dimtype & 64 else 1]
        return measurement, vector, "computed"
    return None, vector, None


def dimension_record(entity: Any, layout: str, doc: Any) -> dict[str, Any]:
    dxftype = entity.dxftype()
    raw_dimtype = int(entity.dxf.get("dimtype", 0))
    kind = _dimension_kind(dxftype, raw_dimtype)
    measurement, vector, source = _measurement(entity, kind, raw_dimtype)
    text = entity.dxf.get("text", "")
    override = None if text in ("", "<>") else text
    display = None
    block_name = entity.dxf.get("geometry")
    if block_name:
        block = doc.blocks.get(block_name)
        if block is not None:
            parts = [plain_text(e) for e in block if e.dxftype() in TEXT_TYPES]
            display = " ".join(p for p in parts if p) or None
    record = {
        "handle": entity.dxf.get("handle"),
        "entity": dxftype,
        "type": kind,
        "layout": layout,
        "layer": entity.dxf.get("layer", "0"),
        "measurement": measurement,
        "measurement_vector": vector,
        "measurement_source": source,
        "text_override": override,
        "display_text": display,
        "dimstyle": entity.dxf.get("dimstyle"),
        "block": block_name,
    }
    record.update(dxf_annotations.dimension_annotation(entity, record))
    return record


def insert_record(entity: Any, layout: str) -> dict[str, Any]:
    """An INSERT with its ATTRIB values; ``_attrib_handles`` is for the title block, then dropped."""
    attribs: dict[str, str] = {}
    attrib_handles: dict[str, str | None] = {}
    for attrib in getattr(entity, "attribs", []):
        tag = str(attrib.dxf.get("tag", ""))
        if tag and tag not in attribs:
            attribs[tag] = plain_text(attrib)
            attrib_handles[tag] = attrib.dxf.get("handle")
    return {
        "handle": entity.dxf.get("handle"),
        "block": entity.dxf.get("name"),
        "layout": layout,
        "layer": entity.dxf.get("layer", "0"),
        "position": vec(entity.dxf.get("insert")),
        "scale": [
            num(entity.dxf.get("xscale", 1.0)),
            num(entity.dxf.get("yscale", 1.0)),
            num(entity.dxf.get("zscale", 1.0)),
        ],
        "rotation": num(entity.dxf.get("rotation", 0.0)),
        "attribs": attribs,
        "_attrib_handles": attrib_handles,
    }
