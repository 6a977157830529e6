"""The command line as a user runs it (subprocesses), against a real PostgreSQL."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from cadextract.config import Settings
from cadextract.runtime import supervisor
from tests.conftest import REPO, run_cli
from tests.helpers import job_rows, status_counts

SAMPLES = REPO / "samples" / "files"
SAMPLE_FILES = {
    "dxf": SAMPLES / "dxf" / "bracket.dxf",
    "pdf": SAMPLES / "pdf" / "bracket-drawing.pdf",
    "ifc": SAMPLES / "ifc" / "two-storey-house.ifc",
    "step": SAMPLES / "step" / "pin-and-plate.step",
}


def submit_json(*args: str) -> list[dict[str, Any]]:
    r = run_cli("submit", "--json", *args)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)  # type: ignore[no-any-return]


@pytest.mark.parametrize("fmt", list(SAMPLE_FILES))
def test_submitted_job_is_pending_then_processing(fmt: str, clean_db: Engine) -> None:
    [out] = submit_json(str(SAMPLE_FILES[fmt]))
    assert out["queued"] and out["format"] == fmt
    row = job_rows(clean_db)[__import__("uuid").UUID(out["job_id"])]
    assert row.status == "pending" and row.attempts == 0 and row.progress == 0
    assert row.created_at is not None
    assert (row.started_at, row.completed_at, row.worker_id) == (None, None, None)
    assert row.path == str(SAMPLE_FILES[fmt].resolve()) and row.format == fmt
    assert row.size == SAMPLE_FILES[fmt].stat().st_size and len(row.sha256) == 64

    seen: list[Any] = []

    def on_event(e: supervisor.Event) -> None:
        if e.kind == "claimed":  # at this moment the worker holds it
            seen.append(job_rows(clean_db)[e.job_id])

    settings = Settings(database_url=None, home=Path("/nonexistent"), heartbeat_seconds=0.2, poll_seconds=0.2)
    sup = supervisor.Supervisor(
        clean_db, settings, supervisor.Options(concurrency=1, until_empty=True), on_event=on_event
    )
    sup.run()
    [claimed] = seen
    assert claimed.status == "processing" and claimed.worker_id == sup.worker_id
    assert claimed.started_at is not None and claimed.attempts == 1
    final = job_rows(clean_db)[row.id]
    assert final.status == "completed", final.errors


def test_submit_work_status_end_to_end(clean_db: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "drawings"
    shutil.copytree(SAMPLES, folder)
    (folder / "readme.txt").write_text("not a drawing")
    queued = submit_json(str(folder), "--recursive", "--batch", "e2e")
    assert sorted(o["format"] for o in queued if o["queued"]) == ["dxf", "ifc", "pdf", "raster", "step"]
    assert [o["reason"] for o in queued if not o["queued"]] == [
        "unsupported file type (not PDF, DXF, IFC, STEP, PNG, JPEG or TIFF)"
    ]
    # unchanged files are not queued twice
    again = submit_json(str(folder), "--recursive")
    assert not any(o["queued"] for o in again)

    r = run_cli("work", "--concurrency", "2", "--until-empty", timeout=600)  # the scan is OCR'd
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    assert "completed 5, failed 0" in r.stderr

    r = run_cli("status", "--json")
    summary = json.loads(r.stdout)
    assert summary["by_status"]["completed"] == 5 and summary["by_status"]["pending"] == 0

    dxf_id = next(o["job_id"] for o in queued if o["format"] == "dxf")
    r = run_cli("status", dxf_id[:8], "--json")
    assert r.returncode == 0, r.stderr
    job = json.loads(r.stdout)
    assert job["status"] == "completed" and job["batch"] == "e2e" and job["attempts"] == 1
    assert job["result_summary"]["tb_drawing_number"] == "CX-1001"
    r = run_cli("status", dxf_id[:8])
    assert "completed" in r.stdout and "CX-1001" in r.stdout

    r = run_cli("result", dxf_id[:6], "--json")
    doc = json.loads(r.stdout)
    assert doc["format"] == "dxf" and doc["file"]["sha256"] == job["sha256"]


def test_run_is_the_cron_entry_point(clean_db: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    shutil.copytree(SAMPLES, folder)
    report = tmp_path / "report.json"
    r = run_cli("run", str(folder), "-r", "--report", str(report), timeout=600)  # OCR of the scan
    assert r.returncode == 0, r.stderr
    data = json.loads(report.read_text())
    assert data["completed"] == 5 and data["submitted"] == 5 and data["failed"] == 0
    # second run: nothing new, still all completed, exit 0
    r = run_cli("run", str(folder), "-r", "--report", str(report))
    assert r.returncode == 0, r.stderr
    data = json.loads(report.read_text())
    assert data["submitted"] == 0 and data["already_known"] == 5 and data["completed"] == 5
    # a corrupt drawing makes the run exit 1, and is reported
    (folder / "broken.dxf").write_text("0\nSECTION\n2\nENTITIES\n0\nLINE\n")
    r = run_cli("run", str(folder), "-r", "--report", str(report))
    assert r.returncode == 1, r.stderr
    data = json.loads(report.read_text())
    assert data["failed"] == 1
    assert status_counts(clean_db) == {"completed": 5, "failed": 1}


def test_installed_command_runs_and_exits_with_its_code(clean_db: Engine, tmp_path: Path) -> None:
    """The console script cron calls: children start from it, and its exit code survives
    the fast exit (no module teardown) in cadextract.__main__."""
    command = Path(sys.executable).parent / "cadextract"
    assert command.is_file(), "install the package (pip install -e .) to get the command"
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(SAMPLE_FILES["dxf"], folder / "a.dxf")
    report = tmp_path / "report.json"
    env = {**os.environ}
    r = subprocess.run(
        [str(command), "run", str(folder), "-r", "--report", str(report), "-q"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=REPO,
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(report.read_text())["completed"] == 1
    (folder / "broken.dxf").write_text("0\nSECTION\n2\nENTITIES\n0\nLINE\n")
    r = subprocess.run(
        [str(command), "run", str(folder), "-r", "-q"], capture_output=True, text=True, timeout=300, env=env
    )
    assert r.returncode == 1, r.stderr
    assert "1 completed, 1 failed" in r.stderr
    r = subprocess.run([str(command), "status", "ffffffff"], capture_output=True, text=True, env=env)
    one_line_error(r, 4, "ffffffff")
    assert status_counts(clean_db) == {"completed": 1, "failed": 1}


def one_line_error(r: Any, code: int, contains: str) -> None:
    assert r.returncode == code, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr + r.stdout
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, r.stderr
    assert contains in lines[0], lines[0]


def test_bad_input_one_line_and_queue_unchanged(clean_db: Engine, tmp_path: Path) -> None:
    submit_json(str(SAMPLE_FILES["dxf"]))
    before = job_rows(clean_db)
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "empty.pdf").write_bytes(b"")
    one_line_error(run_cli("submit", str(tmp_path / "missing.dxf")), 2, "no such file or directory")
    one_line_error(run_cli("submit", str(tmp_path)), 2, "add --recursive")
    one_line_error(run_cli("submit", str(tmp_path / "notes.txt")), 2, "unsupported file type")
    one_line_error(run_cli("submit", str(tmp_path / "empty.pdf")), 2, "empty file")
    # a good file with a bad one: nothing is queued
    one_line_error(
        run_cli("submit", str(SAMPLE_FILES["pdf"]), str(tmp_path / "missing.dxf")), 2, "no such file"
    )
    one_line_error(run_cli("status", "ffffffff"), 4, "no job id starts with")
    one_line_error(run_cli("status", "not-hex!"), 4, "is not a job id")
    one_line_error(run_cli("result", "zz"), 4, "is not a job id")
    one_line_error(
        run_cli("--database-url", "postgresql://u:s3cret@127.0.0.1:1/x", "status"),
        3,
        "cannot reach PostgreSQL",
    )
    r = run_cli("--database-url", "postgresql://u:s3cret@127.0.0.1:1/x", "status")
    assert "s3cret" not in r.stderr
    one_line_error(
        run_cli("submit", str(SAMPLE_FILES["pdf"]), env={"CADEXTRACT_DATABASE_URL": "mysql://a:b@h/db"}),
        3,
        "only PostgreSQL is supported",
    )
    one_line_error(run_cli("--database-url", "sqlite:///x.db", "work"), 3, "only PostgreSQL")
    one_line_error(run_cli("jobs", "--status", "bogus"), 2, "unknown status")
    one_line_error(run_cli("purge", "--older-than", "soon"), 2, "cannot read age")
    assert job_rows(clean_db).keys() == before.keys()
    assert all(job_rows(clean_db)[k].status == "pending" for k in before)


def test_ambiguous_prefix(clean_db: Engine, tmp_path: Path) -> None:
    for i in range(40):
        (tmp_path / f"f{i}.pdf").write_bytes(b"%PDF-1.4\n" + str(i).encode())
    queued = submit_json(str(tmp_path), "-r", "--format", "noop")
    firsts = [o["job_id"][0] for o in queued]
    common = max(set(firsts), key=firsts.count)
    one_line_error(run_cli("status", common), 4, "ambiguous")


def test_version_and_help() -> None:
    r = run_cli("--version")
    assert r.returncode == 0 and r.stdout.startswith("cadextract ")
    for cmd in [
        "submit",
        "work",
        "run",
        "status",
        "jobs",
        "result",
        "cancel",
        "retry",
        "purge",
        "db",
        "doctor",
    ]:
        r = run_cli(cmd, "--help")
        assert r.returncode == 0 and "Usage" in r.stdout, cmd


def test_db_url_masks_password(clean_db: Engine) -> None:
    r = run_cli("--database-url", "postgresql://alice:hunter2@db.example:5432/cad", "db", "url")
    assert r.returncode == 0
    assert "hunter2" not in r.stdout and "alice:***@db.example" in r.stdout


def test_bad_job_options(clean_db: Engine, tmp_path: Path) -> None:
    one_line_error(run_cli("submit", str(SAMPLE_FILES["dxf"]), "--option", "timeout=abc"), 2, "timeout")
    one_line_error(run_cli("submit", str(SAMPLE_FILES["dxf"]), "--option", "novalue"), 2, "KEY=VALUE")
    one_line_error(
        run_cli("work", "--log-file", str(tmp_path / "no" / "such" / "dir.log")), 2, "cannot open log file"
    )
    assert job_rows(clean_db) == {}
    [out] = submit_json(str(SAMPLE_FILES["dxf"]), "--option", "max_items=lots")
    r = run_cli("work", "--until-empty")
    assert r.returncode == 0, r.stderr
    row = job_rows(clean_db)[__import__("uuid").UUID(out["job_id"])]
    assert (
        row.status == "failed"
        and row.last_error_type == "BadOption"
        and "max_items" in row.last_error_message
    )
