"""A scanned drawing goes through the same annotation parser as a vector one.

The generated annotated sheet (known truth) is rasterised at 300 dpi into an image-only
PDF; OCR reads it, and its words and the rules found in its pixels feed the drawing
parser. Scans lose the drawn symbols and the glyph geometry (a stacked +0.10/-0.03 reads
as two lines), so the floors are lower than on vector pages. Measured with rapidocr on
2026-11-30: 10 of the 13 dimensions, 14 found (precision 0.71; 7 of 13 with 30 found
before the scan's rules and the 0→Ø rules for decimals), all 11 title-block fields.
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
    found = [dim_key(d) for d in got["dimensions"]]
    recall = len(want & set(found)) / len(want)
    precision = sum(1 for key in found if key in want) / max(1, len(found))
    assert recall >= 9 / 13, (recall, sorted(map(str, want - set(found))))
    assert precision >= 0.6, (precision, [d["text"] for d in got["dimensions"]])
    fields = {k: v["value"] for k, v in got["title_block"]["fields"].items()}
    assert fields["drawing_number"] == truth["title_block"]["drawing_number"]
    right = [name for name, value in truth["title_block"].items() if fields.get(name) == value]
    assert len(right) >= len(truth["title_block"]) - 1, fields
