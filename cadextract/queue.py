"""Every job operation, as SQL you can read in one place.

States: pending -> processing -> completed | failed | cancelled (see docs/guarantees.md).
Every write for a job that a worker holds matches its ``lease_token``, the fencing
token given at claim: a worker presumed dead that wakes up late changes nothing.
Functions take a SQLAlchemy ``Connection``; the caller owns the transaction.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa

from cadextract.models import FINISHED, JobStatus

JOBS = "cadextract.extraction_jobs"
RESULTS = "cadextract.extraction_results"
COUNTS = "cadextract.job_counts"
# any 64-bit number unique to this use: one compaction of the counts at a time
COMPACT_LOCK_KEY = 0x0CADE0C0DE
FINISHED_STATES: tuple[str, ...] = tuple(str(status) for status in FINISHED)
#: NOTIFY channel: new runnable jobs (payload empty) and cancel requests (payload "cancel")
CHANNEL = "cadextract_jobs"


class JobNotFound(LookupError):
    """No job matches the id or prefix."""


class AmbiguousPrefix(LookupError):
    """Several jobs match the prefix."""


# -- values -----------------------------------------------------------------------


@dataclass(frozen=True)
class NewJob:
    """A file to enqueue, already hashed and classified."""

    path: str
    size: int
    sha256: str
    format: str
    priority: int = 0
    max_attempts: int = 4
    options: dict[str, Any] = field(default_factory=dict)
    batch: str | None = None
    submitted_by: str | None = None


@dataclass(frozen=True)
class Enqueued:
    """The outcome for one NewJob: queued (``skipped_reason`` None) or skipped."""

    job: NewJob
    job_id: uuid.UUID | None
    skipped_reason: str | None = None


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


@dataclass(frozen=True)
class Job:
    """One row of the jobs table."""

    id: uuid.UUID
    path: str
    size: int
    sha256: str
    format: str
    status: str
    priority: int
    progress: float
    progress_note: str | None
    attempts: int
    max_attempts: int
    run_after: datetime
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    updated_at: datetime
    lease_expires_at: datetime | None
    lease_token: uuid.UUID | None
    worker_id: str | None
    cancel_requested_at: datetime | None
    last_error_type: str | None
    last_error_message: str | None
    errors: list[dict[str, Any]]
    options: dict[str, Any]
    submitted_by: str | None
    batch: str | None

    @classmethod
    def from_row(cls, row: sa.Row[Any]) -> Job:
        return cls(**row._asdict())

    def as_json(self) -> dict[str, Any]:
        """Plain JSON-able dict (ISO timestamps, string ids); the lease token stays private."""
        out: dict[str, Any] = {}
        for key, value in self.__dict__.items():
            if key == "lease_token":
                continue
            if isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, uuid.UUID):
                value = str(value)
            out[key] = value
        return out


# -- submit -----------------------------------------------------------------------


def enqueue(conn: sa.Connection, new_jobs: Sequence[NewJob], *, force: bool = False) -> list[Enqueued]:
    """(nothing) -> pending, one statement for the lot; skips content already queued or done.

    Dedupe is by content + format: a file whose sha256 already has a pending or
    processing job is always skipped (the unique index makes two overlapping submits
    safe); one with a completed job is skipped unless ``force``.
    """
    if not new_jobs:
        return []
    # The rows travel as one JSON document: psycopg adapts a text[] parameter element
    # by element (a regular expression each), which cost more than the insert itself.
    rows = json.dumps(
        [
            {
                "path": j.path,
                "size": j.size,
                "sha256": j.sha256,
                "format": j.format,
                "priority": j.priority,
                "max_attempts": j.max_attempts,
                "options": j.options,
                "batch": j.batch,
                "submitted_by": j.submitted_by,
            }
            for j in new_jobs
        ]
    )
    inserted = conn.execute(
        sa.text(
            f"""
            WITH v AS MATERIALIZED (
                SELECT * FROM json_to_recordset(CAST(:rows AS json))
                    AS v(path text, size bigint, sha256 text, format text, priority int,
                         max_attempts int, options jsonb, batch text, submitted_by text)
            ), completed AS MATERIALIZED (
                -- looked up before the first row goes in: a lookup per row inside the
                -- INSERT would, on a table the planner thinks empty, scan it over and
                -- over as it grows (quadratic on a fresh install's first big submit)
                SELECT DISTINCT j.sha256, j.format
                FROM {JOBS} j JOIN v ON j.sha256 = v.sha256 AND j.format = v.format
                WHERE j.status = 'completed' AND NOT CAST(:force AS boolean)
            )
            INSERT INTO {JOBS} (path, size, sha256, format, priority, max_attempts,
                                options, batch, submitted_by)
            SELECT v.path, v.size, v.sha256, v.format, v.priority, v.max_attempts,
                   v.options, v.batch, v.submitted_by
            FROM v LEFT JOIN completed c ON c.sha256 = v.sha256 AND c.format = v.format
            WHERE c.sha256 IS NULL
            ON CONFLICT (sha256, format) WHERE status IN ('pending', 'processing') DO NOTHING
            RETURNING id, path, sha256, format
            """
        ),
        {"rows": rows, "force": force},
    ).all()
    by_key = {(r.path, r.sha256, r.format): r.id for r in inserted}
    if inserted:
        notify(conn)
    skipped_keys = [(j.sha256, j.format) for j in new_jobs if (j.path, j.sha256, j.format) not in by_key]
    existing = _existing_jobs(conn, skipped_keys) if skipped_keys else {}
    outcomes: list[Enqueued] = []
    for job in new_jobs:
        job_id = by_key.pop((job.path, job.sha256, job.format), None)
        if job_id is not None:
            outcomes.append(Enqueued(job, job_id))
            continue
        other_id, other_status = existing.get((job.sha256, job.format), (None, "pending"))
        reason = "already completed" if other_status == "completed" else "already queued"
        outcomes.append(Enqueued(job, other_id, skipped_reason=f"{reason} (same content)"))
    return outcomes


def _existing_jobs(
    conn: sa.Connection, keys: list[tuple[str, str]]
) -> dict[tuple[str, str], tuple[uuid.UUID, str]]:
    rows = conn.execute(
        sa.text(
            f"""
            SELECT DISTINCT ON (j.sha256, j.format) j.sha256, j.format, j.id, j.status
            FROM {JOBS} j
            JOIN unnest(CAST(:hashes AS text[]), CAST(:formats AS text[])) AS k(sha256, format)
              ON j.sha256 = k.sha256 AND j.format = k.format
            WHERE j.status IN ('pending', 'processing', 'completed')
            ORDER BY j.sha256, j.format, j.created_at DESC
            """
        ),
        {"hashes": [k[0] for k in keys], "formats": [k[1] for k in keys]},
    ).all()
    return {(r.sha256, r.format): (r.id, r.status) for r in rows}


def notify(conn: sa.Connection, payload: str = "") -> None:
    """Wake listening workers when this transaction commits."""
    conn.execute(sa.text("SELECT pg_notify(:channel, :payload)"), {"channel": CHANNEL, "payload": payload})


# -- worker side ------------------------------------------------------------------


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
                  AND (CAST(:formats AS text[]) IS NULL OR format = ANY(CAST(:formats AS text[])))
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
            WHERE j.id = v.id AND j.lease_token = v.token AND j.status = 'processing'
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
                WHERE j.id = v.id AND j.lease_token = v.token AND j.status = 'processing'
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
            WHERE j.id = v.id AND j.lease_token = v.token AND j.status = 'processing'
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
            WHERE j.id = v.id AND j.lease_token = v.token AND j.status = 'processing'
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
            WHERE j.id = v.id AND j.lease_token = v.token AND j.status = 'processing'
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
                    AND (CAST(:formats AS text[]) IS NULL OR format = ANY(CAST(:formats AS text[]))))"""
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
                    AND (CAST(:formats AS text[]) IS NULL OR format = ANY(CAST(:formats AS text[]))))"""
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
                AND (CAST(:formats AS text[]) IS NULL OR format = ANY(CAST(:formats AS text[])))"""
        ),
        {"formats": formats},
    ).scalar()
    return None if value is None else max(0.0, float(value))


