"""PDF extractor (pdfplumber): metadata, per-page size / rotation / text / tables, pages
without a text layer, dimension callouts and title-block fields.

pdfplumber is imported inside the functions: importing this module stays cheap.
Encrypted files are opened with the empty password or ``options["password"]``.
Bounds: page text is capped at ``options["max_text_chars"]`` characters per page (default
:data:`DEFAULT_MAX_TEXT_CHARS`), tables and callouts at ``options["max_items"]`` entries
(default :data:`DEFAULT_MAX_ITEMS`); a warning says when something was cut.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from cadextract.extractors import pagefacts
from cadextract.extractors.base import (
    CorruptFile,
    EmptyFile,
    EncryptedFile,
    ExtractionError,
    Extractor,
    FileUnreadable,
    Progress,
    TruncatedFile,
    WrongFormat,
    int_option,
    json_safe,
)
from cadextract.extractors.drawing import Annotations, parse_sheet
from cadextract.extractors.drawing.parser import paper_size
from cadextract.extractors.ocr.pdfpages import PdfOcr
from cadextract.extractors.ocr.sheet import ocr_annotations
from cadextract.extractors.pagefacts import PageFacts, page_fields
from cadextract.extractors.pdf_sheet import page_sheet
from cadextract.extractors.shared import captured_logs, log_warnings, number, tail, translated
from cadextract.extractors.textfields import TITLE_LABELS, find_callouts

__all__ = ["EXTRACTOR", "TITLE_LABELS", "extract", "find_callouts"]  # callers import these from here

DEFAULT_MAX_ITEMS = 100_000
DEFAULT_MAX_TEXT_CHARS = 1_000_000
#: at most this many page numbers are listed in one warning
MAX_PAGES_IN_WARNING = 50


def versions() -> dict[str, str]:
    import pdfplumber

    out = {"pdfplumber": str(pdfplumber.__version__)}
    try:
        import pdfminer

        out["pdfminer.six"] = str(pdfminer.__version__)
    except Exception:
        pass
    return out


# ----------------------------------------------------------------------------- helpers


def _num(value: Any, digits: int = 4) -> float | None:
    return number(value, digits)


def _clean(obj: Any) -> Any:
    """JSON- and PostgreSQL-safe values (see ``base.json_safe``); pdfminer literals by name."""
    return json_safe(obj, _pdf_scalar)


def _pdf_scalar(obj: Any) -> Any:
    name = getattr(obj, "name", None)  # pdfminer PSLiteral
    return name if isinstance(name, str | bytes) else str(obj)


def _sniff(path: Path) -> str | None:
    """Check the file is plausibly a PDF; return the header version (e.g. "1.7")."""
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(1024)
    except FileNotFoundError as exc:
        raise FileUnreadable(f"file not found: {path}") from exc
    except OSError as exc:
        raise FileUnreadable(f"cannot read {path}: {exc.strerror or exc}") from exc
    if size == 0 or not head.strip():
        raise EmptyFile(f"{path.name} is empty (0 bytes)")
    m = re.search(rb"%PDF-(\d\.\d)", head)
    if not m:
        raise WrongFormat(f"{path.name} is not a PDF file (no %PDF- header in the first 1024 bytes)")
    return m.group(1).decode("ascii")


def _has_eof_marker(path: Path) -> bool:
    end = tail(path, 2048)
    return end is None or b"%%EOF" in end


def _inner(exc: BaseException) -> BaseException:
    """pdfplumber wraps pdfminer errors in PdfminerException(inner)."""
    if type(exc).__name__ == "PdfminerException" and exc.args and isinstance(exc.args[0], BaseException):
        return exc.args[0]
    return exc.__cause__ or exc


def _translate(exc: BaseException, path: Path, password_given: bool) -> ExtractionError:
    inner = _inner(exc)
    name = type(inner).__name__
    if name == "PDFPasswordIncorrect":
        if password_given:
            return EncryptedFile(f"{path.name} is encrypted and the given password is wrong")
        return EncryptedFile(
            f"{path.name} is encrypted with a password; resubmit it with the password option "
            f"(--option password=...) or remove the protection"
        )
    if name in {"PDFEncryptionError", "PDFEncryptionWarning"}:
        return EncryptedFile(f"{path.name} uses an encryption pdfminer cannot decrypt: {inner}")
    if isinstance(inner, OSError):
        return FileUnreadable(f"cannot read {path}: {inner.strerror or inner}")
    if not _has_eof_marker(path):
        return TruncatedFile(
            f"{path.name} is truncated (no %%EOF marker) and cannot be parsed: {name}: {inner}"
        )
    return CorruptFile(f"{path.name} is a damaged PDF that cannot be parsed ({name}: {inner})")


# ----------------------------------------------------------------------------- extract


def extract(path: Path, options: Mapping[str, Any], progress: Progress) -> dict[str, Any]:
    path = Path(path)
    progress(0.0, "opening PDF")
    header_version = _sniff(path)
    with translated(lambda exc: _translate(exc, path, bool(options.get("password")))):
        return _extract(path, options, progress, header_version)


def _extract(
    path: Path, options: Mapping[str, Any], progress: Progress, header_version: str | None
) -> dict[str, Any]:
    with captured_logs("pdfminer") as messages:  # damaged streams, bad xref
        payload = _extract_inner(path, options, progress, header_version)
    extra = log_warnings(messages, "pdfminer", MAX_PAGES_IN_WARNING)
    payload["warnings"] = _clean(extra) + payload["warnings"]
    return payload


def _extract_inner(
    path: Path, options: Mapping[str, Any], progress: Progress, header_version: str | None
) -> dict[str, Any]:
    import pdfplumber

    password = options.get("password")
    max_items = int_option(options, "max_items", DEFAULT_MAX_ITEMS)
    max_text = int_option(options, "max_text_chars", DEFAULT_MAX_TEXT_CHARS)
    ocr = PdfOcr(path, options)  # scanned pages: rendered and read by OCR (ocr=auto|always|never)
    warnings: list[str] = []
    try:
        pdf = pdfplumber.open(str(path), password=str(password) if password else "")
    except Exception as exc:
        raise _translate(exc, path, bool(password)) from exc
    with pdf:
        try:
            pages_obj = pdf.pages
            metadata = dict(pdf.metadata or {})
            encrypted = getattr(pdf.doc, "encryption", None) is not None
        except Exception as exc:
            raise _translate(exc, path, bool(password)) from exc
        n = len(pages_obj)
        progress(5.0, f"{n} pages")
        pages: list[dict[str, Any]] = []
        no_text: list[int] = []
        scanned: list[int] = []
        failed: list[int] = []
        table_total = tables_kept = 0
        facts = PageFacts(max_items)
        for index, page in enumerate(pages_obj):
            number = index + 1
            try:
                rec, page_tables, notes = _page(page, number, max_text, warnings)
            except Exception as exc:
                inner = _inner(exc)
                failed.append(number)
                warnings.append(f"page {number} could not be read ({type(inner).__name__}: {inner})")
                pages.append({"number": number, "error": f"{type(inner).__name__}: {inner}"})
                continue
            finally:
                with contextlib.suppress(Exception):
                    page.close()
            ocr.page(index, rec, max_text, warnings)
            table_total += len(page_tables)
            rec["tables"] = page_tables[: max(0, max_items - tables_kept)]
            tables_kept += len(rec["tables"])
            if not rec["has_text_layer"]:
                no_text.append(number)
                if rec["image_count"]:
                    scanned.append(number)
            cells = [t["rows"] for t in page_tables]
            read = ocr.take(number)  # None unless OCR read the page
            if read is not None and not rec["char_count"]:
                # a scanned page: its OCR words and ruled lines go through the same annotation parser
                notes = ocr_annotations(read.words, read.segments, rec, cells, warnings)
            words = read.words if read is not None else None
            facts.add(rec, notes, page_fields(notes, cells, rec["text"], words))
            pages.append(rec)
            progress(5.0 + 93.0 * number / max(1, n), f"page {number} of {n}")
        ocr.close()

    if n and len(failed) == n:
        raise CorruptFile(
            f"{path.name}: none of its {n} pages could be read ({warnings[-1] if warnings else ''})"
        )
    if table_total > tables_kept:
        warnings.append(f"tables truncated to {tables_kept} of {table_total} (option max_items)")
    warnings.extend(facts.warnings())
    warnings.extend(ocr.tally.warnings(MAX_PAGES_IN_WARNING))
    unread = [p for p in no_text if p not in ocr.tally.pages]  # pages OCR read have text now
    if n and unread and len(unread) == n - len(failed):
        what = "a scanned document" if scanned else "vector graphics or blank pages only"
        warnings.append(
            f"no page has a text layer ({what}): no text could be extracted; run OCR (e.g. ocrmypdf) first"
        )
    elif unread:
        listed = ", ".join(str(p) for p in unread[:MAX_PAGES_IN_WARNING])
        more = f" and {len(unread) - MAX_PAGES_IN_WARNING} more" if len(unread) > MAX_PAGES_IN_WARNING else ""
        warnings.append(f"{len(unread)} page(s) without a text layer (scanned?): {listed}{more}")
    if n == 0:
        warnings.append("the PDF has no pages")
    ok_pages = [p for p in pages if "error" not in p]
    payload: dict[str, Any] = {
        "pdf_version": header_version,
        "encrypted": encrypted,
        "metadata": metadata,
        "page_count": n,
        "pages": pages,
        "total_text_chars": sum(p["text_chars"] for p in ok_pages),
        "table_count": table_total,
        "pages_without_text": no_text,
        "has_text_layer": bool(ok_pages) and len(no_text) < len(ok_pages),
        **facts.payload(),
        "limits": {"max_items": max_items, "max_text_chars": max_text},
        "ocr": ocr.summary(),
        "warnings": warnings,
    }
    progress(100.0, "done")
    return _clean(payload)  # type: ignore[no-any-return]


def _page(
    page: Any, number: int, max_text: int, warnings: list[str]
) -> tuple[dict[str, Any], list[dict[str, Any]], Annotations]:
    text = page.extract_text() or ""
    chars = len(page.chars)
    words = page.extract_words() if chars else []
    tables: list[dict[str, Any]] = []
    for table in page.find_tables():
        rows = table.extract()
        tables.append(
            {
                "bbox": [_num(v, 3) for v in table.bbox],
                "row_count": len(rows),
                "col_count": max((len(r) for r in rows), default=0),
                "rows": [[None if cell is None else str(cell) for cell in row] for row in rows],
            }
        )
    annotations = Annotations()
    if chars:
        try:
            annotations = parse_sheet(page_sheet(page, number, [t["rows"] for t in tables]))
        except Exception as exc:  # the page's text and tables stand on their own: never lose them
            warnings.append(
                f"page {number}: drawing annotations could not be read ({type(exc).__name__}: {exc})"
            )
    text_chars = len(text)
    if text_chars > max_text:
        warnings.append(f"page {number}: text truncated to {max_text} of {text_chars} characters")
        text = text[:max_text]
    rec: dict[str, Any] = {
        "number": number,
        "width": _num(page.width),
        "height": _num(page.height),
        "rotation": int(page.rotation or 0) % 360,
        "text": text,
        "text_chars": text_chars,
        "word_count": len(words),
        "char_count": chars,
        "has_text_layer": chars > 0,
        "image_count": len(page.images),
        "table_count": len(tables),
        "paper_size": paper_size(float(page.width), float(page.height)),
        "drawing_sheet": annotations.drawing,
        "dimension_count": len(annotations.dimensions),
        "gdt_count": len(annotations.gdt),
    }
    return rec, tables, annotations


# ----------------------------------------------------------------------------- summaries


def summarize(payload: Mapping[str, Any]) -> dict[str, str | int | float | bool | None]:
    pages = payload.get("pages", [])
    first = pages[0] if pages else {}
    meta = payload.get("metadata", {}) or {}
    out: dict[str, str | int | float | bool | None] = {
        "pdf_version": payload.get("pdf_version"),
        "page_count": payload.get("page_count"),
        "first_page_width": first.get("width"),
        "first_page_height": first.get("height"),
        "pages_without_text": len(payload.get("pages_without_text", [])),
        "has_text_layer": payload.get("has_text_layer"),
        "total_text_chars": payload.get("total_text_chars"),
        "table_count": payload.get("table_count"),
        "callout_count": len(payload.get("callouts", [])),
        "encrypted": payload.get("encrypted"),
        "meta_title": _scalar(meta.get("Title")),
        "meta_author": _scalar(meta.get("Author")),
        "meta_creator": _scalar(meta.get("Creator")),
    }
    out.update(pagefacts.summary(payload))
    return out


def _scalar(value: Any) -> str | None:
    return None if value is None else str(value)


ROW_COLUMNS = (
    "page",
    "width",
    "height",
    "rotation",
    "has_text_layer",
    "text_chars",
    "word_count",
    "table_count",
    "image_count",
    "callout_count",
    "drawing_number",
    "sheet",
    "error",
)


def rows(payload: Mapping[str, Any]) -> Iterator[dict[str, str | int | float | bool | None]]:
    return pagefacts.page_rows(payload, ROW_COLUMNS)


EXTRACTOR = Extractor(
    name="pdf",
    extract=extract,
    versions=versions,
    version="2",
    default_timeout=600,
    description="PDF drawings (pdfplumber): text, tables, dimensions, GD&T, title block, parts list",
    extensions=(".pdf",),
    summarize=summarize,
    rows=rows,
)
