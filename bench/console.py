"""Server time of the web console's pages with a million jobs in the table.

    python bench/console.py [--jobs 1000000] [--rounds 20] [--json out.json]

Starts an embedded PostgreSQL in a temporary directory, inserts the jobs in one
statement (90 % completed over 30 days, 4 % failed, 3 % pending, 2 % cancelled, 24
processing on 3 workers, 2,000 batches, four formats), runs ANALYZE, then times each
request through the ASGI app in-process (httpx, no network): the dashboard fragment
the page polls every 2 s, the summary API, and the jobs page under each filter, on
its first page and deep in the table (a cursor in the middle). Rounds alternate the
requests; medians and p95 are reported. Targets: dashboard <= 50 ms, jobs <= 100 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import sqlalchemy as sa  # noqa: E402

from cadextract import db  # noqa: E402
from cadextract.store import protocol, readmodels  # noqa: E402

SEED = """
INSERT INTO cadextract.extraction_jobs
    (path, size, sha256, format, status, attempts, created_at, updated_at, completed_at,
     started_at, worker_id, lease_token, lease_expires_at, batch, last_error_type, last_error_message)
SELECT '/data/drawings/' || (i % 2000) || '/part-' || lpad(i::text, 7, '0') || '.' || fmt,
       1000 + i % 100000, md5(i::text) || md5((i + 1)::text), fmt, st,
       CASE WHEN st = 'pending' THEN 0 ELSE 1 END,
       created, created + interval '3 seconds', CASE WHEN st IN ('completed', 'failed', 'cancelled')
       THEN created + interval '3 seconds' END,
       CASE WHEN st <> 'pending' THEN created + interval '1 second' END,
       CASE WHEN st = 'processing' THEN 'host' || (i % 3) || ':' || (1000 + i % 3) END,
       CASE WHEN st = 'processing' THEN gen_random_uuid() END,
       CASE WHEN st = 'processing' THEN now() + interval '60 seconds' END,
       'batch-' || lpad((i / 500)::text, 5, '0'),
       CASE WHEN st = 'failed' THEN 'CorruptFile' END,
       CASE WHEN st = 'failed' THEN 'the file is damaged' END
FROM (
    SELECT i, (ARRAY['pdf', 'dxf', 'ifc', 'step'])[1 + i % 4] AS fmt,
           CASE WHEN i > :n - 24 THEN 'processing'
                WHEN i > :n - 24 - :n * 3 / 100 THEN 'pending'
                WHEN i % 25 = 7 THEN 'failed'
                WHEN i % 50 = 11 THEN 'cancelled'
                ELSE 'completed' END AS st,
           now() - make_interval(secs => (:n - i) * (30 * 86400.0 / :n)) AS created
    FROM generate_series(1, :n) AS i
) s
"""


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="cadextract-console-bench-"))
    home.chmod(0o755)
    url = db.embedded_url(home)
    engine = db.connect(url, home, pool_size=4)
    t = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(sa.text(SEED), {"n": args.jobs})
    with engine.begin() as conn:
        protocol.compact_counts(conn)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE cadextract.extraction_jobs"))
    print(
        f"seeded {args.jobs} jobs in {time.perf_counter() - t:.1f}s; load average {os.getloadavg()}",
        flush=True,
    )

    from fastapi.testclient import TestClient

    from cadextract.web import reads
    from cadextract.web.app import create_app
    from cadextract.web.security import WebConfig

    client = TestClient(create_app(engine, WebConfig()), base_url="http://127.0.0.1")
    with engine.connect() as conn:
        middle = conn.execute(
            sa.text(
                "SELECT * FROM cadextract.extraction_jobs ORDER BY created_at DESC, id DESC OFFSET :k LIMIT 1"
            ),
            {"k": args.jobs // 2},
        ).one()
    deep = reads.encode_cursor(readmodels.Job.from_row(middle))
    requests = {
        "dashboard fragment": "/fragments/dashboard",
        "summary API": "/api/summary",
        "jobs, no filter, first page": "/jobs",
        "jobs, no filter, middle page": f"/jobs?cursor={deep}",
        "jobs, status=failed, first": "/jobs?status=failed",
        "jobs, status=failed, middle": f"/jobs?status=failed&cursor={deep}",
        "jobs, format=step, middle": f"/jobs?format=step&cursor={deep}",
        "jobs, batch, first": "/jobs?batch=batch-01000",
        "jobs, since=2d": "/jobs?since=2d",
        "jobs, status+format+since": "/jobs?status=completed&format=dxf&since=7d",
        "jobs, path glob (common)": "/jobs?path=*.dxf",
        "jobs, path glob (one file)": "/jobs?path=part-0500000.pdf",
        "jobs API, status=pending": "/api/jobs?status=pending",
        "batches page": "/batches",
        "search box (full-text index)": "/search?q=part-0777777",
    }
    from cadextract.web.pages import dashboard_data

    def select_one() -> None:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1")).all()

    # not pages: how loaded the machine is (one round trip), and the dashboard's SQL alone
    calls = {
        "calibration: SELECT 1 round trip": select_one,
        "dashboard SQL only": lambda: dashboard_data(engine),
    }
    times: dict[str, list[float]] = {k: [] for k in [*requests, *calls]}
    for name, path in requests.items():  # warm caches and plans once
        r = client.get(path)
        assert r.status_code == 200, (name, r.status_code, r.text[:200])
    rng = random.Random(1)
    for _ in range(args.rounds):
        order = list(requests.items())
        rng.shuffle(order)
        for name, path in order:
            t = time.perf_counter()
            client.get(path)
            times[name].append((time.perf_counter() - t) * 1000)
        for name, fn in calls.items():
            t = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - t) * 1000)
    figures = {}
    for name, values in times.items():
        values.sort()
        figures[name] = {
            "median_ms": round(statistics.median(values), 1),
            "p95_ms": round(values[min(len(values) - 1, round(0.95 * (len(values) - 1)))], 1),
        }
        print(
            f"{name:32} median {figures[name]['median_ms']:8.1f} ms   p95 {figures[name]['p95_ms']:8.1f} ms"
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                {
                    "jobs": args.jobs,
                    "rounds": args.rounds,
                    "load_average": os.getloadavg(),
                    "requests": figures,
                },
                indent=2,
            )
        )
    engine.dispose()
    db.stop_embedded(home)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
