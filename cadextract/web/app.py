"""The web console: FastAPI app, its guard (host, token, CSRF, headers), errors, shared helpers.

Pages live in ``pages.py``, the JSON API in ``api.py``; both read through
``cadextract.store`` and ``web.reads`` and act through ``web.actions``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any, TypeVar

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from cadextract import __version__
from cadextract.store import parsing, readmodels
from cadextract.web import actions, present, security
from cadextract.web.security import WebConfig

log = logging.getLogger(__name__)
T = TypeVar("T")

PUBLIC_PATHS = ("/login", "/static/")


def create_app(engine: Engine, config: WebConfig) -> FastAPI:
    """The console over one database; ``config`` decides who may use it and how."""
    security.check_config(config)
    app = FastAPI(
        title="cadextract console API",
        version=__version__,
        description="Everything the console shows and does. Auth: `Authorization: Bearer <token>` "
        "when the console runs with a token.",
        docs_url=None,  # Swagger UI would load its scripts from a CDN: the schema is enough
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.engine = engine
    app.state.config = config
    templates = Jinja2Templates(directory=str(resources.files("cadextract.web") / "templates"))
    templates.env.globals.update(short=present.short, ago=present.ago, duration=present.duration)
    app.state.templates = templates
    app.mount("/static", StaticFiles(packages=[("cadextract.web", "static")]), name="static")
    app.middleware("http")(_guard)
    _errors(app)
    from cadextract.web import api, pages  # routes need the helpers above

    app.include_router(pages.router)
    app.include_router(api.router)
    return app


def engine_of(request: Request) -> Engine:
    return request.app.state.engine  # type: ignore[no-any-return]


def config_of(request: Request) -> WebConfig:
    return request.app.state.config  # type: ignore[no-any-return]


def render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    """A template with what every page needs: CSRF token, read-only flag, flash message."""
    config = config_of(request)
    session = request.state.session
    base = {
        "request": request,
        "csrf": security.csrf_token(config, session),
        "read_only": config.read_only,
        "auth": bool(config.token),
        "flash": request.query_params.get("msg", ""),
        "version": __version__,
    }
    return request.app.state.templates.TemplateResponse(  # type: ignore[no-any-return]
        request, name, {**base, **context}, status_code=status
    )


def resolve(engine: Engine, given: str) -> uuid.UUID:
    """A job id or unique prefix from a URL; 404 otherwise."""
    try:
        with engine.connect() as conn:
            return readmodels.resolve(conn, given)
    except (parsing.JobNotFound, parsing.AmbiguousPrefix) as exc:
        raise HTTPException(404, str(exc)) from None


def read_job(request: Request, given: str, read: Callable[[Connection, uuid.UUID], T]) -> tuple[uuid.UUID, T]:
    """Resolve the job named in a URL (404 otherwise) and ``read`` something of it."""
    engine = engine_of(request)
    job_id = resolve(engine, given)
    with engine.connect() as conn:
        return job_id, read(conn, job_id)


def require_writable(request: Request) -> None:
    if config_of(request).read_only:
        raise HTTPException(403, "the console is read-only (started with --read-only)")


async def require_csrf(request: Request) -> None:
    """Form posts must carry the CSRF token of this browser's session."""
    form = await request.form()
    given = form.get("csrf") or request.headers.get("x-csrf-token")
    if not security.csrf_ok(
        config_of(request), request.cookies.get(security.SESSION_COOKIE), str(given or "")
    ):
        raise HTTPException(
            403, "the form has expired or did not come from this console; reload and try again"
        )


# -- the guard every request passes ---------------------------------------------------------


async def _guard(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    config: WebConfig = request.app.state.config
    if not security.host_allowed(config, request.headers.get("host", "")):
        return _one_line(request, 400, "unexpected Host header: the console answers on localhost only")
    path = request.url.path
    public = any(path == p or path.startswith(p) for p in PUBLIC_PATHS if p.endswith("/")) or path == "/login"
    if not public and not security.authenticated(
        config,
        cookie=request.cookies.get(security.AUTH_COOKIE),
        authorization=request.headers.get("authorization"),
    ):
        if path.startswith("/api/"):
            return JSONResponse(
                {"error": "a token is required: Authorization: Bearer <token>"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        request.state.session = request.cookies.get(security.SESSION_COOKIE) or security.new_session()
        response: Response = render(request, "login.html", {"next": path, "error": ""}, status=401)
    else:
        session = request.cookies.get(security.SESSION_COOKIE)
        request.state.session = session or security.new_session()
        response = await call_next(request)
    if request.cookies.get(security.SESSION_COOKIE) != request.state.session:
        response.set_cookie(
            security.SESSION_COOKIE, request.state.session, httponly=True, samesite="strict", path="/"
        )
    _headers(response, path)
    return response


def _headers(response: Response, path: str) -> None:
    response.headers.setdefault("Content-Security-Policy", security.PAGE_CSP)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    if not path.startswith("/static/"):
        response.headers.setdefault("Cache-Control", "no-store")


# -- errors: one line, no traceback, no secrets -------------------------------------------------


def _one_line(request: Request, status: int, message: str) -> Response:
    message = message.splitlines()[0] if message else "error"
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": message}, status_code=status)
    from markupsafe import escape

    body = (
        "<!doctype html><meta charset=utf-8><title>cadextract: error</title>"
        f"<p>cadextract: {escape(message)} — <a href='/'>dashboard</a></p>"
    )
    return HTMLResponse(body, status_code=status)


def _errors(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return _one_line(request, exc.status_code, str(exc.detail))

    @app.exception_handler(actions.BadRequest)
    async def bad_request(request: Request, exc: actions.BadRequest) -> Response:
        return _one_line(request, 400, str(exc))

    @app.exception_handler(OperationalError)
    async def database_down(request: Request, exc: OperationalError) -> Response:
        log.warning("database unavailable: %s", type(exc.orig).__name__)
        return _one_line(request, 503, "the database is unavailable; try again shortly")

    @app.exception_handler(DBAPIError)
    async def database_error(request: Request, exc: DBAPIError) -> Response:
        log.error("database error on %s: %s", request.url.path, type(exc.orig).__name__)
        return _one_line(request, 500, "database error (details in the console's log)")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s", request.url.path)  # the server's log only
        return _one_line(request, 500, "internal error (details in the console's log)")
