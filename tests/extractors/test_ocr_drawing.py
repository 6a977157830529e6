"""A scanned drawing goes through the same annotation parser as a vector one.

The generated annotated sheet (known truth) is rasterised at 300 dpi into an image-only
PDF; OCR reads it and its words feed the drawing parser. Scans lose the drawn symbols
(Ø, frames' boxes) and the glyph geometry, so the floor is lower than on vector pages:
measured 7 of 13 dimensions and the drawing number (rapidocr, 2026-11-30).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cadextract.extractors import base, pdf
from cadextract.extractors.ocr import engines
from samples.generators.drawing_pdf import make_drawing_pdf
from tests.extractors.drawing_labels import dim_key


@pytest.mark.slow
def test_scanned_drawing_yields_dimensions_and_title_block(tmp_path: Path) -> None:
    reason = engines.availability().get("rapidocr")
    if reason is not None:
        pytest.skip(f"rapidocr is not usable here: {reason}")
    import pypdfium2 as pdfium

    vector = tmp_path / "annotated.pdf"
    truth = make_drawing_pdf(vector)
    doc = pdfium.PdfDocument(str(vector))
    try:
        image = doc[0].render(scale=300 / 72, grayscale=True).to_pil().convert("L")
    finally:
        doc.close()
    scan = tmp_path / "scan.pdf"
    image.save(scan, "PDF", resolution=300.0)

    got = pdf.extract(scan, {}, base.no_progress)

    assert got["pages"][0]["text_source"] == "ocr"
    want = {dim_key(d) for d in truth["dimensions"]}
    found = {dim_key(d) for d in got["dimensions"]}
    recall = len(want & found) / len(want)
    assert recall >= 0.5, (recall, sorted(map(str, want - found)))
    fields = {k: v["value"] for k, v in got["title_block"]["fields"].items()}
    assert fields["drawing_number"] == truth["title_block"]["drawing_number"]
