"""Items 4 and 8 of issue 10 through real `python -m cadextract` runs on the embedded PostgreSQL."""

from __future__ import annotations

import json
import os
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.conftest import run_cli
from tests.helpers import job_rows
from tests.hostile.conftest import write_dxf

SECRET = b"root:$6$SUPERSECRET-HASH:19000:0:99999:7:::\n"


def _everything_stored(engine: Engine) -> str:
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT to_jsonb(j)::text FROM cadextract.extraction_jobs j")).scalars()
        return "\n".join(rows)


def test_run_does_not_read_a_link_out_of_the_drop_folder(clean_db: Engine, tmp_path: Path) -> None:
    private = tmp_path / "private"
    private.mkdir()
    (private / "shadow").write_bytes(SECRET)
    write_dxf(private / "plan.dxf", "private plan")
    drop = tmp_path / "drop"
    drop.mkdir()
    write_dxf(drop / "ok.dxf", "public")
    (drop / "x.step").symlink_to(private / "shadow")
    (drop / "plans").symlink_to(private)

    proc = run_cli("run", str(drop), "-r", "-q")
    assert proc.returncode == 0, proc.stderr
    assert "not submittable" in proc.stderr
    paths = {Path(r.path).name: r.status for r in job_rows(clean_db).values()}
    assert paths == {"ok.dxf": "completed"}

    listed = run_cli("submit", str(drop), "-r", "--json")
    assert listed.returncode == 0, listed.stderr
    reasons = {Path(r["path"]).name: r["reason"] for r in json.loads(listed.stdout)}
    assert "--follow-links" in reasons["x.step"]
    assert "outside the folder" in reasons["plans"]

    # with --follow-links the link is read, but its bytes never land in the job
    proc = run_cli("run", str(drop), "-r", "-q", "--follow-links")
    assert proc.returncode == 1, proc.stderr  # x.step is no STEP file: that job fails
    rows = {Path(r.path).name: r for r in job_rows(clean_db).values()}
    assert rows["x.step"].status == "failed"
    assert rows["x.step"].last_error_type == "WrongFormat"
    assert rows["plan.dxf"].status == "completed"
    stored = _everything_stored(clean_db)
    assert "SUPERSECRET" not in stored and "root:$6" not in stored


def test_a_non_utf8_file_name_does_not_stop_the_folder(clean_db: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    write_dxf(folder / "a.dxf", "first")
    write_dxf(folder / "[b] plan.dxf", "second")
    bad = os.path.join(os.fsencode(folder), b"caf\xe9 \x1b[2J.dxf")
    write_dxf(Path(os.fsdecode(bad)), "third")

    proc = run_cli("run", str(folder), "-r")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    statuses = sorted((Path(r.path).name, r.status) for r in job_rows(clean_db).values())
    assert statuses == [("[b] plan.dxf", "completed"), ("a.dxf", "completed")]
    assert "1 not submittable" in proc.stderr

    shown = run_cli("submit", str(folder), "-r")
    assert shown.returncode == 0, shown.stderr
    assert "caf\\xe9" in shown.stdout  # the undecodable byte is shown, escaped
    assert "\x1b" not in shown.stdout
    assert "not valid UTF-8" in shown.stdout
