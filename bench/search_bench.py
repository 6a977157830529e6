"""Search benchmark: what the index costs to write, how fast it answers at 100,000 documents.

    python bench/search_bench.py [--corpus ../shared/corpus] [--docs 100000] [--rounds 3] [--json out.json]

1. Write cost on the real corpus: `cadextract run CORPUS -r --force -c 2`, timed start to
   exit, with the index on and off (``CADEXTRACT_SEARCH_INDEX``), alternating, N rounds.
2. Write cost on no-op throughput: 10,000 `noop` jobs by `cadextract work -c 2
   --until-empty`, index on and off alternating; jobs/s = jobs / (last completion - first start).
3. 100,000 completed documents synthesised from the corpus results (each with its own
   drawing number, title, revision, author, a note built from a vocabulary and a fastener
   size), inserted with their index rows; then the p50/p95 of searches (an identifier, a
   phrase, a title-block filter, a common word) and of the documents view for one batch,
   measured at the client over the Unix socket (one round trip each), and the wall time of
   the `cadextract search` command.
4. Index bytes per document (row incl. TOAST; and the whole table with its indexes / docs).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import sqlalchemy as sa  # noqa: E402

from cadextract import db, files  # noqa: E402
from cadextract.search import document, query, store  # noqa: E402
from cadextract.store import commands, protocol  # noqa: E402

JOBS = "cadextract.extraction_jobs"
ADJ = [
    "stainless",
    "galvanised",
    "welded",
    "machined",
    "anodised",
    "painted",
    "forged",
    "cast",
    "turned",
    "bent",
]
MATERIAL = [
    "steel",
    "aluminium",
    "brass",
    "copper",
    "titanium",
    "nylon",
    "bronze",
    "oak",
    "concrete",
    "glass",
]
PART = ["bracket", "flange", "shaft", "housing", "cover", "plate", "spacer", "bushing", "hinge", "clamp"]
NAMES = [f"{a}. {b}" for a in "AJKMPRST" for b in ("SMITH", "MILLER", "WEBER", "ROSSI", "DUPONT")][:20]


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def summary_ms(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(pct(values, 50) * 1000, 2),
        "p95_ms": round(pct(values, 95) * 1000, 2),
        "n": len(values),
    }


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.home = Path(tempfile.mkdtemp(prefix="cadextract-search-bench-"))
        self.home.chmod(0o755)
        self.url = db.normalise_url(args.database_url) if args.database_url else db.embedded_url(self.home)
        self.engine = db.connect(self.url, self.home)
        self.env = {**os.environ, "CADEXTRACT_DATABASE_URL": self.url, "CADEXTRACT_HOME": str(self.home)}
        self.out: dict[str, Any] = {}

    def cli(self, *argv: str, index: bool = True) -> subprocess.CompletedProcess[str]:
        env = {**self.env, document.ENV_SWITCH: "on" if index else "off"}
        return subprocess.run(
            [sys.executable, "-m", "cadextract", *argv], env=env, cwd=REPO, capture_output=True, text=True
        )

    def reset(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.text(f"TRUNCATE {JOBS} CASCADE"))
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))
            conn.execute(sa.text("CHECKPOINT"))

    # -- 1. the real corpus ------------------------------------------------------------

    def corpus_cost(self) -> None:
        runs: dict[str, list[float]] = {"on": [], "off": []}
        for r in range(self.args.rounds):
            for side in ("on", "off") if r % 2 == 0 else ("off", "on"):
                self.reset()
                t0 = time.perf_counter()
                got = self.cli("run", str(self.args.corpus), "-r", "-c", "2", "-q", index=side == "on")
                runs[side].append(time.perf_counter() - t0)
                assert got.returncode in (0, 1), got.stderr  # 1: the corpus's bad files fail
                with self.engine.connect() as conn:
                    indexed = conn.execute(sa.text("SELECT count(*) FROM cadextract.search_index")).scalar()
                assert (int(indexed or 0) > 0) == (side == "on"), (side, indexed)
                log(f"corpus run, index {side}: {runs[side][-1]:.1f}s")
        on, off = statistics.median(runs["on"]), statistics.median(runs["off"])
        self.out["corpus_run"] = {
            "on_s": runs["on"],
            "off_s": runs["off"],
            "median_on_s": on,
            "median_off_s": off,
            "cost_pct": round(100 * (on - off) / off, 1),
        }
        with self.engine.connect() as conn:  # the last "on" run's index, for bytes per document
            self.out["corpus_index_bytes"] = store.size_stats(conn)

    def corpus_profile(self) -> None:
        """The index's own cost per corpus result, free of the VM's noise: CPU seconds of
        computing the entries (the children's share) and of writing them (the database's),
        against the extractors' own seconds (``timings.extract_s``) for the same results."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    """SELECT DISTINCT ON (j.path) j.id, r.document FROM cadextract.extraction_jobs j
                       JOIN cadextract.extraction_results r ON r.job_id = j.id
                       ORDER BY j.path, j.completed_at DESC"""
                )
            ).all()
        assert rows, "run the corpus first (a database that has its results)"
        extract_s = sum(float(r.document["timings"]["extract_s"]) for r in rows)
        compute, writes = [], []
        for _ in range(self.args.reps // 10 or 1):
            t0 = time.process_time()
            entries = [(r.id, document.index_entry(r.document).to_json()) for r in rows]
            compute.append(time.process_time() - t0)
            with self.engine.begin() as conn:
                t0 = time.perf_counter()
                for i in range(0, len(entries), 8):  # as the worker writes them: a few per step
                    store.write(conn, entries[i : i + 8])
                writes.append(time.perf_counter() - t0)
        self.out["corpus_profile"] = {
            "results": len(rows),
            "extract_s": round(extract_s, 3),
            "index_compute_s": round(statistics.median(compute), 4),
            "index_write_s": round(statistics.median(writes), 4),
            "index_pct_of_extract": round(
                100 * (statistics.median(compute) + statistics.median(writes)) / extract_s, 2
            ),
        }
        log(f"corpus profile: {self.out['corpus_profile']}")

    def noop_profile(self) -> None:
        """The completion transaction of no-op jobs with and without the index write, in one
        process, batches of 50 alternating; and the child's share (computing the entries)."""
        import psutil

        from cadextract import result

        rounds, per = self.args.reps, 50
        times: dict[str, list[float]] = {"on": [], "off": []}
        cpu: dict[str, list[float]] = {"on": [], "off": []}  # the PostgreSQL backend's CPU seconds
        compute = []
        for r in range(rounds):
            for side in ("on", "off") if r % 2 == 0 else ("off", "on"):
                tag = f"p{r}{side}"
                new = [
                    commands.NewJob(
                        path=f"/noop/{tag}/{i:05d}.bin", size=1, sha256=f"{tag}-{i}", format="noop"
                    )
                    for i in range(per)
                ]
                with self.engine.begin() as conn:
                    commands.enqueue(conn, new)
                    held = protocol.claim(
                        conn, worker_id="bench:1", limit=per, lease_seconds=60, formats=["noop"]
                    )
                docs = [
                    result.build_document(
                        format="noop",
                        extractor_name="noop",
                        extractor_version="1",
                        libraries={},
                        path=c.path,
                        sha256=c.sha256,
                        size=1,
                        payload={},
                        extract_seconds=0.0,
                    )
                    for c in held
                ]
                t0 = time.process_time()
                entries = [document.index_entry(d).to_json() for d in docs]
                compute.append((time.process_time() - t0) / per)
                items = [
                    protocol.Completion(c.id, c.token, json.dumps(d), 10, e if side == "on" else None)
                    for c, d, e in zip(held, docs, entries, strict=True)
                ]
                with self.engine.connect() as conn:
                    backend = psutil.Process(conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())
                    conn.commit()
                    c0, t0 = sum(backend.cpu_times()[:2]), time.perf_counter()
                    with conn.begin():
                        written = protocol.complete(conn, items)
                        store.write_completions(conn, items, written)
                    times[side].append((time.perf_counter() - t0) / per)
                    cpu[side].append((sum(backend.cpu_times()[:2]) - c0) / per)
        on, off = statistics.median(times["on"]), statistics.median(times["off"])
        self.out["noop_profile"] = {
            "complete_ms_per_job_on": round(on * 1000, 4),
            "complete_ms_per_job_off": round(off * 1000, 4),
            "db_cpu_ms_per_job_on": round(statistics.mean(cpu["on"]) * 1000, 4),
            "db_cpu_ms_per_job_off": round(statistics.mean(cpu["off"]) * 1000, 4),
            "index_compute_ms_per_job": round(statistics.median(compute) * 1000, 4),
            "rounds": rounds,
        }
        log(f"noop profile: {self.out['noop_profile']}")

    # -- 2. no-op throughput -----------------------------------------------------------

    def noop_cost(self) -> None:
        n = self.args.noop_jobs
        folder = self.home / "noop"
        folder.mkdir(exist_ok=True)
        paths = []
        for i in range(n):
            p = folder / f"{i:07d}.bin"
            p.write_text(f"noop {i}")
            paths.append(p)
        cands = files.collect(paths, recursive=False, forced_format="noop")
        digests = files.hash_all(cands)
        new = [
            commands.NewJob(path=str(c.path), size=c.size, sha256=digests[c.path], format="noop")
            for c in cands
        ]
        rates: dict[str, list[float]] = {"on": [], "off": []}
        for r in range(self.args.rounds):
            for side in ("on", "off") if r % 2 == 0 else ("off", "on"):
                self.reset()
                with self.engine.begin() as conn:
                    commands.enqueue(conn, new)
                got = self.cli("work", "-c", "2", "--until-empty", "-q", index=side == "on")
                assert got.returncode == 0, got.stderr
                with self.engine.connect() as conn:
                    row = conn.execute(
                        sa.text(
                            f"""SELECT count(*) FILTER (WHERE status = 'completed') AS done,
                                EXTRACT(EPOCH FROM max(completed_at) - min(started_at)) AS span,
                                (SELECT count(*) FROM cadextract.search_index) AS indexed FROM {JOBS}"""
                        )
                    ).one()
                assert row.done == n and row.indexed == (n if side == "on" else 0), row
                rates[side].append(n / float(row.span))
                log(f"noop {n} jobs, index {side}: {rates[side][-1]:.0f} jobs/s")
        on, off = statistics.median(rates["on"]), statistics.median(rates["off"])
        self.out["noop_throughput"] = {
            "on": rates["on"],
            "off": rates["off"],
            "median_on": on,
            "median_off": off,
            "loss_pct": round(100 * (off - on) / off, 1),
        }

    # -- 3. 100,000 documents ----------------------------------------------------------

    def templates(self) -> list[dict[str, Any]]:
        if not self.args.reuse_results:
            self.reset()
            got = self.cli("run", str(self.args.corpus), "-r", "-c", "2", "-q")
            assert got.returncode in (0, 1), got.stderr
        with self.engine.connect() as conn:
            return [
                r.document
                for r in conn.execute(sa.text("SELECT document FROM cadextract.extraction_results"))
            ]

    def synthesise(self, templates: list[dict[str, Any]]) -> None:
        self.reset()
        rng = random.Random(15)
        total, chunk = self.args.docs, 1000
        t0 = time.perf_counter()
        for start in range(0, total, chunk):
            docs = [
                self._vary(templates[i % len(templates)], i, rng)
                for i in range(start, min(total, start + chunk))
            ]
            batch = f"batch-{start // chunk:03d}"
            rows = json.dumps(
                [
                    {
                        "path": d["file"]["path"],
                        "size": d["file"]["size"],
                        "sha256": f"{i:064x}",
                        "format": d["format"],
                        "batch": batch,
                    }
                    for i, d in enumerate(docs, start)
                ]
            )
            with self.engine.begin() as conn:
                ids = conn.execute(
                    sa.text(
                        f"""INSERT INTO {JOBS} (path, size, sha256, format, batch, status, attempts,
                                               started_at, completed_at, progress)
                            SELECT path, size, sha256, format, batch, 'completed', 1,
                                   now() - interval '1 day',
                                   now() - make_interval(secs => random() * 86400), 100
                            FROM json_to_recordset(CAST(:rows AS json))
                                 AS v(path text, size bigint, sha256 text, format text, batch text)
                            RETURNING id, path"""
                    ),
                    {"rows": rows},
                ).all()
                by_path = {r.path: r.id for r in ids}
                if not self.args.skip_results:  # the searches and the documents view never read them
                    texts = [json.dumps(d, separators=(",", ":")) for d in docs]
                    conn.execute(
                        sa.text(
                            """INSERT INTO cadextract.extraction_results (job_id, document, size_bytes)
                               SELECT id, doc, length(doc::text)
                               FROM unnest(CAST(:ids AS uuid[])) WITH ORDINALITY a(id, n)
                               JOIN jsonb_array_elements(CAST(:docs AS jsonb)) WITH ORDINALITY b(doc, n)
                                    USING (n)"""
                        ),
                        {
                            "ids": [by_path[d["file"]["path"]] for d in docs],
                            "docs": "[" + ",".join(texts) + "]",
                        },
                    )
                store.write(
                    conn, [(by_path[d["file"]["path"]], document.index_entry(d).to_json()) for d in docs]
                )
            if start % 10000 == 0:
                log(f"synthesised {start + len(docs)} documents ({time.perf_counter() - t0:.0f}s)")
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))
        self.out["synthesis_s"] = round(time.perf_counter() - t0, 1)

    def _vary(self, t: dict[str, Any], i: int, rng: random.Random) -> dict[str, Any]:
        """A copy of a corpus result with its own file, title block and texts."""
        size = f"M{rng.choice([4, 5, 6, 8, 10, 12])}x{rng.randrange(10, 101, 5)}"
        note = f"{rng.choice(ADJ)} {rng.choice(MATERIAL)} {rng.choice(PART)} {size}"
        number = f"CX-{i:06d}"
        name = Path(t["file"]["path"]).name
        doc = {**t, "file": {**t["file"], "path": f"/archive/b{i // 1000:03d}/{i:06d}-{name}"}}
        p = dict(t["payload"])
        fields = {
            "drawing_number": {"value": number, "source": {"kind": "synthetic"}},
            "title": {"value": f"{rng.choice(PART).upper()} {i % 500}", "source": {"kind": "synthetic"}},
            "revision": {"value": rng.choice("ABCDEF"), "source": {"kind": "synthetic"}},
            "drawn_by": {"value": rng.choice(NAMES), "source": {"kind": "synthetic"}},
        }
        fmt = t["format"]
        if fmt == "dxf":
            p["title_block"] = {"block": "TB", "fields": fields}
            note_text = {"type": "TEXT", "layout": "Model", "layer": "NOTES", "text": note}
            p["texts"] = [note_text, *(p.get("texts") or [])]
        elif fmt == "pdf":
            p["title_block"] = {"fields": fields}
            pages = list(p.get("pages") or [{"number": 1}])
            pages[0] = {**pages[0], "text": note + "\n" + str(pages[0].get("text") or "")}
            p["pages"] = pages
        elif fmt == "ifc":
            p["project"] = {**(p.get("project") or {}), "name": f"{number} {note}"}
        elif fmt == "step":
            tree = list(p.get("assembly") or [])
            p["assembly"] = [{"name": f"{number} {note}", "kind": "assembly", "children": tree}]
        doc["payload"] = p
        return doc

    def server_times(self, rng: random.Random) -> dict[str, Any]:
        """PostgreSQL's own planning + execution time (EXPLAIN ANALYZE) of the same searches."""
        docs = self.args.docs
        makers = {
            "identifier": lambda: (query.parse(f"CX-{rng.randrange(docs):06d}"), query.Filters()),
            "phrase": lambda: (
                query.parse(f'"{rng.choice(ADJ)} {rng.choice(MATERIAL)} {rng.choice(PART)}"'),
                query.Filters(),
            ),
            "title_block_filter": lambda: (
                None,
                query.Filters(fields=(("revision", rng.choice("ABCDEF")), ("drawn_by", rng.choice(NAMES)))),
            ),
            "common_word": lambda: (query.parse(rng.choice(MATERIAL)), query.Filters()),
        }
        out: dict[str, Any] = {}
        with self.engine.connect() as conn:
            for name, make in makers.items():
                out[name] = summary_ms([_server_ms(conn, *make()) / 1000 for _ in range(self.args.reps)])
            out["documents_view_one_batch"] = summary_ms(
                [
                    _explain_ms(
                        conn,
                        "SELECT * FROM cadextract.documents WHERE batch = :b",
                        {"b": f"batch-{rng.randrange(docs // 1000):03d}"},
                    )
                    / 1000
                    for _ in range(self.args.reps)
                ]
            )
        log(f"server: {out}")
        return out

    def queries(self) -> None:
        rng = random.Random(16)
        reps = self.args.reps
        cases: dict[str, list[tuple[query.Query | None, query.Filters]]] = {
            "identifier": [
                (query.parse(f"CX-{rng.randrange(self.args.docs):06d}"), query.Filters()) for _ in range(reps)
            ],
            "phrase": [
                (
                    query.parse(f'"{rng.choice(ADJ)} {rng.choice(MATERIAL)} {rng.choice(PART)}"'),
                    query.Filters(),
                )
                for _ in range(reps)
            ],
            "title_block_filter": [
                (
                    None,
                    query.Filters(
                        fields=(("revision", rng.choice("ABCDEF")), ("drawn_by", rng.choice(NAMES)))
                    ),
                )
                for _ in range(reps)
            ],
            "identifier_prefix": [
                (query.parse(f"CX-0{rng.randrange(10, 99)}12*"), query.Filters()) for _ in range(reps)
            ],
            "common_word": [(query.parse(rng.choice(MATERIAL)), query.Filters()) for _ in range(reps)],
        }
        results: dict[str, Any] = {}
        with self.engine.connect() as conn:
            for name, items in cases.items():
                times, totals = [], []
                for q, f in items:
                    t0 = time.perf_counter()
                    hits = store.search(conn, q, f, limit=20)
                    times.append(time.perf_counter() - t0)
                    totals.append(hits[0].total if hits else 0)
                results[name] = {**summary_ms(times), "median_matches": statistics.median(totals)}
                log(f"{name}: {results[name]}")
            times = []
            for _ in range(reps):
                b = f"batch-{rng.randrange(self.args.docs // 1000):03d}"
                t0 = time.perf_counter()
                rows = conn.execute(
                    sa.text("SELECT * FROM cadextract.documents WHERE batch = :b"), {"b": b}
                ).all()
                times.append(time.perf_counter() - t0)
            results["documents_view_one_batch"] = {**summary_ms(times), "rows": len(rows)}
            log(f"documents view: {results['documents_view_one_batch']}")
            self.out["index_bytes_100k"] = store.size_stats(conn)
        results["server"] = self.server_times(rng)
        walls = []
        for _ in range(self.args.cli_reps):
            t0 = time.perf_counter()
            got = self.cli("search", f"CX-{rng.randrange(self.args.docs):06d}", "--json")
            walls.append(time.perf_counter() - t0)
            assert got.returncode == 0 and json.loads(got.stdout), got.stderr
        results["cli_search_wall"] = summary_ms(walls)
        log(f"cli wall: {results['cli_search_wall']}")
        self.out["queries_100k"] = results


