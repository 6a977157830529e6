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

from cadextract.models import JobStatus
from cadextract.store.parsing import JobNotFound, glob_to_like, pick, prefix_pattern
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
