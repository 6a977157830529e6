"""Queue operations against a real PostgreSQL: submit, claim, lease, retry, fence, cancel."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cadextract.models import JobStatus
from cadextract.store import commands, parsing, protocol, readmodels
from tests.helpers import enqueue_files, job_rows, make_files


def claim(engine: Engine, n: int = 1, worker: str = "w:1", lease: float = 30.0) -> list[protocol.Claimed]:
    with engine.begin() as conn:
        return protocol.claim(conn, worker_id=worker, limit=n, lease_seconds=lease)


def test_enqueue_dedupes_by_content_and_format(clean_db: Engine, tmp_path: Path) -> None:
    a, b = make_files(tmp_path, 2)
    twin = tmp_path / "twin.bin"
    twin.write_bytes(a.read_bytes())  # same content at another path
    ids = enqueue_files(clean_db, [a, b, twin])
    assert len(ids) == 2  # the twin is the same content: skipped in the same statement
    assert enqueue_files(clean_db, [a, b]) == []  # already pending
    # other format = other job
    assert len(enqueue_files(clean_db, [a], fmt="test-sleep")) == 1
    # completed content stays deduped unless forced
    jobs = claim(clean_db, 10)
    with clean_db.begin() as conn:
        protocol.complete(conn, [protocol.Completion(j.id, j.token, "{}", 2) for j in jobs])
    assert enqueue_files(clean_db, [a]) == []
    hashes = [(str(a.resolve()), a.stat().st_size)]
    with clean_db.begin() as conn:
        forced = commands.enqueue(
            conn,
            [
                commands.NewJob(
                    path=hashes[0][0],
                    size=hashes[0][1],
                    sha256=job_rows(clean_db)[ids[0]].sha256,
                    format="noop",
                )
            ],
            force=True,
        )
    assert forced[0].skipped_reason is None


def test_claim_order_priority_then_run_after_then_age(clean_db: Engine, tmp_path: Path) -> None:
    low = enqueue_files(clean_db, make_files(tmp_path / "low", 2), priority=0)
    high = enqueue_files(clean_db, make_files(tmp_path / "high", 1), priority=5)
    later = enqueue_files(clean_db, make_files(tmp_path / "later", 1), priority=9)
    with clean_db.begin() as conn:  # backing off: not runnable yet, whatever its priority
        conn.execute(
            sa.text(
                "UPDATE cadextract.extraction_jobs SET run_after = now() + interval '1 hour' WHERE id = :id"
            ),
            {"id": later[0]},
        )
    order = [j.id for j in claim(clean_db, 10)]
    assert order == [high[0], low[0], low[1]]


def test_claim_sets_processing_fields(clean_db: Engine, tmp_path: Path) -> None:
    [jid] = enqueue_files(clean_db, make_files(tmp_path, 1))
    row = job_rows(clean_db)[jid]
    assert (row.status, row.attempts, row.progress, row.worker_id, row.started_at) == (
        "pending",
        0,
        0,
        None,
        None,
    )
    [c] = claim(clean_db, worker="host:42")
    row = job_rows(clean_db)[jid]
    assert row.status == "processing" and row.worker_id == "host:42" and row.attempts == 1
    assert row.started_at is not None and row.lease_expires_at is not None and row.lease_token == c.token


def test_two_workers_never_claim_the_same_job(clean_db: Engine, tmp_path: Path) -> None:
    ids = enqueue_files(clean_db, make_files(tmp_path, 600))
    got: dict[str, list[uuid.UUID]] = {}
    start = threading.Barrier(4)

    def worker(name: str) -> None:
        mine: list[uuid.UUID] = []
        start.wait()
        while True:
            batch = claim(clean_db, 7, worker=name)
            if not batch:
                break
            mine += [j.id for j in batch]
        got[name] = mine

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    claimed = [i for mine in got.values() for i in mine]
    assert len(claimed) == len(set(claimed)) == len(ids)
    assert all(len(mine) > 0 for mine in got.values())  # they really ran concurrently


def test_expired_lease_is_rescued_and_attempt_counted(clean_db: Engine, tmp_path: Path) -> None:
    [jid] = enqueue_files(clean_db, make_files(tmp_path, 1))
    [c] = claim(clean_db, lease=0.2)
    time.sleep(0.4)
    with clean_db.begin() as conn:
        assert protocol.rescue(conn) == [jid]
    row = job_rows(clean_db)[jid]
    assert row.status == "pending" and row.attempts == 1 and row.last_error_type == "LeaseExpired"
    assert row.errors[-1]["worker"] == "w:1"
    # the presumed-dead worker wakes up: its completion is fenced out
    with clean_db.begin() as conn:
        assert protocol.complete(conn, [protocol.Completion(c.id, c.token, '{"late": true}', 14)]) == set()
    [c2] = claim(clean_db, worker="w:2")
    assert c2.attempts == 2 and c2.token != c.token
    with clean_db.begin() as conn:
        assert protocol.complete(conn, [protocol.Completion(c2.id, c2.token, '{"ok": true}', 11)]) == {jid}
        assert readmodels.get_result(conn, jid) == {"ok": True}


def test_rescue_after_last_attempt_fails_the_job(clean_db: Engine, tmp_path: Path) -> None:
    [jid] = enqueue_files(clean_db, make_files(tmp_path, 1), max_attempts=1)
    claim(clean_db, lease=0.1)
    time.sleep(0.3)
    with clean_db.begin() as conn:
        protocol.rescue(conn)
    assert job_rows(clean_db)[jid].status == "failed"


def test_heartbeat_extends_lease_and_reports_lost_and_cancel(clean_db: Engine, tmp_path: Path) -> None:
    a, b = enqueue_files(clean_db, make_files(tmp_path, 2))
    ca, cb = sorted(claim(clean_db, 2, lease=0.5), key=lambda c: c.id == b)
    with clean_db.begin() as conn:
        commands.cancel(conn, [b])
    with clean_db.begin() as conn:
        alive, cancel = protocol.heartbeat(
            conn,
            [
                protocol.Lease(ca.id, ca.token, 40.0, "page 2"),
                protocol.Lease(cb.id, cb.token),
                protocol.Lease(ca.id, uuid.uuid4()),
            ],
            lease_seconds=30,
        )
    assert alive == {a, b} and cancel == {b}
    row = job_rows(clean_db)[a]
    assert row.progress == 40.0 and row.progress_note == "page 2"
    assert (row.lease_expires_at - row.updated_at).total_seconds() > 25


def test_transient_failure_backs_off_then_succeeds(clean_db: Engine, tmp_path: Path) -> None:
    [jid] = enqueue_files(clean_db, make_files(tmp_path, 1))
    [c] = claim(clean_db)
    err = {"type": "FileUnreadable", "message": "share not mounted", "permanent": False, "attempt": 1}
    with clean_db.begin() as conn:
        written = protocol.record_failures(
            conn, [protocol.Failure(c.id, c.token, JobStatus.PENDING, 0.3, err)]
        )
        assert written == {jid: "pending"}
    assert claim(clean_db) == []  # waiting in the database, not in a process
    time.sleep(0.4)
    [c2] = claim(clean_db)
    with clean_db.begin() as conn:
        protocol.complete(conn, [protocol.Completion(c2.id, c2.token, "{}", 2)])
    row = job_rows(clean_db)[jid]
    assert row.status == "completed" and row.attempts == 2 and row.errors == [err]


def test_permanent_failure_ends_the_job(clean_db: Engine, tmp_path: Path) -> None:
    [jid] = enqueue_files(clean_db, make_files(tmp_path, 1))
    [c] = claim(clean_db)
    err = {"type": "CorruptFile", "message": "bad", "permanent": True}
    with clean_db.begin() as conn:
        protocol.record_failures(conn, [protocol.Failure(c.id, c.token, JobStatus.FAILED, 0, err)])
    row = job_rows(clean_db)[jid]
    assert (row.status, row.last_error_type, row.completed_at is not None) == ("failed", "CorruptFile", True)


def test_result_written_at_most_once(clean_db: Engine, tmp_path: Path) -> None:
    [jid] = enqueue_files(clean_db, make_files(tmp_path, 1))
    [c] = claim(clean_db)
    item = protocol.Completion(c.id, c.token, '{"n": 1}', 8)
    with clean_db.begin() as conn:
        assert protocol.complete(conn, [item]) == {jid}
    with clean_db.begin() as conn:  # the same ack again (e.g. resent after a dropped connection)
        assert protocol.complete(conn, [item]) == set()
    with clean_db.connect() as conn:
        n = conn.execute(sa.text("SELECT count(*) FROM cadextract.extraction_results")).scalar_one()
    assert n == 1


def test_cancel_pending_at_once_and_retry_gives_fresh_attempts(clean_db: Engine, tmp_path: Path) -> None:
    a, b = enqueue_files(clean_db, make_files(tmp_path, 2))
    with clean_db.begin() as conn:
        done = commands.cancel(conn, [a, b, uuid.uuid4()])
    assert set(done["cancelled"]) == {a, b} and len(done["finished"]) == 1
    assert job_rows(clean_db)[a].status == "cancelled"
    with clean_db.begin() as conn:
        assert set(commands.retry(conn, [a, b])) == {a, b}
    row = job_rows(clean_db)[a]
    assert row.status == "pending" and row.attempts == 0 and row.cancel_requested_at is None


def test_release_returns_without_counting(clean_db: Engine, tmp_path: Path) -> None:
    [jid] = enqueue_files(clean_db, make_files(tmp_path, 1))
    [c] = claim(clean_db)
    with clean_db.begin() as conn:
        assert protocol.release(conn, [(c.id, c.token)]) == {jid}
    row = job_rows(clean_db)[jid]
    assert (row.status, row.attempts, row.worker_id) == ("pending", 0, None)


def test_resolve_prefix(clean_db: Engine, tmp_path: Path) -> None:
    ids = enqueue_files(clean_db, make_files(tmp_path, 40))
    with clean_db.connect() as conn:
        for jid in ids[:5]:
            assert readmodels.resolve(conn, str(jid)[:8]) == jid
            assert readmodels.resolve(conn, str(jid)) == jid
        with pytest.raises(parsing.AmbiguousPrefix):
            # 40 random ids: some first hex digit is shared by two or more
            firsts = [str(i)[0] for i in ids]
            readmodels.resolve(conn, max(set(firsts), key=firsts.count))
        with pytest.raises(parsing.JobNotFound):
            readmodels.resolve(conn, "ffffffff-ffff")


def test_purge_only_finished_and_old(clean_db: Engine, tmp_path: Path) -> None:
    ids = enqueue_files(clean_db, make_files(tmp_path, 6))
    jobs = {j.id: j for j in claim(clean_db, 3)}
    with clean_db.begin() as conn:
        protocol.complete(
            conn, [protocol.Completion(j.id, j.token, "{}", 2) for j in list(jobs.values())[:2]]
        )
        conn.execute(sa.text("UPDATE cadextract.extraction_jobs SET updated_at = now() - interval '40 days'"))
    with clean_db.begin() as conn:
        assert commands.count_purgeable(conn, older_than_seconds=30 * 86400, statuses=["completed"]) == 2
        assert commands.purge(conn, older_than_seconds=30 * 86400, limit=1) == 1
        assert commands.purge(conn, older_than_seconds=30 * 86400) == 1
        assert commands.purge(conn, older_than_seconds=30 * 86400) == 0
    left = job_rows(clean_db)
    assert len(left) == 4 and all(r.status in ("pending", "processing") for r in left.values())
    assert set(ids) - set(left) == set(list(jobs)[:2])


def test_summary_counts_follow_every_change(clean_db: Engine, tmp_path: Path) -> None:
    """The per-state counts the triggers keep equal a count of the jobs after every kind
    of change, before and after compaction, and after a TRUNCATE."""

    def counted() -> dict[tuple[str, str], int]:
        with clean_db.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT status, format, count(*) FROM cadextract.extraction_jobs GROUP BY 1, 2")
            ).all()
        return {(r[0], r[1]): r[2] for r in rows}

    def kept() -> dict[tuple[str, str], int]:
        with clean_db.connect() as conn:
            s = readmodels.summary(conn)
        return {(st, fmt): n for fmt, by in s.by_format.items() for st, n in by.items()}

    def check() -> None:
        assert kept() == counted()

    enqueue_files(clean_db, make_files(tmp_path / "a", 8))
    enqueue_files(clean_db, make_files(tmp_path / "b", 3), fmt="test-sleep")
    check()
    jobs = claim(clean_db, 6)
    check()
    with clean_db.begin() as conn:
        protocol.complete(conn, [protocol.Completion(j.id, j.token, "{}", 2) for j in jobs[:2]])
        protocol.record_failures(
            conn,
            [
                protocol.Failure(
                    jobs[2].id, jobs[2].token, JobStatus.FAILED, 0.0, {"type": "X", "message": "x"}
                ),
                protocol.Failure(
                    jobs[3].id, jobs[3].token, JobStatus.PENDING, 60.0, {"type": "Y", "message": "y"}
                ),
            ],
        )
        protocol.release(conn, [(jobs[4].id, jobs[4].token)])
        protocol.mark_cancelled(conn, [(jobs[5].id, jobs[5].token)])
    check()
    with clean_db.begin() as conn:  # a heartbeat touches no count
        before = conn.execute(sa.text("SELECT count(*) FROM cadextract.job_counts")).scalar()
        protocol.heartbeat(conn, [], lease_seconds=30)
        commands.retry(conn, [jobs[2].id, jobs[5].id])
        commands.cancel(conn, [jobs[0].id, jobs[4].id])
    check()
    with clean_db.begin() as conn:
        protocol.compact_counts(conn)
        rows = conn.execute(sa.text("SELECT count(*) FROM cadextract.job_counts")).scalar()
    assert before is not None and rows is not None and rows <= len(counted()) < before
    check()
    with clean_db.begin() as conn:
        conn.execute(sa.text("UPDATE cadextract.extraction_jobs SET updated_at = now() - interval '40 days'"))
        assert commands.purge(conn, older_than_seconds=30 * 86400) > 0
    check()
    with clean_db.begin() as conn:
        conn.execute(sa.text("TRUNCATE cadextract.extraction_jobs CASCADE"))
    assert kept() == {} == counted()
    enqueue_files(clean_db, make_files(tmp_path / "c", 2))
    check()
