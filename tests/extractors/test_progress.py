"""Progress from the extractors is finer than a few jumps where the library allows it."""

from __future__ import annotations

from pathlib import Path

from cadextract.extractors import registry
from tests.conftest import REPO

SAMPLES = REPO / "samples" / "files"


def _steps(fmt: str, path: Path) -> list[tuple[float, str | None]]:
    seen: list[tuple[float, str | None]] = []
    registry.get(fmt).extract(path, {}, lambda p, note=None: seen.append((p, note)))
    return seen


def test_step_reports_the_seam_between_parsing_and_translating() -> None:
    seen = _steps("step", SAMPLES / "step" / "pin-and-plate.step")
    percents = [p for p, _ in seen]
    assert percents == sorted(percents), "progress never goes back"
    assert any(2 < p < 40 and note and "translating" in note for p, note in seen)
    assert any(45 <= p < 100 and note and note.startswith("solid ") for p, note in seen)


def test_pdf_and_dxf_report_pages_and_entities() -> None:
    pdf = _steps("pdf", SAMPLES / "pdf" / "bracket-drawing.pdf")
    assert [note for _, note in pdf if note and note.startswith("page ")] == ["page 1 of 2", "page 2 of 2"]
    dxf = _steps("dxf", SAMPLES / "dxf" / "bracket.dxf")
    assert len({p for p, _ in dxf}) >= 4
