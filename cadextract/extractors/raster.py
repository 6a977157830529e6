"""Raster scans (PNG, JPEG, TIFF; a multi-page TIFF gives pages): image facts and OCR text.

Every page goes through the same OCR path as a PDF page without a text layer, and then
the same callout and title-block detection. Pillow is imported inside the functions.
Bounds: ``max_pages`` pages are read (default :data:`DEFAULT_MAX_PAGES`; all are
counted); a page whose decoded pixels would not fit the child's memory cap is skipped
with a warning, a big one is downsampled to the OCR pixel budget.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from cadextract.extractors import pagefacts
from cadextract.extractors.base import (
    CorruptFile,
    EmptyFile,
    ExtractionError,
    Extractor,
    FileUnreadable,
    PermanentError,
    Progress,
    TruncatedFile,
    WrongFormat,
    int_option,
    json_safe,
)
from cadextract.extractors.drawing import Annotations
from cadextract.extractors.ocr import engines, run, settings
from cadextract.extractors.ocr.sheet import ocr_annotations
from cadextract.extractors.pagefacts import PageFacts, page_fields
from cadextract.extractors.pdf import DEFAULT_MAX_ITEMS, DEFAULT_MAX_TEXT_CHARS, MAX_PAGES_IN_WARNING

DEFAULT_MAX_PAGES = 200
#: a page whose DPI is unknown is taken to be a drawing scanned at this resolution
ASSUMED_DPI = 200
#: bytes Pillow holds per pixel, by mode (mode "1" is stored one byte a pixel)
_BYTES_PER_PIXEL = {"1": 1, "L": 1, "P": 1, "LA": 2, "I;16": 2, "RGB": 3, "YCbCr": 3, "LAB": 3, "HSV": 3}
MAGIC = {
    b"\x89PNG\r\n\x1a\n": "PNG",
    b"\xff\xd8\xff": "JPEG",
    b"II*\x00": "TIFF",
    b"MM\x00*": "TIFF",
    b"II+\x00": "TIFF",  # BigTIFF
    b"MM\x00+": "TIFF",
}


class ImageTooLarge(PermanentError):
    """No page of the image can be decoded within the memory cap."""

    error_type = "ImageTooLarge"


def image_kind(head: bytes) -> str | None:
    """PNG, JPEG or TIFF from the file's first bytes, else None."""
    for magic, kind in MAGIC.items():
        if head.startswith(magic):
            return kind
    return None


def versions() -> dict[str, str]:
    import PIL

    return {"Pillow": str(PIL.__version__)}


def _sniff(path: Path) -> str:
    try:
        with path.open("rb") as fh:
            head = fh.read(16)
    except FileNotFoundError as exc:
        raise FileUnreadable(f"file not found: {path}") from exc
    except OSError as exc:
        raise FileUnreadable(f"cannot read {path}: {exc.strerror or exc}") from exc
    if not head:
        raise EmptyFile(f"{path.name} is empty (0 bytes)")
    kind = image_kind(head)
    if kind is None:
        raise WrongFormat(f"{path.name} is not a PNG, JPEG or TIFF image (unknown first bytes)")
    return kind


def _dpi(info: Mapping[str, Any]) -> float | None:
    """The image's horizontal resolution if it states a plausible one."""
    raw = info.get("dpi")
    try:
        value = float(raw[0]) if raw else 0.0
    except (TypeError, ValueError, IndexError):
        return None
    return value if 20.0 <= value <= 10_000.0 else None


def target_size(width: int, height: int, dpi: float | None, ocr: settings.OcrSettings) -> tuple[int, int]:
    """The size a page is read at: the OCR resolution if the scan is finer, within the budget."""
    scale = 1.0
    if dpi and dpi > ocr.dpi * 1.25:  # a 600 dpi scan gains nothing over the OCR resolution
        scale = ocr.dpi / dpi
    pixels = width * height * scale * scale
    if pixels > ocr.pixel_budget:
        scale *= math.sqrt(ocr.pixel_budget / pixels)
    return max(1, round(width * scale)), max(1, round(height * scale))


def decode_bytes(width: int, height: int, mode: str, draft_factor: int = 1) -> int:
    """Bytes Pillow needs to hold the decoded page (JPEG drafts decode smaller)."""
    per_pixel = _BYTES_PER_PIXEL.get(mode, 4)
    return math.ceil(width / draft_factor) * math.ceil(height / draft_factor) * per_pixel


