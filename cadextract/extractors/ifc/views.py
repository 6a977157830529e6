"""The IFC payload as one summary row per file and one row per element (or per class)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from cadextract.extractors.base import Scalar

#: how many classes the one-row summary names
TOP_CLASSES = 5


def summarize(payload: Mapping[str, Any]) -> dict[str, Scalar]:
    """One flat row per file for tables and CSV."""
    counts = payload.get("counts") or {}
    project = payload.get("project") or {}
    header = payload.get("header") or {}
    by_class = payload.get("elements_by_class") or {}
    top = sorted(by_class.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_CLASSES]
    storeys = payload.get("storeys") or []
    return {
        "schema": payload.get("schema"),
        "schema_identifier": payload.get("schema_identifier"),
        "project_name": project.get("name"),
        "length_unit": payload.get("length_unit"),
        "originating_system": header.get("originating_system"),
        "site_count": counts.get("sites"),
        "building_count": counts.get("buildings"),
        "storey_count": counts.get("storeys"),
        "space_count": counts.get("spaces"),
        "product_count": counts.get("products"),
        "element_count": counts.get("elements"),
        "uncontained_elements": counts.get("uncontained_elements"),
        "top_classes": ", ".join(f"{cls}:{n}" for cls, n in top),
        "storeys": "; ".join(
            f"{s.get('name')} @ {s.get('elevation')} ({s.get('element_count')})" for s in storeys
        ),
        "detail": payload.get("detail"),
    }


def rows(payload: Mapping[str, Any]) -> Iterator[dict[str, Scalar]]:
    """One row per element when the payload has them (detail=full), else one per class count."""
    import json

    elements = payload.get("elements")
    if elements is not None:
        for e in elements:
            yield {
                "global_id": e.get("global_id"),
                "ifc_class": e.get("ifc_class"),
                "name": e.get("name"),
                "type_name": e.get("type_name"),
                "storey": e.get("storey"),
                "container": e.get("container"),
                "materials": "; ".join(e.get("materials") or []),
                "property_sets": json.dumps(e.get("property_sets") or {}, ensure_ascii=False, sort_keys=True),
                "quantity_sets": json.dumps(e.get("quantity_sets") or {}, ensure_ascii=False, sort_keys=True),
            }
        return
    for cls, n in (payload.get("elements_by_class") or {}).items():
        yield {"ifc_class": cls, "count": n}
