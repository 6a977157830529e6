"""Drawing quality on the corpus sheets: precision and recall against hand-made labels.

The labels (tests/extractors/labels/*.json) were written by reading each rendered sheet;
they are matched by normalised value, never by the extractor's own output. Floors are the
measured figures (docs/performance.md, "Drawing quality").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cadextract.extractors.pdf import extract
from tests.conftest import CORPUS
from tests.extractors.drawing_labels import Score, load_labels, score_sheet, total

LABELS = load_labels()
#: measured on the four eDOCr sheets (all 1.0); a lower figure is a regression
FLOORS: dict[str, float] = {
    "dim_detect": 1.0,
    "dim_full": 1.0,
    "gdt": 1.0,
    "datums": 1.0,
    "surface": 1.0,
    "title_block": 1.0,
    "title_absent": 1.0,
}


def _payload(label: dict[str, Any]) -> dict[str, Any]:
    path = CORPUS / label["file"]
    if not path.is_file():
        pytest.skip(f"corpus file {label['file']} not present")
    return extract(Path(path), {}, lambda *_: None)


@pytest.fixture(scope="module")
def scores() -> dict[str, dict[str, Score]]:
    return {label["file"]: score_sheet(label, _payload(label)) for label in LABELS}


def test_labels_cover_the_edocr_sheets() -> None:
    names = {label["file"] for label in LABELS}
    on_disk = (
        {f"pdf/{p.name}" for p in (CORPUS / "pdf").glob("edocr*")} if (CORPUS / "pdf").is_dir() else names
    )
    assert names == on_disk
    assert sum(len(label["dimensions"]) for label in LABELS) >= 50


@pytest.mark.parametrize("file", [label["file"] for label in LABELS])
def test_sheet_quality(scores: dict[str, dict[str, Score]], file: str) -> None:
    for metric, floor in FLOORS.items():
        s = scores[file][metric]
        assert s.precision >= floor, f"{file} {metric} precision {s.precision:.3f} ({s})"
        assert s.recall >= floor, f"{file} {metric} recall {s.recall:.3f} ({s})"


def test_total_meets_targets(scores: dict[str, dict[str, Score]]) -> None:
    sheets = list(scores.values())
    for metric in ("dim_detect", "dim_full", "gdt"):
        t = total(sheets, metric)
        assert t.precision >= 0.95 and t.recall >= 0.95, (metric, t)
    assert total(sheets, "title_block").recall == 1.0


def test_scoring_counts_a_wrong_value() -> None:
    """The scorer is not vacuous: a changed tolerance, a missing frame, a borrowed field all count."""
    label = LABELS[0]
    good = {
        "dimensions": [dict(d) for d in label["dimensions"]],
        "gdt": [dict(g) for g in label["gdt"]],
        "datums": [{"letter": d} for d in label["datums"]],
        "surface_finish": label["surface_finish"],
        "title_block": {"fields": {k: {"value": v} for k, v in label["title_block"].items()}},
    }
    assert score_sheet(label, good)["dim_full"].recall == 1.0
    bad = dict(good, dimensions=[dict(d) for d in label["dimensions"]])
    bad["dimensions"][0]["upper"] = 0.5
    bad["gdt"] = []
    bad["title_block"] = {"fields": {**good["title_block"]["fields"], "revision": {"value": "PLA"}}}
    s = score_sheet(label, bad)
    assert s["dim_full"].recall < 1.0 and s["dim_detect"].recall == 1.0
    assert s["gdt"].recall == 0.0
    assert s["title_absent"].recall < 1.0


NOT_DRAWINGS = (
    sorted(
        p.name
        for p in (CORPUS / "pdf").glob("*")
        if p.suffix.lower() == ".pdf" and not p.name.startswith("edocr")
    )
    if (CORPUS / "pdf").is_dir()
    else []
)


@pytest.mark.parametrize("name", NOT_DRAWINGS)
def test_reports_and_tables_are_not_drawings(name: str) -> None:
    """The corpus's other PDFs (reports, forms, tables, scans) yield no dimensions: precision off drawings."""
    payload = extract(CORPUS / "pdf" / name, {}, lambda *_: None)
    assert not any(p.get("drawing_sheet") for p in payload["pages"])
    assert payload["annotation_counts"]["dimensions"] == 0 and payload["gdt"] == []
