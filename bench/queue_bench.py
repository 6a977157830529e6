"""Queue benchmarks: throughput against pgqueuer and procrastinate, pickup latency,
submit speed, million-job tables and supervisor memory.

    python bench/queue_bench.py [--database-url URL] [--runs 3] [--only throughput,latency,...]
                          [--json bench/results/queue.json]

Every benchmark uses one PostgreSQL: the embedded one started in a temporary
CADEXTRACT_HOME, or --database-url. Medians of --runs runs are printed as tables.
Needs the bench extra for the comparison queues: pip install -e '.[bench]'.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil
import sqlalchemy as sa

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cadextract import db, files, ops  # noqa: E402
from cadextract.store import commands, readmodels  # noqa: E402

JOBS = "cadextract.extraction_jobs"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.home = Path(tempfile.mkdtemp(prefix="cadextract-bench-"))
        self.home.chmod(0o755)
        self.url = db.normalise_url(args.database_url) if args.database_url else db.embedded_url(self.home)
        self.engine = db.connect(self.url, self.home)
        self.env = {**os.environ, "CADEXTRACT_DATABASE_URL": self.url, "CADEXTRACT_HOME": str(self.home)}
        self.work = self.home / "files"
        self.results: dict[str, Any] = {}

    # -- helpers ----------------------------------------------------------------------

    def files(self, n: int, tag: str) -> list[Path]:
        folder = self.work / tag
        folder.mkdir(parents=True, exist_ok=True)
        out = []
        for i in range(n):
            p = folder / f"{i:07d}.bin"
            if not p.exists():
                p.write_text(f"{tag} {i}")
            out.append(p)
        return out

    def reset(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.text(f"TRUNCATE {JOBS} CASCADE"))

    def enqueue(self, paths: list[Path], fmt: str = "noop") -> None:
        cands = files.collect(paths, recursive=False, forced_format=fmt)
        digests = files.hash_all(cands)
        jobs = [
            commands.NewJob(path=str(c.path), size=c.size, sha256=digests[c.path], format=fmt) for c in cands
        ]
        with self.engine.begin() as conn:
            commands.enqueue(conn, jobs)

    def checkpoint(self) -> None:
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text(f"VACUUM ANALYZE {JOBS}"))
            conn.execute(sa.text("CHECKPOINT"))

    def cli(self, *argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cadextract", *argv],
            env=self.env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=3600,
        )

    # -- throughput -------------------------------------------------------------------

    def cadextract_run(self, n: int, prefetch: str) -> dict[str, float]:
        self.reset()
        self.enqueue(self.files(n, "tp"))
        self.checkpoint()
        t0 = time.perf_counter()
        r = self.cli("work", "-c", "2", "--until-empty", *_prefetch_args(prefetch), "-q")
        wall = time.perf_counter() - t0
        assert r.returncode == 0, r.stderr
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.text(
                    f"SELECT count(*) FILTER (WHERE status = 'completed') AS done, "
                    f"EXTRACT(EPOCH FROM max(completed_at) - min(started_at)) AS span FROM {JOBS}"
                )
            ).one()
        assert row.done == n, row
        return {"jobs_per_s": n / float(row.span), "wall_jobs_per_s": n / wall}

    def throughput(self) -> None:
        n, runs = self.args.jobs, self.args.runs
        table: dict[str, list[float]] = {}
        others = (
            ("pgqueuer (asyncpg) 2 procs x batch 10", run_pgqueuer),
            ("procrastinate 2 procs x concurrency 10", run_procrastinate),
        )
        missing: set[str] = set()
        # rounds, each running every system once: this VM's speed drifts by a quarter
        # over minutes, and all runs of one system back to back would measure the drift
        for _ in range(runs):
            for prefetch in self.args.prefetch:
                key = "cadextract -c 2" + (f" --prefetch {prefetch}" if prefetch != "auto" else " (default)")
                figures = self.cadextract_run(n, prefetch)
                table.setdefault(key, []).append(figures["jobs_per_s"])
                table.setdefault(key + " (incl. start-up)", []).append(figures["wall_jobs_per_s"])
                log(f"{key}: {figures}")
            for name, fn in others:
                if name in missing:
                    continue
                try:
                    rate = fn(self.url, n)
                except ImportError as exc:
                    log(f"{name}: skipped ({exc}); pip install -e '.[bench]'")
                    missing.add(name)
                    continue
                table.setdefault(name, []).append(rate)
                log(f"{name}: {rate:.0f} jobs/s")
        self.results["throughput"] = {
            k: {"runs": v, "median": statistics.median(v)} for k, v in table.items()
        }

    # -- pickup latency ---------------------------------------------------------------

    def latency(self) -> None:
        self.reset()
        paths = self.files(self.args.latency_samples, "lat")
        worker = subprocess.Popen(
            [sys.executable, "-m", "cadextract", "work", "-c", "1", "-q"],
            env={**self.env, "CADEXTRACT_POLL_SECONDS": "5"},
            cwd=REPO,
        )
        try:
            time.sleep(3)  # idle and listening
            for p in paths:
                self.enqueue([p])
                time.sleep(0.05)
            deadline = time.time() + 60
            while time.time() < deadline:
                with self.engine.connect() as conn:
                    left = conn.execute(
                        sa.text(f"SELECT count(*) FROM {JOBS} WHERE status <> 'completed'")
                    ).scalar_one()
                if left == 0:
                    break
                time.sleep(0.2)
        finally:
            worker.terminate()
            worker.wait(30)
        with self.engine.connect() as conn:
            ms = [
                float(r[0]) * 1000
                for r in conn.execute(
                    sa.text(
                        f"SELECT EXTRACT(EPOCH FROM started_at - created_at) FROM {JOBS} "
                        "WHERE started_at IS NOT NULL"
                    )
                )
            ]
        ms.sort()
        self.results["latency_ms"] = {
            "samples": len(ms),
            "median": statistics.median(ms),
            "p99": ms[min(len(ms) - 1, int(len(ms) * 0.99))],
            "max": ms[-1],
        }
        log(f"latency: {self.results['latency_ms']}")

    # -- submit -------------------------------------------------------------------------

    def submit(self) -> None:
        n = self.args.jobs
        self.files(n, "submit")
        rates, db_parts, raw_parts, cli_rates = [], [], [], []
        for _ in range(self.args.runs):
            self.reset()
            t0 = time.perf_counter()
            cands = files.collect([self.work / "submit"], recursive=True, forced_format="noop")
            digests = files.hash_all(cands)
            jobs = [
                commands.NewJob(path=str(c.path), size=c.size, sha256=digests[c.path], format="noop")
                for c in cands
            ]
            t1 = time.perf_counter()
            with self.engine.begin() as conn:
                commands.enqueue(conn, jobs)
            t2 = time.perf_counter()
            rates.append(n / (t2 - t0))
            db_parts.append(t2 - t1)
            # the same rows with a raw COPY, for the database part's yardstick
            self.reset()
            t3 = time.perf_counter()
            with self.engine.begin() as conn:
                raw = conn.connection.driver_connection
                assert raw is not None
                with (
                    raw.cursor() as cur,
                    cur.copy(
                        f"COPY {JOBS} (path, size, sha256, format, priority, max_attempts, options) "
                        "FROM STDIN"
                    ) as copy,
                ):
                    for j in jobs:
                        copy.write_row((j.path, j.size, j.sha256, j.format, 0, 4, "{}"))
            raw_parts.append(time.perf_counter() - t3)
            self.reset()
            t4 = time.perf_counter()
            r = self.cli("submit", str(self.work / "submit"), "-r", "--format", "noop", "--json")
            assert r.returncode == 0, r.stderr
            cli_rates.append(n / (time.perf_counter() - t4))
        big = self.work / "big.bin"
        with big.open("wb") as fh:
            for _ in range(256):
                fh.write(os.urandom(1 << 20))
        t = time.perf_counter()
        files.sha256_file(big)
        hash_mb_s = 256 / (time.perf_counter() - t)
        self.results["submit"] = {
            "files": n,
            "files_per_s_core": statistics.median(rates),
            "files_per_s_cli_incl_startup": statistics.median(cli_rates),
            "insert_s": statistics.median(db_parts),
            "raw_copy_s": statistics.median(raw_parts),
            "insert_vs_copy": statistics.median(db_parts) / statistics.median(raw_parts),
            "hash_256MB_file_MB_s": hash_mb_s,
        }
        log(f"submit: {self.results['submit']}")

    # -- million-job tables -----------------------------------------------------------

    def bigtable(self) -> None:
        rows = self.args.big_rows
        self.reset()
        empty = [self.cadextract_run(self.args.jobs, self.args.prefetch[-1])["jobs_per_s"] for _ in range(1)]
        self.reset()
        t = time.perf_counter()
        with self.engine.begin() as conn:
            conn.execute(
                sa.text(f"""
                INSERT INTO {JOBS} (path, size, sha256, format, status, attempts, started_at, completed_at,
                                    updated_at, created_at, last_error_type, last_error_message, batch)
                SELECT '/data/old/' || g || '.dxf', 1000, md5(g::text) || md5((g + 1)::text), 'dxf',
                       CASE WHEN g % 50 = 0 THEN 'failed' ELSE 'completed' END, 1,
                       now() - interval '40 days', now() - interval '40 days', now() - interval '40 days',
                       now() - interval '40 days',
                       CASE WHEN g % 50 = 0 THEN 'CorruptFile' END, CASE WHEN g % 50 = 0 THEN 'bad' END,
                       'old-' || (g / 10000)
                FROM generate_series(1, :n) g"""),
                {"n": rows},
            )
        fill_s = time.perf_counter() - t
        self.checkpoint()
        full = [self.cadextract_run_keep(self.args.jobs, self.args.prefetch[-1])]
        timings: dict[str, float] = {}
        with self.engine.connect() as conn:
            some = str(
                conn.execute(
                    sa.text(f"SELECT id FROM {JOBS} OFFSET :o LIMIT 1"), {"o": rows // 2}
                ).scalar_one()
            )
            checks = {
                "status (summary)": lambda: readmodels.summary(conn),
                "jobs --status failed --limit 50": lambda: readmodels.list_jobs(
                    conn, readmodels.JobFilter(statuses=["failed"]), limit=50
                ),
                "watch refresh (all its queries)": lambda: (
                    readmodels.dashboard(conn, batch=readmodels.newest_batch(conn)),
                    readmodels.activity(conn, batch=readmodels.newest_batch(conn), window_for=ops.eta_window),
                ),
                "status <8-char id prefix>": lambda: readmodels.resolve(conn, some[:8]),
            }
            for name, fn in checks.items():
                fn()  # warm the cache, as a dashboard refreshing every second would
                samples = []
                for _ in range(5):
                    t = time.perf_counter()
                    fn()
                    samples.append((time.perf_counter() - t) * 1000)
                timings[name] = statistics.median(samples)
        t = time.perf_counter()
        removed = 0
        longest = 0.0
        while True:
            t_batch = time.perf_counter()
            with self.engine.begin() as conn:
                n = commands.purge(conn, older_than_seconds=30 * 86400)
            longest = max(longest, time.perf_counter() - t_batch)
            removed += n
            if n == 0:
                break
        purge_s = time.perf_counter() - t
        self.results["bigtable"] = {
            "finished_rows": rows,
            "fill_s": fill_s,
            "claim_jobs_per_s_empty": empty[0],
            "claim_jobs_per_s_with_rows": full[0],
            "ratio": full[0] / empty[0],
            "query_ms": timings,
            "purge_rows": removed,
            "purge_rows_per_s": removed / purge_s,
            "purge_longest_batch_s": longest,
        }
        log(f"bigtable: {self.results['bigtable']}")

    def cadextract_run_keep(self, n: int, prefetch: str) -> float:
        """Like cadextract_run, but without emptying the table first."""
        self.enqueue(self.files(n, "tp"))
        self.checkpoint()
        r = self.cli("work", "-c", "2", "--until-empty", *_prefetch_args(prefetch), "-q")
        assert r.returncode == 0, r.stderr
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.text(
                    "SELECT count(*) AS done, "
                    "EXTRACT(EPOCH FROM max(completed_at) - min(started_at)) AS span "
                    f"FROM {JOBS} WHERE path LIKE :p AND status = 'completed'"
                ),
                {"p": str(self.work / "tp") + "/%"},
            ).one()
        assert row.done == n, row
        return n / float(row.span)

    # -- memory -----------------------------------------------------------------------

    def memory(self) -> None:
        n = self.args.memory_jobs
        self.reset()
        self.enqueue(self.files(n, "mem"))
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cadextract",
                "work",
                "-c",
                "2",
                "--until-empty",
                *_prefetch_args(self.args.prefetch[-1]),
                "-q",
            ],
            env=self.env,
            cwd=REPO,
        )
        ps = psutil.Process(proc.pid)
        samples: list[tuple[int, float]] = []
        child_max = 0.0
        while proc.poll() is None:
            try:
                rss = ps.memory_info().rss / 2**20
                for c in ps.children(recursive=True):
                    child_max = max(child_max, c.memory_info().rss / 2**20)
            except psutil.Error:
                break
            with self.engine.connect() as conn:
                done = conn.execute(
                    sa.text(f"SELECT count(*) FROM {JOBS} WHERE status = 'completed'")
                ).scalar_one()
            samples.append((done, rss))
            time.sleep(1)
        proc.wait()
        warm = [rss for done, rss in samples if done >= n * 0.1]
        self.results["memory"] = {
            "jobs": n,
            "supervisor_rss_mb_at_10pct": warm[0] if warm else None,
            "supervisor_rss_mb_end": warm[-1] if warm else None,
            "supervisor_rss_mb_max": max(warm) if warm else None,
            "child_rss_mb_max": child_max,
            "drift": (warm[-1] / warm[0] - 1) if warm else None,
        }
        log(f"memory: {self.results['memory']}")


# -- the other queues, same PostgreSQL ---------------------------------------------


def _prefetch_args(prefetch: str) -> list[str]:
    return [] if prefetch == "auto" else ["--prefetch", str(int(prefetch))]


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def run_pgqueuer(url: str, n: int) -> float:
    import asyncpg
    import pgqueuer  # noqa: F401

    async def setup() -> None:
        from pgqueuer.db import AsyncpgDriver
        from pgqueuer.queries import Queries

        conn = await asyncpg.connect(_asyncpg_dsn(url))
        q = Queries(AsyncpgDriver(conn))
        with contextlib.suppress(Exception):  # already installed
            await q.install()
        await conn.execute("TRUNCATE pgqueuer, pgqueuer_log")
        await q.enqueue(["noop"] * n, [None] * n, [0] * n)
        await conn.execute("VACUUM ANALYZE pgqueuer")
        await conn.close()

    asyncio.run(setup())
    return _timed_processes(_pgqueuer_worker, url, "pgqueuer", n)


def _pgqueuer_worker(url: str, barrier: Any) -> None:
    async def main() -> None:
        import asyncpg
        from pgqueuer import PgQueuer
        from pgqueuer.db import AsyncpgDriver
        from pgqueuer.types import QueueExecutionMode

        conn = await asyncpg.connect(_asyncpg_dsn(url))
        pgq = PgQueuer(AsyncpgDriver(conn))

        @pgq.entrypoint("noop")
        async def noop(job: Any) -> None:
            return None

        barrier.wait()
        await pgq.run(batch_size=10, mode=QueueExecutionMode.drain)
        await conn.close()

    asyncio.run(main())


def run_procrastinate(url: str, n: int) -> float:
    import procrastinate

    async def setup() -> None:
        app = _procrastinate_app(url)
        async with app.open_async():
            with contextlib.suppress(Exception):  # already there
                await app.schema_manager.apply_schema_async()
            await app.job_manager.connector.execute_query_async(
                "TRUNCATE procrastinate_jobs, procrastinate_events CASCADE"
            )
            await app.tasks["noop"].batch_defer_async(*[{} for _ in range(n)])

    assert procrastinate
    asyncio.run(setup())
    return _timed_processes(_procrastinate_worker, url, "procrastinate", n)


def _procrastinate_app(url: str) -> Any:
    from procrastinate import App, PsycopgConnector

    app = App(connector=PsycopgConnector(conninfo=_asyncpg_dsn(url), min_size=12, max_size=12))

    @app.task(name="noop")
    async def noop() -> None:
        return None

    return app


def _procrastinate_worker(url: str, barrier: Any) -> None:
    async def main() -> None:
        app = _procrastinate_app(url)
        async with app.open_async():
            barrier.wait()
            await app.run_worker_async(concurrency=10, wait=False, install_signal_handlers=False)

    asyncio.run(main())


def _timed_processes(target: Any, url: str, system: str, n: int) -> float:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(3)
    procs = [ctx.Process(target=target, args=(url, barrier)) for _ in range(2)]
    for p in procs:
        p.start()
    barrier.wait()
    t = time.perf_counter()
    for p in procs:
        p.join()
    elapsed = time.perf_counter() - t
    done = _count_done(url, system)
    # a drained run ends with every job done; anything else is a broken measurement
    assert done == n, f"{system}: {done} of {n} jobs done"
    return done / elapsed


# what each system's drained run left behind; counted per system, since both systems'
# tables stay in the database between runs
DONE_QUERIES = {
    "pgqueuer": "SELECT count(*) FROM pgqueuer_log WHERE status = 'successful'",
    "procrastinate": "SELECT count(*) FROM procrastinate_jobs WHERE status = 'succeeded'",
}


def _count_done(url: str, system: str) -> int:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        done = conn.execute(sa.text(DONE_QUERIES[system])).scalar()
    engine.dispose()
    return int(done or 0)


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            "?",
        ),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument(
        "--prefetch",
        nargs="+",
        default=["auto"],
        help="work --prefetch values to run; auto = the default (no flag). The last is used by "
        "bigtable and memory.",
    )
    parser.add_argument("--latency-samples", type=int, default=200)
    parser.add_argument("--big-rows", type=int, default=1_000_000)
    parser.add_argument("--memory-jobs", type=int, default=100_000)
    parser.add_argument("--only", default="throughput,latency,submit,bigtable,memory")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    bench = Bench(args)
    bench.results["machine"] = machine()
    with bench.engine.connect() as conn:
        bench.results["machine"]["postgresql"] = conn.execute(sa.text("SHOW server_version")).scalar()
    for name in args.only.split(","):
        getattr(bench, name.strip())()
    print(json.dumps(bench.results, indent=2, default=str))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(bench.results, indent=2, default=str))
    if not args.database_url:
        db.stop_embedded(bench.home)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
