"""Incremental submit against a real PostgreSQL and real files: what is hashed again, and why."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cadextract.sources import cache, decide
from cadextract.sources.submit import Outcome, Request, submit
from cadextract.store import readmodels
from tests.conftest import run_cli


@pytest.fixture
def db(clean_db: Engine) -> Engine:
    with clean_db.begin() as conn:
        conn.execute(sa.text("TRUNCATE cadextract.source_files"))
    return clean_db


def tree(root: Path, n: int = 5) -> list[Path]:
    root.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        p = root / f"d{i}" / f"f{i}.dxf"
        p.parent.mkdir(exist_ok=True)
        p.write_bytes(f"0\nSECTION\n{i}\n".encode())
        out.append(p)
    # older than the racy window, so the first submit's rows are trusted next time
    old = time.time_ns() - 3 * decide.RACY_NS
    for p in out:
        os.utime(p, ns=(old, old))
    time.sleep(decide.RACY_NS / 1e9 + 0.1)
    return out


def go(engine: Engine, root: Path, **kw: object) -> Outcome:
    return submit(engine, Request(paths=[str(root)], recursive=True, forced_format="noop", **kw))  # type: ignore[arg-type]


def queued(o: Outcome) -> list[str]:
    return [e.job.path for e in o.outcomes if e.skipped_reason is None]


def test_second_run_hashes_nothing_and_gives_the_same_answer(db: Engine, tmp_path: Path) -> None:
    files = tree(tmp_path / "t")
    first = go(db, tmp_path / "t")
    assert first.hashed == 5 and first.unchanged == 0 and len(queued(first)) == 5
    second = go(db, tmp_path / "t")
    assert second.hashed == 0 and second.unchanged == 5 and queued(second) == []
    assert [e.job_id for e in second.outcomes] == [e.job_id for e in first.outcomes]
    assert all(e.skipped_reason == "already queued (same content)" for e in second.outcomes)
    forced = go(db, tmp_path / "t", rehash=True)
    assert forced.hashed == 5 and queued(forced) == []
    assert {e.job.path for e in first.outcomes} == {str(p) for p in files}


def test_same_second_same_size_rewrite_is_hashed_and_queued(db: Engine, tmp_path: Path) -> None:
    [f, *_] = tree(tmp_path / "t", 2)
    go(db, tmp_path / "t")
    st = f.stat()
    f.write_bytes(f.read_bytes().replace(b"0\n", b"9\n", 1))  # same size
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))  # mtime put back: only ctime shows it
    assert f.stat().st_size == st.st_size and f.stat().st_mtime_ns == st.st_mtime_ns
    time.sleep(decide.RACY_NS / 1e9 + 0.1)
    again = go(db, tmp_path / "t")
    assert again.hashed == 1 and queued(again) == [str(f)]


def test_file_replaced_by_an_older_file_is_hashed_and_queued(db: Engine, tmp_path: Path) -> None:
    [f, *_] = tree(tmp_path / "t", 2)
    go(db, tmp_path / "t")
    older = tmp_path / "older.dxf"
    older.write_bytes(b"0\nSECTION\nolder\n")
    os.utime(older, ns=(1_000_000_000, 1_000_000_000))  # 1970: older than anything cached
    os.replace(older, f)
    time.sleep(decide.RACY_NS / 1e9 + 0.1)
    again = go(db, tmp_path / "t")
    assert again.hashed == 1 and queued(again) == [str(f)]


def test_rename_dedupes_by_content_reports_the_old_path_and_finds_the_new(db: Engine, tmp_path: Path) -> None:
    [f, g, *_] = tree(tmp_path / "t", 3)
    first = go(db, tmp_path / "t")
    job_id = next(e.job_id for e in first.outcomes if e.job.path == str(f))
    renamed = f.with_name("renamed.dxf")
    f.rename(renamed)
    g.unlink()
    again = go(db, tmp_path / "t")
    assert again.hashed == 1 and queued(again) == []  # same content: no second job
    [moved] = [e for e in again.outcomes if e.job.path == str(renamed)]
    assert moved.job_id == job_id and moved.skipped_reason == "already queued (same content)"
    assert again.disappeared == [str(f), str(g)]
    # the new path finds the job (through the stat cache), the old one still does
    with db.connect() as conn:
        by_new = readmodels.list_jobs(conn, readmodels.JobFilter(path_glob="renamed.dxf"))
        by_old = readmodels.list_jobs(conn, readmodels.JobFilter(path_glob=f.name))
        # a file name is looked up through the reversed-path indexes; case is ignored there too
        by_upper = readmodels.list_jobs(conn, readmodels.JobFilter(path_glob="RENAMED.DXF"))
        by_walk = readmodels.list_jobs(conn, readmodels.JobFilter(path_glob="*med.dxf"))
    assert [j.id for j in by_new] == [job_id] and [j.id for j in by_old] == [job_id]
    assert [j.id for j in by_upper] == [j.id for j in by_walk] == [job_id]
    # gone files stay reported (and their jobs kept) until they come back
    assert go(db, tmp_path / "t").disappeared == [str(f), str(g)]
    g.write_bytes(b"back")
    assert go(db, tmp_path / "t").disappeared == [str(f)]
    with db.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM cadextract.extraction_jobs")).scalar_one() >= 3


def test_dry_run_queues_and_records_nothing(db: Engine, tmp_path: Path) -> None:
    tree(tmp_path / "t", 3)
    dry = go(db, tmp_path / "t", dry_run=True)
    assert len(queued(dry)) == 3  # the answer a real submit would give
    with db.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM cadextract.extraction_jobs")).scalar_one() == 0
        assert conn.execute(sa.text("SELECT count(*) FROM cadextract.source_files")).scalar_one() == 0


def test_run_report_lists_disappeared_files_and_export_finds_renamed(db: Engine, tmp_path: Path) -> None:
    [f, *_] = tree(tmp_path / "t", 2)
    report = tmp_path / "report.json"
    args = ["run", str(tmp_path / "t"), "-r", "--format", "noop", "-q", "--report", str(report)]
    r = run_cli(*args)
    assert r.returncode == 0, r.stderr
    assert json.loads(report.read_text())["hashed"] == 2
    f.rename(f.with_name("moved.dxf"))
    r = run_cli(*args)
    assert r.returncode == 0, r.stderr
    summary = json.loads(report.read_text())
    assert summary["disappeared"] == [str(f)] and summary["hashed"] == 1 and summary["unchanged"] == 1
    assert "1 disappeared" in r.stderr
    r = run_cli("export", "--path", "moved.dxf")
    assert r.returncode == 0, r.stderr
    [line] = r.stdout.splitlines()
    assert json.loads(line)["job"]["path"] == str(f)  # the job that holds the content


def set_status(engine: Engine, path: Path, status: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE cadextract.extraction_jobs SET status = :s, attempts = 1 WHERE path = :p"),
            {"s": status, "p": str(path)},
        )


def test_unchanged_files_get_the_answer_enqueue_would_give(db: Engine, tmp_path: Path) -> None:
    done, failed, cancelled, waiting = tree(tmp_path / "t", 4)
    first = go(db, tmp_path / "t")
    ids = {e.job.path: e.job_id for e in first.outcomes}
    for path, status in ((done, "completed"), (failed, "failed"), (cancelled, "cancelled")):
        set_status(db, path, status)
    again = go(db, tmp_path / "t")
    assert again.hashed == 0 and again.unchanged == 4
    reasons = {e.job.path: (e.job_id, e.skipped_reason) for e in again.outcomes}
    assert reasons[str(done)] == (ids[str(done)], "already completed (same content)")
    assert reasons[str(failed)][0] == ids[str(failed)] and "known failure" in str(reasons[str(failed)][1])
    assert reasons[str(waiting)] == (ids[str(waiting)], "already queued (same content)")
    assert reasons[str(cancelled)][1] is None  # a cancel is no verdict: queued again
    assert reasons[str(cancelled)][0] not in ids.values()
    # what run's report reads back without a second look-up: the finished jobs, as they are
    assert {f["status"] for f in again.finished.values()} == {"completed", "failed"}
    # the flags that override the newest job still do
    retried = go(db, tmp_path / "t", retry_failed=True)
    assert [e.job.path for e in retried.outcomes if e.skipped_reason is None] == [str(failed)]
    forced = go(db, tmp_path / "t", force=True)
    assert [e.job.path for e in forced.outcomes if e.skipped_reason is None] == [str(done)]


def test_run_report_of_an_unchanged_tree_keeps_every_file_and_status(db: Engine, tmp_path: Path) -> None:
    files = tree(tmp_path / "t", 3)
    report = tmp_path / "report.json"
    args = ["run", str(tmp_path / "t"), "-r", "--format", "noop", "-q", "--report", str(report)]
    assert run_cli(*args).returncode == 0
    set_status(db, files[0], "failed")
    r = run_cli(*args)
    assert r.returncode == 5, r.stderr  # only a known failure left
    summary = json.loads(report.read_text())
    assert summary["unchanged"] == 3 and summary["hashed"] == 0 and summary["submitted"] == 0
    by_path = {f["path"]: f for f in summary["files"]}
    assert by_path[str(files[0])]["status"] == "failed" and by_path[str(files[0])]["known_failure"]
    with db.connect() as conn:
        ids = dict(conn.execute(sa.text("SELECT path, id FROM cadextract.extraction_jobs")).all())
    assert {p: f["job_id"] for p, f in by_path.items()} == {p: str(i) for p, i in ids.items()}
    assert [by_path[str(p)]["status"] for p in files[1:]] == ["completed", "completed"]


def set_status_of(engine: Engine, job_id: object, status: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE cadextract.extraction_jobs SET status = :s WHERE id = :i"),
            {"s": status, "i": job_id},
        )


def test_the_newest_of_several_jobs_of_a_content_decides(db: Engine, tmp_path: Path) -> None:
    [f] = tree(tmp_path / "t", 1)
    [old] = [e.job_id for e in go(db, tmp_path / "t").outcomes]
    set_status_of(db, old, "completed")
    [second] = [e.job_id for e in go(db, tmp_path / "t", force=True).outcomes]  # same content, new job
    assert second != old
    with db.connect() as conn:
        latest = cache.load(conn, folders=[str(tmp_path / "t")])[str(f)].latest
    assert latest is not None and (latest.id, latest.status) == (second, "pending")
    set_status_of(db, second, "cancelled")  # the newest is no verdict: the enqueue's dedupe decides
    assert [(e.job_id, e.skipped_reason) for e in go(db, tmp_path / "t").outcomes] == [
        (old, "already completed (same content)")
    ]
    [third] = [e.job_id for e in go(db, tmp_path / "t", force=True).outcomes]  # a third job
    assert third not in (old, second)
    with db.connect() as conn:
        latest = cache.load(conn, folders=[str(tmp_path / "t")])[str(f)].latest
    assert latest is not None and latest.id == third
    assert [(e.job_id, e.skipped_reason) for e in go(db, tmp_path / "t").outcomes] == [
        (third, "already queued (same content)")
    ]
