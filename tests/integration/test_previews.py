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
    assert document["timings"]["preview_s"] > 0


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
