"""Extraction overhead of the queue: `cadextract run` versus a bare multiprocessing.Pool.

    python bench/overhead.py [--corpus ../shared/corpus] [--runs 3] [--json out.json]

Both sides extract every corpus file with concurrency 2 using the same extractor
functions. The pool is a plain multiprocessing.Pool(2).map over the files (imports
happen once per pool process, as in cadextract's children). `cadextract run` is timed
as a user would run it from cron, start to exit, on a fresh batch (--force) against an
embedded PostgreSQL that is already running. The two alternate which goes first, and
the pool's processes import only the extractors (not SQLAlchemy), so the pool is as
bare as it can be. `cadextract run` makes previews (the default) and the pool does not;
``--with-no-previews`` adds `cadextract run --no-previews` to the rotation. Each side's
CPU seconds (user + sys of its whole process tree, the forkserver and its children
included: this script adopts them as a subreaper) are printed too: the figure a loaded
machine changes least.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cadextract import files  # noqa: E402
from cadextract.extractors import base, registry  # noqa: E402


def _extract(item: tuple[str, str]) -> str:
    path, fmt = item
    try:
        registry.get(fmt).extract(Path(path), {}, base.no_progress)
        return "ok"
    except base.ExtractionError as exc:
        return exc.error_type


def become_subreaper() -> None:
    """Adopt orphaned descendants (the forkserver outlives `cadextract run` by a moment).

    Reaping them adds their CPU time, and their children's, to ours: without it the run
    side's CPU would be the supervisor's alone.
    """
    import ctypes

    pr_set_child_subreaper = 36
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_child_subreaper, 1)


def reap_orphans(timeout: float = 10.0) -> None:
    """Wait for the adopted processes to exit and reap them (multiprocessing's resource
    tracker, a child of this script for its whole life, is left alone)."""
    import psutil

    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(ChildProcessError):
            while os.waitpid(-1, os.WNOHANG)[0] != 0:
                pass
        alive = [c for c in psutil.Process().children() if not _is_tracker(c)]
        if not alive or time.monotonic() > deadline:
            return
        time.sleep(0.05)


def _is_tracker(proc: Any) -> bool:
    try:
        return "resource_tracker" in " ".join(proc.cmdline())
    except Exception:  # gone or a zombie: reaped on the next pass
        return False


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path)
    parser.add_argument(
        "--with-no-previews",
        action="store_true",
        help="also time `cadextract run --no-previews` in the rotation (the previews' own cost)",
    )
    args = parser.parse_args()
    cands = [c for c in files.collect([args.corpus], recursive=True) if c.skip_reason is None]
    items = [(str(c.path), c.format or "") for c in cands]
    from cadextract import db  # here, not at the top: the pool's children import this script

    home = Path(tempfile.mkdtemp(prefix="cadextract-overhead-"))
    home.chmod(0o755)
    url = db.embedded_url(home)
    db.connect(url, home)
    env = {**os.environ, "CADEXTRACT_DATABASE_URL": url, "CADEXTRACT_HOME": str(home)}

    become_subreaper()  # after the server started: its daemonized processes are not ours

    def children_cpu() -> float:
        reap_orphans()
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    def time_pool() -> list[str]:
        cpu = children_cpu()
        t = time.perf_counter()
        with multiprocessing.get_context("spawn").Pool(2) as pool:
            outcomes = pool.map(_extract, items, chunksize=1)
        pool_s.append(time.perf_counter() - t)
        cpu_s["pool"].append(children_cpu() - cpu)
        return outcomes

    def time_run(i: int, previews: bool = True) -> int:
        argv = [
            "run",
            str(args.corpus),
            "-r",
            "-c",
            "2",
            "--force",
            "--batch",
            f"overhead-{i}-{previews}",
            "-q",
        ]
        if not previews:
            argv.append("--no-previews")
        cpu = children_cpu()
        t = time.perf_counter()
        r = subprocess.run(
            [sys.executable, "-m", "cadextract", *argv, "--max-retries", "0"],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
        )
        (run_s if previews else bare_run_s).append(time.perf_counter() - t)
        # the cadextract tree (supervisor, forkserver, children, renderers), not PostgreSQL
        cpu_s["run" if previews else "bare"].append(children_cpu() - cpu)
        return r.returncode

    pool_s: list[float] = []
    run_s: list[float] = []
    bare_run_s: list[float] = []
    #: CPU seconds (user + sys) of each side's processes, per round: the load-independent part
    cpu_s: dict[str, list[float]] = {"pool": [], "run": [], "bare": []}
    outcomes: list[str] = []
    for i in range(args.runs):
        # rotate which side goes first: on a shared VM the second of two back-to-back
        # CPU-bound runs was often the slower one
        sides = ["pool", "run"] + (["bare"] if args.with_no_previews else [])
        shift = i % len(sides)
        codes = []
        for side in sides[shift:] + sides[:shift]:
            if side == "pool":
                outcomes = time_pool()
            else:
                codes.append(time_run(i, previews=side == "run"))
        extra = f"  --no-previews {bare_run_s[-1]:.2f}s" if args.with_no_previews else ""
        cpus = "  ".join(f"{side} {v[-1]:.1f}" for side, v in cpu_s.items() if v)
        print(
            f"run {i + 1}: pool {pool_s[-1]:.2f}s  cadextract run {run_s[-1]:.2f}s{extra} (exit {codes})"
            f"  cpu s: {cpus}",
            flush=True,
        )
    figures = {
        "files": len(items),
        "pool_ok": outcomes.count("ok"),
        "pool_s": pool_s,
        "run_s": run_s,
        "pool_median_s": statistics.median(pool_s),
        "run_median_s": statistics.median(run_s),
        "ratio": statistics.median(run_s) / statistics.median(pool_s),
        "cpu_s": {side: [round(x, 2) for x in v] for side, v in cpu_s.items() if v},
        "load_average": os.getloadavg(),
    }
    if bare_run_s:
        figures["no_previews_run_s"] = bare_run_s
        figures["no_previews_median_s"] = statistics.median(bare_run_s)
        figures["no_previews_ratio"] = statistics.median(bare_run_s) / statistics.median(pool_s)
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2))
    db.stop_embedded(home)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
