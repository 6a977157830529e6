"""The console's HTML pages and form actions (each action: POST + CSRF token + confirmation)."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.engine import Engine

from cadextract.models import JobStatus
from cadextract.previews import store as preview_store
from cadextract.search import store as search_store
from cadextract.store import readmodels
from cadextract.web import actions, present, reads, security
from cadextract.web.app import (
    config_of,
    engine_of,
    read_job,
    render,
    require_csrf,
    require_writable,
    resolve,
)
from cadextract.web.jobquery import JobQuery, job_query

router = APIRouter(include_in_schema=False)
Writable = [Depends(require_writable), Depends(require_csrf)]


def dashboard_data(engine: Engine) -> dict[str, Any]:
    """Everything the dashboard shows: a handful of indexed queries, no count of the table."""
    with engine.connect() as conn:
        d = readmodels.dashboard(conn, limit=8)
        minutes = reads.throughput(conn)
        workers = reads.workers(conn)
    pending = d.summary.by_status.get("pending", 0)
    return {
        "d": d,
        "minutes": minutes,
        "workers": workers,
        "eta": reads.eta_seconds(pending, minutes),
        "last_hour": sum(m.completed for m in minutes),
        "total": sum(d.summary.by_status.values()),
    }


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request) -> Response:
    data = dashboard_data(engine_of(request))
    return render(request, "dashboard.html", {**data, "chart": present.chart(data["minutes"])})


@router.get("/fragments/dashboard", response_class=HTMLResponse)
def dashboard_fragment(request: Request) -> Response:
    data = dashboard_data(engine_of(request))
    return render(request, "_dashboard.html", {**data, "chart": present.chart(data["minutes"])})


@router.get("/jobs", response_class=HTMLResponse)
def jobs(request: Request, query: Annotated[JobQuery, Depends(job_query)], cursor: str = "") -> Response:
    f = query.checked()
    with engine_of(request).connect() as conn:
        page = reads.jobs_page(conn, f, cursor=cursor or None)
    params = query.params()
    next_url = "/jobs?" + urlencode([*params, ("cursor", page.next_cursor)]) if page.next_cursor else None
    return render(
        request,
        "jobs.html",
        {
            "page": page,
            "filters": asdict(query),
            "statuses": [str(s) for s in JobStatus],
            "formats": ["pdf", "dxf", "ifc", "step"],
            "next_url": next_url,
            "first_url": "/jobs?" + urlencode(params) if cursor else None,
            "here": str(request.url.path) + ("?" + request.url.query if request.url.query else ""),
        },
    )


@router.get("/jobs/{job}", response_class=HTMLResponse)
def job_page(request: Request, job: str) -> Response:
    _, view = read_job(request, job, reads.job_view)
    j, document, preview = view.job, view.document, view.preview
    fields = j.as_json()
    errors = fields.pop("errors")
    return render(
        request,
        "job.html",
        {
            "job": j,
            "fields": {k: present.cell(v) for k, v in fields.items()},
            "errors": errors,
            "result": present.result_tables(document),
            "has_result": document is not None,
            "timings": (document or {}).get("timings", {}),
            "preview": preview,
        },
    )


@router.get("/jobs/{job}/preview")
def job_preview(request: Request, job: str) -> Response:
    """The stored image; SVG under a CSP that lets nothing in it run, even opened directly."""
    _, image = read_job(request, job, preview_store.get)
    if image is None:
        return Response("no preview", status_code=404, media_type="text/plain")
    headers = {"Content-Security-Policy": security.PREVIEW_CSP, "Cache-Control": "private, max-age=300"}
    data = image.data
    if image.gzipped:
        if "gzip" in request.headers.get("accept-encoding", ""):
            headers["Content-Encoding"] = "gzip"
        else:
            data = image.plain()
    return Response(data, media_type=image.mime, headers=headers)


@router.get("/jobs/{job}/result.json")
def job_result(request: Request, job: str) -> Response:
    job_id, document = read_job(request, job, readmodels.get_result)
    if document is None:
        return Response("this job has no result", status_code=404, media_type="text/plain")
    return Response(
        json.dumps(document, indent=2),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{job_id}.json"'},
    )


@router.get("/batches", response_class=HTMLResponse)
def batches(request: Request, before: str = "") -> Response:
    with engine_of(request).connect() as conn:
        found = reads.batches(conn, before=before or None)
        failures = reads.batch_failures(conn, [b.name for b in found if b.counts.get("failed")])
    more = "/batches?" + urlencode({"before": found[-1].name}) if len(found) == reads.BATCH_PAGE else None
    return render(request, "batches.html", {"batches": found, "failures": failures, "next_url": more})


@router.get("/search", response_class=HTMLResponse)
def search(request: Request, q: str = "") -> Response:
    with engine_of(request).connect() as conn:
        found = reads.search(conn, q)
    hits = [(h, *search_store.split_marks(h.snippet)) for h in found.hits]
    return render(request, "search.html", {"q": q, "found": found, "hits": hits, "glob": f"*{q.strip()}*"})


@router.get("/purge", response_class=HTMLResponse)
def purge_form(request: Request) -> Response:
    return render(
        request, "purge.html", {"outcome": None, "older_than": "30d", "statuses": list(actions.PURGEABLE)}
    )


# -- actions --------------------------------------------------------------------------------


def _back(request: Request, target: str, message: str) -> RedirectResponse:
    """303 back to where the action was asked (a local path only), with the outcome."""
    if not target.startswith("/") or target.startswith("//"):
        target = "/"
    sep = "&" if "?" in target else "?"
    return RedirectResponse(target + sep + urlencode({"msg": message}), status_code=303)


@router.post("/jobs/{job}/cancel", dependencies=Writable)
def cancel_one(request: Request, job: str, next: Annotated[str, Form()] = "/") -> Response:
    outcome = actions.cancel(engine_of(request), [resolve(engine_of(request), job)])
    return _back(request, next, outcome.message)


@router.post("/jobs/{job}/retry", dependencies=Writable)
def retry_one(request: Request, job: str, next: Annotated[str, Form()] = "/") -> Response:
    outcome = actions.retry(engine_of(request), [resolve(engine_of(request), job)])
    return _back(request, next, outcome.message)


@router.post("/jobs/selected", dependencies=Writable)
def selected(
    request: Request,
    action: Annotated[str, Form()],
    ids: Annotated[list[str], Form()] = [],  # noqa: B006
    next: Annotated[str, Form()] = "/jobs",
) -> Response:
    chosen = actions.parse_ids(ids)
    if not chosen:
        return _back(request, next, "no jobs selected")
    if action == "cancel":
        outcome = actions.cancel(engine_of(request), chosen)
    elif action == "retry":
        outcome = actions.retry(engine_of(request), chosen)
    else:
        raise actions.BadRequest(f"unknown action {action!r}")
    return _back(request, next, outcome.message)


@router.post("/batches/retry-failed", dependencies=Writable)
def retry_failed(request: Request, batch: Annotated[str, Form()]) -> Response:
    outcome = actions.retry_failed(engine_of(request), batch)
    return _back(request, "/batches", outcome.message)


@router.post("/purge", response_class=HTMLResponse, dependencies=Writable)
def purge(
    request: Request,
    older_than: Annotated[str, Form()],
    statuses: Annotated[list[str], Form()] = [],  # noqa: B006
    confirm: Annotated[str, Form()] = "",
) -> Response:
    """Without ``confirm``: the dry run, showing what would go; with it: delete."""
    outcome = actions.purge(engine_of(request), older_than=older_than, statuses=statuses, dry_run=not confirm)
    return render(
        request,
        "purge.html",
        {"outcome": outcome, "dry_run": not confirm, "older_than": older_than, "statuses": statuses},
    )


# -- login ----------------------------------------------------------------------------------


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, token: Annotated[str, Form()], next: Annotated[str, Form()] = "/") -> Response:
    config = config_of(request)
    if not security.token_matches(config, token):
        return render(request, "login.html", {"next": next, "error": "wrong token"}, status=401)
    response = _back(request, next if next != "/login" else "/", "signed in")
    response.set_cookie(
        security.AUTH_COOKIE,
        security.cookie_value(config.token or ""),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/") -> Response:
    return render(request, "login.html", {"next": next, "error": ""})


@router.post("/logout")
def logout(request: Request) -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(security.AUTH_COOKIE, path="/")
    return response
