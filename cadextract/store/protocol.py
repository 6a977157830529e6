"""The worker protocol: claim, heartbeat, write outcomes, rescue; what the supervisor's
database step runs.

Every write for a job that a worker holds matches its ``lease_token``, the fencing
token given at claim (``sql.FENCED``): a worker presumed dead that wakes up late
changes nothing. Functions take a SQLAlchemy ``Connection``; the caller owns the
transaction.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import sqlalchemy as sa

from cadextract.models import JobStatus
from cadextract.store.sql import COMPACT_LOCK_KEY, COUNTS, FENCED, FORMATS, JOBS, RESULTS, notify


@dataclass(frozen=True)
class Claimed:
    """A job a worker now holds; ``token`` fences every later write."""

    id: uuid.UUID
    token: uuid.UUID
    path: str
    format: str
    sha256: str
    size: int
    options: dict[str, Any]
    attempts: int
    max_attempts: int
    priority: int


@dataclass(frozen=True)
class Lease:
    """A held job as the heartbeat sees it: which job, which token, latest progress."""

    id: uuid.UUID
    token: uuid.UUID
    progress: float = 0.0
    note: str | None = None


class Held(NamedTuple):
    """A job and the lease token that fences writes about it."""

    id: uuid.UUID
    token: uuid.UUID


@dataclass(frozen=True)
class Failure:
    """A failed attempt to record: retry later (status pending) or give up (failed)."""

    id: uuid.UUID
    token: uuid.UUID
    status: JobStatus
    delay: float
    error: dict[str, Any]


@dataclass(frozen=True)
class Completion:
    id: uuid.UUID
    token: uuid.UUID
    document: str  # JSON text, already serialised (and size-checked) by the worker
    size: int
    index: str | None = None  # search index entry (JSON), computed by the child; search/store.py


def claim(
    conn: sa.Connection,
    *,
    worker_id: str,
    limit: int,
    lease_seconds: float,
    formats: Sequence[str] | None = None,
) -> list[Claimed]:
    """pending -> processing for up to ``limit`` runnable jobs: priority, then run-after, then age.

    SKIP LOCKED lets many workers claim at once without waiting on each other or
    taking the same row; each claim gets a fresh lease token and counts an attempt.
    """
    if limit <= 0:
        return []
    rows = conn.execute(
        sa.text(
            f"""
            WITH next AS (
                SELECT id FROM {JOBS}
                WHERE status = 'pending' AND run_after <= now()
                  AND {FORMATS}
                ORDER BY priority DESC, run_after, created_at
                LIMIT :limit
                FOR UPDATE SKIP LOCKED
            )
            UPDATE {JOBS} j
            SET status = 'processing', attempts = j.attempts + 1, progress = 0, progress_note = NULL,
                started_at = now(), updated_at = now(), worker_id = :worker_id,
                lease_token = gen_random_uuid(),
                lease_expires_at = now() + make_interval(secs => :lease)
            FROM next
            WHERE j.id = next.id
            RETURNING j.id, j.lease_token, j.path, j.format, j.sha256, j.size, j.options,
                      j.attempts, j.max_attempts, j.priority, j.run_after, j.created_at
            """
        ),
        {"worker_id": worker_id, "limit": limit, "lease": lease_seconds, "formats": formats},
    ).all()
    # RETURNING has no order; hand jobs to children in claim order
    rows = sorted(rows, key=lambda r: (-r.priority, r.run_after, r.created_at))
    return [
        Claimed(
            id=r.id,
            token=r.lease_token,
            path=r.path,
            format=r.format,
            sha256=r.sha256,
            size=r.size,
            options=r.options,
            attempts=r.attempts,
            max_attempts=r.max_attempts,
            priority=r.priority,
        )
        for r in rows
    ]


def heartbeat(
    conn: sa.Connection, leases: Sequence[Lease], *, lease_seconds: float
) -> tuple[set[uuid.UUID], set[uuid.UUID]]:
    """Extend held leases and store progress; returns (still held, cancel requested).

    A job missing from "still held" was taken from this worker (its lease expired and
    it was rescued): the worker must stop it and write nothing more for it.
    """
    if not leases:
        return set(), set()
    rows = conn.execute(
        sa.text(
            f"""
            UPDATE {JOBS} j
            SET lease_expires_at = now() + make_interval(secs => :lease),
                progress = GREATEST(j.progress, LEAST(100, v.progress)),
                progress_note = COALESCE(v.note, j.progress_note),
                updated_at = now()
            FROM unnest(CAST(:ids AS uuid[]), CAST(:tokens AS uuid[]), CAST(:progress AS real[]),
                        CAST(:notes AS text[])) AS v(id, token, progress, note)
            WHERE {FENCED}
            RETURNING j.id, j.cancel_requested_at IS NOT NULL AS cancel
            """
        ),
        {
            "ids": [x.id for x in leases],
            "tokens": [x.token for x in leases],
            "progress": [x.progress for x in leases],
            "notes": [x.note for x in leases],
            "lease": lease_seconds,
        },
    ).all()
    return {r.id for r in rows}, {r.id for r in rows if r.cancel}


def complete(conn: sa.Connection, items: Sequence[Completion]) -> set[uuid.UUID]:
    """processing -> completed with its result, in one statement for a batch.

    The result row is inserted only for jobs whose token still matches, so a result is
    written at most once and only by the lease holder. Returns the ids written.
    """
    if not items:
        return set()
    rows = conn.execute(
        sa.text(
            f"""
            WITH v AS (
                SELECT v.id, v.token, v.size, d.doc
                FROM unnest(CAST(:ids AS uuid[]), CAST(:tokens AS uuid[]), CAST(:sizes AS int[]))
                     WITH ORDINALITY AS v(id, token, size, n)
                JOIN jsonb_array_elements(CAST(:docs AS jsonb)) WITH ORDINALITY AS d(doc, n) USING (n)
            ), done AS (
                UPDATE {JOBS} j
                SET status = 'completed', progress = 100, progress_note = NULL,
                    completed_at = now(), updated_at = now(),
                    lease_token = NULL, lease_expires_at = NULL,
                    last_error_type = NULL, last_error_message = NULL
                FROM v
                WHERE {FENCED}
                RETURNING j.id
            )
            INSERT INTO {RESULTS} (job_id, document, size_bytes)
            SELECT v.id, v.doc, v.size FROM v JOIN done ON done.id = v.id
            RETURNING job_id
            """
        ),
        {
            "ids": [c.id for c in items],
            "tokens": [c.token for c in items],
            # the documents are JSON text already: one JSON array is one cheap parameter
            # (a text[] of them would be escaped element by element on the client)
            "docs": "[" + ",".join(c.document for c in items) + "]",
            "sizes": [c.size for c in items],
        },
    ).all()
    return {r.job_id for r in rows}


def record_failures(conn: sa.Connection, items: Sequence[Failure]) -> dict[uuid.UUID, str]:
    """processing -> pending (retry after a delay) or failed, appending to the error history.

    A job whose cancel was requested meanwhile ends cancelled instead of retrying.
    Returns the status each written job ended in.
    """
    if not items:
        return {}
    rows = conn.execute(
        sa.text(
            f"""
            UPDATE {JOBS} j
            SET status = CASE WHEN v.status = 'pending' AND j.cancel_requested_at IS NOT NULL
                              THEN 'cancelled' ELSE v.status END,
                run_after = now() + make_interval(secs => v.delay),
                completed_at = CASE WHEN v.status = 'failed' OR j.cancel_requested_at IS NOT NULL
                                    THEN now() END,
                updated_at = now(), lease_token = NULL, lease_expires_at = NULL,
                worker_id = CASE WHEN v.status = 'failed' THEN j.worker_id END,
                last_error_type = CAST(v.error AS jsonb) ->> 'type',
                last_error_message = CAST(v.error AS jsonb) ->> 'message',
                errors = j.errors || jsonb_build_array(CAST(v.error AS jsonb))
            FROM unnest(CAST(:ids AS uuid[]), CAST(:tokens AS uuid[]), CAST(:statuses AS text[]),
                        CAST(:delays AS float8[]), CAST(:errors AS text[]))
                 AS v(id, token, status, delay, error)
            WHERE {FENCED}
            RETURNING j.id, j.status
            """
        ),
        {
            "ids": [f.id for f in items],
            "tokens": [f.token for f in items],
            "statuses": [str(f.status) for f in items],
            "delays": [f.delay for f in items],
            "errors": [json.dumps(f.error) for f in items],
        },
    ).all()
    return {r.id: r.status for r in rows}


def release(conn: sa.Connection, held: Sequence[Held]) -> set[uuid.UUID]:
    """processing -> pending without counting the attempt (worker shutting down)."""
    if not held:
        return set()
    rows = conn.execute(
        sa.text(
            f"""
            UPDATE {JOBS} j
            SET status = CASE WHEN j.cancel_requested_at IS NULL THEN 'pending' ELSE 'cancelled' END,
                completed_at = CASE WHEN j.cancel_requested_at IS NULL THEN NULL ELSE now() END,
                attempts = GREATEST(j.attempts - 1, 0), run_after = now(), updated_at = now(),
                lease_token = NULL, lease_expires_at = NULL, worker_id = NULL, started_at = NULL,
                progress = 0, progress_note = NULL
            FROM unnest(CAST(:ids AS uuid[]), CAST(:tokens AS uuid[])) AS v(id, token)
            WHERE {FENCED}
            RETURNING j.id
            """
        ),
        {"ids": [h[0] for h in held], "tokens": [h[1] for h in held]},
    ).all()
    if rows:
        notify(conn)
    return {r.id for r in rows}


def mark_cancelled(conn: sa.Connection, held: Sequence[Held]) -> set[uuid.UUID]:
    """processing -> cancelled once the worker has killed the child; no result is kept."""
    if not held:
        return set()
    rows = conn.execute(
        sa.text(
            f"""
            UPDATE {JOBS} j
            SET status = 'cancelled', completed_at = now(), updated_at = now(),
                lease_token = NULL, lease_expires_at = NULL
            FROM unnest(CAST(:ids AS uuid[]), CAST(:tokens AS uuid[])) AS v(id, token)
            WHERE {FENCED}
            RETURNING j.id
            """
        ),
        {"ids": [h[0] for h in held], "tokens": [h[1] for h in held]},
    ).all()
    return {r.id for r in rows}


def rescue(conn: sa.Connection, *, limit: int = 1000) -> list[uuid.UUID]:
    """processing with an expired lease (its worker died) -> pending, the attempt counted.

    A job out of attempts goes to failed; one whose cancel was requested to cancelled.
    """
    rows = conn.execute(
        sa.text(
            f"""
            WITH lost AS (
                SELECT id FROM {JOBS}
                WHERE status = 'processing' AND lease_expires_at < now()
                LIMIT :limit
                FOR UPDATE SKIP LOCKED
            )
            UPDATE {JOBS} j
            SET status = CASE
                    WHEN j.cancel_requested_at IS NOT NULL THEN 'cancelled'
                    WHEN j.attempts >= j.max_attempts THEN 'failed'
                    ELSE 'pending' END,
                completed_at = CASE
                    WHEN j.cancel_requested_at IS NOT NULL OR j.attempts >= j.max_attempts THEN now() END,
                run_after = now(), updated_at = now(),
                lease_token = NULL, lease_expires_at = NULL,
                last_error_type = 'LeaseExpired',
                last_error_message = 'worker ' || COALESCE(j.worker_id, '?')
                    || ' stopped renewing its lease (it died or lost the database)',
                errors = j.errors || jsonb_build_array(jsonb_build_object(
                    'at', now(), 'attempt', j.attempts, 'worker', j.worker_id,
                    'type', 'LeaseExpired', 'permanent', false,
                    'message', 'worker ' || COALESCE(j.worker_id, '?')
                        || ' stopped renewing its lease (it died or lost the database)'))
            FROM lost
            WHERE j.id = lost.id
            RETURNING j.id, j.status
            """
        ),
        {"limit": limit},
    ).all()
    if any(r.status == "pending" for r in rows):
        notify(conn)
    return [r.id for r in rows]


def has_runnable(conn: sa.Connection, formats: Sequence[str] | None = None) -> bool:
    """True when a pending job could be claimed now."""
    return bool(
        conn.execute(
            sa.text(
                f"""SELECT EXISTS (SELECT 1 FROM {JOBS} WHERE status = 'pending' AND run_after <= now()
                    AND {FORMATS})"""
            ),
            {"formats": formats},
        ).scalar()
    )


def has_processing(conn: sa.Connection, formats: Sequence[str] | None = None) -> bool:
    """True when some job is being processed (by any worker, alive or not)."""
    return bool(
        conn.execute(
            sa.text(
                f"""SELECT EXISTS (SELECT 1 FROM {JOBS} WHERE status = 'processing'
                    AND {FORMATS})"""
            ),
            {"formats": formats},
        ).scalar()
    )


def next_run_after(conn: sa.Connection, formats: Sequence[str] | None = None) -> float | None:
    """Seconds until the next scheduled (backed-off) pending job is due; None if none is waiting."""
    value = conn.execute(
        sa.text(
            f"""SELECT EXTRACT(EPOCH FROM min(run_after) - now()) FROM {JOBS}
                WHERE status = 'pending'
                AND {FORMATS}"""
        ),
        {"formats": formats},
    ).scalar()
    return None if value is None else max(0.0, float(value))


def compact_counts(conn: sa.Connection) -> None:
    """Fold the count rows the triggers appended into one per (status, format).

    At most one compaction runs at a time (the others skip it): two deleting the same
    rows in different orders could deadlock.
    """
    conn.execute(
        sa.text(
            f"""WITH lock AS (SELECT pg_try_advisory_xact_lock(:key) AS mine),
                     gone AS (DELETE FROM {COUNTS} WHERE (SELECT mine FROM lock)
                              RETURNING status, format, n)
                INSERT INTO {COUNTS} (status, format, n)
                SELECT status, format, sum(n) FROM gone GROUP BY status, format HAVING sum(n) <> 0"""
        ),
        {"key": COMPACT_LOCK_KEY},
    )
