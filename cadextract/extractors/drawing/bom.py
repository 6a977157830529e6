"""Parts lists (BOM) from tables: a header row whose cells name parts-list columns."""

from __future__ import annotations

import re

from cadextract.extractors.drawing import labels as L
from cadextract.extractors.drawing.model import BomItem

#: a header needs at least these many recognised columns, one of them position or part number
MIN_COLUMNS = 3


def header_columns(row: list[str | None]) -> dict[int, str] | None:
    cols = {i: f for i, c in enumerate(row) if c and (f := L.bom_column(c))}
    fields = set(cols.values())
    if (
        len(fields) >= MIN_COLUMNS
        and fields & {"position", "part_number"}
        and fields & {"quantity", "description"}
    ):
        return cols
    return None


def _qty(text: str | None) -> float | None:
    m = re.search(r"\d+(?:[.,]\d+)?", text or "")
    return float(m.group(0).replace(",", ".")) if m else None


def bom_from_rows(rows: list[list[str | None]], source: str, page: int | None = None) -> list[BomItem]:
    """Items below the first parts-list header row of a table (header at the top or bottom)."""
    for h, row in enumerate(rows):
        cols = header_columns(row)
        if cols is None:
            continue
        body = rows[h + 1 :] if h < len(rows) - 1 else list(reversed(rows[:h]))
        names = {i: " ".join((row[i] or "").split()) for i in range(len(row))}
        items: list[BomItem] = []
        for r in body:
            if not any((c or "").strip() for c in r):
                continue
            got = {f: " ".join((r[i] or "").split()) or None for i, f in cols.items() if i < len(r)}
            cells = {names[i]: " ".join((c or "").split()) for i, c in enumerate(r) if names.get(i)}
            items.append(
                BomItem(
                    position=got.get("position"),
                    quantity=_qty(got.get("quantity")),
                    part_number=got.get("part_number"),
                    description=got.get("description"),
                    material=got.get("material"),
                    source=source,
                    page=page,
                    cells=cells,
                )
            )
        return items
    return []


def bom_from_tables(tables: list[list[list[str | None]]], page: int) -> list[BomItem]:
    out: list[BomItem] = []
    for rows in tables:
        out.extend(bom_from_rows(rows, "pdf_table", page))
    return out
