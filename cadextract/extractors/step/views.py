"""The STEP payload as one summary row per file and one row per placed solid."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from cadextract.extractors.base import Scalar


def summarize(payload: Mapping[str, Any]) -> dict[str, Scalar]:
    """One flat row per file for tables and CSV."""
    counts = payload.get("counts") or {}
    totals = payload.get("totals") or {}
    bbox = totals.get("bbox") or {}
    header = payload.get("header") or {}
    tree = payload.get("assembly") or []
    return {
        "protocol": payload.get("protocol"),
        "file_schema": payload.get("file_schema"),
        "originating_system": header.get("originating_system"),
        "length_unit": payload.get("length_unit"),
        "values_unit": payload.get("values_unit"),
        "root_names": "; ".join(str(n.get("name")) for n in tree[:5] if n.get("name")),
        "solid_count": counts.get("solids"),
        "part_count": counts.get("parts"),
        "part_instances": counts.get("part_instances"),
        "shell_count": counts.get("shells"),
        "face_count": counts.get("faces"),
        "total_volume": totals.get("volume"),
        "total_area": totals.get("surface_area"),
        "bbox_dx": bbox.get("dx"),
        "bbox_dy": bbox.get("dy"),
        "bbox_dz": bbox.get("dz"),
    }


def rows(payload: Mapping[str, Any]) -> Iterator[dict[str, Scalar]]:
    """One row per placed solid."""
    for s in payload.get("solids") or []:
        bbox = s.get("bbox") or {}
        com = s.get("center_of_mass") or [None, None, None]
        yield {
            "index": s.get("index"),
            "name": s.get("name"),
            "path": s.get("path"),
            "instance_name": s.get("instance_name"),
            "part_id": s.get("part_id"),
            "volume": s.get("volume"),
            "surface_area": s.get("surface_area"),
            "com_x": com[0],
            "com_y": com[1],
            "com_z": com[2],
            "bbox_dx": bbox.get("dx"),
            "bbox_dy": bbox.get("dy"),
            "bbox_dz": bbox.get("dz"),
            "faces": s.get("faces"),
            "edges": s.get("edges"),
        }