def _explain_ms(conn: sa.Connection, sql: str, params: dict[str, Any]) -> float:
    plan = conn.execute(sa.text("EXPLAIN (ANALYZE, FORMAT JSON) " + sql), params).scalar_one()
    return float(plan[0]["Planning Time"] + plan[0]["Execution Time"])


class _Capture:
    """Stands in for a connection: keeps the statement `store.search` would run."""

    def __init__(self) -> None:
        self.sql = ""
        self.params: dict[str, Any] = {}

    def execute(self, stmt: Any, params: dict[str, Any]) -> Any:
        self.sql, self.params = str(stmt), params
        raise _Captured


class _Captured(Exception):
    pass


def _server_ms(conn: sa.Connection, q: query.Query | None, f: query.Filters) -> float:
    cap = _Capture()
    with contextlib.suppress(_Captured):
        store.search(cap, q, f, limit=20)  # type: ignore[arg-type]
    return _explain_ms(conn, cap.sql, cap.params)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus")
    parser.add_argument("--database-url")
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--noop-jobs", type=int, default=10_000)
    parser.add_argument("--reps", type=int, default=60)
    parser.add_argument("--cli-reps", type=int, default=10)
    parser.add_argument(
        "--only",
        choices=["write", "noop", "read", "queries", "profile", "noop-profile"],
        help="write costs (1, 2), only 2, the reads (3, 4), only the queries of 3 and 4 on documents "
        "already synthesised in --database-url, or the index CPU cost on results already there",
    )
    parser.add_argument(
        "--skip-results", action="store_true", help="synthesise jobs and index rows only, no result documents"
    )
    parser.add_argument(
        "--reuse-results",
        action="store_true",
        help="take the corpus results already in --database-url as templates",
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    bench = Bench(args)
    try:
        if args.only == "profile":
            bench.corpus_profile()
        elif args.only == "noop-profile":
            bench.noop_profile()
        elif args.only in (None, "write", "noop"):
            if args.only != "noop":
                bench.corpus_cost()
            bench.noop_cost()
        if args.only in (None, "read"):
            bench.synthesise(bench.templates())
        if args.only in (None, "read", "queries"):
            bench.queries()
    finally:
        if not args.database_url:
            db.stop_embedded(bench.home)
    text = json.dumps(bench.out, indent=2, default=str)
    print(text)
    if args.json:
        args.json.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
