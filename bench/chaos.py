"""Chaos run: workers, children and the database are killed at random while jobs run.

    python bench/chaos.py [--jobs 2000] [--workers 4] [--concurrency 2] [--duration 180]

Starts its own embedded PostgreSQL (or uses --database-url), submits small jobs that
each sleep a little (the test-sleep extractor: a real child process per job), runs N
`cadextract work` supervisors, and for --duration seconds randomly
  * kills a supervisor with SIGKILL (and starts a new one),
  * kills a child process with SIGKILL,
  * stops PostgreSQL (fast or immediate shutdown) and starts it again a few seconds later.
Then it lets the workers drain the queue and prints, from the database:

    lost=0 duplicated=0 stuck=0

lost: files submitted with no job row; duplicated: jobs whose result was written more
than once (an audit trigger counts every insert into the results table); stuck: jobs
not completed, failed or cancelled once the queue has drained. It also checks that the
job counts kept by triggers (what `status` and `watch` show) equal a real count.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import sqlalchemy as sa

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cadextract import db  # noqa: E402
from cadextract.store import readmodels  # noqa: E402

AUDIT = """
CREATE TABLE IF NOT EXISTS public.chaos_result_writes (job_id uuid NOT NULL, at timestamptz DEFAULT now());
CREATE OR REPLACE FUNCTION public.chaos_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO public.chaos_result_writes (job_id) VALUES (NEW.job_id); RETURN NEW; END $$;
DROP TRIGGER IF EXISTS chaos_audit ON cadextract.extraction_results;
CREATE TRIGGER chaos_audit AFTER INSERT ON cadextract.extraction_results
    FOR EACH ROW EXECUTE FUNCTION public.chaos_audit();
