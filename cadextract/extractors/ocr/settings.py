"""OCR job options, checked once: mode, engine, resolution, language, pixel budget.

Options travel with the job (``-o ocr=always -o ocr_dpi=300``). :func:`parse` turns them
into :class:`OcrSettings` or raises ``BadOption`` naming the option; :func:`check`
returns the same message for ``submit`` to refuse a job before it is queued.
"""

from __future__ import annotations

import enum
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cadextract.extractors.base import BadOption

#: rendering resolution for PDF pages; drawings' 2.5 mm text is ~20 px high at 200 dpi
DEFAULT_DPI = 200
MIN_DPI, MAX_DPI = 50, 600
#: largest page image handed to the engine (pixels); bigger pages are downsampled
DEFAULT_MAX_PIXELS = 100_000_000
#: share of the child's memory cap a single decoded page may take (the engine needs the rest)
MEMORY_SHARE = 0.25
ENGINES = ("auto", "rapidocr", "tesseract")
_LANG = re.compile(r"^[A-Za-z_]{2,16}(?:\+[A-Za-z_]{2,16}){0,7}$")


class OcrMode(enum.StrEnum):
    AUTO = "auto"  # pages without a text layer
    ALWAYS = "always"  # every page (a PDF's text layer is replaced by the OCR text)
    NEVER = "never"


@dataclass(frozen=True)
class OcrSettings:
    mode: OcrMode = OcrMode.AUTO
    engine: str = "auto"
    dpi: int = DEFAULT_DPI
    lang: str | None = None
    max_pixels: int = DEFAULT_MAX_PIXELS
    memory_limit_mb: int = 4096

    @property
    def pixel_budget(self) -> int:
        """Most pixels one page may have in memory: the option, and a share of the cap."""
        by_memory = int(self.memory_limit_mb * 1024 * 1024 * MEMORY_SHARE / 4)  # 4 bytes a pixel
        return max(1, min(self.max_pixels, by_memory))

    def as_dict(self) -> dict[str, Any]:
        return {"mode": str(self.mode), "engine": self.engine, "dpi": self.dpi, "lang": self.lang}


def parse(options: Mapping[str, Any], *, memory_limit_mb: int | None = None) -> OcrSettings:
    """The job's OCR settings, or BadOption naming the first unusable option."""
    options = normalise(options)
    message = check(options)
    if message:
        raise BadOption(message)
    raw_mode = str(options.get("ocr", "auto")).strip().lower()
    lang = options.get("ocr_lang")
    return OcrSettings(
        mode=OcrMode(raw_mode),
        engine=str(options.get("ocr_engine", "auto")).strip().lower(),
        dpi=int(options.get("ocr_dpi", DEFAULT_DPI)),
        lang=str(lang) if lang not in (None, "") else None,
        max_pixels=int(options.get("ocr_max_pixels", DEFAULT_MAX_PIXELS)),
        memory_limit_mb=memory_limit_mb if memory_limit_mb is not None else child_memory_limit_mb(),
    )


def check(options: Mapping[str, Any]) -> str | None:
    """Why the OCR options cannot be used, or None when they are fine (pure)."""
    mode = options.get("ocr", "auto")
    if isinstance(mode, bool):  # `-o ocr=false` parses as JSON false
        mode = "auto" if mode else "never"
    if str(mode).strip().lower() not in {m.value for m in OcrMode}:
        return f"option ocr={mode!r}: use auto, always or never"
    engine = str(options.get("ocr_engine", "auto")).strip().lower()
    if engine not in ENGINES:
        return f"option ocr_engine={engine!r}: use {', '.join(ENGINES)}"
    dpi = options.get("ocr_dpi", DEFAULT_DPI)
    if isinstance(dpi, bool) or not isinstance(dpi, int | float) or not MIN_DPI <= dpi <= MAX_DPI:
        return f"option ocr_dpi={dpi!r}: give a whole number from {MIN_DPI} to {MAX_DPI}"
    lang = options.get("ocr_lang")
    if lang not in (None, "") and not (isinstance(lang, str) and _LANG.match(lang)):
        return f"option ocr_lang={lang!r}: give Tesseract language codes such as eng or eng+deu"
    pixels = options.get("ocr_max_pixels", DEFAULT_MAX_PIXELS)
    if isinstance(pixels, bool) or not isinstance(pixels, int) or pixels < 10_000:
        return f"option ocr_max_pixels={pixels!r}: give a whole number of pixels, at least 10000"
    return None


def normalise(options: Mapping[str, Any]) -> Mapping[str, Any]:
    """``ocr=true/false`` (JSON booleans) read as auto/never; everything else unchanged."""
    mode = options.get("ocr")
    if isinstance(mode, bool):
        return {**options, "ocr": "auto" if mode else "never"}
    return options


def child_memory_limit_mb() -> int:
    """The worker's per-child memory cap (children inherit the supervisor's environment)."""
    try:
        value = int(float(os.environ.get("CADEXTRACT_MEMORY_LIMIT_MB") or 4096))
    except ValueError:
        return 4096
    return value if value > 0 else 4096