# -- operator side ----------------------------------------------------------------


def prefix_pattern(prefix: str) -> uuid.UUID | str:
    """A full UUID, or the LIKE pattern for a prefix; JobNotFound if it cannot be an id."""
    cleaned = prefix.strip().lower()
    if not cleaned or any(c not in "0123456789abcdef-" for c in cleaned):
        raise JobNotFound(f"{prefix!r} is not a job id (expected hex digits, as shown by `cadextract jobs`)")
    try:
        return uuid.UUID(cleaned)  # a full id needs no scan
    except ValueError:
        return cleaned + "%"  # compared with the dashed text form, as ids are printed


def pick(prefix: str, matches: Sequence[uuid.UUID]) -> uuid.UUID:
    """The single match for a prefix, as git resolves abbreviated hashes."""
    if not matches:
        raise JobNotFound(f"no job id starts with {prefix!r}")
    if len(matches) > 1:
        raise AmbiguousPrefix(
            f"job id prefix {prefix!r} is ambiguous ({len(matches)}+ jobs); give more characters"
        )
    return matches[0]


def resolve(conn: sa.Connection, prefix: str) -> uuid.UUID:
    """The one job id starting with ``prefix`` (hex digits, dashes as printed)."""
    pattern = prefix_pattern(prefix)
    if isinstance(pattern, uuid.UUID):
        found = conn.execute(sa.text(f"SELECT id FROM {JOBS} WHERE id = :id"), {"id": pattern}).all()
    else:
        found = conn.execute(
            sa.text(f"SELECT id FROM {JOBS} WHERE CAST(id AS text) LIKE :p LIMIT 2"), {"p": pattern}
        ).all()
    return pick(prefix, [r.id for r in found])


