"""Running OCR on one page image and writing what it read into a page record.

Shared by the PDF extractor (pages without a text layer, or every page with
``ocr=always``) and the raster extractor. Decisions (which resolution fits the
memory cap) are pure functions; :func:`recognise` does the work.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cadextract.extractors.drawing.model import Segment
from cadextract.extractors.ocr import engines, layout, rules
from cadextract.extractors.ocr.settings import OcrSettings

if TYPE_CHECKING:
    from PIL.Image import Image

#: below this a page is still read, with a warning: small text is then unreadable
MIN_USEFUL_DPI = 100
#: at most this many words are kept per page in the result (the text keeps everything)
MAX_WORDS_PER_PAGE = 20_000
#: resolution assumed for an image that states none (for the length of a ruled line)
DEFAULT_IMAGE_DPI = 200


@dataclass(frozen=True)
class RenderPlan:
    """At what resolution a page is rendered or resampled, and why."""

    dpi: float
    scale: float  # of the requested resolution (1.0: as asked)
    pixels: int

    @property
    def reduced(self) -> bool:
        return self.scale < 1.0


def plan(width_in: float, height_in: float, dpi: float, budget_pixels: int) -> RenderPlan:
    """The resolution for a page of this size (inches): ``dpi``, lowered to fit the pixel budget."""
    pixels = width_in * dpi * height_in * dpi
    scale = 1.0 if pixels <= budget_pixels else math.sqrt(budget_pixels / pixels)
    # floor at 0.1 px per inch so absurd page sizes never divide by zero below
    used = max(dpi * scale, 0.1)
    return RenderPlan(dpi=used, scale=scale, pixels=int(width_in * used) * int(height_in * used))


@dataclass
class PageOcr:
    """What the engine read from one page: words in page coordinates, and how."""

    words: list[layout.Word]
    text: str
    engine: str
    engine_version: str
    dpi: float
    mean_confidence: float | None
    load_seconds: float  # model load paid by this page (0 when the child had it already)
    seconds: float
    #: ruled lines found in the scan (page units): title-block cells and frames for the parser
    segments: list[Segment] = field(default_factory=list)

    def record(self) -> dict[str, Any]:
        """The page's ``ocr`` object in the result."""
        return {
            "engine": self.engine,
            "engine_version": self.engine_version,
            "dpi": round(self.dpi, 1),
            "mean_confidence": self.mean_confidence,
            "word_count": len(self.words),
            "seconds": round(self.seconds, 3),
            "model_load_seconds": round(self.load_seconds, 3),
        }


def recognise(image: Image, settings: OcrSettings, dpi: float | None, to_page: float) -> PageOcr:
    """OCR a greyscale page image; ``to_page`` converts its pixels to page units.

    Raises ``engines.EngineUnavailable`` when no engine can run here.
    """
    import time

    engine, loaded_now = engines.get(settings.engine)
    started = time.perf_counter()
    found = engine.recognise(image, dpi, settings.lang)
    segments = rules.outside_words(rules.ruled_lines(image, dpi or DEFAULT_IMAGE_DPI), found)
    found = rules.split_at_rules(found, segments)
    words = [dataclasses.replace(w, text=layout.normalise_text(w.text)).scaled(to_page) for w in found]
    return PageOcr(
        words=words,
        text=layout.page_text(words),
        engine=engine.name,
        engine_version=engine.version,
        dpi=dpi or 0.0,
        mean_confidence=layout.mean_confidence(words),
        load_seconds=engine.load_seconds if loaded_now else 0.0,
        seconds=time.perf_counter() - started,
        segments=rules.scaled(segments, to_page),
    )


def apply(rec: dict[str, Any], result: PageOcr, max_text: int, warnings: list[str]) -> None:
    """Write the OCR reading into a page record as its text (the fields a text layer fills)."""
    text = result.text
    rec["text_chars"] = len(text)
    if len(text) > max_text:
        warnings.append(f"page {rec['number']}: OCR text truncated to {max_text} of {len(text)} characters")
        text = text[:max_text]
    rec["text"] = text
    rec["word_count"] = len(result.words)
    rec["words"] = [w.as_item() for w in result.words[:MAX_WORDS_PER_PAGE]]
    rec["text_source"] = "ocr"
    rec["ocr"] = result.record()


@dataclass
class Tally:
    """Pages read by OCR in one file, for the warnings and the payload summary."""

    pages: list[int] = field(default_factory=list)
    confidences: list[float] = field(default_factory=list)
    engine: str | None = None
    dpi: float | None = None
    load_seconds: float = 0.0
    reduced: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    unavailable: str | None = None

    def add(self, number: int, result: PageOcr) -> None:
        self.pages.append(number)
        if result.mean_confidence is not None:
            self.confidences.append(result.mean_confidence)
        self.engine, self.dpi = result.engine, result.dpi
        self.load_seconds += result.load_seconds

    def warnings(self, max_listed: int = 50) -> list[str]:
        out = []
        if self.pages:
            listed = ", ".join(str(p) for p in self.pages[:max_listed])
            more = f" and {len(self.pages) - max_listed} more" if len(self.pages) > max_listed else ""
            conf = self.mean_confidence()
            out.append(
                f"text of {len(self.pages)} page(s) read by OCR ({self.engine}, "
                f"mean confidence {conf if conf is not None else 'n/a'}): {listed}{more}; "
                "check before relying on it"
            )
        out.extend(self.reduced[:max_listed])
        out.extend(self.skipped[:max_listed])
        if self.unavailable:
            out.append(f"no OCR engine usable on this worker ({self.unavailable}): image pages give no text")
        return out

    def mean_confidence(self) -> float | None:
        if not self.confidences:
            return None
        return round(sum(self.confidences) / len(self.confidences), 4)

    def summary(self, settings: OcrSettings) -> dict[str, Any]:
        return {
            **settings.as_dict(),
            "pages": self.pages,
            "engine_used": self.engine,
            "mean_confidence": self.mean_confidence(),
            "model_load_seconds": round(self.load_seconds, 3),
            "unavailable": self.unavailable,
        }
