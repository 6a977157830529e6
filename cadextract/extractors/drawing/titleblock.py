"""Title blocks by layout: find the ruled block holding label words, pair each label with the
value in its own cell, or (for a label-only cell) the adjacent one; rows of a people table
(drawn / checked / approved) are read under their NAME and DATE columns."""

from __future__ import annotations

from dataclasses import dataclass, field

from cadextract.extractors.drawing import labels as L
from cadextract.extractors.drawing.geometry import Grid
from cadextract.extractors.drawing.model import BBox, TitleField
from cadextract.extractors.drawing.runs import Run

#: labels must sit in the lower part of the sheet (y-down: below this fraction of the height)
BLOCK_TOP_FRACTION = 0.45
MIN_LABELS = 3


@dataclass
class TitleBlock:
    fields: dict[str, TitleField] = field(default_factory=dict)
    region: BBox | None = None
    #: text of each ruled cell of the block, top to bottom (notes are read from these)
    cell_texts: list[str] = field(default_factory=list)

    def contains(self, x: float, y: float) -> bool:
        r = self.region
        return r is not None and r[0] - 1 <= x <= r[2] + 1 and r[1] - 1 <= y <= r[3] + 1


def _upright(run: Run) -> bool:
    return abs(((run.angle + 180) % 360) - 180) < 3


def find_title_block(runs: list[Run], grid: Grid, width: float, height: float, page: int) -> TitleBlock:
    low = [r for r in runs if _upright(r) and r.start[1] >= BLOCK_TOP_FRACTION * height]
    labelled = [(r, L.match_label(r.text)) for r in low]
    label_runs = [r for r, m in labelled if m] + [r for r in low if L.is_other_label(r.text)]
    if len(label_runs) < MIN_LABELS:
        return TitleBlock()
    cells = [c for c in (grid.cell(*r.start) for r in label_runs) if c is not None]
    if not cells:
        return TitleBlock()
    region = (
        min(c[0] for c in cells),
        min(c[1] for c in cells),
        max(c[2] for c in cells),
        max(c[3] for c in cells),
    )
    block = TitleBlock(region=region)
    inside = [r for r in low if block.contains(*r.start)]
    by_cell: dict[BBox, list[Run]] = {}
    for r in inside:
        c = grid.cell(*r.start)
        if c is not None:
            by_cell.setdefault(c, []).append(r)
    for c in sorted(by_cell, key=lambda b: (b[1], b[0])):
        block.cell_texts.append(
            " ".join(r.text.strip() for r in sorted(by_cell[c], key=lambda r: (r.start[1], r.start[0])))
        )

    def is_label(r: Run) -> bool:
        return L.match_label(r.text) is not None or L.is_other_label(r.text)

    def cell_values(c: BBox | None, skip: Run | None) -> list[Run] | None:
        """Non-label runs of a cell; None when the cell holds another label."""
        if c is None:
            return []
        rs = [r for r in by_cell.get(c, []) if r is not skip]
        if any(is_label(r) for r in rs):
            return None
        return sorted(rs, key=lambda r: (round(r.start[1]), r.start[0]))

    columns = _people_columns(inside)
    for r, m in sorted(
        ((r, m) for r, m in labelled if m and block.contains(*r.start)),
        key=lambda x: (x[0].start[1], x[0].start[0]),
    ):
        assert m is not None
        fld, label, rest = m
        if fld in block.fields or (fld == "date" and columns.get("date") is r):
            continue
        cell = grid.cell(*r.start)
        if rest and not L.is_other_label(rest):
            block.fields[fld] = TitleField(rest, label, "same_cell", page, r.bbox)
            continue
        same = cell_values(cell, r)
        if same:
            _put(block, fld, _join(same), label, "same_cell", page, same)
            continue
        if fld in L.PEOPLE_FIELDS and columns:
            for col, key in (("name", fld), ("date", L.PEOPLE_FIELDS[fld])):
                head = columns.get(col)
                if head is None:
                    continue
                vals = cell_values(grid.cell((head.bbox[0] + head.bbox[2]) / 2, r.start[1]), r)
                if vals:
                    _put(block, key, _join(vals), label, "row_column", page, vals)
            continue
        if cell is None or not _label_only(cell, r):
            continue  # the value belongs inside the label's own cell: empty means absent
        for how, probe in (
            ("cell_right", (cell[2] + 1.0, r.start[1])),
            ("cell_below", (r.start[0], cell[3] + 1.0)),
        ):
            vals = cell_values(grid.cell(*probe), r)
            if vals is None:
                break  # the neighbour is another label: absent, never borrowed
            if vals:
                _put(block, fld, _join(vals), label, how, page, vals)
                break
    for r in inside:
        if "sheet_size" not in block.fields and L.SHEET_SIZE.match(r.text.strip()):
            block.fields["sheet_size"] = TitleField(r.text.strip().upper(), "", "text", page, r.bbox)
    return block


def _join(runs: list[Run]) -> str:
    """Lines of one value: a line ending in ``_`` continues the word on the next line."""
    out = ""
    for r in runs:
        t = r.text.strip()
        out = t if not out else out + t if out.endswith("_") else f"{out} {t}"
    return out


def _put(block: TitleBlock, fld: str, value: str, label: str, how: str, page: int, runs: list[Run]) -> None:
    if value and not L.is_other_label(value):
        box = (
            min(r.bbox[0] for r in runs),
            min(r.bbox[1] for r in runs),
            max(r.bbox[2] for r in runs),
            max(r.bbox[3] for r in runs),
        )
        block.fields[fld] = TitleField(value, label, how, page, box)


def _label_only(cell: BBox, r: Run) -> bool:
    """A cell sized for its label alone (the value lives next door)."""
    w, h = cell[2] - cell[0], cell[3] - cell[1]
    lw = r.bbox[2] - r.bbox[0]
    return w <= lw + 3.0 * r.size and h <= 3.0 * r.size


def _people_columns(runs: list[Run]) -> dict[str, Run]:
    """NAME and DATE column headers of a drawn/checked/approved table, if the block has one."""
    people = [r for r in runs if (m := L.match_label(r.text)) and m[0] in L.PEOPLE_FIELDS]
    if not people:
        return {}
    top = min(r.start[1] for r in people)
    out: dict[str, Run] = {}
    for col, words in L.ROW_COLUMNS.items():
        for r in runs:
            if L.norm(r.text) in words and r.start[1] < top and top - r.start[1] < 6 * r.size:
                out[col] = r
                break
    return out
