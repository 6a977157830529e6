"""Extractor cost relative to the bare library load, per format, over the shared corpus.

    python bench/extract.py [--corpus ../shared/corpus] [--repeat 3] [--json out.json]

For every readable corpus file: the median of --repeat runs of the bare call that
loads the file (ezdxf.readfile / ezdxf.recover.readfile, ifcopenshell.open,
cadquery.importers.importStep, pdfplumber.open + iterating pages with their chars)
and of cadextract's extractor, in one warm process (imports paid before timing).
Prints per-format totals and ratios, and the files with the largest ratio.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cadextract.extractors import base, registry  # noqa: E402


def bare_dxf(path: Path, ref: dict[str, Any]) -> None:
    import ezdxf
    from ezdxf import recover

    if ref.get("loader") == "ezdxf.recover.readfile":
        recover.readfile(str(path))
    else:
        ezdxf.readfile(str(path))


def bare_ifc(path: Path, ref: dict[str, Any]) -> None:
    import ifcopenshell

    ifcopenshell.open(str(path))


def bare_step(path: Path, ref: dict[str, Any]) -> None:
    import cadquery as cq

    cq.importers.importStep(str(path))


def bare_pdf(path: Path, ref: dict[str, Any]) -> None:
    import pdfplumber

    with pdfplumber.open(str(path)) as pdf:
        for page in pdf.pages:
            _ = page.chars


BARE: dict[str, Callable[[Path, dict[str, Any]], None]] = {
    "dxf": bare_dxf,
    "ifc": bare_ifc,
    "step": bare_step,
    "pdf": bare_pdf,
}


def median_time(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--format", action="append", help="only these formats")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    reference = json.loads((args.corpus / "REFERENCE.json").read_text())["files"]
    for fmt in BARE:  # warm imports so they are not timed
        registry.get(fmt)
    import cadquery  # noqa: F401
    import ezdxf  # noqa: F401
    import ifcopenshell  # noqa: F401
    import pdfplumber  # noqa: F401

    rows = []
    for rel, ref in sorted(reference.items()):
        fmt = ref["format"]
        if args.format and fmt not in args.format:
            continue
        path = args.corpus / rel
        extractor = registry.get(fmt)
        try:
            extractor.extract(path, {}, base.no_progress)
        except base.ExtractionError:
            continue  # files that fail are not a speed question
        try:
            bare = median_time(lambda p=path, r=ref, f=fmt: BARE[f](p, r), args.repeat)
        except Exception:  # the bare call refuses some files our extractor recovers
            continue
        ours = median_time(lambda p=path, e=extractor: e.extract(p, {}, base.no_progress), args.repeat)
        rows.append({"file": rel, "format": fmt, "bare_s": bare, "extract_s": ours, "ratio": ours / bare})
        print(f"{rel:60s} bare {bare:8.4f}s  extract {ours:8.4f}s  x{ours / bare:6.2f}", flush=True)

    print()
    print(
        f"{'format':6s} {'files':>5s} {'bare s':>9s} {'extract s':>10s} {'ratio':>6s} {'median ratio':>13s}"
    )
    summary = {}
    for fmt in BARE:
        sel = [r for r in rows if r["format"] == fmt]
        if not sel:
            continue
        bare = sum(r["bare_s"] for r in sel)
        ours = sum(r["extract_s"] for r in sel)
        med = statistics.median(r["ratio"] for r in sel)
        summary[fmt] = {
            "files": len(sel),
            "bare_s": bare,
            "extract_s": ours,
            "ratio": ours / bare,
            "median_ratio": med,
        }
        print(f"{fmt:6s} {len(sel):5d} {bare:9.3f} {ours:10.3f} {ours / bare:6.2f} {med:13.2f}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"summary": summary, "files": rows}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
