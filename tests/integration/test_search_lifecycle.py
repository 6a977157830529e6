"""The index follows the jobs: re-runs, purge, cancel, retry, and a migration from 0002."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cadextract import db
from cadextract.config import Settings
from cadextract.runtime import supervisor
from cadextract.search import query, store
from cadextract.store import commands
from tests.helpers import enqueue_files, job_rows, make_files, wait_until

FAST = Settings(
    database_url=None, home=Path("/nonexistent"), lease_seconds=5, heartbeat_seconds=0.2, poll_seconds=0.2
)


def _enqueue(engine: Engine, paths: list[Path]) -> list[uuid.UUID]:
    """Jobs that do nothing but are indexed like real ones (``noop`` writes no index row)."""
    return enqueue_files(engine, paths, fmt="test-sleep", options={"seconds": 0})


def _run(engine: Engine, **kw: Any) -> None:
    supervisor.Supervisor(engine, FAST, supervisor.Options(concurrency=1, until_empty=True, **kw)).run()


def _hits(engine: Engine, text: str, *, all_jobs: bool = False) -> list[uuid.UUID]:
    with engine.connect() as conn:
        return [h.job_id for h in store.search(conn, query.parse(text), query.Filters(), all_jobs=all_jobs)]


def _index_rows(engine: Engine) -> dict[uuid.UUID, bool]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT job_id, is_latest FROM cadextract.search_index")).all()
    return {r.job_id: r.is_latest for r in rows}


def test_forced_rerun_gives_one_hit_the_newest(clean_db: Engine, tmp_path: Path) -> None:
    [path] = make_files(tmp_path, 1, prefix="rerun-part")
    [first] = _enqueue(clean_db, [path])
    _run(clean_db)
    row = job_rows(clean_db)[first]
    with clean_db.begin() as conn:  # what `cadextract submit --force` does
        [again] = commands.enqueue(
            conn,
            [commands.NewJob(path=row.path, size=row.size, sha256=row.sha256, format=row.format)],
            force=True,
        )
    second = again.job_id
    assert second is not None and second != first
    _run(clean_db)
    assert _hits(clean_db, "rerun-part00000.bin") == [second]
    assert set(_hits(clean_db, "rerun-part00000.bin", all_jobs=True)) == {first, second}
    assert _index_rows(clean_db) == {first: False, second: True}
    # the documents view shows the file once, from the newest job
    with clean_db.connect() as conn:
        assert conn.execute(sa.text("SELECT job_id FROM cadextract.documents")).scalars().all() == [second]
    # deleting the newest job hands "latest" back to the older one
    with clean_db.begin() as conn:
        conn.execute(sa.text("DELETE FROM cadextract.extraction_jobs WHERE id = :id"), {"id": second})
    assert _hits(clean_db, "rerun-part00000.bin") == [first]


def test_purge_removes_the_index_rows(clean_db: Engine, tmp_path: Path) -> None:
    _enqueue(clean_db, make_files(tmp_path, 5, prefix="purged"))
    _run(clean_db)
    assert len(_index_rows(clean_db)) == 5 and len(_hits(clean_db, "purged*")) == 5
    with clean_db.begin() as conn:
        assert commands.purge(conn, older_than_seconds=0) == 5
    assert _index_rows(clean_db) == {} and _hits(clean_db, "purged*") == []


def test_cancel_and_retry_leave_no_stale_hits(clean_db: Engine, tmp_path: Path) -> None:
    [jid] = enqueue_files(
        clean_db, make_files(tmp_path, 1, prefix="cancelled-part"), fmt="test-sleep", options={"seconds": 1.5}
    )
    runner = threading.Thread(target=_run, args=(clean_db,))
    runner.start()
    wait_until(lambda: job_rows(clean_db)[jid].status == "processing")
    with clean_db.begin() as conn:
        commands.cancel(conn, [jid])
    runner.join(timeout=30)
    assert job_rows(clean_db)[jid].status == "cancelled"
    assert _index_rows(clean_db) == {} and _hits(clean_db, "cancelled-part*") == []
    with clean_db.begin() as conn:
        assert commands.retry(conn, [jid]) == [jid]
    assert _hits(clean_db, "cancelled-part*") == []  # pending again: nothing to find yet
    _run(clean_db)
    assert job_rows(clean_db)[jid].status == "completed"
    assert _hits(clean_db, "cancelled-part*") == [jid] and list(_index_rows(clean_db)) == [jid]


def test_a_completed_job_that_leaves_completed_takes_its_hits_along(clean_db: Engine, tmp_path: Path) -> None:
    # no command does this today; the trigger keeps the index honest if one ever does
    [jid] = _enqueue(clean_db, make_files(tmp_path, 1, prefix="reopened"))
    _run(clean_db)
    assert _hits(clean_db, "reopened*") == [jid]
    with clean_db.begin() as conn:
        conn.execute(
            sa.text("UPDATE cadextract.extraction_jobs SET status = 'failed' WHERE id = :id"), {"id": jid}
        )
    assert _index_rows(clean_db) == {}


def test_noop_jobs_are_not_indexed_even_by_the_index_command(clean_db: Engine, tmp_path: Path) -> None:
    enqueue_files(clean_db, make_files(tmp_path, 2, prefix="noop"))  # fmt noop
    _run(clean_db)
    with clean_db.begin() as conn:
        assert store.index_batch(conn)[0] == 0 and store.counts(conn).completed == 0
    assert _index_rows(clean_db) == {}


def test_index_switched_off_then_built_by_the_index_command(
    clean_db: Engine, tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.setenv("CADEXTRACT_SEARCH_INDEX", "off")  # inherited by the children
    ids = _enqueue(clean_db, make_files(tmp_path, 3, prefix="late"))
    _run(clean_db)
    assert _index_rows(clean_db) == {}
    from tests.conftest import run_cli

    got = run_cli("index")
    assert got.returncode == 0 and "indexed 3 result(s)" in got.stderr, got.stderr
    assert set(_hits(clean_db, "late*")) == set(ids)
    rebuilt = run_cli("index", "--rebuild", "--batch-size", "2", "--json")
    assert rebuilt.returncode == 0 and '"indexed": 3' in rebuilt.stdout, rebuilt.stderr
    assert set(_index_rows(clean_db).values()) == {True}


def test_upgrade_from_0002_indexes_the_results_already_there(clean_db: Engine, tmp_path: Path) -> None:
    from alembic import command

    [old] = _enqueue(clean_db, make_files(tmp_path, 1, prefix="before-upgrade"))
    _run(clean_db)
    cfg = db._alembic_config(clean_db)
    try:
        with clean_db.connect() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0002")
            conn.commit()
        with clean_db.connect() as conn:
            assert not sa.inspect(conn).has_table("search_index", schema="cadextract")
            assert conn.execute(sa.text("SELECT count(*) FROM cadextract.extraction_results")).scalar() == 1
    finally:
        db.upgrade(clean_db)
    assert db.current_revision(clean_db) == db.SCHEMA_HEAD
    assert _hits(clean_db, "before-upgrade00000.bin") == [old]
    assert _index_rows(clean_db) == {old: True}
