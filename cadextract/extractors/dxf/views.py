"""The DXF payload as one summary row per file and one row per text, dimension and INSERT."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from cadextract.extractors.base import Scalar
from cadextract.extractors.dxf.records import num
from cadextract.extractors.dxf.title_block import TITLE_FIELDS


def summarize(payload: Mapping[str, Any]) -> dict[str, Scalar]:
    counts = payload.get("counts", {})
    msp = payload.get("modelspace", {})
    fields = payload.get("title_block", {}).get("fields", {})
    extents = payload.get("extents") or {}
    lo, hi = extents.get("min"), extents.get("max")
    out: dict[str, Scalar] = {
        "dxf_version": payload.get("dxf_version"),
        "release": payload.get("release"),
        "units": payload.get("units"),
        "loader": payload.get("loader"),
        "layer_count": counts.get("layers"),
        "block_count": counts.get("blocks"),
        "entity_count": counts.get("entities"),
        "modelspace_entity_count": msp.get("entity_count"),
        "text_count": counts.get("texts"),
        "dimension_count": counts.get("dimensions"),
        "insert_count": counts.get("inserts"),
        "layout_count": len(payload.get("layouts", [])),
        "extents_width": num(hi[0] - lo[0]) if lo and hi and None not in (lo[0], hi[0]) else None,
        "extents_height": num(hi[1] - lo[1]) if lo and hi and None not in (lo[1], hi[1]) else None,
    }
    for name in TITLE_FIELDS:
        field = fields.get(name)
        out[f"tb_{name}"] = field["value"] if field else None
    return out


def rows(payload: Mapping[str, Any]) -> Iterator[dict[str, Scalar]]:
    def xy(pos: Iterable[Any] | None) -> tuple[Any, Any]:
        p = list(pos or [None, None])
        return (p[0] if p else None, p[1] if len(p) > 1 else None)

    for t in payload.get("texts", []):
        x, y = xy(t.get("position"))
        yield {
            "entity": t["type"],
            "handle": t.get("handle"),
            "layout": t.get("layout"),
            "layer": t.get("layer"),
            "x": x,
            "y": y,
            "text": t.get("text"),
            "height": t.get("height"),
            "value": None,
            "block": None,
        }
    for d in payload.get("dimensions", []):
        yield {
            "entity": d["entity"],
            "handle": d.get("handle"),
            "layout": d.get("layout"),
            "layer": d.get("layer"),
            "x": None,
            "y": None,
            "text": d.get("readable") or d.get("text_override") or d.get("display_text"),
            "height": None,
            "value": d.get("measurement"),
            "block": d.get("type"),
        }
    for i in payload.get("inserts", []):
        x, y = xy(i.get("position"))
        attribs = i.get("attribs") or {}
        yield {
            "entity": "INSERT",
            "handle": i.get("handle"),
            "layout": i.get("layout"),
            "layer": i.get("layer"),
            "x": x,
            "y": y,
            "text": "; ".join(f"{k}={v}" for k, v in attribs.items()) or None,
            "height": None,
            "value": None,
            "block": i.get("block"),
        }
