"""What operators do to jobs: submit, cancel, retry, purge.

Functions take a SQLAlchemy ``Connection``; the caller owns the transaction.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from cadextract.store.sql import FINISHED_STATES, JOBS, notify


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