def get(conn: sa.Connection, job_id: uuid.UUID) -> Job:
    """One job by full id."""
    row = conn.execute(sa.text(f"SELECT * FROM {JOBS} WHERE id = :id"), {"id": job_id}).first()
    if row is None:
        raise JobNotFound(f"no job {job_id}")
    return Job.from_row(row)


def get_result(conn: sa.Connection, job_id: uuid.UUID) -> dict[str, Any] | None:
    """The result document of a completed job (None when there is none)."""
    return conn.execute(  # type: ignore[no-any-return]
        sa.text(f"SELECT document FROM {RESULTS} WHERE job_id = :id"), {"id": job_id}
    ).scalar()


def cancel(conn: sa.Connection, ids: Iterable[uuid.UUID]) -> dict[str, list[uuid.UUID]]:
    """pending -> cancelled at once; processing -> cancel requested (its worker kills the child).

    Returns ids by what happened: ``cancelled``, ``requested``, ``finished`` (nothing to do).
    """
    id_list = list(ids)
    rows = conn.execute(
        sa.text(
            f"""
            UPDATE {JOBS} j
            SET status = CASE WHEN j.status = 'pending' THEN 'cancelled' ELSE j.status END,
                completed_at = CASE WHEN j.status = 'pending' THEN now() ELSE j.completed_at END,
                cancel_requested_at = COALESCE(j.cancel_requested_at, now()),
                updated_at = now()
            WHERE j.id = ANY(CAST(:ids AS uuid[])) AND j.status IN ('pending', 'processing')
            RETURNING j.id, j.status
            """
        ),
        {"ids": id_list},
    ).all()
    out: dict[str, list[uuid.UUID]] = {"cancelled": [], "requested": [], "finished": []}
    for r in rows:
        out["cancelled" if r.status == "cancelled" else "requested"].append(r.id)
    touched = {r.id for r in rows}
    out["finished"] = [i for i in id_list if i not in touched]
    if out["requested"]:
        notify(conn, "cancel")
    return out


def retry(conn: sa.Connection, ids: Iterable[uuid.UUID]) -> list[uuid.UUID]:
    """failed | cancelled -> pending with fresh attempts; the error history is kept.

    A job whose content already has another active job stays as it is (dedupe).
    """
    rows = conn.execute(
        sa.text(
            f"""
            UPDATE {JOBS} j
            SET status = 'pending', attempts = 0, progress = 0, progress_note = NULL,
                run_after = now(), updated_at = now(), started_at = NULL, completed_at = NULL,
                worker_id = NULL, cancel_requested_at = NULL,
                last_error_type = NULL, last_error_message = NULL
            WHERE j.id = ANY(CAST(:ids AS uuid[])) AND j.status IN ('failed', 'cancelled')
              AND NOT EXISTS (SELECT 1 FROM {JOBS} o WHERE o.sha256 = j.sha256 AND o.format = j.format
                              AND o.status IN ('pending', 'processing'))
            RETURNING j.id
            """
        ),
        {"ids": list(ids)},
    ).all()
    if rows:
        notify(conn)
    return [r.id for r in rows]


def purge(
    conn: sa.Connection,
    *,
    older_than_seconds: float,
    statuses: Sequence[str] = FINISHED_STATES,
    limit: int = 5000,
) -> int:
    """Delete up to ``limit`` finished jobs (and, by cascade, results) older than the age.

    Never touches pending or processing jobs; call repeatedly (short transactions) until 0.
    """
    wanted = [s for s in statuses if s in FINISHED_STATES]
    result = conn.execute(
        sa.text(
            f"""
            DELETE FROM {JOBS} WHERE id IN (
                SELECT id FROM {JOBS}
                WHERE status = ANY(CAST(:statuses AS text[]))
                  AND updated_at < now() - make_interval(secs => :age)
                LIMIT :limit
                FOR UPDATE SKIP LOCKED)
            """
        ),
        {"statuses": wanted, "age": older_than_seconds, "limit": limit},
    )
    return int(result.rowcount or 0)


