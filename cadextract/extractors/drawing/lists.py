"""Per-document lists of annotations (all pages), capped like every other list of a payload."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cadextract.extractors.drawing.model import Annotations

#: title-block fields in payload order (the first seven are the historical ones)
TB_FIELDS = [
    "drawing_number",
    "title",
    "revision",
    "date",
    "scale",
    "sheet",
    "drawn_by",
    "drawn_date",
    "checked_by",
    "checked_date",
    "approved_by",
    "approved_date",
    "material",
    "weight",
    "sheet_size",
]
LISTS = ("dimensions", "gdt", "datums", "surface_finish", "notes", "bom")


@dataclass
class DrawingLists:
    items: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {k: [] for k in LISTS})
    totals: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LISTS, 0))

    def add(self, notes: Annotations, cap: int) -> None:
        d = notes.to_dict()
        for key in LISTS:
            self.totals[key] += len(d[key])
            room = max(0, cap - len(self.items[key]))
            self.items[key].extend(d[key][:room])

    def payload(self) -> dict[str, Any]:
        return {**self.items, "annotation_counts": dict(self.totals)}

    def warnings(self, cap: int) -> list[str]:
        return [
            f"{key} truncated to {len(self.items[key])} of {n} (option max_items)"
            for key, n in self.totals.items()
            if n > len(self.items[key])
        ]


def drawing_summary(payload: Mapping[str, Any]) -> dict[str, str | int | float | bool | None]:
    counts = payload.get("annotation_counts") or {}
    fields = (payload.get("title_block") or {}).get("fields") or {}

    def tb(name: str) -> str | None:
        f = fields.get(name)
        return str(f["value"]) if f else None

    return {
        "dimension_count": counts.get("dimensions"),
        "gdt_count": counts.get("gdt"),
        "bom_count": counts.get("bom"),
        "tb_material": tb("material"),
        "tb_sheet_size": tb("sheet_size"),
    }
