"""Issue 11, "an operator's first week": each item through the real CLI and database."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pgserver  # type: ignore[import-untyped]
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cadextract.extractors import registry
from tests.conftest import CORPUS, REPO, run_cli
from tests.helpers import enqueue_files, make_files, status_counts

SAMPLES = REPO / "samples" / "files"
BROKEN_DXF = "0\nSECTION\n2\nENTITIES\n0\nLINE\n"


@pytest.fixture(scope="module")
def samples_once(
    engine: Engine, database_url: str, pg_home: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[dict[str, str], Path]]:
    """The four samples extracted once, for the tests that only read them (or add to them).

    They come first in this module: the tests after them empty the tables (clean_db).
    """
    folder = tmp_path_factory.mktemp("samples") / "in"
    shutil.copytree(SAMPLES, folder)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CADEXTRACT_DATABASE_URL", database_url)
        mp.setenv("CADEXTRACT_HOME", str(pg_home))
        with engine.begin() as conn:
            conn.execute(sa.text("TRUNCATE cadextract.extraction_jobs CASCADE"))
        r = run_cli("run", str(folder), "-r", "-q", "--batch", "samples", timeout=300)
        assert r.returncode == 0, r.stderr
        ids = {j["format"]: j["id"] for j in json.loads(run_cli("jobs", "--json").stdout)}
        yield ids, folder


@pytest.fixture
def samples_done(
    samples_once: tuple[dict[str, str], Path],
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
    pg_home: Path,
) -> dict[str, str]:
    """format -> job id of the extracted samples (shared by this module's read-only tests)."""
    monkeypatch.setenv("CADEXTRACT_DATABASE_URL", database_url)
    monkeypatch.setenv("CADEXTRACT_HOME", str(pg_home))
    return samples_once[0]


def _documents() -> list[tuple[dict[str, Any], dict[str, Any]]]:
    out = run_cli("export", "--to", "jsonl").stdout
    return [(d["job"], d["result"]) for d in map(json.loads, out.splitlines())]


# -- 1, 8: CSV export keeps every field, one shape, spreadsheet-friendly ------------------


def test_csv_rows_keep_every_field_of_every_format(
    samples_done: dict[str, str], samples_once: tuple[dict[str, str], Path], tmp_path: Path
) -> None:
    out = tmp_path / "rows.csv"
    r = run_cli("export", "--to", "csv", "--rows", "-o", str(out))
    assert r.returncode == 0, r.stderr
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "a BOM, so Excel reads UTF-8 (Ø, ±) right"
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    header = set(rows[0])
    expected_rows = 0
    for job, document in _documents():
        fmt = job["format"]
        for item in registry.get(fmt).rows(document["payload"]):  # type: ignore[misc]
            expected_rows += 1
            for key, value in item.items():
                column = f"{fmt}.{key}"
                assert column in header, f"{column} dropped from the CSV"
                # the value is in this format's own column, in the row of this file
                mine = [row for row in rows if row["job_id"] == job["id"] and row[column] not in ("", None)]
                if value not in (None, ""):
                    assert mine, f"no {column} value for {job['path']}"
    assert len(rows) == expected_rows
    kinds = {row["kind"] for row in rows}
    assert {"pdf-page", "step-solid", "ifc-class", "dxf-text", "dxf-dimension", "dxf-insert"} <= kinds
    # DXF text heights are in dxf.height, never in the PDF page's height column
    for row in rows:
        if row["format"] == "dxf":
            assert row["pdf.height"] == ""
        if row["kind"] == "dxf-text":
            assert row["dxf.height"] != ""
    assert "None" not in raw.decode("utf-8-sig").split(",")
    _single_format_rows_and_summary()
    _latest_per_file(samples_once[1])


def _single_format_rows_and_summary() -> None:
    r = run_cli("export", "--to", "csv", "--rows", "--format", "dxf")
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert r.stdout[0] != "\ufeff", "no BOM on stdout (pipes)"
    assert {"entity", "layer", "text", "height", "value", "kind"} <= set(rows[0])
    assert any(row["text"] for row in rows) and any(row["layer"] for row in rows)
    # summary mode: every summary field of every format, warnings as text, one unit spelling
    r = run_cli("export", "--to", "csv")
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert len(rows) == 5 and {row["kind"] for row in rows} == {"file"}
    for job, document in _documents():
        summary = registry.get(job["format"]).summarize(document["payload"])  # type: ignore[misc]
        row = next(row for row in rows if row["job_id"] == job["id"])
        for key in summary:
            assert key in row, f"{key} dropped"
        assert row["warning_text"] == " | ".join(document["warnings"])
    units = {row[c] for row in rows for c in ("units", "length_unit") if row.get(c)}
    assert units == {"millimetre"}, units
    assert not any(cell == "None" for row in rows for cell in row.values())


def _latest_per_file(folder: Path) -> None:
    r = run_cli("run", str(folder / "dxf"), "-r", "-q", "--force")
    assert r.returncode == 0, r.stderr
    every = list(csv.DictReader(io.StringIO(run_cli("export", "--to", "csv").stdout)))
    latest = list(csv.DictReader(io.StringIO(run_cli("export", "--to", "csv", "--latest").stdout)))
    assert len(every) == 6 and len(latest) == 5
    dxf = [row for row in latest if row["format"] == "dxf"]
    assert len(dxf) == 1 and dxf[0]["completed_at"] == max(
        row["completed_at"] for row in every if row["format"] == "dxf"
    )


def test_result_is_readable(samples_done: dict[str, str]) -> None:
    env = {"COLUMNS": "160"}
    dxf = run_cli("result", samples_done["dxf"], env=env).stdout
    assert "layers (9)" in dxf and "CONSTRUCTION" in dxf and "DASHED" in dxf
    dims = dxf[dxf.index("dimensions (3)") :]
    assert re.search(r"linear\s+100\b", dims) and re.search(r"radius\s+5\b", dims)
    limited = run_cli("result", samples_done["dxf"], "--limit", "2", env=env).stdout
    assert "layers (first 2 of 9; --limit N or --all for more)" in limited
    assert (
        "OUTLINE" not in limited
        and "OUTLINE" in run_cli("result", samples_done["dxf"], "--all", env=env).stdout
    )
    step = run_cli("result", samples_done["step"], env=env).stdout
    # no number in scientific notation; job ids ("…-b6de-a8de…", "…1e-4…") are not numbers
    numbers = re.sub(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", "", step)
    assert "9,141.6 mm³" in step and not re.search(r"\d\.?\d*[eE][+-]\d", numbers)
    for column in ("com_x", "com_z", "faces", "bbox_dz"):
        assert column in step, f"STEP column {column} missing at 160 columns"
    ifc = run_cli("result", samples_done["ifc"], env=env).stdout
    assert ifc.index("IfcWall") < ifc.index("IfcSlab"), "classes by count, most first"


# -- 2: secret options never shown -------------------------------------------------------


def test_passwords_are_masked_everywhere(clean_db: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(SAMPLES / "pdf" / "bracket-drawing.pdf", folder)
    report = tmp_path / "r.json"
    r = run_cli("run", str(folder), "-r", "-v", "--option", "password=s3cret-pw", "--report", str(report))
    assert r.returncode == 0, r.stderr
    [job_id] = [line for line in run_cli("jobs", "--ids").stdout.split()]
    outputs = [
        r.stdout + r.stderr,
        report.read_text(),
        run_cli("export", "--to", "jsonl").stdout,
        run_cli("export", "--to", "csv").stdout,
        run_cli("status", job_id).stdout,
        run_cli("status", job_id, "--json").stdout,
        run_cli("jobs", "--json").stdout,
        run_cli("jobs").stdout,
        run_cli("result", job_id, "--json").stdout,
    ]
    for text in outputs:
        assert "s3cret-pw" not in text
    assert '"password": "***"' in run_cli("status", job_id, "--json").stdout


# -- 3, 4, 5: nightly runs ---------------------------------------------------------------


def test_nightly_run_does_not_requeue_known_failures(clean_db: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(SAMPLES / "dxf" / "bracket.dxf", folder)
    (folder / "broken.dxf").write_text(BROKEN_DXF)
    report = tmp_path / "r.json"
    r = run_cli("run", str(folder), "-r", "-q", "--report", str(report))
    assert r.returncode == 1, r.stderr  # a new failure
    data = json.loads(report.read_text())
    assert data["new_failures"] == 1 and data["known_failures"] == 0
    broken = next(f for f in data["files"] if f["path"].endswith("broken.dxf"))
    assert broken["error"]["type"] and broken["error"]["message"], "the report says why"
    for _night in range(2):
        r = run_cli("run", str(folder), "-r", "-q", "--report", str(report))
        assert r.returncode == 5, r.stderr  # nothing new: only a known failure
        data = json.loads(report.read_text())
        assert data["submitted"] == 0 and data["known_failures"] == 1 and data["new_failures"] == 0
        assert "1 known failures" in r.stderr and "0 failed" in r.stderr
        broken = next(f for f in data["files"] if f["path"].endswith("broken.dxf"))
        assert broken["known_failure"] and broken["status"] == "failed" and broken["error"]["type"]
        assert status_counts(clean_db) == {"completed": 1, "failed": 1}
    # asked for: queued again, fails again, a new failure
    r = run_cli("run", str(folder), "-r", "-q", "--retry-failed", "--report", str(report))
    assert r.returncode == 1
    assert status_counts(clean_db) == {"completed": 1, "failed": 2}
    # submit says so too
    r = run_cli("submit", str(folder), "-r")
    assert "1 known failures" in r.stdout


def test_report_into_missing_folder_fails_before_any_work(clean_db: Engine, tmp_path: Path) -> None:
    r = run_cli("run", str(SAMPLES / "dxf"), "-r", "--report", str(tmp_path / "no" / "r.json"))
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "does not exist" in r.stderr and "Traceback" not in r.stderr
    assert status_counts(clean_db) == {}, "checked before submitting"


# -- 9, 10: listings ---------------------------------------------------------------------


def test_jobs_path_glob_ignores_case(clean_db: Engine, tmp_path: Path) -> None:
    upper = enqueue_files(clean_db, make_files(tmp_path, 2, prefix="A", suffix=".PDF"))
    lower = enqueue_files(clean_db, make_files(tmp_path, 1, prefix="b", suffix=".pdf"))
    found = {uuid.UUID(x) for x in run_cli("jobs", "--path", "*.pdf", "--ids").stdout.split()}
    assert found == set(upper) | set(lower)
    exact = {
        uuid.UUID(x) for x in run_cli("jobs", "--path", "*.pdf", "--case-sensitive", "--ids").stdout.split()
    }
    assert exact == set(lower)
    assert "case-insensitive" in run_cli("jobs", "--help", env={"COLUMNS": "200"}).stdout


def test_purge_dry_run_breaks_down_and_lists(clean_db: Engine, tmp_path: Path) -> None:
    a = enqueue_files(clean_db, make_files(tmp_path / "a", 3), batch="old-1")
    b = enqueue_files(clean_db, make_files(tmp_path / "b", 2), fmt="test-sleep", batch="old-2")
    with clean_db.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE cadextract.extraction_jobs SET status = CASE WHEN batch = 'old-1' THEN 'completed' "
                "ELSE 'failed' END, updated_at = now() - interval '40 days'"
            )
        )
    r = run_cli("purge", "--older-than", "30d", "--dry-run", "--json")
    data = json.loads(r.stdout)
    assert data["jobs"] == 5
    assert {(g["status"], g["format"], g["batch"], g["jobs"]) for g in data["groups"]} == {
        ("completed", "noop", "old-1", 3),
        ("failed", "test-sleep", "old-2", 2),
    }
    r = run_cli("purge", "--older-than", "30d", "--dry-run", "--list", env={"COLUMNS": "200"})
    assert "would delete 5" in r.stderr and "old-1" in r.stdout and "test-sleep" in r.stdout
    for job_id in a + b:
        assert str(job_id)[:8] in r.stdout
    assert status_counts(clean_db) == {"completed": 3, "failed": 2}, "a dry run deletes nothing"


# -- 11: readable results ----------------------------------------------------------------


def test_ifc_full_detail_reads_like_a_property_panel(clean_db: Engine, tmp_path: Path) -> None:
    r = run_cli("run", str(SAMPLES / "ifc"), "-r", "-q", "--option", "detail=full")
    assert r.returncode == 0, r.stderr
    [job_id] = run_cli("jobs", "--ids").stdout.split()
    text = run_cli("result", job_id, env={"COLUMNS": "120"}).stdout
    assert "elements (6)" in text and "global_id" in text
    assert '{"' not in text, "no JSON dumped in a narrow column"
    assert len(text.splitlines()) < 400


# -- 12, 13: help and docs ---------------------------------------------------------------


def test_db_url_show_password_works_with_pg_dump(clean_db: Engine, tmp_path: Path) -> None:
    r = run_cli("db", "url", "--show-password")
    assert r.returncode == 0 and "contains the database password" in r.stderr
    url = r.stdout.strip()
    assert url.startswith("postgresql://")
    # pg_dump must match the server's major version: the embedded server's own one
    pg_dump = Path(pgserver.__file__).parent / "pginstall" / "bin" / "pg_dump"
    dump = subprocess.run(
        [str(pg_dump), "--schema-only", "--schema", "cadextract", url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert dump.returncode == 0, dump.stderr
    assert "extraction_jobs" in dump.stdout
    masked = run_cli("db", "url").stdout
    assert "***" in masked or ":@" not in url  # the embedded server may have no password
    assert "--show-password" in (REPO / "docs" / "configuration.md").read_text()


def test_help_and_docs_say_what_is_true(clean_db: Engine, tmp_path: Path) -> None:
    env = {"COLUMNS": "150"}
    top = run_cli("--help", env=env).stdout
    commands = top[top.index("Commands:") :]
    assert "..." not in commands, "first sentences fit"
    export_help = run_cli("export", "--help", env=env).stdout
    assert "pending" not in export_help and "completed" in export_help
    for cmd in ("work", "run"):
        h = run_cli(cmd, "--help", env=env).stdout
        assert re.search(r"-q, --quiet\s+\S", h) and re.search(r"-v, --verbose\s+\S", h), cmd
    doctor = json.loads(run_cli("doctor", "--json").stdout)
    assert all(not (isinstance(c["detail"], str) and c["detail"].startswith("{")) for c in doctor)
    guide = (REPO / "docs" / "guide.md").read_text() + (REPO / "docs" / "results.md").read_text()
    assert "progress_note" in guide and "submitted_by" in guide
    # a permanent failure does not read as "retries left", logs carry the zone
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "broken.dxf").write_text(BROKEN_DXF)
    r = run_cli("run", str(folder), "-r")
    assert re.search(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ (INFO|WARNING) ", r.stderr, re.M), r.stderr
    listing = run_cli("jobs", env=env).stdout
    assert "1, final" in listing and "1/4" not in listing


@pytest.mark.skipif(not (CORPUS / "bad").is_dir(), reason="corpus absent")
def test_encrypted_pdf_message_names_the_real_flag(clean_db: Engine) -> None:
    pdf = CORPUS / "bad" / "pdfplumber__password-example.pdf"
    r = run_cli("run", str(pdf), "-q")
    assert r.returncode == 1
    [job] = json.loads(run_cli("jobs", "--json").stdout)
    assert "--option password=" in job["last_error_message"]