def count_purgeable(conn: sa.Connection, *, older_than_seconds: float, statuses: Sequence[str]) -> int:
    """How many jobs ``purge`` would delete (for --dry-run)."""
    return int(
        conn.execute(
            sa.text(
                f"""SELECT count(*) FROM {JOBS} WHERE status = ANY(CAST(:statuses AS text[]))
                    AND updated_at < now() - make_interval(secs => :age)"""
            ),
            {"statuses": list(statuses), "age": older_than_seconds},
        ).scalar_one()
    )


def statuses(conn: sa.Connection, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The current status of each given job."""
    rows = conn.execute(
        sa.text(f"SELECT id, status FROM {JOBS} WHERE id = ANY(CAST(:ids AS uuid[]))"), {"ids": list(ids)}
    ).all()
    return {r.id: r.status for r in rows}


@dataclass(frozen=True)
class Summary:
    """The queue at a glance."""

    by_status: dict[str, int]
    by_format: dict[str, dict[str, int]]
    oldest_pending: datetime | None
    running: list[Job]
    scheduled_retries: int


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


def summary(conn: sa.Connection, *, batch: str | None = None, running_limit: int = 20) -> Summary:
    """Counts per state and format, the oldest runnable job, the running jobs."""
    if batch is None:
        # kept by triggers (migration 0002): constant time however many jobs there are
        counts = conn.execute(
            sa.text(
                f"""SELECT status, format, CAST(sum(n) AS bigint) AS n FROM {COUNTS}
                    GROUP BY status, format HAVING sum(n) <> 0"""
            )
        ).all()
    else:
        counts = conn.execute(
            sa.text(f"SELECT status, format, count(*) AS n FROM {JOBS} WHERE batch = :batch GROUP BY 1, 2"),
            {"batch": batch},
        ).all()
    by_status: dict[str, int] = {str(s): 0 for s in JobStatus}
    by_format: dict[str, dict[str, int]] = {}
    for r in counts:
        by_status[r.status] = by_status.get(r.status, 0) + r.n
        by_format.setdefault(r.format, {})[r.status] = r.n
    pending = conn.execute(
        sa.text(
            f"""SELECT min(created_at) FILTER (WHERE run_after <= now()) AS oldest,
                       count(*) FILTER (WHERE run_after > now()) AS scheduled
                FROM {JOBS} WHERE status = 'pending'
                AND (CAST(:batch AS text) IS NULL OR batch = :batch)"""
        ),
        {"batch": batch},
    ).one()
    running = conn.execute(
        sa.text(
            f"""SELECT * FROM {JOBS} WHERE status = 'processing'
                AND (CAST(:batch AS text) IS NULL OR batch = :batch)
                ORDER BY started_at LIMIT :limit"""
        ),
        {"batch": batch, "limit": running_limit},
    ).all()
    return Summary(
        by_status=by_status,
        by_format=by_format,
        oldest_pending=pending.oldest,
        running=[Job.from_row(r) for r in running],
        scheduled_retries=int(pending.scheduled or 0),
    )


@dataclass(frozen=True)
class JobFilter:
    """Filters shared by `jobs`, `export`, `cancel` and `retry`."""

    statuses: Sequence[str] = ()
    formats: Sequence[str] = ()
    batch: str | None = None
    since: datetime | None = None
    path_glob: str | None = None


def _filter_sql(f: JobFilter) -> tuple[str, dict[str, Any]]:
    clauses = ["TRUE"]
    params: dict[str, Any] = {}
    if f.statuses:
        clauses.append("j.status = ANY(CAST(:statuses AS text[]))")
        params["statuses"] = list(f.statuses)
    if f.formats:
        clauses.append("j.format = ANY(CAST(:formats AS text[]))")
        params["formats"] = list(f.formats)
    if f.batch is not None:
        clauses.append("j.batch = :batch")
        params["batch"] = f.batch
    if f.since is not None:
        clauses.append("j.created_at >= :since")
        params["since"] = f.since
    if f.path_glob:
        clauses.append("j.path LIKE :path_like ESCAPE '\\'")
        params["path_like"] = glob_to_like(f.path_glob)
    return " AND ".join(clauses), params


def glob_to_like(pattern: str) -> str:
    """Shell glob (* ?) to a SQL LIKE pattern; a glob with no slash matches the file name."""
    out = []
    for ch in pattern:
        if ch == "*":
            out.append("%")
        elif ch == "?":
            out.append("_")
        elif ch in "%_\\":
            out.append("\\" + ch)
        else:
            out.append(ch)
    like = "".join(out)
    return like if "/" in pattern else "%/" + like


SORTS = {
    "created": "j.created_at DESC",
    "updated": "j.updated_at DESC",
    "priority": "j.priority DESC, j.created_at",
    "path": "j.path",
    "status": "j.status, j.updated_at DESC",
}


def list_jobs(
    conn: sa.Connection, f: JobFilter, *, sort: str = "created", limit: int | None = 50
) -> list[Job]:
    """Jobs matching the filter, newest first by default."""
    where, params = _filter_sql(f)
    order = SORTS[sort]
    params["limit"] = limit
    rows = conn.execute(
        sa.text(f"SELECT j.* FROM {JOBS} j WHERE {where} ORDER BY {order} LIMIT :limit"), params
    ).all()
    return [Job.from_row(r) for r in rows]


def iter_results(
    conn: sa.Connection, f: JobFilter, *, chunk: int = 500
) -> Iterable[tuple[Job, dict[str, Any]]]:
    """Completed jobs matching the filter with their documents, streamed by a server-side cursor."""
    where, params = _filter_sql(f)
    stmt = sa.text(
        f"""SELECT j.*, r.document AS _document FROM {JOBS} j JOIN {RESULTS} r ON r.job_id = j.id
            WHERE j.status = 'completed' AND {where} ORDER BY j.created_at"""
    )
    result = conn.execution_options(stream_results=True, yield_per=chunk).execute(stmt, params)
    for row in result:
        data = row._asdict()
        document = data.pop("_document")
        yield Job(**data), document


def result_formats(conn: sa.Connection, f: JobFilter) -> list[str]:
    """The formats of the completed jobs a filter selects."""
    where, params = _filter_sql(f)
    rows = conn.execute(
        sa.text(f"SELECT DISTINCT j.format FROM {JOBS} j WHERE j.status = 'completed' AND {where}"), params
    ).all()
    return sorted(r.format for r in rows)


def first_result(conn: sa.Connection, f: JobFilter, fmt: str) -> tuple[Job, dict[str, Any]] | None:
    """One completed job of a format with its document (to learn export columns)."""
    where, params = _filter_sql(f)
    row = conn.execute(
        sa.text(
            f"""SELECT j.*, r.document AS _document FROM {JOBS} j JOIN {RESULTS} r ON r.job_id = j.id
                WHERE j.status = 'completed' AND j.format = :fmt AND {where} ORDER BY j.created_at LIMIT 1"""
        ),
        {**params, "fmt": fmt},
    ).first()
    if row is None:
        return None
    data = row._asdict()
    document = data.pop("_document")
    return Job(**data), document


@dataclass(frozen=True)
class Dashboard:
    """What `watch` shows; a handful of indexed queries whatever the table size."""

    summary: Summary
    completed_last_minute: int
    failed_last_minute: int
    retries: list[Job]
    failures: list[Job]


def dashboard(conn: sa.Connection, *, batch: str | None = None, limit: int = 8) -> Dashboard:
    """Counts, throughput over the last minute, running jobs, scheduled retries, last failures."""
    s = summary(conn, batch=batch, running_limit=limit * 2)
    recent = conn.execute(
        sa.text(
            f"""SELECT count(*) FILTER (WHERE status = 'completed') AS done,
                       count(*) FILTER (WHERE status = 'failed') AS failed
                FROM {JOBS}
                WHERE status IN ('completed', 'failed') AND updated_at > now() - interval '1 minute'
                AND (CAST(:batch AS text) IS NULL OR batch = :batch)"""
        ),
        {"batch": batch},
    ).one()
    retries = conn.execute(
        sa.text(
            f"""SELECT * FROM {JOBS} WHERE status = 'pending' AND run_after > now()
                AND (CAST(:batch AS text) IS NULL OR batch = :batch)
                ORDER BY run_after LIMIT :limit"""
        ),
        {"batch": batch, "limit": limit},
    ).all()
    failures = conn.execute(
        sa.text(
            f"""SELECT * FROM {JOBS} WHERE status = 'failed'
                AND (CAST(:batch AS text) IS NULL OR batch = :batch)
                ORDER BY updated_at DESC LIMIT :limit"""
        ),
        {"batch": batch, "limit": limit},
    ).all()
    return Dashboard(
        summary=s,
        completed_last_minute=int(recent.done or 0),
        failed_last_minute=int(recent.failed or 0),
        retries=[Job.from_row(r) for r in retries],
        failures=[Job.from_row(r) for r in failures],
    )
