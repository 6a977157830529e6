"""`cadextract result` shows what a person reads on a drawing: dimensions, frames, title block,
parts list (PDF and DXF), and the DXF's layers."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy.engine import Engine

from samples.generators.drawing_dxf import make_drawing_dxf
from samples.generators.drawing_pdf import make_drawing_pdf
from tests.conftest import run_cli

WIDE = {"COLUMNS": "220"}


def test_result_shows_the_drawing(clean_db: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "drawings"
    folder.mkdir()
    make_drawing_pdf(folder / "annotated.pdf")
    make_drawing_dxf(folder / "annotated.dxf")
    r = run_cli("run", str(folder), "--recursive", timeout=300)
    assert r.returncode == 0, r.stderr
    jobs = {j["format"]: j["id"] for j in json.loads(run_cli("jobs", "--json").stdout)}

    pdf = run_cli("result", jobs["pdf"][:8], env=WIDE)
    assert pdf.returncode == 0, pdf.stderr
    sections = (
        "dimension callouts (",
        "GD&T frames (3)",
        "datums (3)",
        "title block (",
        "parts list (3)",
        "notes (",
    )
    for section in sections:
        assert section in pdf.stdout, section
    for seen in ("12.50 +0.10/-0.05", "+0.1 / -0.05", "H7/g6", "position", "flatness", "parallelism"):
        assert seen in pdf.stdout, seen
    for seen in ("Aufspannung_Eckverbinder-0042", "M. Weber", "Zylinderschraube", "ISO 4762 M8x25"):
        assert seen in pdf.stdout, seen

    dxf = run_cli("result", jobs["dxf"][:8], env=WIDE)
    assert dxf.returncode == 0, dxf.stderr
    for seen in ("layers (", "100 +0.10/-0.05", "Ø12 H7", "GD&T frames (3)", "parts list (3)", "CAP SCREW"):
        assert seen in dxf.stdout, seen
