"""A scanned drawing: page 1 of the sample PDF drawing rasterised to a greyscale PNG.

It stands in for a sheet from a scanner (no text layer at all), so a fresh install
shows OCR at work. The values known by construction are the PDF page's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: a typical office-scanner resolution for large sheets, and a small committed file
SCAN_DPI = 150


def make_scan(path: Path) -> dict[str, Any]:
    """Render page 1 of samples/files/pdf/bracket-drawing.pdf at SCAN_DPI into ``path``."""
    import pypdfium2 as pdfium

    from samples.generators.dxf_pdf import PDF_PAGES

    source = path.parents[1] / "pdf" / "bracket-drawing.pdf"
    pdf = pdfium.PdfDocument(str(source))
    try:
        bitmap = pdf[0].render(scale=SCAN_DPI / 72, grayscale=True)
        image = bitmap.to_pil().convert("L")
        image.save(path, dpi=(SCAN_DPI, SCAN_DPI), optimize=True)
        size = image.size
    finally:
        pdf.close()
    page = PDF_PAGES[0]
    return {
        "width": size[0],
        "height": size[1],
        "dpi": SCAN_DPI,
        "title_block": dict(page["title_block"]),
        "callouts": list(page["callouts"]),
    }
