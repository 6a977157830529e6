"""Drawing quality and PDF sheet extraction time, before and after the annotation parser.

    python bench/drawing.py                       # quality table on the labelled corpus sheets
    python bench/drawing.py --baseline /tmp/base  # + time per sheet: this tree vs a checkout of
                                                  #   the old code (git worktree add /tmp/base 640ba2a)

Timing runs one long-lived process per side and alternates them sheet by sheet and round by
round (the machine is shared and noisy); it reports the median and max per side.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.extractors.drawing_labels import Score, load_labels, score_sheet, total  # noqa: E402

CORPUS = REPO.parent / "shared" / "corpus"
#: the timing child: reads a path per line, answers the seconds one extract() took
CHILD = """
import sys, time
from pathlib import Path
from cadextract.extractors.pdf import extract
for line in sys.stdin:
    t = time.perf_counter()
    extract(Path(line.strip()), {}, lambda *a: None)
    print(time.perf_counter() - t, flush=True)
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
    sheets = [str(CORPUS / label["file"]) for label in load_labels()]
    sides = {
        "before": subprocess.Popen(
            [sys.executable, "-c", CHILD],
            cwd=baseline,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        ),
        "after": subprocess.Popen(
            [sys.executable, "-c", CHILD], cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        ),
    }
    times: dict[str, dict[str, list[float]]] = {k: {s: [] for s in sheets} for k in sides}
    for r in range(rounds + 1):  # round 0 warms both processes up (imports, caches)
        order = list(sides) if r % 2 else list(reversed(sides))
        for sheet in sheets:
            for side in order:
                proc = sides[side]
                assert proc.stdin and proc.stdout
                proc.stdin.write(sheet + "\n")
                proc.stdin.flush()
                seconds = float(proc.stdout.readline())
                if r:
                    times[side][sheet].append(seconds)
    for proc in sides.values():
        assert proc.stdin
        proc.stdin.close()
        proc.wait()
    print("| sheet | before median (s) | after median (s) | ratio |")
    print("|---|---|---|---|")
    for sheet in sheets:
        b, a = statistics.median(times["before"][sheet]), statistics.median(times["after"][sheet])
        print(f"| {Path(sheet).name} | {b:.3f} | {a:.3f} | {a / b:.2f}× |")
    per = {side: statistics.median([statistics.median(v) for v in times[side].values()]) for side in sides}
    top = {side: max(x for v in times[side].values() for x in v) for side in sides}
    print(
        f"| **median of sheets** | {per['before']:.3f} | {per['after']:.3f}"
        f" | {per['after'] / per['before']:.2f}× |"
    )
    print(
        f"| **max (any run)** | {top['before']:.3f} | {top['after']:.3f}"
        f" | {top['after'] / top['before']:.2f}× |"
    )
    print(json.dumps({"rounds": rounds}))


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