def extract(path: Path, options: Mapping[str, Any], progress: Progress) -> dict[str, Any]:
    path = Path(path)
    progress(0.0, "opening image")
    kind = _sniff(path)
    ocr = settings.parse(options)
    max_pages = int_option(options, "max_pages", DEFAULT_MAX_PAGES)
    max_items = int_option(options, "max_items", DEFAULT_MAX_ITEMS)
    max_text = int_option(options, "max_text_chars", DEFAULT_MAX_TEXT_CHARS)
    from PIL import Image

    # Pillow's own bomb check refuses big scans outright; the per-page memory plan below
    # decides instead (downsample, or skip with a reason)
    saved_limit = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None
    try:
        return _extract(path, kind, ocr, max_pages, max_items, max_text, progress)
    except (ExtractionError, MemoryError):
        raise
    except Exception as exc:
        raise CorruptFile(f"{path.name} is a damaged {kind} image ({type(exc).__name__}: {exc})") from exc
    finally:
        Image.MAX_IMAGE_PIXELS = saved_limit


def _extract(
    path: Path,
    kind: str,
    ocr: settings.OcrSettings,
    max_pages: int,
    max_items: int,
    max_text: int,
    progress: Progress,
) -> dict[str, Any]:
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(path)
    except UnidentifiedImageError as exc:
        raise CorruptFile(f"{path.name} starts like a {kind} image but Pillow cannot read it") from exc
    warnings: list[str] = []
    tally = run.Tally()
    pages: list[dict[str, Any]] = []
    facts = PageFacts(max_items)
    with image:
        count = int(getattr(image, "n_frames", 1) or 1)
        todo = min(count, max_pages)
        progress(2.0, f"{count} page(s)")
        for index in range(todo):
            image.seek(index)
            rec, read = _page(image, index + 1, kind, ocr, tally, max_text, warnings)
            notes = Annotations()
            if read is not None:  # the same annotation parser as a PDF page read by OCR
                notes = ocr_annotations(read.words, read.segments, rec, [], warnings)
            facts.add(rec, notes, page_fields(notes, [], rec["text"], read.words if read else None))
            pages.append(rec)
            progress(2.0 + 96.0 * (index + 1) / todo, f"page {index + 1} of {todo}")
    if pages and all("skipped" in p for p in pages):
        raise ImageTooLarge(f"{path.name}: {pages[0]['skipped']}")
    if count > todo:
        warnings.append(f"only the first {todo} of {count} pages were read (option max_pages)")
    warnings.extend(facts.warnings())
    warnings.extend(tally.warnings(MAX_PAGES_IN_WARNING))
    if ocr.mode is settings.OcrMode.NEVER:
        warnings.append("OCR is off for this job (ocr=never): no text was read")
    first = pages[0] if pages else {}
    payload = {
        "image_format": kind,
        "page_count": count,
        "pages_read": len(pages),
        "width": first.get("width"),
        "height": first.get("height"),
        "dpi": first.get("dpi"),
        "mode": first.get("mode"),
        "pages": pages,
        "total_text_chars": sum(p.get("text_chars", 0) for p in pages),
        **facts.payload(),
        "ocr": tally.summary(ocr),
        "limits": {"max_pages": max_pages, "max_items": max_items, "max_text_chars": max_text},
        "warnings": warnings,
    }
    progress(100.0, "done")
    return json_safe(payload)  # type: ignore[no-any-return]


