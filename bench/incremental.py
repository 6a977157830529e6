"""Nightly runs over a big unchanged tree: what the stat cache saves.

    python bench/incremental.py [--files 100000] [--rounds 3] [--json out.json]

Generates a tree of small files (100 per folder), starts an embedded PostgreSQL (left
running, as a cron host has it), then times, start to exit of the command as cron runs
it (`cadextract run TREE -r --format noop -q`):

- first run: every file hashed and queued, the no-op jobs worked off;
- nightly run with nothing changed (the target: <= 10 s for 100,000 files);
- nightly run with 100 files changed (a different 100 each round).

And first-run hashing against `sha256sum`: `cadextract submit -r --rehash --dry-run`
(walk, stat, hash every file, the enqueue rolled back) versus
`find TREE -type f -print0 | xargs -0 sha256sum`, the two alternating in each round.
Medians are reported.

`--baseline DIR` (another checkout, e.g. `git worktree add /tmp/base main`) also runs
that checkout's nightly run (nothing changed) and `--rehash --dry-run` in every round,
alternating which side goes first, against the same tree and database: a before/after
on one machine at one time.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cadextract import db  # noqa: E402
from cadextract.sources import decide  # noqa: E402


def make_tree(root: Path, n: int) -> list[Path]:
    paths = []
    for i in range(n):
        folder = root / f"d{i // 100:04d}"
        if i % 100 == 0:
            folder.mkdir(parents=True, exist_ok=True)
        p = folder / f"drawing-{i:06d}.dxf"
        p.write_bytes(f"0\nSECTION\n2\nHEADER\n999\nfile {i}\n".encode() * (1 + i % 8))
        paths.append(p)
    return paths


CPU: list[float] = []  # user + sys seconds of each timed command (the load-independent part)


def timed(cmd: list[str], env: dict[str, str], shell: bool = False, cwd: Path = REPO) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    r = subprocess.run(
        cmd if not shell else " ".join(cmd), env=env, cwd=cwd, shell=shell, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    print(f"  {elapsed:7.2f}s wall {CPU[-1]:6.2f}s cpu  {' '.join(cmd[2:4])}", flush=True)
    if r.returncode != 0:
        raise SystemExit(f"{cmd[:4]} failed ({r.returncode}): {r.stderr[-2000:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path)
    parser.add_argument(
        "--submit-only",
        action="store_true",
        help="time `submit` instead of `run` (the run's submit phase, without working the jobs off)",
    )
    parser.add_argument("--reuse", type=Path, help="a work folder of an earlier run (its tree is reused)")
    parser.add_argument(
        "--baseline",
        type=Path,
        help="another checkout whose nightly run and hashing alternate with this one's",
    )
    args = parser.parse_args()
    work = args.reuse or Path(tempfile.mkdtemp(prefix="cadextract-incr-"))
    work.chmod(0o755)
    tree, home = work / "tree", work / "home"
    home.mkdir(exist_ok=True)
    home.chmod(0o755)
    t = time.perf_counter()
    paths = sorted(tree.rglob("*.dxf"))[: args.files] if args.reuse else make_tree(tree, args.files)
    total = sum(p.stat().st_size for p in paths)
    print(
        f"tree: {args.files} files, {total / 1e6:.1f} MB, made in {time.perf_counter() - t:.1f}s", flush=True
    )
    time.sleep(decide.RACY_NS / 1e9 + 0.5)  # past the racy window: first-run rows are trusted
    url = db.embedded_url(home)
    db.connect(url, home)
    env = {**os.environ, "CADEXTRACT_DATABASE_URL": url, "CADEXTRACT_HOME": str(home)}
    py = [sys.executable, "-m", "cadextract"]
    run = [*py, "run", str(tree), "-r", "--format", "noop", "-q"]
    if args.submit_only:
        run = [*py, "submit", str(tree), "-r", "--format", "noop"]

    first = timed(run, env)
    print(f"first {run[3]} (hash + queue [+ work] {args.files} no-op jobs): {first:.1f}s", flush=True)
    unchanged: list[float] = []
    changed: list[float] = []
    base_unchanged: list[float] = []
    base_hash: list[float] = []
    cpu_unchanged: list[float] = []
    cpu_base_unchanged: list[float] = []
    cpu_hash: dict[str, list[float]] = {"cx": [], "sum": [], "base": []}
    for i in range(args.rounds):
        if args.baseline is None:
            unchanged.append(timed(run, env))
        else:  # alternate which checkout goes first
            for side in (REPO, args.baseline) if i % 2 == 0 else (args.baseline, REPO):
                print(f"  [{'this' if side == REPO else 'baseline'}]", flush=True)
                (unchanged if side == REPO else base_unchanged).append(timed(run, env, cwd=side))
                (cpu_unchanged if side == REPO else cpu_base_unchanged).append(CPU[-1])
        for p in paths[i * 1000 : i * 1000 + 100]:
            with p.open("ab") as fh:
                fh.write(b"999\nchanged\n")
        time.sleep(decide.RACY_NS / 1e9 + 0.5)
        changed.append(timed(run, env))
    hash_cx: list[float] = []
    hash_sum: list[float] = []
    for i in range(args.rounds):  # alternate which side goes first
        sides = [
            ("cx", [*py, "submit", str(tree), "-r", "--format", "noop", "--rehash", "--dry-run"]),
            (
                "sum",
                ["find", str(tree), "-type", "f", "-print0", "|", "xargs", "-0", "sha256sum", ">/dev/null"],
            ),
        ]
        if args.baseline is not None:
            sides.insert(1, ("base", sides[0][1]))
        for name, cmd in sides if i % 2 == 0 else reversed(sides):
            cwd = args.baseline if name == "base" and args.baseline else REPO
            times = {"cx": hash_cx, "sum": hash_sum, "base": base_hash}[name]
            print(f"  [{name}]", flush=True)
            times.append(timed(cmd, env, shell=name == "sum", cwd=cwd))
            cpu_hash[name].append(CPU[-1])
    result = {
        "files": args.files,
        "megabytes": round(total / 1e6, 1),
        "hash_cadextract_s": round(statistics.median(hash_cx), 2),
        "hash_sha256sum_s": round(statistics.median(hash_sum), 2),
        "hash_ratio": round(statistics.median(hash_cx) / statistics.median(hash_sum), 2),
        "command": run[3],
        "first_run_s": round(first, 1),
        "nightly_unchanged_s": round(statistics.median(unchanged), 2),
        "nightly_100_changed_s": round(statistics.median(changed), 2),
        "all_unchanged_s": [round(x, 2) for x in unchanged],
        "all_changed_s": [round(x, 2) for x in changed],
        "cpu_s_per_command": [round(x, 2) for x in CPU],
        **(
            {
                "baseline": str(args.baseline),
                "baseline_nightly_unchanged_s": round(statistics.median(base_unchanged), 2),
                "baseline_hash_s": round(statistics.median(base_hash), 2),
                "cpu_nightly_unchanged_s": round(statistics.median(cpu_unchanged), 2),
                "cpu_baseline_nightly_unchanged_s": round(statistics.median(cpu_base_unchanged), 2),
                "cpu_hash_s": {k: round(statistics.median(v), 2) for k, v in cpu_hash.items() if v},
                "all_baseline_unchanged_s": [round(x, 2) for x in base_unchanged],
                "all_baseline_hash_s": [round(x, 2) for x in base_hash],
            }
            if args.baseline
            else {}
        ),
        "load_average": os.getloadavg(),
    }
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    db.stop_embedded(home)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
