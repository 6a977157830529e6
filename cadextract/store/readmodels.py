"""Read models: one job, listings and filters, the summary and the `watch` dashboard.

Functions take a SQLAlchemy ``Connection`` and only read.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from cadextract.masking import mask_options
from cadextract.models import JobStatus
from cadextract.store.filters import JobFilter as JobFilter  # re-exported: callers know it from here
from cadextract.store.filters import filter_sql
from cadextract.store.parsing import JobNotFound, pick, prefix_pattern
from cadextract.store.sql import BATCH, COUNTS, JOBS, RESULTS


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
            elif key == "options":
                value = mask_options(value)  # secrets never leave through a view or export
            out[key] = value
        return out


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
                AND {BATCH}"""
        ),
        {"batch": batch},
    ).one()
    running = conn.execute(
        sa.text(
            f"""SELECT * FROM {JOBS} WHERE status = 'processing'
                AND {BATCH}
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
    where, params = filter_sql(f)
    order = SORTS[sort]
    params["limit"] = limit
    rows = conn.execute(
        sa.text(f"SELECT j.* FROM {JOBS} j WHERE {where} ORDER BY {order} LIMIT :limit"), params
    ).all()
    return [Job.from_row(r) for r in rows]


def iter_results(
    conn: sa.Connection, f: JobFilter, *, chunk: int = 500, latest: bool = False
) -> Iterable[tuple[Job, dict[str, Any]]]:
    """Completed jobs matching the filter with their documents, streamed by a server-side cursor.

    ``latest``: only the newest completed job of each file path.
    """
    where, params = filter_sql(f)
    if latest:
        where += f""" AND NOT EXISTS (SELECT 1 FROM {JOBS} n WHERE n.path = j.path
                      AND n.status = 'completed' AND (n.completed_at, n.id) > (j.completed_at, j.id))"""
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
    where, params = filter_sql(f)
    rows = conn.execute(
        sa.text(f"SELECT DISTINCT j.format FROM {JOBS} j WHERE j.status = 'completed' AND {where}"), params
    ).all()
    return sorted(r.format for r in rows)


def first_result(conn: sa.Connection, f: JobFilter, fmt: str) -> tuple[Job, dict[str, Any]] | None:
    """One completed job of a format with its document (to learn export columns)."""
    where, params = filter_sql(f)
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
                AND {BATCH}"""
        ),
        {"batch": batch},
    ).one()
    retries = conn.execute(
        sa.text(
            f"""SELECT * FROM {JOBS} WHERE status = 'pending' AND run_after > now()
                AND {BATCH}
                ORDER BY run_after LIMIT :limit"""
        ),
        {"batch": batch, "limit": limit},
    ).all()
    failures = conn.execute(
        sa.text(
            f"""SELECT * FROM {JOBS} WHERE status = 'failed'
                AND {BATCH}
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


# -- operator read models (issue 11) ------------------------------------------------


def latest_jobs(
    conn: sa.Connection, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], tuple[uuid.UUID, str]]:
    """The newest job (id, status) of each (sha256, format), whatever its state."""
    if not keys:
        return {}
    rows = conn.execute(
        sa.text(
            f"""
            SELECT DISTINCT ON (j.sha256, j.format) j.sha256, j.format, j.id, j.status
            FROM {JOBS} j
            JOIN unnest(CAST(:hashes AS text[]), CAST(:formats AS text[])) AS k(sha256, format)
              ON j.sha256 = k.sha256 AND j.format = k.format
            ORDER BY j.sha256, j.format, j.created_at DESC, j.id DESC
            """
        ),
        {"hashes": [k[0] for k in keys], "formats": [k[1] for k in keys]},
    ).all()
    return {(r.sha256, r.format): (r.id, r.status) for r in rows}


def final_fields(conn: sa.Connection, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    """Status and last error of each job, keyed by id (for run reports)."""
    rows = conn.execute(
        sa.text(
            f"""SELECT id, status, last_error_type, last_error_message, attempts
                FROM {JOBS} WHERE id = ANY(CAST(:ids AS uuid[]))"""
        ),
        {"ids": list(ids)},
    ).all()
    return {r.id: r._asdict() for r in rows}


@dataclass(frozen=True)
class PurgeGroup:
    status: str
    format: str
    batch: str | None
    jobs: int
    oldest: datetime | None


def purge_preview(
    conn: sa.Connection, *, older_than_seconds: float, statuses: Sequence[str]
) -> list[PurgeGroup]:
    """What ``purge`` would delete, grouped by status, format and batch."""
    rows = conn.execute(
        sa.text(
            f"""SELECT status, format, batch, count(*) AS n, min(updated_at) AS oldest FROM {JOBS}
                WHERE status = ANY(CAST(:statuses AS text[]))
                  AND updated_at < now() - make_interval(secs => :age)
                GROUP BY status, format, batch ORDER BY status, format, batch NULLS FIRST"""
        ),
        {"statuses": list(statuses), "age": older_than_seconds},
    ).all()
    return [PurgeGroup(r.status, r.format, r.batch, int(r.n), r.oldest) for r in rows]


def purgeable_jobs(
    conn: sa.Connection, *, older_than_seconds: float, statuses: Sequence[str], limit: int | None
) -> list[Job]:
    """The jobs ``purge`` would delete, oldest first."""
    rows = conn.execute(
        sa.text(
            f"""SELECT * FROM {JOBS} WHERE status = ANY(CAST(:statuses AS text[]))
                  AND updated_at < now() - make_interval(secs => :age)
                ORDER BY updated_at LIMIT :limit"""
        ),
        {"statuses": list(statuses), "age": older_than_seconds, "limit": limit},
    ).all()
    return [Job.from_row(r) for r in rows]


@dataclass(frozen=True)
class Activity:
    """What `watch` needs beyond the counts: who works, how fast, how far the batch is."""

    batch: str | None
    live_leases: int
    expired_leases: int
    runnable: int
    finished_in_window: int
    window: float
    mean_job_seconds: float | None
    batch_total: int
    batch_done: int
    batch_started: datetime | None
    active_for: float | None


def newest_batch(conn: sa.Connection) -> str | None:
    """The batch of the most recently updated job: the one being submitted or worked on.

    One index probe per state (ix_jobs_status_updated), not a scan, on any table size.
    """
    row = conn.execute(
        sa.text(
            f"""SELECT n.batch FROM unnest(CAST(:states AS text[])) AS s(status)
                CROSS JOIN LATERAL (SELECT batch, updated_at FROM {JOBS} j
                                    WHERE j.status = s.status AND j.batch IS NOT NULL
                                    ORDER BY j.updated_at DESC LIMIT 1) n
                ORDER BY n.updated_at DESC LIMIT 1"""
        ),
        {"states": [str(st) for st in JobStatus]},
    ).first()
    return None if row is None else str(row.batch)


def activity(conn: sa.Connection, *, batch: str | None, window_for: Any) -> Activity:
    """Leases, runnable jobs and the throughput over a window chosen from recent durations."""
    b = {"batch": batch}
    scope = BATCH
    mean = conn.execute(
        sa.text(
            f"""SELECT avg(extract(epoch FROM completed_at - started_at)) FROM (
                    SELECT completed_at, started_at FROM {JOBS}
                    WHERE status = 'completed' AND started_at IS NOT NULL AND {scope}
                    ORDER BY completed_at DESC LIMIT 50) t"""
        ),
        b,
    ).scalar_one()
    mean_s = float(mean) if mean is not None else None
    window = float(window_for(mean_s))
    row = conn.execute(
        sa.text(
            f"""SELECT
                  count(*) FILTER (WHERE status = 'processing' AND lease_expires_at > now()) AS live,
                  count(*) FILTER (WHERE status = 'processing' AND lease_expires_at <= now()) AS expired,
                  count(*) FILTER (WHERE status = 'pending' AND run_after <= now()) AS runnable,
                  count(*) FILTER (WHERE status IN ('completed', 'failed')
                                   AND updated_at > now() - make_interval(secs => :window)) AS recent,
                  count(*) AS total,
                  count(*) FILTER (WHERE status IN ('completed', 'failed', 'cancelled')) AS done,
                  min(started_at) AS first_start,
                  extract(epoch FROM clock_timestamp() - min(started_at)) AS active_for
                FROM {JOBS} WHERE {scope}"""
        ),
        {**b, "window": window},
    ).one()
    return Activity(
        batch=batch,
        live_leases=int(row.live or 0),
        expired_leases=int(row.expired or 0),
        runnable=int(row.runnable or 0),
        finished_in_window=int(row.recent or 0),
        window=window,
        mean_job_seconds=mean_s,
        batch_total=int(row.total or 0),
        batch_done=int(row.done or 0),
        batch_started=row.first_start,
        active_for=float(row.active_for) if row.active_for is not None else None,
    )
