"""Operator commands through the CLI: jobs filters, export round-trip, purge, cancel/retry,
two overlapping cron runs, and the dashboard rendered to a recording console."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from rich.console import Console
from sqlalchemy.engine import Engine

from cadextract import models, ops, watchview
from cadextract.store import protocol, readmodels
from tests.conftest import REPO, run_cli
from tests.helpers import enqueue_files, job_rows, make_files, result_count

SAMPLES = REPO / "samples" / "files"


def complete_samples(folder: Path) -> dict[str, str]:
    shutil.copytree(SAMPLES, folder)
    r = run_cli("run", str(folder), "-r", "--batch", "samples", timeout=300)
    assert r.returncode == 0, r.stderr
    return {j["format"]: j["id"] for j in json.loads(run_cli("jobs", "--json").stdout)}


def test_jobs_filters(clean_db: Engine, tmp_path: Path) -> None:
    a = enqueue_files(clean_db, make_files(tmp_path / "a", 3, suffix=".dxf"), batch="night-1", priority=1)
    b = enqueue_files(
        clean_db, make_files(tmp_path / "b", 2, suffix=".pdf"), fmt="test-sleep", batch="night-2"
    )
    with clean_db.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE cadextract.extraction_jobs SET status = 'failed', completed_at = now(), "
                "last_error_type = 'CorruptFile', last_error_message = 'bad' WHERE id = :id"
            ),
            {"id": a[0]},
        )
        conn.execute(
            sa.text(
                "UPDATE cadextract.extraction_jobs SET created_at = now() - interval '3 days' WHERE id = :id"
            ),
            {"id": b[0]},
        )

    def ids(*args: str) -> set[uuid.UUID]:
        r = run_cli("jobs", "--ids", "--limit", "0", *args)
        assert r.returncode == 0, r.stderr
        return {uuid.UUID(line) for line in r.stdout.split()}

    assert ids() == set(a) | set(b)
    assert ids("--status", "failed") == {a[0]}
    assert ids("--status", "pending,failed", "--format", "noop") == set(a)
    assert ids("--batch", "night-2") == set(b)
    assert ids("--since", "1d") == set(a) | {b[1]}
    assert ids("--path", "*.pdf") == set(b)
    assert ids("--path", f"{tmp_path}/a/*") == set(a)
    assert len(ids("--limit", "2")) == 2
    listed = json.loads(run_cli("jobs", "--json", "--sort", "priority", "--limit", "0").stdout)
    assert [j["priority"] for j in listed][:3] == [1, 1, 1]
    r = run_cli("jobs", "--status", "failed")
    assert "CorruptFile" in r.stdout
    # --ids pipes into cancel and retry
    pending_pdf = "\n".join(str(i) for i in ids("--batch", "night-2"))
    r = run_cli("cancel", "-", input=pending_pdf)
    assert r.returncode == 0 and "cancelled 2" in r.stderr
    r = run_cli("retry", "--failed")
    assert r.returncode == 0 and "retrying 1" in r.stderr
    rows = job_rows(clean_db)
    assert rows[a[0]].status == "pending" and rows[a[0]].attempts == 0
    assert {rows[i].status for i in b} == {"cancelled"}
    r = run_cli("cancel", "--batch", "night-1")
    assert "cancelled 3" in r.stderr


def test_export_round_trips(clean_db: Engine, tmp_path: Path) -> None:
    by_format = complete_samples(tmp_path / "in")
    out = tmp_path / "all.jsonl"
    r = run_cli("export", "--to", "jsonl", "-o", str(out))
    assert r.returncode == 0, r.stderr
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) == 5  # the samples: dxf, pdf, ifc, step, a scan
    for line in lines:
        shown = json.loads(run_cli("result", line["job"]["id"], "--json").stdout)
        assert line["result"] == shown
    # CSV, one row per file, with the summary fields an engineer wants in a spreadsheet
    r = run_cli("export", "--to", "csv")
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert len(rows) == 5
    by_id = {row["job_id"]: row for row in rows}
    dxf = by_id[by_format["dxf"]]
    shown = json.loads(run_cli("result", by_format["dxf"], "--json").stdout)
    assert dxf["tb_drawing_number"] == shown["payload"]["title_block"]["fields"]["drawing_number"]["value"]
    assert int(dxf["layer_count"]) == len(shown["payload"]["layers"])
    step = by_id[by_format["step"]]
    shown = json.loads(run_cli("result", by_format["step"], "--json").stdout)
    assert float(step["total_volume"]) == shown["payload"]["totals"]["volume"]
    assert dxf["sha256"] == shown["file"]["sha256"] or step["sha256"] == shown["file"]["sha256"]
    # one row per entity / element
    r = run_cli("export", "--to", "csv", "--rows", "--format", "dxf")
    entity_rows = list(csv.DictReader(io.StringIO(r.stdout)))
    shown = json.loads(run_cli("result", by_format["dxf"], "--json").stdout)
    p = shown["payload"]
    assert len(entity_rows) == len(p["texts"]) + len(p["dimensions"]) + len(p["inserts"])
    assert {row["text"] for row in entity_rows if row["entity"] in ("TEXT", "MTEXT")} == {
        t["text"] for t in p["texts"]
    }
    # filters apply
    r = run_cli("export", "--format", "ifc")
    assert [json.loads(x)["job"]["format"] for x in r.stdout.splitlines()] == ["ifc"]


def test_purge_removes_exactly_old_finished_jobs(clean_db: Engine, tmp_path: Path) -> None:
    complete_samples(tmp_path / "in")
    pending = enqueue_files(clean_db, make_files(tmp_path / "p", 2))
    ids = list(job_rows(clean_db))
    with clean_db.begin() as conn:
        conn.execute(sa.text("UPDATE cadextract.extraction_jobs SET updated_at = now() - interval '45 days'"))
        conn.execute(
            sa.text(
                "UPDATE cadextract.extraction_jobs SET updated_at = now() - interval '10 days' "
                "WHERE format = 'pdf'"
            )
        )
    r = run_cli("purge", "--older-than", "30d", "--dry-run")
    assert r.returncode == 0 and "would delete 4 job(s)" in r.stderr
    assert len(job_rows(clean_db)) == len(ids)
    r = run_cli("purge", "--older-than", "30d", "--json")
    assert json.loads(r.stdout)["jobs"] == 4
    left = job_rows(clean_db)
    assert set(left) == set(pending) | {i for i, row in left.items() if row.format == "pdf"}
    assert len(left) == 3 and result_count(clean_db) == 1
    r = run_cli("purge", "--older-than", "1d", "--status", "pending")
    assert r.returncode == 2


def test_two_overlapping_runs_process_each_file_once(clean_db: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    make_files(folder, 24, suffix=".bin")
    cmd = [
        sys.executable,
        "-m",
        "cadextract",
        "run",
        str(folder),
        "-r",
        "--format",
        "test-sleep",
        "--option",
        "seconds=0.2",
        "-c",
        "2",
    ]
    procs = [
        subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    rows = job_rows(clean_db)
    assert len(rows) == 24 and {r.status for r in rows.values()} == {"completed"}
    assert all(r.attempts == 1 for r in rows.values())
    assert result_count(clean_db) == 24


def test_dashboard_shows_the_figures(clean_db: Engine, tmp_path: Path) -> None:
    done = enqueue_files(clean_db, make_files(tmp_path / "d", 5))
    failed = enqueue_files(clean_db, make_files(tmp_path / "f", 2), fmt="test-flaky")
    retry = enqueue_files(clean_db, make_files(tmp_path / "r", 1), fmt="test-sleep")
    running = enqueue_files(clean_db, make_files(tmp_path / "x", 1, suffix=".step"), fmt="step")
    enqueue_files(clean_db, make_files(tmp_path / "p", 3), fmt="pdf")
    with clean_db.begin() as conn:
        claimed = {
            c.id: c
            for c in protocol.claim(
                conn,
                worker_id="host-a:77",
                limit=100,
                lease_seconds=60,
                formats=["noop", "test-flaky", "test-sleep", "step"],
            )
        }
        protocol.complete(conn, [protocol.Completion(i, claimed[i].token, "{}", 2) for i in done])
        err = {"type": "CorruptFile", "message": "no ENTITIES section", "permanent": True}
        protocol.record_failures(
            conn, [protocol.Failure(i, claimed[i].token, models.JobStatus.FAILED, 0, err) for i in failed]
        )
        terr = {"type": "FileUnreadable", "message": "share offline", "permanent": False}
        protocol.record_failures(
            conn, [protocol.Failure(retry[0], claimed[retry[0]].token, models.JobStatus.PENDING, 120, terr)]
        )
        protocol.heartbeat(
            conn, [protocol.Lease(running[0], claimed[running[0]].token, 42.0)], lease_seconds=60
        )
        d = readmodels.dashboard(conn)
        a = readmodels.activity(conn, batch=None, window_for=ops.eta_window)
    console = Console(record=True, width=160, color_system=None)
    w = watchview.Watch(dashboard=d, activity=a, chosen=True)
    console.print(watchview.watch_view(w, width=160, now=datetime.now(UTC) + timedelta(seconds=1)))
    text = console.export_text()
    assert "all batches" in text and "7 of 12 done (2 failed)" in text
    assert "1 job(s) in workers" in text and "ETA" in text
    # 7 finished a moment after the batch started: judged over 10 s, not extrapolated from 1 s
    assert "throughput 42.0/min over 10s" in text
    lines = {line.split()[0]: line.split()[1:] for line in text.splitlines() if line.strip()}
    # format rows: pending processing completed failed cancelled total
    assert lines["noop"] == ["0", "0", "5", "0", "0", "5"]
    assert lines["pdf"] == ["3", "0", "0", "0", "0", "3"]
    assert lines["all"] == ["4", "1", "5", "2", "0", "12"]
    assert "host-a:77" in text and "42%" in text  # running job with worker and progress
    assert "scheduled retries" in text and "FileUnreadable: share offline" in text and "in 1m5" in text
    assert "recent failures" in text and "CorruptFile: no ENTITIES section" in text
    line = watchview.watch_line(w)
    assert "pending=4 processing=1 completed=5 failed=2" in line and "done=7/12" in line