def _page(
    image: Any,
    number: int,
    kind: str,
    ocr: settings.OcrSettings,
    tally: run.Tally,
    max_text: int,
    warnings: list[str],
) -> tuple[dict[str, Any], run.PageOcr | None]:
    """The page's record, and what OCR read on it (None when it was not read)."""
    width, height = image.size
    dpi = _dpi(image.info)
    rec: dict[str, Any] = {
        "number": number,
        "width": width,
        "height": height,
        "dpi": round(dpi, 1) if dpi else None,  # PNG stores dots per metre: 150 dpi reads 150.01
        "mode": image.mode,
        "text": "",
        "text_chars": 0,
        "word_count": 0,
        "text_source": None,
        "title_block": {},
    }
    if ocr.mode is settings.OcrMode.NEVER or tally.unavailable:
        return rec, None
    want_w, want_h = target_size(width, height, dpi, ocr)
    draft = 1
    if kind == "JPEG":  # libjpeg decodes at 1/2, 1/4 or 1/8 directly: big scans stay cheap
        while draft < 8 and width / (draft * 2) >= want_w and height / (draft * 2) >= want_h:
            draft *= 2
    need = decode_bytes(width, height, image.mode, draft)
    allowed = int(ocr.memory_limit_mb * 1024 * 1024 * settings.MEMORY_SHARE)
    if need > allowed:
        reason = (
            f"page {number} is {width} × {height} px ({width * height / 1e6:.0f} Mpixel): decoding it needs "
            f"about {need / 2**20:.0f} MB, over the {allowed / 2**20:.0f} MB a page may use under the "
            f"{ocr.memory_limit_mb} MB memory cap; not read"
        )
        tally.skipped.append(reason)
        rec["skipped"] = reason
        return rec, None
    gray = _decode(image, number, kind, draft, (want_w, want_h))
    if gray.size != (width, height):
        used = f"{dpi * gray.width / width:.0f} dpi" if dpi else f"{gray.width} × {gray.height} px"
        if gray.width * gray.height >= ocr.pixel_budget * 0.98:
            tally.reduced.append(
                f"page {number} ({width} × {height} px) downsampled to {used} for OCR "
                f"(pixel budget {ocr.pixel_budget / 1e6:.0f} Mpixel)"
            )
    ocr_dpi = dpi * gray.width / width if dpi else None
    try:
        result = run.recognise(gray, ocr, ocr_dpi or ASSUMED_DPI * gray.width / width, width / gray.width)
    except engines.EngineUnavailable as exc:
        tally.unavailable = str(exc)
        return rec, None
    finally:
        gray.close()
    result.dpi = ocr_dpi or 0.0
    run.apply(rec, result, max_text, warnings)
    if not ocr_dpi:
        rec["ocr"]["dpi"] = None
    tally.add(number, result)
    return rec, result


def _decode(image: Any, number: int, kind: str, draft: int, size: tuple[int, int]) -> Any:
    """The page as a greyscale image of about ``size`` (TruncatedFile / CorruptFile if it can't be)."""
    from PIL import Image

    try:
        if draft > 1:
            image.draft("L", (image.width // draft, image.height // draft))
        image.load()
        gray = image.convert("L") if image.mode != "L" else image.copy()
    except OSError as exc:
        if "truncated" in str(exc).lower():
            raise TruncatedFile(f"page {number} of the {kind} image is truncated ({exc})") from exc
        raise CorruptFile(f"page {number} of the {kind} image cannot be decoded ({exc})") from exc
    if gray.size != size and gray.width > size[0]:
        smaller = gray.resize(size, Image.Resampling.BOX)
        gray.close()
        gray = smaller
    return gray


def summarize(payload: Mapping[str, Any]) -> dict[str, str | int | float | bool | None]:
    ocr = payload.get("ocr") or {}
    out: dict[str, str | int | float | bool | None] = {
        "image_format": payload.get("image_format"),
        "page_count": payload.get("page_count"),
        "width": payload.get("width"),
        "height": payload.get("height"),
        "dpi": payload.get("dpi"),
        "total_text_chars": payload.get("total_text_chars"),
        "callout_count": len(payload.get("callouts", [])),
        "ocr_engine": ocr.get("engine_used"),
        "ocr_mean_confidence": ocr.get("mean_confidence"),
    }
    out.update(pagefacts.summary(payload))
    return out


ROW_COLUMNS = (
    "page",
    "width",
    "height",
    "dpi",
    "text_chars",
    "word_count",
    "callout_count",
    "ocr_mean_confidence",
    "drawing_number",
    "skipped",
)


def rows(payload: Mapping[str, Any]) -> Iterator[dict[str, str | int | float | bool | None]]:
    return pagefacts.page_rows(payload, ROW_COLUMNS)


EXTRACTOR = Extractor(
    name="raster",
    extract=extract,
    versions=versions,
    version="1",
    default_timeout=600,
    description="Raster scans (PNG, JPEG, TIFF; Pillow + OCR): image size, DPI, pages, OCR text, "
    "callouts, title block",
    extensions=(".png", ".jpg", ".jpeg", ".tif", ".tiff"),
    summarize=summarize,
    rows=rows,
)
