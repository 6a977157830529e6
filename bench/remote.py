"""No-op jobs on objects from a local S3 server versus the same files on local disk.

    python bench/remote.py [--objects 10000] [--rounds 3] [--concurrency 2] [--json out.json]

Starts moto's S3 server on localhost and an embedded PostgreSQL, writes N small files
to a local folder and the same bytes to a bucket. Each round queues all N as new no-op
jobs (`submit --force --format noop`) from one side, then times `cadextract work
--until-empty -c C` start to exit; the sides alternate which goes first. A remote job
does what any remote job does (a HEAD for the ETag check, one streamed GET into the
worker's fetch folder, sha256 on the way, delete); a local one hashes the file. Reports
medians: jobs/s each side, their ratio, the extra latency per remote job
((t_remote - t_local) x C / N), and the submit (listing vs walk) times.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cadextract import db  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    r = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if r.returncode != 0:
        raise SystemExit(f"{cmd[2:5]} failed ({r.returncode}): {r.stderr[-2000:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--objects", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cadextract-remote-"))
    work.chmod(0o755)
    tree, home = work / "tree", work / "home"
    home.mkdir()
    home.chmod(0o755)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        return run(args, work, tree, home, port)
    finally:
        server.terminate()
        server.wait(10)
        db.stop_embedded(home)


def run(args: argparse.Namespace, work: Path, tree: Path, home: Path, port: int) -> int:
    aws = {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
    }
    os.environ.update(aws)
    import boto3

    time.sleep(2)
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="bench")
    bodies = {
        f"d{i // 100:03d}/obj-{i:05d}.dxf": f"0\nSECTION\n999\nobject {i}\n".encode()
        for i in range(args.objects)
    }
    for key, body in bodies.items():
        p = tree / key
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(body)
    t = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda kv: s3.put_object(Bucket="bench", Key=kv[0], Body=kv[1]), bodies.items()))
    print(f"uploaded {args.objects} objects in {time.perf_counter() - t:.1f}s", flush=True)
    url = db.embedded_url(home)
    db.connect(url, home)
    env = {**os.environ, "CADEXTRACT_DATABASE_URL": url, "CADEXTRACT_HOME": str(home)}
    py = [sys.executable, "-m", "cadextract"]
    sources = {"local": str(tree), "remote": "s3://bench/"}
    work_s: dict[str, list[float]] = {"local": [], "remote": []}
    submit_s: dict[str, list[float]] = {"local": [], "remote": []}
    for i in range(args.rounds):
        order = ["local", "remote"] if i % 2 == 0 else ["remote", "local"]
        for side in order:
            submit = [
                *py,
                "submit",
                sources[side],
                "-r",
                "--format",
                "noop",
                "--force",
                "--batch",
                f"{side}-{i}",
                "--json",
            ]
            submit_s[side].append(timed(submit, env))
            work_s[side].append(timed([*py, "work", "--until-empty", "-q", "-c", str(args.concurrency)], env))
            print(
                f"round {i} {side}: submit {submit_s[side][-1]:.1f}s, work {work_s[side][-1]:.1f}s",
                flush=True,
            )
    import sqlalchemy as sa

    with db.connect(url, home).connect() as conn:  # a figure of failed jobs would be no figure
        states = dict(
            conn.execute(sa.text("SELECT status, count(*) FROM cadextract.extraction_jobs GROUP BY 1")).all()
        )
    if set(states) != {"completed"}:
        raise SystemExit(f"not every job completed: {states}")
    local, remote = statistics.median(work_s["local"]), statistics.median(work_s["remote"])
    result = {
        "objects": args.objects,
        "concurrency": args.concurrency,
        "local_work_s": round(local, 2),
        "remote_work_s": round(remote, 2),
        "local_jobs_per_s": round(args.objects / local, 1),
        "remote_jobs_per_s": round(args.objects / remote, 1),
        "remote_over_local_throughput": round(local / remote, 3),
        "extra_ms_per_remote_job": round((remote - local) * args.concurrency / args.objects * 1000, 2),
        "local_submit_s": round(statistics.median(submit_s["local"]), 2),
        "remote_submit_s": round(statistics.median(submit_s["remote"]), 2),
        "all": {"work": work_s, "submit": submit_s},
    }
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
