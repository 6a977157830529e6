"""The supervisor with real child processes on a real PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cadextract.config import Settings
from cadextract.runtime import supervisor
from tests.helpers import enqueue_files, job_rows, make_files, result_count

FAST = Settings(
    database_url=None,
    home=Path("/nonexistent"),
    lease_seconds=5,
    heartbeat_seconds=0.2,
    poll_seconds=0.2,
    backoff_base=0.05,
    backoff_cap=0.2,
)


def run_worker(engine: Engine, settings: Settings = FAST, **kw: Any) -> supervisor.Supervisor:
    kw.setdefault("concurrency", 2)
    kw.setdefault("until_empty", True)
    kw.setdefault("wait_for_retries", True)
    events: list[supervisor.Event] = []
    sup = supervisor.Supervisor(engine, settings, supervisor.Options(**kw), on_event=events.append)
    sup.run()
    sup.events = events  # type: ignore[attr-defined]
    return sup


def test_noop_jobs_all_complete_once(clean_db: Engine, tmp_path: Path) -> None:
    ids = enqueue_files(clean_db, make_files(tmp_path, 50))
    sup = run_worker(clean_db, prefetch=4)
    rows = job_rows(clean_db)
    assert {rows[i].status for i in ids} == {"completed"}
    assert result_count(clean_db) == 50
    assert sup.stats.completed == 50 and sup.stats.claimed == 50
    assert all(rows[i].attempts == 1 and rows[i].progress == 100 for i in ids)


def _most_held_unfinished(engine: Engine, **kw: Any) -> int:
    """Run a worker; the most jobs it held at once that were claimed but not finished."""
    most = 0

    def on_tick(s: supervisor.Supervisor) -> None:
        nonlocal most
        most = max(most, s.unfinished())

    sup = supervisor.Supervisor(engine, FAST, supervisor.Options(until_empty=True, **kw))
    sup.on_tick = on_tick
    sup.run()
    assert sup.stats.completed == sup.stats.claimed > 0
    return most


def test_loop_sleeps_while_every_child_is_busy(clean_db: Engine, tmp_path: Path) -> None:
    # more jobs than children: claims are due but there is no room for them
    enqueue_files(clean_db, make_files(tmp_path, 3), fmt="test-sleep", options={"seconds": 1.5})
    turns = 0

    def on_tick(s: supervisor.Supervisor) -> None:
        nonlocal turns
        turns += 1

    sup = supervisor.Supervisor(clean_db, FAST, supervisor.Options(concurrency=1, until_empty=True))
    sup.on_tick = on_tick
    sup.run()
    assert sup.stats.completed == 3
    # 4.5 s of work: woken by progress (4/s), heartbeats (5/s) and the 0.25 s cap,
    # about a hundred turns; a loop that spins takes tens of thousands
    assert turns < 400, turns


def test_seconds_long_jobs_are_claimed_one_per_child(clean_db: Engine, tmp_path: Path) -> None:
    enqueue_files(clean_db, make_files(tmp_path, 4), fmt="test-sleep", options={"seconds": 0.3})
    # nothing held back from other workers while a child is busy
    assert _most_held_unfinished(clean_db, concurrency=1) == 1


def test_tiny_jobs_are_held_ahead(clean_db: Engine, tmp_path: Path) -> None:
    enqueue_files(clean_db, make_files(tmp_path / "a", 400))
    assert _most_held_unfinished(clean_db, concurrency=1) > 8
    # --prefetch fixes the number instead
    enqueue_files(clean_db, make_files(tmp_path / "b", 100))
    assert _most_held_unfinished(clean_db, concurrency=1, prefetch=0) == 1


def test_claimed_job_shows_processing_with_worker_and_start(clean_db: Engine, tmp_path: Path) -> None:
    [jid] = enqueue_files(clean_db, make_files(tmp_path, 1), fmt="test-sleep", options={"seconds": 0.5})
    seen: list[Any] = []

    def on_event(e: supervisor.Event) -> None:
        if e.kind == "claimed":
            seen.append(job_rows(clean_db)[e.job_id])

    sup = supervisor.Supervisor(
        clean_db, FAST, supervisor.Options(concurrency=1, until_empty=True), on_event=on_event
    )
    sup.run()
    [row] = seen
    assert row.status == "processing" and row.worker_id == sup.worker_id and row.started_at is not None
    assert job_rows(clean_db)[jid].status == "completed"


def test_progress_is_stored_while_running(clean_db: Engine, tmp_path: Path) -> None:
    [jid] = enqueue_files(clean_db, make_files(tmp_path, 1), fmt="test-sleep", options={"seconds": 2})
    samples: list[float] = []

    def on_tick(s: supervisor.Supervisor) -> None:
        row = job_rows(clean_db)[jid]
        if row.status == "processing":
            samples.append(row.progress)

    sup = supervisor.Supervisor(clean_db, FAST, supervisor.Options(concurrency=1, until_empty=True))
    sup.on_tick = on_tick
    sup.run()
    moving = [p for p in samples if 0 < p < 100]
    assert len(set(moving)) >= 3, samples  # a moving figure, not 0 then 100


def test_transient_failures_retry_with_backoff_then_succeed(clean_db: Engine, tmp_path: Path) -> None:
    [jid] = enqueue_files(
        clean_db,
        make_files(tmp_path, 1),
        fmt="test-flaky",
        options={"fail_times": 2, "state_dir": str(tmp_path / "state")},
    )
    run_worker(clean_db)
    row = job_rows(clean_db)[jid]
    assert row.status == "completed" and row.attempts == 3
    assert [e["type"] for e in row.errors] == ["TransientError", "TransientError"]
    assert [e["attempt"] for e in row.errors] == [1, 2]
    assert all(e["worker"] and e["at"] for e in row.errors)


def test_retries_run_out(clean_db: Engine, tmp_path: Path) -> None:
    [jid] = enqueue_files(
        clean_db,
        make_files(tmp_path, 1),
        fmt="test-flaky",
        max_attempts=2,
        options={"fail_times": 5, "state_dir": str(tmp_path / "state")},
    )
    run_worker(clean_db)
    row = job_rows(clean_db)[jid]
    assert row.status == "failed" and row.attempts == 2 and len(row.errors) == 2


def test_corrupt_file_fails_permanently_at_once(clean_db: Engine, tmp_path: Path) -> None:
    bad = tmp_path / "broken.dxf"
    bad.write_bytes(b"this is not a drawing\n" * 20)
    [jid] = enqueue_files(clean_db, [bad], fmt="dxf")
    run_worker(clean_db)
    row = job_rows(clean_db)[jid]
    assert row.status == "failed" and row.attempts == 1
    assert row.errors[0]["permanent"] is True
    assert row.last_error_type in {"WrongFormat", "CorruptFile"}


def test_file_changed_since_submit_fails_clearly(clean_db: Engine, tmp_path: Path) -> None:
    [p] = make_files(tmp_path, 1)
    [jid] = enqueue_files(clean_db, [p])
    p.write_bytes(b"something else entirely")
    run_worker(clean_db)
    row = job_rows(clean_db)[jid]
    assert row.status == "failed" and row.last_error_type == "FileChanged"
    assert "submit it again" in row.last_error_message


def test_missing_file_is_transient(clean_db: Engine, tmp_path: Path) -> None:
    [p] = make_files(tmp_path, 1)
    [jid] = enqueue_files(clean_db, [p], max_attempts=2)
    p.unlink()
    run_worker(clean_db)
    row = job_rows(clean_db)[jid]
    assert row.status == "failed" and row.attempts == 2
    assert [e["type"] for e in row.errors] == ["FileUnreadable", "FileUnreadable"]


def test_result_size_ceiling(clean_db: Engine, tmp_path: Path) -> None:
    [jid] = enqueue_files(clean_db, make_files(tmp_path, 1), fmt="test-sleep", options={"seconds": 0})
    tiny = Settings(**{**FAST.__dict__, "max_result_mb": 0.00001})
    run_worker(clean_db, tiny)
    row = job_rows(clean_db)[jid]
    assert row.status == "failed" and row.last_error_type == "ResultTooLarge"
    assert result_count(clean_db) == 0


def test_children_are_recycled(clean_db: Engine, tmp_path: Path) -> None:
    enqueue_files(clean_db, make_files(tmp_path, 12))
    recycle = Settings(**{**FAST.__dict__, "recycle_after": 3})
    sup = run_worker(clean_db, recycle, concurrency=1)
    assert sup.stats.completed == 12
    assert sup.stats.children_started == 4


def test_a_child_past_half_the_memory_limit_is_replaced_after_its_job(
    clean_db: Engine, tmp_path: Path
) -> None:
    enqueue_files(
        clean_db,
        make_files(tmp_path / "big", 1),
        fmt="test-allocate",
        options={"mb": 192, "step_delay": 0.25},
        priority=10,
    )
    enqueue_files(clean_db, make_files(tmp_path / "small", 3))
    settings = Settings(**{**FAST.__dict__, "memory_limit_mb": 320})
    sup = run_worker(clean_db, settings, concurrency=1)
    # the big job completes (under the limit), then a fresh child runs the rest
    assert sup.stats.completed == 4 and sup.stats.failed == 0
    assert sup.stats.children_started == 2


def test_only_registered_formats_are_claimed(clean_db: Engine, tmp_path: Path) -> None:
    [jid] = enqueue_files(clean_db, make_files(tmp_path, 1), fmt="dwg-plugin-not-here")
    run_worker(clean_db)
    assert job_rows(clean_db)[jid].status == "pending"  # left for a host that has the plugin
    with clean_db.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM cadextract.extraction_results")).scalar_one() == 0


def test_backoff_can_be_set_per_job(clean_db: Engine, tmp_path: Path) -> None:
    [jid] = enqueue_files(
        clean_db,
        make_files(tmp_path, 1),
        fmt="test-flaky",
        options={
            "fail_times": 1,
            "state_dir": str(tmp_path / "s"),
            "backoff_base": 3600,
            "backoff_cap": 7200,
        },
    )
    sup = supervisor.Supervisor(clean_db, FAST, supervisor.Options(concurrency=1, until_empty=True))
    sup.run()
    row = job_rows(clean_db)[jid]
    # full jitter from [0, 3600] s: the retry waits in the database, far beyond this worker's cap
    assert row.status == "pending" and row.attempts == 1
    delay = (row.run_after - row.updated_at).total_seconds()
    # uniform in [0, 3600]: above this worker's own 0.2 s cap except with odds of 1 in 18,000
    assert FAST.backoff_cap < delay <= 3600
