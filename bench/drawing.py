"""Drawing quality and PDF sheet extraction time, before and after the annotation parser.

    python bench/drawing.py                       # quality table on the labelled corpus sheets
    python bench/drawing.py --baseline /tmp/base  # + time per sheet: this tree vs a checkout of
                                                  #   the old code (git worktree add /tmp/base 640ba2a)

Timing runs one long-lived process per side and alternates them sheet by sheet and round by
round (the machine is shared and noisy); it reports the median and max per side.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.extractors.drawing_labels import Score, load_labels, score_sheet, total  # noqa: E402

CORPUS = REPO.parent / "shared" / "corpus"
#: the timing child: reads a path per line, answers the seconds one extract() took and the pages
CHILD = """
import sys, time
from pathlib import Path
from cadextract.extractors.pdf import extract
for line in sys.stdin:
    t = time.perf_counter()
    payload = extract(Path(line.strip()), {}, lambda *a: None)
    print(time.perf_counter() - t, payload["page_count"], flush=True)
"""


def quality() -> None:
    from cadextract.extractors.pdf import extract

    rows = []
    for label in load_labels():
        payload = extract(CORPUS / label["file"], {}, lambda *a: None)
        rows.append((label["file"].split("/")[-1], score_sheet(label, payload)))

    def cell(s: Score) -> str:
        return f"{s.precision:.0%} / {s.recall:.0%} ({s.matched}/{s.labelled})"

    print(
        "| sheet | dimensions P / R | dims with tolerance P / R | GD&T frames P / R | datums | surface"
        " | title-block fields | empty fields left empty |"
    )
    print("|---|---|---|---|---|---|---|---|")

    def line(name: str, s: dict[str, Score]) -> str:
        tb, empty = s["title_block"], s["title_absent"]
        return (
            f"| {name} | {cell(s['dim_detect'])} | {cell(s['dim_full'])} | {cell(s['gdt'])}"
            f" | {cell(s['datums'])} | {cell(s['surface'])}"
            f" | {tb.matched}/{tb.labelled} | {empty.matched}/{empty.labelled} |"
        )

    for name, s in rows:
        print(line(name, s))
    sc = [s for _, s in rows]
    print(line("**total**", {k: total(sc, k) for k in sc[0]}))


def timing(baseline: Path, rounds: int) -> None:
    """Seconds per page: the labelled sheets one by one, then every readable corpus PDF."""
    labelled = [str(CORPUS / label["file"]) for label in load_labels()]
    others = sorted(
        str(p) for p in (CORPUS / "pdf").iterdir() if p.suffix.lower() == ".pdf" and str(p) not in labelled
    )
    files = labelled + others
    sides = {
        side: subprocess.Popen(
            [sys.executable, "-c", CHILD], cwd=tree, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        for side, tree in (("before", baseline), ("after", REPO))
    }
    times: dict[str, dict[str, list[float]]] = {k: {f: [] for f in files} for k in sides}
    for r in range(rounds + 1):  # round 0 warms both processes up (imports, caches)
        order = list(sides) if r % 2 else list(reversed(sides))
        for f in files:
            for side in order:
                proc = sides[side]
                assert proc.stdin and proc.stdout
                proc.stdin.write(f + "\n")
                proc.stdin.flush()
                seconds, pages = proc.stdout.readline().split()
                if r:
                    times[side][f].append(float(seconds) / max(1, int(pages)))
    for proc in sides.values():
        assert proc.stdin
        proc.stdin.close()
        proc.wait()
    print(f"\nseconds per page, median of {rounds} alternating rounds")
    print("| file | before | after | ratio |")
    print("|---|---|---|---|")
    med = {side: {f: statistics.median(v) for f, v in times[side].items()} for side in sides}
    for f in files:
        b, a = med["before"][f], med["after"][f]
        print(f"| {Path(f).name} | {b:.3f} | {a:.3f} | {a / b:.2f}× |")
    for name, group in (("labelled drawing sheets", labelled), ("all corpus PDFs", files)):
        mb = statistics.median(med["before"][f] for f in group)
        ma = statistics.median(med["after"][f] for f in group)
        xb = max(med["before"][f] for f in group)
        xa = max(med["after"][f] for f in group)
        print(f"| **{name}: median** | {mb:.3f} | {ma:.3f} | {ma / mb:.2f}× |")
        print(f"| **{name}: max** | {xb:.3f} | {xa:.3f} | {xa / xb:.2f}× |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline", type=Path, help="checkout of the old code to time against")
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    quality()
    if args.baseline:
        timing(args.baseline, args.rounds)


if __name__ == "__main__":
    main()
