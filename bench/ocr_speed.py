"""OCR speed: model load time per child, and pages per minute on N cores, per engine.

    python bench/ocr_speed.py [--dpi 200] [--cores 2] [--pages 8] [--rounds 3]
                              [--engines rapidocr,tesseract] [--baseline REV]

The pages are the corpus edocr* drawings and the bundled sample drawing, rasterised at
--dpi into PNGs (what a scanner gives). For each engine, --cores fresh processes (like
the worker's children, one thread each) share --pages pages round-robin; pages per
minute = pages / wall time of the slowest process, model load excluded (it is reported
apart: the median of the processes' load times). CPU seconds per page are reported too,
with the rate they give when the cores are free (60 x cores / CPU s per page): on a
shared machine the wall-clock rate says more about the neighbours than about OCR.
Engines alternate within each round (the VM is shared and noisy); medians over
--rounds are printed. ``--baseline REV`` also runs every engine with the package as it
was at git revision REV (exported to a temporary folder), alternating sides, to show
what a change did to the speed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

CHILD = """
import json, os, sys, time
started = time.perf_counter()
from cadextract.extractors.ocr import engines, run, settings
from PIL import Image
engine, _ = engines.get(sys.argv[1])
load = time.perf_counter() - started
ocr = settings.parse({"ocr_engine": sys.argv[1]})
def cpu():  # this process and the programs it ran (tesseract is a subprocess)
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system
t0, c0 = time.perf_counter(), cpu()
words = 0
for path in sys.argv[3:]:
    with Image.open(path) as image:
        words += len(run.recognise(image, ocr, float(sys.argv[2]), 1.0).words)
print(json.dumps({"load": load, "seconds": time.perf_counter() - t0,
                  "cpu": cpu() - c0, "words": words}))
"""


def pages(dpi: int, count: int, work: Path) -> list[Path]:
    import pypdfium2 as pdfium

    corpus = REPO.parent / "shared" / "corpus" / "pdf"
    sources = [*sorted(corpus.glob("edocr*")), REPO / "samples" / "files" / "pdf" / "bracket-drawing.pdf"]
    out: list[Path] = []
    for source in sources:
        doc = pdfium.PdfDocument(str(source))
        try:
            image = doc[0].render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
        finally:
            doc.close()
        path = work / f"{source.stem}.png"
        image.save(path, dpi=(dpi, dpi))
        out.append(path)
    return [out[i % len(out)] for i in range(count)]


def run_engine(engine: str, dpi: int, cores: int, files: list[Path], code: Path = REPO) -> dict[str, float]:
    shares = [files[i::cores] for i in range(cores)]
    started = time.perf_counter()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, engine, str(dpi), *map(str, share)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=code,  # python -c puts the working folder first on sys.path: this code is imported
        )
        for share in shares
        if share
    ]
    results = [json.loads(p.communicate()[0]) for p in procs]
    wall = time.perf_counter() - started
    work = max(r["seconds"] for r in results)
    return {
        "pages_per_minute": 60.0 * len(files) / work,
        "load_s": statistics.median(r["load"] for r in results),
        # CPU seconds per page: what the pages cost whatever else the machine is doing
        "cpu_s_per_page": sum(r["cpu"] for r in results) / len(files),
        "wall_s": wall,
        "words": sum(r["words"] for r in results),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dpi", type=int, default=200)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--pages", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--engines", default="rapidocr,tesseract")
    parser.add_argument("--baseline", help="git revision to compare with (e.g. merge12)")
    args = parser.parse_args()
    sides = {name: REPO for name in args.engines.split(",")}
    seen: dict[str, list[dict[str, float]]] = {n: [] for n in sides}
    with tempfile.TemporaryDirectory() as tmp:
        if args.baseline:
            old = Path(tmp) / "baseline"
            old.mkdir()
            export = subprocess.run(
                ["git", "archive", args.baseline, "cadextract"], cwd=REPO, capture_output=True, check=True
            )
            subprocess.run(["tar", "-x", "-C", str(old)], input=export.stdout, check=True)
            for name in list(sides):
                sides[f"{name}@{args.baseline}"] = old
                seen[f"{name}@{args.baseline}"] = []
        names = list(sides)
        files = pages(args.dpi, args.pages, Path(tmp))
        for round_no in range(args.rounds):
            order = names if round_no % 2 == 0 else list(reversed(names))
            for name in order:
                r = run_engine(name.split("@")[0], args.dpi, args.cores, files, sides[name])
                seen[name].append(r)
                print(f"round {round_no + 1} {name}: {json.dumps({k: round(v, 2) for k, v in r.items()})}")
    print(
        f"\n{args.pages} pages at {args.dpi} dpi on {args.cores} processes, medians of {args.rounds} rounds"
    )
    print("| engine | pages/min (wall) | CPU s per page | pages/min, cores free | model load (s) | words |")
    print("|---|---|---|---|---|---|")
    for name in names:
        runs = seen[name]
        cpu = statistics.median(r["cpu_s_per_page"] for r in runs)
        print(
            f"| {name} | {statistics.median(r['pages_per_minute'] for r in runs):.1f} | {cpu:.2f} "
            f"| {60 * args.cores / cpu:.1f} | {statistics.median(r['load_s'] for r in runs):.2f} "
            f"| {int(runs[0]['words'])} |"
        )


if __name__ == "__main__":
    main()
