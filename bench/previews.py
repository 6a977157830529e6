"""Preview generation on the real corpus: time per format and share of extraction time.

    python bench/previews.py [--corpus ../shared/corpus] [--json out.json] [--out DIR]

One process extracts every corpus file, then makes its preview the way a child does
after sending the job's completion (the extractor's loaded document handed over,
drawn in the same process).
The first preview of each format also pays the one-off warm-up of that child (imports,
ezdxf's font cache); it is reported separately and left out of the per-file figures.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cadextract import files, previews  # noqa: E402
from cadextract.extractors import base, registry  # noqa: E402
from cadextract.previews import runner  # noqa: E402


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--out", type=Path, help="write every preview into this folder")
    args = parser.parse_args()
    cands = [c for c in files.collect([args.corpus], recursive=True) if c.skip_reason is None]
    rows = []
    warm: dict[str, float] = {}
    for c in sorted(cands, key=lambda c: (c.format or "", str(c.path))):
        fmt = c.format or ""
        t = time.perf_counter()
        cpu = time.process_time()
        try:
            registry.get(fmt).extract(c.path, {}, base.no_progress)
        except base.ExtractionError:
            previews.take(c.path)
            continue  # a file that fails extraction gets no preview
        extract_s = time.perf_counter() - t
        extract_cpu = time.process_time() - cpu
        if fmt not in warm:
            t = time.perf_counter()
            runner.warm(fmt)
            warm[fmt] = time.perf_counter() - t
        t = time.perf_counter()
        preview, warning = runner.make(c.path, fmt)
        preview_s = time.perf_counter() - t
        if preview is not None and args.out:
            args.out.mkdir(parents=True, exist_ok=True)
            ext = ".svg" if "svg" in preview.mime else ".png"
            (args.out / (c.path.name + ext)).write_bytes(preview.plain())
        rows.append(
            {
                "file": c.path.name,
                "format": fmt,
                "extract_s": round(extract_s, 4),
                "preview_s": round(preview_s, 4),
                # CPU seconds: what a busy machine's wall times hide
                "extract_cpu_s": round(extract_cpu, 4),
                "preview_cpu_s": round(preview.cpu_seconds if preview else 0.0, 4),
                "bytes": len(preview.data) if preview else 0,
                "warning": warning,
            }
        )
        print(f"{fmt:5} extract {extract_s:7.3f}s preview {preview_s:6.3f}s "
              f"cpu {extract_cpu:6.3f}s / {rows[-1]['preview_cpu_s']:6.3f}s {rows[-1]['bytes']:7d} B "
              f"{c.path.name[:44]:44} {warning or ''}", flush=True)  # fmt: skip
    summary = {}
    for fmt in sorted({r["format"] for r in rows}):
        mine = [r for r in rows if r["format"] == fmt]
        pv = [r["preview_s"] for r in mine]
        ex = [r["extract_s"] for r in mine]
        summary[fmt] = {
            "files": len(mine),
            "previews": sum(1 for r in mine if r["bytes"]),
            "median_s": round(statistics.median(pv), 4),
            "p95_s": round(p95(pv), 4),
            "max_bytes": max(r["bytes"] for r in mine),
            "share_of_extraction": round(sum(pv) / sum(ex), 3),
            "cpu_share_of_extraction": round(
                sum(r["preview_cpu_s"] for r in mine) / max(sum(r["extract_cpu_s"] for r in mine), 1e-9), 3
            ),
            "warm_up_s": round(warm.get(fmt, 0.0), 3),
        }
    total = {
        "extract_s": round(sum(r["extract_s"] for r in rows), 2),
        "preview_s": round(sum(r["preview_s"] for r in rows), 2),
        "warm_up_s": round(sum(warm.values()), 2),
        "extract_cpu_s": round(sum(r["extract_cpu_s"] for r in rows), 2),
        "preview_cpu_s": round(sum(r["preview_cpu_s"] for r in rows), 2),
    }
    print(json.dumps({"by_format": summary, "total": total}, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"by_format": summary, "total": total, "files": rows}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
