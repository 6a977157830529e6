"""Previews through the real worker path: made in the child, stored with the result, read back."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.conftest import REPO, run_cli


def _previews(engine: Engine) -> dict[str, tuple[str, int]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                """SELECT j.path, p.mime, octet_length(p.data) AS n FROM cadextract.job_previews p
                   JOIN cadextract.extraction_jobs j ON j.id = p.job_id"""
            )
        ).all()
    return {Path(r.path).name: (r.mime, r.n) for r in rows}


def test_a_run_stores_previews_and_preview_writes_them(clean_db: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(REPO / "samples/files/dxf/bracket.dxf", folder)
    shutil.copy(REPO / "samples/files/pdf/bracket-drawing.pdf", folder)
    r = run_cli("run", str(folder), "-r", "-q")
    assert r.returncode == 0, r.stderr
    stored = _previews(clean_db)
    assert stored["bracket.dxf"][0] == "image/svg+xml" and 0 < stored["bracket.dxf"][1] <= 200 * 1024
    assert stored["bracket-drawing.pdf"][0] in ("image/png", "image/jpeg")
    ids = run_cli("jobs", "--format", "dxf", "--ids").stdout.split()
    out = tmp_path / "bracket.svg"
    w = run_cli("preview", ids[0][:8], "-o", str(out))
    assert w.returncode == 0, w.stderr
    assert out.read_bytes().lstrip().startswith(b"<svg")
    document = json.loads(run_cli("result", ids[0], "--json").stdout)
    with clean_db.connect() as conn:
        seconds = conn.execute(
            sa.text("SELECT seconds FROM cadextract.job_previews WHERE job_id = :id"), {"id": ids[0]}
        ).scalar()
    assert seconds is not None and seconds > 0  # the time it took, kept with the preview
    assert "preview_s" not in document["timings"]


def test_no_previews_skips_them(clean_db: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(REPO / "samples/files/pdf/bracket-drawing.pdf", folder)
    r = run_cli("run", str(folder), "-r", "-q", "--no-previews")
    assert r.returncode == 0, r.stderr
    assert _previews(clean_db) == {}
    [job_id] = run_cli("jobs", "--ids").stdout.split()
    missing = run_cli("preview", job_id, "-o", str(tmp_path / "x.png"))
    assert missing.returncode == 4 and "has no preview" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_serve_refuses_a_public_address_without_a_token(clean_db: Engine) -> None:
    r = run_cli("serve", "--host", "0.0.0.0", "--port", "1")
    assert r.returncode == 2
    assert "without a token" in r.stderr and "Traceback" not in r.stderr


def _job_states(engine: Engine) -> dict[str, dict[str, object]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                """SELECT j.path, j.status, j.attempts, j.errors, r.document -> 'warnings' AS warnings,
                          p.job_id IS NOT NULL AS has_preview
                   FROM cadextract.extraction_jobs j
                   LEFT JOIN cadextract.extraction_results r ON r.job_id = j.id
                   LEFT JOIN cadextract.job_previews p ON p.job_id = j.id"""
            )
        ).all()
    return {Path(r.path).stem: dict(r._mapping) for r in rows}


def test_a_preview_that_hangs_or_crashes_costs_its_child_never_a_job(
    clean_db: Engine, tmp_path: Path
) -> None:
    """One child, so the jobs behind a hanging or crashing preview wait in its pipe: they
    go back to the queue unharmed and complete; the two jobs keep their results."""
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a-hang", "b-ok", "c-crash", "d-ok", "e-fail", "f-ok"):
        (folder / f"{name}.bin").write_text(name.split("-")[1] + " " + name)
    r = run_cli("submit", str(folder), "-r", "--format", "test-preview")
    assert r.returncode == 0, r.stderr
    w = run_cli(
        "work", "--until-empty", "-c", "1", "--prefetch", "4", "-q",
        env={"CADEXTRACT_PREVIEW_SECONDS": "2"},
    )  # fmt: skip
    assert w.returncode == 0, w.stderr
    assert "Traceback" not in w.stderr
    jobs = _job_states(clean_db)
    assert {name: j["status"] for name, j in jobs.items()} == dict.fromkeys(jobs, "completed")
    assert all(j["errors"] in (None, []) for j in jobs.values()), jobs  # no attempt failed
    assert {name for name, j in jobs.items() if j["has_preview"]} == {"b-ok", "d-ok", "f-ok"}
    assert jobs["a-hang"]["warnings"] == [
        "preview skipped: it took longer than the 2s limit; the child was killed"
    ]
    assert jobs["c-crash"]["warnings"] == ["preview failed: the renderer was killed by SIGSEGV"]
    assert jobs["e-fail"]["warnings"] == [
        "preview failed: ValueError: this test file asks for a failing preview"
    ]
    assert jobs["b-ok"]["warnings"] == []
