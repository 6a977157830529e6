"""The console's own read SQL (everything else comes from ``cadextract.store``).

Each query is shaped for an index, so a page costs the same at a thousand jobs and
at a million: keyset pagination over ``ix_jobs_created`` / ``ix_jobs_status_created``
(migration 0004), throughput from ``ix_jobs_status_updated``, workers from the few
processing rows.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from cadextract.previews.store import PREVIEWS
from cadextract.search import query
from cadextract.search import store as search_store
from cadextract.store import filters, parsing, readmodels, sql

JOBS = sql.JOBS
PAGE_SIZE = 50
BATCH_PAGE = 20  # batches per page: each costs a count of its jobs


# -- dashboard --------------------------------------------------------------------------


@dataclass(frozen=True)
class Minute:
    """Jobs finished in one minute of the last hour."""

    at: datetime
    completed: int
    failed: int


@dataclass(frozen=True)
class Worker:
    """A worker seen through the jobs it holds: id host:pid, lease state, jobs running."""

    worker_id: str
    running: int
    lease_expires_at: datetime
    alive: bool


def throughput(conn: sa.Connection, *, minutes: int = 60) -> list[Minute]:
    """Completed and failed jobs per minute over the last ``minutes`` (missing minutes are 0)."""
    rows = conn.execute(
        sa.text(
            f"""WITH span AS (
                    SELECT generate_series(date_trunc('minute', now()) - make_interval(mins => :minutes - 1),
                                           date_trunc('minute', now()), interval '1 minute') AS at
                ), done AS (
                    SELECT date_trunc('minute', updated_at) AS at,
                           count(*) FILTER (WHERE status = 'completed') AS completed,
                           count(*) FILTER (WHERE status = 'failed') AS failed
                    FROM {JOBS}
                    WHERE status IN ('completed', 'failed')
                      AND updated_at >= date_trunc('minute', now()) - make_interval(mins => :minutes - 1)
                    GROUP BY 1
                )
                SELECT span.at, COALESCE(done.completed, 0) AS completed, COALESCE(done.failed, 0) AS failed
                FROM span LEFT JOIN done USING (at) ORDER BY span.at"""
        ),
        {"minutes": minutes},
    ).all()
    return [Minute(r.at, int(r.completed), int(r.failed)) for r in rows]


def workers(conn: sa.Connection) -> list[Worker]:
    """Workers holding jobs now; alive while they keep renewing their leases."""
    rows = conn.execute(
        sa.text(
            f"""SELECT worker_id, count(*) AS running, max(lease_expires_at) AS lease,
                       max(lease_expires_at) > now() AS alive
                FROM {JOBS} WHERE status = 'processing' AND worker_id IS NOT NULL
                GROUP BY worker_id ORDER BY worker_id"""
        )
    ).all()
    return [Worker(r.worker_id, int(r.running), r.lease, bool(r.alive)) for r in rows]


def eta_seconds(pending: int, recent: list[Minute], *, window: int = 5) -> float | None:
    """Time to drain what is pending at the rate of the last ``window`` full minutes."""
    finished = sum(m.completed + m.failed for m in recent[-window - 1 : -1])
    if pending == 0:
        return 0.0
    if finished == 0:
        return None
    return pending / (finished / (window * 60.0))


# -- jobs listing -----------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    jobs: list[readmodels.Job]
    next_cursor: str | None  # opaque; None on the last page


def encode_cursor(job: readmodels.Job) -> str:
    raw = f"{job.created_at.isoformat()}|{job.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID] | None:
    """The (created_at, id) a page starts after; None for a cursor that is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when, _, job_id = raw.partition("|")
        return datetime.fromisoformat(when), uuid.UUID(job_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None


def jobs_page(
    conn: sa.Connection, f: readmodels.JobFilter, *, cursor: str | None = None, limit: int = PAGE_SIZE
) -> Page:
    """One page of jobs, newest first, after ``cursor``: keyset pagination, no OFFSET."""
    where, params = filters.filter_sql(f)  # the same filters as `cadextract jobs`
    after = decode_cursor(cursor) if cursor else None
    if after is not None:
        where += " AND (j.created_at, j.id) < (:after_at, :after_id)"
        params.update(after_at=after[0], after_id=after[1])
    params["limit"] = limit + 1
    rows = conn.execute(
        sa.text(f"SELECT j.* FROM {JOBS} j WHERE {where} ORDER BY j.created_at DESC, j.id DESC LIMIT :limit"),
        params,
    ).all()
    found = [readmodels.Job.from_row(r) for r in rows[:limit]]
    more = len(rows) > limit
    return Page(found, encode_cursor(found[-1]) if more and found else None)


# -- batches ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Batch:
    name: str
    counts: dict[str, int]
    total: int
    created_at: datetime
    updated_at: datetime

    @property
    def finished(self) -> int:
        return sum(self.counts.get(s, 0) for s in sql.FINISHED_STATES)


def batches(conn: sa.Connection, *, before: str | None = None, limit: int = BATCH_PAGE) -> list[Batch]:
    """Batches by label, newest label first (default labels are timestamps), with counts per state.

    The labels come from a loose index scan of ``ix_jobs_batch`` (one index probe per
    batch) and the counts from the jobs of those batches only: the cost follows the
    page, not the table.
    """
    names = [
        r.batch
        for r in conn.execute(
            sa.text(
                f"""WITH RECURSIVE names AS (
                        (SELECT batch FROM {JOBS}
                         WHERE batch IS NOT NULL AND (CAST(:before AS text) IS NULL OR batch < :before)
                         ORDER BY batch DESC LIMIT 1)
                        UNION ALL
                        SELECT (SELECT j.batch FROM {JOBS} j WHERE j.batch < n.batch
                                ORDER BY j.batch DESC LIMIT 1)
                        FROM names n WHERE n.batch IS NOT NULL
                    )
                    SELECT batch FROM names WHERE batch IS NOT NULL LIMIT :limit"""
            ),
            {"before": before, "limit": limit},
        )
    ]
    rows = conn.execute(
        sa.text(
            f"""SELECT batch, status, count(*) AS n, min(created_at) AS created, max(updated_at) AS updated
                FROM {JOBS} WHERE batch = ANY(CAST(:names AS text[])) GROUP BY batch, status"""
        ),
        {"names": names},
    ).all()
    grouped: dict[str, dict[str, Any]] = {}
    for r in rows:
        b = grouped.setdefault(r.batch, {"counts": {}, "created": r.created, "updated": r.updated})
        b["counts"][r.status] = int(r.n)
        b["created"] = min(b["created"], r.created)
        b["updated"] = max(b["updated"], r.updated)
    return [
        Batch(name, g["counts"], sum(g["counts"].values()), g["created"], g["updated"])
        for name in names
        if (g := grouped.get(name))
    ]


def batch_failures(
    conn: sa.Connection, names: list[str], *, per_batch: int = 5
) -> dict[str, list[readmodels.Job]]:
    """The latest failures of each of these batches, in one query."""
    rows = conn.execute(
        sa.text(
            f"""SELECT * FROM (
                    SELECT j.*, row_number() OVER (PARTITION BY j.batch ORDER BY j.updated_at DESC) AS _rank
                    FROM {JOBS} j WHERE j.batch = ANY(CAST(:names AS text[])) AND j.status = 'failed'
                ) f WHERE _rank <= :n"""
        ),
        {"names": names, "n": per_batch},
    ).all()
    out: dict[str, list[readmodels.Job]] = {}
    for r in rows:
        data = r._asdict()
        data.pop("_rank")
        out.setdefault(r.batch, []).append(readmodels.Job(**data))
    return out


# -- search ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchResult:
    """What the search box finds: jobs by id prefix, and documents by the full-text index."""

    jobs: list[readmodels.Job]
    hits: list[search_store.Hit]
    error: str = ""  # the query could not be searched (one line, shown instead of hits)


def search(conn: sa.Connection, text: str, *, limit: int = 50) -> SearchResult:
    """Jobs whose id starts with the text (hex), and ranked documents from the search index.

    The index holds completed jobs (file name, folders, title block, every text); jobs
    still pending or failed are found by path on the jobs page, whose filter the search
    page links. Every query here is index-shaped: no table scan behind a search box.
    """
    text = text.strip()
    if not text:
        return SearchResult([], [])
    jobs: list[readmodels.Job] = []
    try:
        pattern = parsing.prefix_pattern(text)
    except parsing.JobNotFound:
        pattern = None
    if pattern is not None:
        ids = conn.execute(
            sa.text(f"SELECT id FROM {JOBS} WHERE CAST(id AS text) LIKE :p LIMIT :limit")
            if isinstance(pattern, str)
            else sa.text(f"SELECT id FROM {JOBS} WHERE id = :p LIMIT :limit"),
            {"p": pattern, "limit": limit},
        ).all()
        jobs = [readmodels.get(conn, r.id) for r in ids]
    try:
        parsed = query.parse(text)
    except query.BadQuery as exc:
        return SearchResult(jobs, [], "" if jobs else str(exc))
    return SearchResult(jobs, search_store.search(conn, parsed, query.Filters(), limit=limit))


def preview_info(conn: sa.Connection, job_id: uuid.UUID) -> dict[str, Any] | None:
    """Kind, size and render time of a job's preview, without its bytes."""
    row = conn.execute(
        sa.text(f"SELECT mime, octet_length(data) AS bytes, seconds FROM {PREVIEWS} WHERE job_id = :id"),
        {"id": job_id},
    ).first()
    return None if row is None else {"mime": row.mime, "bytes": int(row.bytes), "seconds": float(row.seconds)}


@dataclass(frozen=True)
class JobView:
    """One job as its page and the API show it: the job, its result document, its preview."""

    job: readmodels.Job
    document: dict[str, Any] | None
    preview: dict[str, Any] | None


def job_view(conn: sa.Connection, job_id: uuid.UUID) -> JobView:
    return JobView(
        readmodels.get(conn, job_id), readmodels.get_result(conn, job_id), preview_info(conn, job_id)
    )
