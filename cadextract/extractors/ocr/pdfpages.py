"""OCR for PDF pages: render with pypdfium2, recognise, fill the page record.

The PDF extractor calls :meth:`PdfOcr.page` once per page; everything else (which pages
need it, the resolution that fits the memory cap, the warnings) is decided here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cadextract.extractors.ocr import engines, run, settings


class PdfOcr:
    """OCR state for one PDF file: its settings, the open pdfium document, the tally."""

    def __init__(self, path: Path, options: Mapping[str, Any]) -> None:
        self.path = path
        self.settings = settings.parse(options)  # BadOption before any page is read
        self.password = str(options["password"]) if options.get("password") else None
        self.tally = run.Tally()
        self._doc: Any = None
        self._read: dict[int, run.PageOcr] = {}  # page number -> what OCR read, until taken

    def wanted(self, rec: Mapping[str, Any]) -> bool:
        """Whether this page record should be read by OCR."""
        mode = self.settings.mode
        if mode is settings.OcrMode.NEVER or "error" in rec:
            return False
        return mode is settings.OcrMode.ALWAYS or not rec.get("has_text_layer", True)

    def page(self, index: int, rec: dict[str, Any], max_text: int, warnings: list[str]) -> None:
        """OCR page ``index`` (0-based) into ``rec`` when it needs it; problems become warnings."""
        if not self.wanted(rec) or self.tally.unavailable:
            return
        number = index + 1
        try:
            image, dpi = self._render(index, number)
        except Exception as exc:  # a page pdfium cannot draw is skipped, the file goes on
            self.tally.skipped.append(
                f"page {number} could not be rendered for OCR ({type(exc).__name__}: {exc})"
            )
            return
        if image is None:
            return
        try:
            result = run.recognise(image, self.settings, dpi, to_page=72.0 / dpi)
        except engines.EngineUnavailable as exc:
            self.tally.unavailable = str(exc)
            return
        finally:
            image.close()
        run.apply(rec, result, max_text, warnings)
        self.tally.add(number, result)
        self._read[number] = result

    def take(self, number: int) -> run.PageOcr | None:
        """What OCR read on page ``number`` (its words and ruled lines); None if it did not read it."""
        return self._read.pop(number, None)

    def _render(self, index: int, number: int) -> tuple[Any, float]:
        import pypdfium2 as pdfium

        if self._doc is None:
            self._doc = pdfium.PdfDocument(str(self.path), password=self.password)
        page = self._doc[index]
        try:
            width_pt, height_pt = page.get_size()
            if page.get_rotation() % 180:
                width_pt, height_pt = height_pt, width_pt
            want = float(self.settings.dpi)
            chosen = run.plan(width_pt / 72.0, height_pt / 72.0, want, self.settings.pixel_budget)
            if chosen.dpi < 1:
                self.tally.skipped.append(
                    f"page {number} ({width_pt / 72:.0f} × {height_pt / 72:.0f} in) is too large to render "
                    "within the memory cap: not read by OCR"
                )
                return None, 0.0
            if chosen.reduced:
                low = " (small text may be unreadable)" if chosen.dpi < run.MIN_USEFUL_DPI else ""
                self.tally.reduced.append(
                    f"page {number} rendered for OCR at {chosen.dpi:.0f} dpi instead of {want:.0f} "
                    f"to stay within {self.settings.pixel_budget / 1e6:.0f} Mpixel (memory cap){low}"
                )
            bitmap = page.render(scale=chosen.dpi / 72.0, grayscale=True)
            try:
                image = bitmap.to_pil().convert("L")
            finally:
                bitmap.close()
            return image, chosen.dpi
        finally:
            page.close()

    def close(self) -> None:
        if self._doc is not None:
            with contextlib.suppress(Exception):
                self._doc.close()
            self._doc = None

    def summary(self) -> dict[str, Any]:
        """The payload's ``ocr`` object."""
        return self.tally.summary(self.settings)
