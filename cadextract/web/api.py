"""The JSON API under /api/: everything the pages show and do, for scripts (same auth)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy.engine import Engine

from cadextract.store import readmodels
from cadextract.web import actions, present, reads
from cadextract.web.app import engine_of, read_job, require_writable, resolve
from cadextract.web.jobquery import JobQuery, job_query
from cadextract.web.pages import dashboard_data

router = APIRouter(prefix="/api", tags=["console"])


def require_json(request: Request) -> None:
    """Actions take JSON: a cross-site form cannot send it without a CORS preflight (never granted)."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise HTTPException(415, "send the request body as application/json")


Action = [Depends(require_writable), Depends(require_json)]


class Ids(BaseModel):
    ids: list[str] = Field(description="Job ids or unique prefixes")


class BatchName(BaseModel):
    batch: str


class PurgeRequest(BaseModel):
    older_than: str = Field(description="Age, e.g. 30d, 12h")
    statuses: list[str] = Field(default_factory=lambda: list(actions.PURGEABLE))
    dry_run: bool = True


@router.get("/summary")
def summary(request: Request) -> dict[str, Any]:
    """Counts by state and format, throughput per minute (last hour), ETA, workers, failures."""
    data = dashboard_data(engine_of(request))
    d = data["d"]
    return {
        "by_status": d.summary.by_status,
        "by_format": d.summary.by_format,
        "total": data["total"],
        "completed_last_hour": data["last_hour"],
        "eta_seconds": data["eta"],
        "throughput": [
            {"minute": m.at.isoformat(), "completed": m.completed, "failed": m.failed}
            for m in data["minutes"]
        ],
        "workers": [
            {
                "worker_id": w.worker_id,
                "running": w.running,
                "alive": w.alive,
                "lease_expires_at": w.lease_expires_at.isoformat(),
            }
            for w in data["workers"]
        ],
        "running": [j.as_json() for j in d.summary.running],
        "recent_failures": [j.as_json() for j in d.failures],
    }


@router.get("/jobs")
def jobs(
    request: Request,
    query: Annotated[JobQuery, Depends(job_query)],
    cursor: str = "",
    limit: Annotated[int, Query(ge=1, le=500)] = reads.PAGE_SIZE,
) -> dict[str, Any]:
    """One page of jobs, newest first; pass ``next_cursor`` back as ``cursor`` for the next."""
    f = query.checked()
    with engine_of(request).connect() as conn:
        page = reads.jobs_page(conn, f, cursor=cursor or None, limit=limit)
    return {"jobs": [j.as_json() for j in page.jobs], "next_cursor": page.next_cursor}


@router.get("/jobs/{job}")
def job(request: Request, job: str) -> dict[str, Any]:
    """Every field of one job, its result tables and preview details."""
    _, view = read_job(request, job, reads.job_view)
    return {
        **view.job.as_json(),
        "result": present.result_tables(view.document) if view.document else None,
        "preview": view.preview,
    }


@router.get("/jobs/{job}/result")
def result(request: Request, job: str) -> Any:
    """The whole result document."""
    _, document = read_job(request, job, readmodels.get_result)
    if document is None:
        raise HTTPException(404, "this job has no result")
    return document


@router.get("/jobs/{job}/preview", response_class=Response)
def preview(request: Request, job: str) -> Response:
    """The preview image (SVG, PNG or JPEG)."""
    from cadextract.web.pages import job_preview

    return job_preview(request, job)


@router.post("/jobs/cancel", dependencies=Action)
def cancel(request: Request, body: Ids) -> dict[str, Any]:
    return _on_jobs(request, body, actions.cancel)


@router.post("/jobs/retry", dependencies=Action)
def retry(request: Request, body: Ids) -> dict[str, Any]:
    return _on_jobs(request, body, actions.retry)


def _on_jobs(
    request: Request, body: Ids, act: Callable[[Engine, Sequence[uuid.UUID]], actions.Outcome]
) -> dict[str, Any]:
    engine = engine_of(request)
    outcome = act(engine, [resolve(engine, i) for i in body.ids])
    return {"message": outcome.message, **outcome.counts}


@router.get("/batches")
def batches(request: Request, before: str = "") -> list[dict[str, Any]]:
    """Batches by label, newest first, 20 at a time (pass the last label as ``before``)."""
    with engine_of(request).connect() as conn:
        found = reads.batches(conn, before=before or None)
    return [
        {
            "batch": b.name,
            "total": b.total,
            "finished": b.finished,
            "counts": b.counts,
            "created_at": b.created_at.isoformat(),
            "updated_at": b.updated_at.isoformat(),
        }
        for b in found
    ]


@router.post("/batches/retry-failed", dependencies=Action)
def retry_failed(request: Request, body: BatchName) -> dict[str, Any]:
    outcome = actions.retry_failed(engine_of(request), body.batch)
    return {"message": outcome.message, **outcome.counts}


@router.post("/purge", dependencies=Action)
def purge(request: Request, body: PurgeRequest) -> dict[str, Any]:
    """Delete finished jobs older than an age (``dry_run``: only count them; the default)."""
    outcome = actions.purge(
        engine_of(request), older_than=body.older_than, statuses=body.statuses, dry_run=body.dry_run
    )
    return {"message": outcome.message, "dry_run": body.dry_run, **outcome.counts}


@router.get("/search")
def search(request: Request, q: str = "") -> dict[str, Any]:
    """Jobs whose id starts with ``q``, and ranked documents from the search index."""
    with engine_of(request).connect() as conn:
        found = reads.search(conn, q)
    if found.error:
        raise HTTPException(400, found.error)
    return {"jobs": [j.as_json() for j in found.jobs], "hits": [h.as_json() for h in found.hits]}
