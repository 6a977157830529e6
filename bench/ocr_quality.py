"""OCR quality against real text layers: rasterise vector drawings, OCR them, compare.

    python bench/ocr_quality.py [--corpus ../shared/corpus] [--dpi 200] [--engine rapidocr]
                                [--all] [--json out.json]

For each PDF drawing (the corpus ``edocr*`` sheets and the bundled sample drawing; with
``--all`` every corpus PDF with a text layer): render every page at ``--dpi`` into an
image-only PDF and into a PNG (first page), run cadextract's PDF and raster extractors
on them, and compare with the original's text layer:

- character accuracy: 1 - normalised Levenshtein distance of the page texts,
  whitespace collapsed (distance / length of the longer text);
- callout recall: share of the original's (kind, value) callouts the OCR text gives;
- title-block recall: share of the original's title-block fields found with the same value.

The test ``tests/extractors/test_ocr_quality.py`` uses these functions too.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cadextract.extractors import base, pdf, raster  # noqa: E402

DRAWINGS = ("edocr",)  # corpus file-name prefixes of mechanical drawings
SAMPLE = REPO / "samples" / "files" / "pdf" / "bracket-drawing.pdf"


def squash(text: str) -> str:
    return " ".join(text.split())


def char_accuracy(reference: str, ocr: str) -> float:
    """1 - normalised edit distance (whitespace collapsed); 1.0 when both are empty."""
    from rapidfuzz.distance import Levenshtein

    a, b = squash(reference), squash(ocr)
    if not a and not b:
        return 1.0
    return 1.0 - Levenshtein.normalized_distance(a, b)


def callout_recall(reference: list[Mapping[str, Any]], ocr: list[Mapping[str, Any]]) -> float | None:
    """Share of the reference callouts (by kind and value) that the OCR callouts contain."""
    want = Counter((c["kind"], c["value"]) for c in reference)
    if not want:
        return None
    have = Counter((c["kind"], c["value"]) for c in ocr)
    return sum(min(n, have[k]) for k, n in want.items()) / sum(want.values())


def field_recall(reference: Mapping[str, Any], ocr: Mapping[str, Any]) -> float | None:
    """Share of the reference title-block fields OCR found with the same value (case/space-blind)."""
    if not reference:
        return None
    same = sum(
        1
        for name, field in reference.items()
        if name in ocr and squash(ocr[name]["value"]).casefold() == squash(field["value"]).casefold()
    )
    return same / len(reference)


def rasterise(source: Path, out_pdf: Path, out_png: Path, dpi: int) -> None:
    """Every page of ``source`` as an image-only PDF, and page 1 as a greyscale PNG."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(source))
    try:
        images = [
            doc[i].render(scale=dpi / 72, grayscale=True).to_pil().convert("L") for i in range(len(doc))
        ]
    finally:
        doc.close()
    images[0].save(out_pdf, save_all=True, append_images=images[1:], resolution=dpi)
    images[0].save(out_png, dpi=(dpi, dpi))


@dataclass
class Score:
    file: str
    kind: str  # "pdf" (image-only PDF, all pages) or "png" (page 1)
    pages: int
    char_accuracy: float
    callouts: int
    callout_recall: float | None
    fields: int
    field_recall: float | None
    mean_confidence: float | None
    seconds: float


def measure(source: Path, dpi: int, engine: str, work: Path) -> list[Score]:
    """Scores of the image-only PDF and the PNG made from ``source``."""
    original = pdf.extract(source, {"ocr": "never"}, base.no_progress)
    out_pdf, out_png = work / f"{source.stem}-scan.pdf", work / f"{source.stem}-scan.png"
    rasterise(source, out_pdf, out_png, dpi)
    options = {"ocr_dpi": dpi, "ocr_engine": engine}
    scores = []
    for kind, path, extractor in (("pdf", out_pdf, pdf.extract), ("png", out_png, raster.extract)):
        started = time.perf_counter()
        got = extractor(path, options, base.no_progress)
        seconds = time.perf_counter() - started
        pages = len(got["pages"]) if kind == "pdf" else 1
        ref_text = "\n".join(p.get("text", "") for p in original["pages"][:pages])
        ocr_text = "\n".join(p.get("text", "") for p in got["pages"][:pages])
        ref_callouts = [c for c in original["callouts"] if c["page"] <= pages]
        ref_fields = {
            k: v for k, v in original["title_block"]["fields"].items() if v["source"]["page"] <= pages
        }
        scores.append(
            Score(
                file=source.name,
                kind=kind,
                pages=pages,
                char_accuracy=round(char_accuracy(ref_text, ocr_text), 4),
                callouts=len(ref_callouts),
                callout_recall=callout_recall(ref_callouts, got["callouts"]),
                fields=len(ref_fields),
                field_recall=field_recall(ref_fields, got["title_block"]["fields"]),
                mean_confidence=got["ocr"]["mean_confidence"],
                seconds=round(seconds, 2),
            )
        )
    return scores


def drawings(corpus: Path, every: bool) -> list[Path]:
    """The PDF drawings to measure: edocr* sheets first, then the bundled sample."""
    pdfs = sorted((corpus / "pdf").glob("*"), key=lambda p: (not p.name.startswith(DRAWINGS), p.name))
    chosen = [p for p in pdfs if every or p.name.startswith(DRAWINGS)]
    return [*chosen, SAMPLE]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus")
    parser.add_argument("--dpi", type=int, default=200)
    parser.add_argument("--engine", default="rapidocr")
    parser.add_argument("--all", action="store_true", help="every corpus PDF, not only the drawings")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    scores: list[Score] = []
    with tempfile.TemporaryDirectory() as tmp:
        for source in drawings(args.corpus, args.all):
            try:
                scores.extend(measure(source, args.dpi, args.engine, Path(tmp)))
            except base.ExtractionError as exc:
                print(f"{source.name}: skipped ({exc})", file=sys.stderr)
                continue
            for s in scores[-2:]:
                print(
                    f"| {s.file} | {s.kind} | {s.pages} | {s.char_accuracy:.3f} | "
                    f"{_pct(s.callout_recall)} of {s.callouts} | {_pct(s.field_recall)} of {s.fields} | "
                    f"{s.mean_confidence} | {s.seconds:.1f} |",
                    flush=True,
                )
    for kind in ("pdf", "png"):
        acc = [s.char_accuracy for s in scores if s.kind == kind]
        if acc:
            print(
                f"median character accuracy ({kind}, {args.engine}, {args.dpi} dpi): "
                f"{statistics.median(acc):.3f}"
            )
    if args.json:
        args.json.write_text(json.dumps([asdict(s) for s in scores], indent=2))


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


if __name__ == "__main__":
    main()