"""


def log(msg: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {msg}", flush=True)


class Chaos:
    def __init__(self, args: argparse.Namespace, home: Path, url: str | None) -> None:
        self.args = args
        self.home = home
        self.url = url
        self.env = {
            **os.environ,
            "CADEXTRACT_HOME": str(home),
            "CADEXTRACT_LEASE_SECONDS": "6",
            "CADEXTRACT_HEARTBEAT_SECONDS": "1",
            "CADEXTRACT_POLL_SECONDS": "1",
            "CADEXTRACT_BACKOFF_BASE": "0.5",
            "CADEXTRACT_BACKOFF_CAP": "5",
            "CADEXTRACT_GRACE_SECONDS": "5",
        }
        if url:
            self.env["CADEXTRACT_DATABASE_URL"] = url
        self.workers: list[subprocess.Popen[bytes]] = []
        self.logs = home / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.counter = 0
        self.actions: dict[str, int] = {"kill_supervisor": 0, "kill_child": 0, "restart_db": 0}

    def cli(self, *argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cadextract", *argv],
            env=self.env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=600,
        )

    def start_worker(self) -> None:
        self.counter += 1
        out = open(self.logs / f"worker-{self.counter}.log", "wb")  # noqa: SIM115 - lives with the process
        proc = subprocess.Popen(
            [sys.executable, "-m", "cadextract", "work", "-c", str(self.args.concurrency)],
            env=self.env,
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        self.workers.append(proc)

    def alive(self) -> list[subprocess.Popen[bytes]]:
        self.workers = [w for w in self.workers if w.poll() is None]
        return self.workers

    def children(self) -> list[psutil.Process]:
        kids = []
        for w in self.alive():
            try:
                for c in psutil.Process(w.pid).children():
                    if "resource_tracker" not in " ".join(c.cmdline()):
                        kids.append(c)
            except psutil.Error:
                pass
        return kids

    def stop_db(self) -> None:
        from pgserver._commands import pg_ctl

        mode = random.choice(["fast", "immediate"])
        user = "pgserver" if os.geteuid() == 0 else None
        try:
            pg_ctl(["-w", "-m", mode, "stop"], pgdata=db.pgdata_dir(self.home), user=user)
            log(f"database stopped ({mode})")
        except subprocess.CalledProcessError:
            log("database was already stopped")

    def start_db(self) -> None:
        db.embedded_url(self.home)
        log("database started")

    def step(self) -> None:
        action = random.choices(["kill_supervisor", "kill_child", "restart_db"], weights=[3, 5, 1])[0]
        if action == "kill_supervisor" and self.alive():
            victim = random.choice(self.workers)
            victim.send_signal(signal.SIGKILL)
            victim.wait()
            log(f"SIGKILL supervisor {victim.pid}")
        elif action == "kill_child":
            kids = self.children()
            if not kids:
                return
            victim_child = random.choice(kids)
            try:
                victim_child.kill()
                log(f"SIGKILL child {victim_child.pid}")
            except psutil.Error:
                return
        elif action == "restart_db":
            self.stop_db()
            time.sleep(random.uniform(1, 5))
            self.start_db()
        else:
            return
        self.actions[action] += 1
        while len(self.alive()) < self.args.workers:
            self.start_worker()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--duration", type=float, default=180.0, help="seconds of chaos")
    parser.add_argument("--job-seconds", type=float, default=0.4, help="how long each job works")
    parser.add_argument("--drain-timeout", type=float, default=600.0)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    if args.seed is not None:
        random.seed(args.seed)

    home = Path(tempfile.mkdtemp(prefix="cadextract-chaos-"))
    home.chmod(0o755)
    url = db.embedded_url(home)  # the chaos loop restarts this server; workers get its URL
    engine = db.connect(url, home)
    with engine.begin() as conn:
        for stmt in AUDIT.split(";\n"):
            if stmt.strip():
                conn.execute(sa.text(stmt))
    chaos = Chaos(args, home, url)
    files = home / "files"
    files.mkdir()
    for i in range(args.jobs):
        (files / f"job-{i:05d}.bin").write_text(f"chaos job {i} {random.random()}")
    r = chaos.cli(
        "submit",
        str(files),
        "-r",
        "--format",
        "test-sleep",
        "--max-retries",
        "50",
        "--option",
        f"seconds={args.job_seconds}",
        "--json",
    )
    if r.returncode != 0:
        print(r.stderr)
        return 2
    submitted = [row for row in json.loads(r.stdout) if row["queued"]]
    log(f"submitted {len(submitted)} jobs; starting {args.workers} workers x {args.concurrency}")
    for _ in range(args.workers):
        chaos.start_worker()

    end = time.monotonic() + args.duration
    while time.monotonic() < end:
        time.sleep(random.uniform(1.0, 4.0))
        chaos.step()
    log(f"chaos over: {chaos.actions}; draining")
    while len(chaos.alive()) < args.workers:
        chaos.start_worker()
    deadline = time.monotonic() + args.drain_timeout
    counts: dict[str, int] = {}
    while time.monotonic() < deadline:
        try:
            with engine.connect() as conn:
                rows = conn.execute(
                    sa.text("SELECT status, count(*) FROM cadextract.extraction_jobs GROUP BY status")
                ).all()
            counts = {s: n for s, n in rows}
        except sa.exc.OperationalError:
            engine.dispose()
            time.sleep(1)
            continue
        if counts.get("pending", 0) + counts.get("processing", 0) == 0:
            break
        time.sleep(2)
    for w in chaos.alive():
        w.send_signal(signal.SIGTERM)
    for w in chaos.workers:
        w.wait(60)

    with engine.connect() as conn:
        ids = {str(r.id) for r in conn.execute(sa.text("SELECT id FROM cadextract.extraction_jobs"))}
        lost = sum(1 for row in submitted if row["job_id"] not in ids)
        duplicated = conn.execute(
            sa.text(
                "SELECT count(*) FROM (SELECT job_id FROM public.chaos_result_writes GROUP BY job_id "
                "HAVING count(*) > 1) d"
            )
        ).scalar_one()
        stuck = conn.execute(
            sa.text(
                "SELECT count(*) FROM cadextract.extraction_jobs WHERE status IN ('pending', 'processing')"
            )
        ).scalar_one()
        final = dict(
            conn.execute(
                sa.text("SELECT status, count(*) FROM cadextract.extraction_jobs GROUP BY status")
            ).all()
        )
        results = conn.execute(sa.text("SELECT count(*) FROM cadextract.extraction_results")).scalar_one()
        completed_without_result = conn.execute(
            sa.text(
                "SELECT count(*) FROM cadextract.extraction_jobs j WHERE status = 'completed' AND NOT EXISTS "
                "(SELECT 1 FROM cadextract.extraction_results r WHERE r.job_id = j.id)"
            )
        ).scalar_one()
        errors = dict(
            conn.execute(
                sa.text(
                    "SELECT e->>'type', count(*) "
                    "FROM cadextract.extraction_jobs, jsonb_array_elements(errors) e GROUP BY 1"
                )
            ).all()
        )
        attempts = conn.execute(
            sa.text("SELECT max(attempts), sum(attempts) FROM cadextract.extraction_jobs")
        ).one()
        # the counts the triggers keep (status, watch) against a real count, after
        # workers killed mid-statement and the database stopped mid-transaction
        kept = {k: v for k, v in readmodels.summary(conn).by_status.items() if v}
        counts_match = kept == final
    figures = {
        "lost": lost,
        "duplicated": duplicated,
        "stuck": stuck,
        "final_states": final,
        "results": results,
        "completed_without_result": completed_without_result,
        "kept_counts": kept,
        "kept_counts_match": counts_match,
        "actions": chaos.actions,
        "errors_recorded": errors,
        "max_attempts_used": attempts[0],
        "total_attempts": attempts[1],
        "jobs": len(submitted),
        "workers": args.workers,
        "concurrency": args.concurrency,
        "duration_s": args.duration,
    }
    print(json.dumps(figures, indent=2, default=str))
    print(f"lost={lost} duplicated={duplicated} stuck={stuck} counts_match={counts_match}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=str))
    db.stop_embedded(home)
    shutil.rmtree(home, ignore_errors=True)
    return 0 if lost == duplicated == stuck == completed_without_result == 0 and counts_match else 1


if __name__ == "__main__":
    raise SystemExit(main())
