"""The command line: parse, call the core, render. Nothing here talks SQL.

Exit codes (docs/exit-codes.md):
    0 ok · 1 some jobs failed or did not finish · 2 usage error or bad input ·
    3 database unreachable or unusable · 4 job not found or id prefix ambiguous ·
    130 interrupted
"""

from __future__ import annotations

import contextlib
import getpass
import json
import logging
import os
import re
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from cadextract import __version__, db, files, views
from cadextract import setting_rules as rules
from cadextract.config import ConfigError, Settings, create_home
from cadextract.display import clean, printable
from cadextract.extractors import registry
from cadextract.runtime import pool, stopping, supervisor
from cadextract.store import commands, parsing, reads

OK = 0
JOBS_FAILED = 1
USAGE = 2
DATABASE = 3
NOT_FOUND = 4
INTERRUPTED = 130

app = typer.Typer(
    name="cadextract",
    help="Extract data from PDF, DXF, IFC and STEP files into PostgreSQL, in bulk.",
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database: upgrade, status, url, stop (embedded server).", no_args_is_help=True)
app.add_typer(db_app, name="db")

out = Console(soft_wrap=False)
if not out.is_terminal and "COLUMNS" not in os.environ:
    # piped or in cron: nobody's window to fit; wrap less so lines stay greppable
    out.width = 200
err = Console(stderr=True, soft_wrap=True)


class State:
    """Per-invocation state: settings now, the engine on first use."""

    def __init__(self, database_url: str | None) -> None:
        self.database_url = database_url
        self._settings: Settings | None = None
        self._engine: Engine | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = Settings.from_env(self.database_url)
        return self._settings

    def engine(self, *, migrate: bool = True, pool_size: int = 2) -> Engine:
        if self._engine is None:
            s = self.settings
            self._engine = db.connect(s.database_url, s.home, migrate=migrate, pool_size=pool_size)
        return self._engine


def _state(ctx: typer.Context) -> State:
    return ctx.ensure_object(State) if ctx.obj is None else ctx.obj  # type: ignore[no-any-return]


class Failed(Exception):
    """Stop the command with a one-line message and an exit code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Turn the errors a user can cause into one readable line and an exit code."""
    try:
        yield
    except Failed as exc:
        _die(str(exc), exc.code)
    except (files.SubmitError, ConfigError, registry.UnknownFormat) as exc:
        _die(str(exc), USAGE)
    except (parsing.JobNotFound, parsing.AmbiguousPrefix) as exc:
        _die(str(exc), NOT_FOUND)
    except db.DatabaseUnavailable as exc:
        _die(str(exc), DATABASE)
    except DBAPIError as exc:
        _die(f"database error: {db.first_line(exc.orig)}", DATABASE)
    except KeyboardInterrupt:
        _die("interrupted", INTERRUPTED)


def _die(message: str, code: int) -> None:
    err.print(f"cadextract: {printable(message)}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _version(value: bool) -> None:
    if value:
        print(f"cadextract {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            envvar="CADEXTRACT_DATABASE_URL",
            show_envvar=True,
            help="PostgreSQL URL; default: the embedded server in CADEXTRACT_HOME.",
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """cadextract: a durable job queue for CAD data extraction."""
    ctx.obj = State(database_url)


# -- submit -----------------------------------------------------------------------


def _parse_options(pairs: list[str] | None) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise Failed(f"--option {pair!r}: expected KEY=VALUE", USAGE)
        try:
            options[key] = json.loads(raw)
        except ValueError:
            options[key] = raw
    for key, value in options.items():
        # NaN, Infinity and 1e400 parse as JSON numbers that PostgreSQL's jsonb refuses
        problem = rules.finite_number_problem(
            key, value, high=rules.JOB_TIMEOUT_MAX if key == "timeout" else None
        )
        if problem:
            raise Failed(problem, USAGE)
    if "timeout" in options:
        timeout = options["timeout"]
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
            raise Failed(f"--option timeout={timeout!r}: give a number of seconds above 0", USAGE)
    return options


def _finite(value: float) -> float:
    """Click's ranges let NaN through (every comparison with it is false)."""
    if value != value:
        raise typer.BadParameter("not a number")
    return value


def _submit(
    state: State,
    paths: list[Path],
    *,
    recursive: bool,
    fmt: str | None,
    force: bool,
    priority: int,
    max_retries: int | None,
    batch: str | None,
    options: dict[str, Any],
    show_progress: bool,
    follow_links: bool = False,
) -> tuple[list[commands.Enqueued], list[tuple[str, str]]]:
    candidates = files.collect(paths, recursive=recursive, forced_format=fmt, follow_links=follow_links)
    good = [c for c in candidates if c.skip_reason is None]
    skipped = [(str(c.path), c.skip_reason or "") for c in candidates if c.skip_reason]
    engine = state.engine()  # connect before hashing: a dead database should fail fast
    retries = state.settings.max_retries if max_retries is None else max_retries
    if retries < 0:
        raise Failed("--max-retries cannot be negative", USAGE)
    with _hash_progress(show_progress and len(good) > 1, good) as on_done:
        try:
            digests = files.hash_all(good, on_done=on_done)
        except OSError as exc:
            raise Failed(f"cannot read {exc.filename}: {exc.strerror}", USAGE) from None
    user = _user()
    new_jobs = [
        commands.NewJob(
            path=str(c.path),
            size=c.size,
            sha256=digests[c.path],
            format=c.format or "",
            priority=priority,
            max_attempts=retries + 1,
            options=options,
            batch=batch,
            submitted_by=user,
        )
        for c in good
    ]
    with engine.begin() as conn:
        outcomes = commands.enqueue(conn, new_jobs, force=force)
    return outcomes, skipped


@contextlib.contextmanager
def _hash_progress(enabled: bool, good: list[files.Candidate]) -> Iterator[Any]:
    if not enabled or not err.is_terminal:
        yield None
        return
    with Progress(
        TextColumn("hashing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    ) as progress:
        task = progress.add_task("hash", total=sum(c.size for c in good))
        yield lambda c: progress.advance(task, c.size)


def _user() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None


PathsArg = Annotated[list[Path], typer.Argument(help="Files or folders.", show_default=False)]
RecursiveOpt = Annotated[bool, typer.Option("--recursive", "-r", help="Descend into folders.")]
FormatOpt = Annotated[str | None, typer.Option("--format", "-f", help="Force a format (skip detection).")]
ForceOpt = Annotated[bool, typer.Option("--force", help="Queue files already extracted (same content).")]
PriorityOpt = Annotated[
    int,
    typer.Option(
        "--priority",
        "-p",
        min=rules.PRIORITY_RANGE[0],
        max=rules.PRIORITY_RANGE[1],
        help="Higher runs first.",
    ),
]
RetriesOpt = Annotated[
    int | None,
    typer.Option(
        "--max-retries",
        min=0,
        max=int(rules.BY_FIELD["max_retries"].high),
        help="Retries after the first attempt [3].",
    ),
]
BatchOpt = Annotated[str | None, typer.Option("--batch", "-b", help="Batch label (default: a timestamp).")]
OptionOpt = Annotated[
    list[str] | None, typer.Option("--option", "-o", help="Job option KEY=VALUE (repeatable).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
FollowLinksOpt = Annotated[
    bool,
    typer.Option("--follow-links", help="Inside folders, also follow links that lead outside the folder."),
]


def _default_batch() -> str:
    return datetime.now().strftime("%Y%m%d-%H%M%S")


@app.command()
def submit(
    ctx: typer.Context,
    paths: PathsArg,
    recursive: RecursiveOpt = False,
    fmt: FormatOpt = None,
    force: ForceOpt = False,
    priority: PriorityOpt = 0,
    max_retries: RetriesOpt = None,
    batch: BatchOpt = None,
    option: OptionOpt = None,
    as_json: JsonOpt = False,
    follow_links: FollowLinksOpt = False,
) -> None:
    """Queue one job per file; unchanged files already queued or done are skipped."""
    state = _state(ctx)
    with user_errors():
        outcomes, skipped = _submit(
            state,
            paths,
            recursive=recursive,
            fmt=fmt,
            force=force,
            priority=priority,
            max_retries=max_retries,
            batch=batch or _default_batch(),
            options=_parse_options(option),
            show_progress=not as_json,
            follow_links=follow_links,
        )
    if as_json:
        print(json.dumps(_submit_json(outcomes, skipped), indent=2))
        return
    if len(outcomes) + len(skipped) <= 200:
        out.print(views.submit_table(outcomes, skipped))
    out.print(views.submit_counts(outcomes, skipped))


def _submit_json(outcomes: list[commands.Enqueued], skipped: list[tuple[str, str]]) -> list[dict[str, Any]]:
    rows = [
        {
            "path": o.job.path,
            "format": o.job.format,
            "job_id": str(o.job_id) if o.job_id else None,
            "queued": o.skipped_reason is None,
            "reason": o.skipped_reason,
        }
        for o in outcomes
    ]
    rows += [{"path": p, "format": None, "job_id": None, "queued": False, "reason": r} for p, r in skipped]
    return rows


# -- work / run -------------------------------------------------------------------


ConcurrencyOpt = Annotated[
    int, typer.Option("--concurrency", "-c", min=1, max=rules.CONCURRENCY_MAX, help="Child processes.")
]


def _configure_logging(quiet: bool, verbose: bool, log_file: Path | None) -> None:
    level = logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO
    root_logger = logging.getLogger()
    root_logger.setLevel(level)
    for h in list(root_logger.handlers):
        root_logger.removeHandler(h)
    handler: logging.Handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%dT%H:%M:%S"))
    root_logger.addHandler(handler)
    if log_file is not None:
        try:
            fh = logging.FileHandler(log_file)
        except OSError as exc:
            raise Failed(f"cannot open log file {log_file}: {exc.strerror}", USAGE) from None
        fh.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        root_logger.addHandler(fh)
    for noisy in ("pgserver", "alembic", "sqlalchemy", "ezdxf", "pdfminer"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


def _work(
    state: State,
    *,
    concurrency: int,
    until_empty: bool,
    wait_for_retries: bool,
    prefetch: int | None,
    formats: list[str] | None,
    live: bool,
) -> supervisor.Stats:
    settings = state.settings
    engine = state.engine(pool_size=2)
    log = logging.getLogger("cadextract.jobs")

    def on_event(e: supervisor.Event) -> None:
        if e.kind == "claimed" and live:
            return
        level = logging.WARNING if e.kind in ("failed", "lost") else logging.INFO
        if e.kind == "claimed":
            level = logging.DEBUG
        if not log.isEnabledFor(level):
            return  # twice per job: skip formatting what nobody will see (-q, no -v)
        log.log(
            level,
            "%-9s %s %-4s %s%s",
            e.kind,
            views.short_id(e.job_id),
            e.format,
            printable(e.path),
            f"  ({printable(e.detail)})" if e.detail else "",
        )

    def reconnect() -> Engine:
        # the embedded server may itself have died: start it again
        if settings.database_url is None:
            db.embedded_url(settings.home)
        return engine

    options = supervisor.Options(
        concurrency=concurrency,
        until_empty=until_empty,
        wait_for_retries=wait_for_retries,
        prefetch=prefetch,
        formats=formats,
    )
    sup = supervisor.Supervisor(engine, settings, options, on_event=on_event, reconnect=reconnect)
    exiting = stopping.install_signal_handlers(sup.request_stop)
    try:
        if live:
            with Live(console=out, refresh_per_second=4, transient=False) as display:
                last = 0.0

                def on_tick(s: supervisor.Supervisor) -> None:
                    nonlocal last
                    now = time.monotonic()
                    if now - last >= 0.25:
                        last = now
                        display.update(
                            views.work_view(
                                s.snapshot(), s.stats, elapsed=now - s.started_at, connected=s.connected
                            )
                        )

                sup.on_tick = on_tick
                stats = sup.run()
        else:
            stats = sup.run()
    finally:
        exiting()
    if sup.fatal is not None:
        raise db.SchemaProblem(sup.fatal)
    return stats


@app.command()
def work(
    ctx: typer.Context,
    concurrency: ConcurrencyOpt = 2,
    until_empty: Annotated[
        bool, typer.Option("--until-empty", help="Exit when nothing is runnable.")
    ] = False,
    prefetch: Annotated[
        int | None,
        typer.Option(
            min=0,
            max=256,
            help="Jobs queued in each child beyond the one it runs. Default: about 0.1 s of work "
            "per child, judged from recent job durations (0 for seconds-long files).",
        ),
    ] = None,
    fmt: Annotated[list[str] | None, typer.Option("--format", "-f", help="Only these formats.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
    log_file: Annotated[Path | None, typer.Option(help="Also log to this file.")] = None,
) -> None:
    """Run a worker: claim jobs and extract them in child processes."""
    state = _state(ctx)
    live = out.is_terminal and not quiet
    with user_errors():
        _configure_logging(quiet, verbose, log_file)
        pool.start_forkserver()  # its imports overlap ours and the database's
        formats = _split(fmt) or None
        for f in formats or []:
            registry.get(f)
        stats = _work(
            state,
            concurrency=concurrency,
            until_empty=until_empty,
            wait_for_retries=False,
            prefetch=prefetch,
            formats=formats,
            live=live,
        )
    err.print(
        f"completed {stats.completed}, failed {stats.failed}, retrying {stats.retried}, "
        f"cancelled {stats.cancelled}, returned {stats.released}",
        highlight=False,
    )


@app.command()
def run(
    ctx: typer.Context,
    paths: PathsArg,
    recursive: RecursiveOpt = False,
    concurrency: ConcurrencyOpt = 2,
    fmt: FormatOpt = None,
    force: ForceOpt = False,
    priority: PriorityOpt = 0,
    max_retries: RetriesOpt = None,
    batch: BatchOpt = None,
    option: OptionOpt = None,
    report: Annotated[Path | None, typer.Option(help="Write the run summary as JSON here.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
    log_file: Annotated[Path | None, typer.Option(help="Also log to this file.")] = None,
    follow_links: FollowLinksOpt = False,
) -> None:
    """Submit, then work until the queue is empty: the cron entry point.

    Exits 0 only when every file of this run ends completed (extracted now or before).
    """
    state = _state(ctx)
    label = batch or f"run-{_default_batch()}"
    started = time.monotonic()
    with user_errors():
        _configure_logging(quiet, verbose, log_file)
        pool.start_forkserver()  # its imports overlap hashing and submitting
        outcomes, skipped = _submit(
            state,
            paths,
            recursive=recursive,
            fmt=fmt,
            force=force,
            priority=priority,
            max_retries=max_retries,
            batch=label,
            options=_parse_options(option),
            show_progress=not quiet,
            follow_links=follow_links,
        )
        logging.getLogger("cadextract").info("%s", views.submit_counts(outcomes, skipped).plain)
        _work(
            state,
            concurrency=concurrency,
            until_empty=True,
            wait_for_retries=True,
            prefetch=None,
            formats=None,
            live=out.is_terminal and not quiet,
        )
        ids = [o.job_id for o in outcomes if o.job_id is not None]
        with state.engine().connect() as conn:
            final = reads.statuses(conn, ids)
    summary = _run_summary(label, outcomes, skipped, final, time.monotonic() - started)
    if report is not None:
        report.write_text(json.dumps(summary, indent=2) + "\n")
    line = (
        f"run {label}: {summary['completed']} completed, {summary['failed']} failed, "
        f"{summary['cancelled']} cancelled, {summary['unfinished']} unfinished, "
        f"{len(skipped)} not submittable, in {summary['seconds']:.1f}s"
    )
    err.print(printable(line), highlight=False, markup=False)
    if summary["failed"] or summary["cancelled"] or summary["unfinished"]:
        raise typer.Exit(JOBS_FAILED)


def _run_summary(
    label: str,
    outcomes: list[commands.Enqueued],
    skipped: list[tuple[str, str]],
    final: dict[uuid.UUID, str],
    seconds: float,
) -> dict[str, Any]:
    files_out = []
    for o in outcomes:
        status = final.get(o.job_id, "missing") if o.job_id else "missing"
        files_out.append(
            {
                "path": o.job.path,
                "job_id": str(o.job_id) if o.job_id else None,
                "status": status,
                "queued_now": o.skipped_reason is None,
            }
        )
    counts = {s: sum(1 for f in files_out if f["status"] == s) for s in ("completed", "failed", "cancelled")}
    return {
        "batch": label,
        "seconds": round(seconds, 3),
        "submitted": sum(1 for o in outcomes if o.skipped_reason is None),
        "already_known": sum(1 for o in outcomes if o.skipped_reason),
        "not_submittable": [{"path": p, "reason": r} for p, r in skipped],
        **counts,
        "unfinished": len(files_out) - sum(counts.values()),
        "files": files_out,
    }


# -- status / result ----------------------------------------------------------------


@app.command()
def status(
    ctx: typer.Context,
    job: Annotated[
        str | None, typer.Argument(help="Job id or unique prefix; omit for the queue summary.")
    ] = None,
    batch: Annotated[str | None, typer.Option("--batch", "-b", help="Summary of one batch.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """The queue at a glance, or every detail of one job."""
    state = _state(ctx)
    with user_errors():
        engine = state.engine()
        with engine.connect() as conn:
            if job is None:
                s = reads.summary(conn, batch=batch)
                if as_json:
                    print(json.dumps(_summary_json(s), indent=2))
                else:
                    out.print(views.summary_view(s))
                return
            job_id = reads.resolve(conn, job)
            j = reads.get(conn, job_id)
            document = reads.get_result(conn, job_id)
    summary = _result_summary(document)
    if as_json:
        print(json.dumps({**j.as_json(), "result_summary": summary}, indent=2, default=str))
    else:
        out.print(views.job_view(j, document, summary))


def _summary_json(s: reads.Summary) -> dict[str, Any]:
    return {
        "by_status": s.by_status,
        "by_format": s.by_format,
        "oldest_pending": s.oldest_pending.isoformat() if s.oldest_pending else None,
        "scheduled_retries": s.scheduled_retries,
        "running": [j.as_json() for j in s.running],
    }


def _result_summary(document: dict[str, Any] | None) -> dict[str, Any] | None:
    if not document:
        return None
    try:
        extractor = registry.get(document["format"])
    except (registry.UnknownFormat, ImportError, KeyError):
        return None
    if extractor.summarize is None:
        return None
    return extractor.summarize(document.get("payload", {}))


@app.command()
def result(
    ctx: typer.Context,
    job: Annotated[str, typer.Argument(help="Job id or unique prefix.")],
    as_json: Annotated[bool, typer.Option("--json", help="The whole result document.")] = False,
) -> None:
    """Show what was extracted from one file."""
    state = _state(ctx)
    with user_errors():
        with state.engine().connect() as conn:
            job_id = reads.resolve(conn, job)
            j = reads.get(conn, job_id)
            document = reads.get_result(conn, job_id)
        if document is None:
            raise Failed(f"job {views.short_id(job_id)} has no result (status {j.status})", NOT_FOUND)
    if as_json:
        print(json.dumps(document, indent=2))
        return
    out.print(views.summary_table({"file": j.path, "format": j.format, "job": str(j.id)}, title="file"))
    summary = _result_summary(document)
    if summary:
        out.print(views.summary_table(summary, title="summary"))
    extractor = registry.get(document["format"])
    if extractor.rows is not None:
        rows = list(extractor.rows(document.get("payload", {})))
        if rows:
            out.print(views.rows_table(rows, title="details"))
    if document.get("warnings"):
        out.print(f"[yellow]warnings:[/] {clean('; '.join(document['warnings']))}")


# -- jobs / cancel / retry / purge ----------------------------------------------------


_AGE = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw])$")


def parse_age(text: str) -> timedelta:
    """'30d', '12h', '90m', '45s', '2w' -> timedelta."""
    match = _AGE.match(text.strip().lower())
    if not match:
        raise Failed(f"cannot read age {text!r}: use e.g. 30d, 12h, 90m", USAGE)
    value, unit = float(match.group(1)), match.group(2)
    seconds = value * {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[unit]
    if seconds > rules.MAX_AGE_SECONDS:
        raise Failed(f"age {text!r} is too large: at most 100 years (36500d)", USAGE)
    return timedelta(seconds=seconds)


def _since(text: str | None) -> datetime | None:
    if text is None:
        return None
    with contextlib.suppress(ValueError):
        parsed = datetime.fromisoformat(text)
        return parsed if parsed.tzinfo else parsed.astimezone()
    return datetime.now(UTC) - parse_age(text)


def _split(values: list[str] | None) -> list[str]:
    return [v.strip() for raw in values or [] for v in raw.split(",") if v.strip()]


def _filter(
    status: list[str] | None, fmt: list[str] | None, batch: str | None, since: str | None, path: str | None
) -> reads.JobFilter:
    statuses = _split(status)
    bad = [s for s in statuses if s not in views.STATUS_STYLE]
    if bad:
        raise Failed(f"unknown status {bad[0]!r}; use {', '.join(views.STATUS_STYLE)}", USAGE)
    return reads.JobFilter(
        statuses=statuses, formats=_split(fmt), batch=batch, since=_since(since), path_glob=path
    )


StatusFilter = Annotated[
    list[str] | None, typer.Option("--status", "-s", help="pending, processing, ... (comma list).")
]
FormatFilter = Annotated[list[str] | None, typer.Option("--format", "-f", help="dxf, pdf, ifc, step.")]
BatchFilter = Annotated[str | None, typer.Option("--batch", "-b", help="Batch label.")]
SinceFilter = Annotated[
    str | None, typer.Option("--since", help="Created within (30m, 2d) or since ISO time.")
]
PathFilter = Annotated[str | None, typer.Option("--path", help="Glob on the file path (e.g. '*.dxf').")]


@app.command()
def jobs(
    ctx: typer.Context,
    status: StatusFilter = None,
    fmt: FormatFilter = None,
    batch: BatchFilter = None,
    since: SinceFilter = None,
    path: PathFilter = None,
    sort: Annotated[str, typer.Option(help="created, updated, priority, path, status.")] = "created",
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=0, max=rules.LIMIT_MAX, help="0 = no limit.")
    ] = 50,
    as_json: JsonOpt = False,
    ids: Annotated[
        bool, typer.Option("--ids", help="Only ids, one per line (pipe into cancel/retry).")
    ] = False,
) -> None:
    """List jobs, newest first, with filters."""
    state = _state(ctx)
    with user_errors():
        if sort not in reads.SORTS:
            raise Failed(f"unknown sort {sort!r}; use {', '.join(reads.SORTS)}", USAGE)
        f = _filter(status, fmt, batch, since, path)
        with state.engine().connect() as conn:
            found = reads.list_jobs(conn, f, sort=sort, limit=limit or None)
    if ids:
        for j in found:
            print(j.id)
    elif as_json:
        print(json.dumps([j.as_json() for j in found], indent=2))
    else:
        out.print(views.jobs_table(found, width=out.width))


def _ids_from(conn: Any, given: list[str]) -> list[uuid.UUID]:
    if given == ["-"]:
        given = [line.strip() for line in sys.stdin if line.strip()]
    return [reads.resolve(conn, g) for g in given]


@app.command()
def cancel(
    ctx: typer.Context,
    job_ids: Annotated[list[str] | None, typer.Argument(help="Ids or prefixes ('-' reads stdin).")] = None,
    batch: BatchFilter = None,
    status: StatusFilter = None,
    as_json: JsonOpt = False,
) -> None:
    """Cancel jobs: pending ones at once, running ones within about a second."""
    state = _state(ctx)
    with user_errors():
        if not job_ids and batch is None and not status:
            raise Failed("give job ids, --batch or --status", USAGE)
        with state.engine().begin() as conn:
            ids = _ids_from(conn, job_ids or [])
            if batch is not None or status:
                f = _filter(status or ["pending", "processing"], None, batch, None, None)
                ids += [j.id for j in reads.list_jobs(conn, f, limit=None)]
            done = commands.cancel(conn, ids)
    if as_json:
        print(json.dumps({k: [str(i) for i in v] for k, v in done.items()}, indent=2))
    else:
        err.print(
            f"cancelled {len(done['cancelled'])}, cancel requested for {len(done['requested'])} running, "
            f"{len(done['finished'])} already finished",
            highlight=False,
        )


@app.command()
def retry(
    ctx: typer.Context,
    job_ids: Annotated[list[str] | None, typer.Argument(help="Ids or prefixes ('-' reads stdin).")] = None,
    failed: Annotated[
        bool, typer.Option("--failed", help="Every failed job (with --batch: of that batch).")
    ] = False,
    batch: BatchFilter = None,
    as_json: JsonOpt = False,
) -> None:
    """Put failed or cancelled jobs back in the queue with fresh attempts."""
    state = _state(ctx)
    with user_errors():
        if not job_ids and not failed:
            raise Failed("give job ids or --failed", USAGE)
        with state.engine().begin() as conn:
            ids = _ids_from(conn, job_ids or [])
            if failed:
                ids += [
                    j.id
                    for j in reads.list_jobs(
                        conn, reads.JobFilter(statuses=["failed"], batch=batch), limit=None
                    )
                ]
            back = commands.retry(conn, ids)
    if as_json:
        print(json.dumps({"retried": [str(i) for i in back]}))
    else:
        err.print(
            f"retrying {len(back)} job(s); {len(ids) - len(back)} were not failed or cancelled",
            highlight=False,
        )


@app.command()
def purge(
    ctx: typer.Context,
    older_than: Annotated[str, typer.Option("--older-than", help="Age, e.g. 30d, 12h.")],
    status: Annotated[
        list[str] | None,
        typer.Option("--status", "-s", help="Finished states to purge [completed,failed,cancelled]."),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count, delete nothing.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Delete finished jobs (and results) older than an age; never pending or running ones."""
    state = _state(ctx)
    with user_errors():
        age = parse_age(older_than)
        statuses = _split(status) or ["completed", "failed", "cancelled"]
        bad = [s for s in statuses if s not in ("completed", "failed", "cancelled")]
        if bad:
            raise Failed(f"purge only deletes finished jobs; {bad[0]!r} is not a finished state", USAGE)
        engine = state.engine()
        started = time.monotonic()
        if dry_run:
            with engine.connect() as conn:
                removed = commands.count_purgeable(
                    conn, older_than_seconds=age.total_seconds(), statuses=statuses
                )
        else:
            removed = 0
            while True:
                with engine.begin() as conn:  # short transactions: no long locks
                    n = commands.purge(conn, older_than_seconds=age.total_seconds(), statuses=statuses)
                removed += n
                if n == 0:
                    break
        seconds = time.monotonic() - started
    if as_json:
        print(json.dumps({"dry_run": dry_run, "jobs": removed, "seconds": round(seconds, 3)}))
    else:
        verb = "would delete" if dry_run else "deleted"
        err.print(
            f"{verb} {removed} job(s) older than {older_than} ({', '.join(statuses)}) in {seconds:.1f}s",
            highlight=False,
            markup=False,
        )


@app.command()
def watch(
    ctx: typer.Context,
    batch: BatchFilter = None,
    interval: Annotated[
        float, typer.Option(min=0.1, max=3600, callback=_finite, help="Seconds between refreshes.")
    ] = 1.0,
    once: Annotated[bool, typer.Option("--once", help="Render once and exit.")] = False,
) -> None:
    """Live dashboard: counts, throughput, ETA, running jobs, retries, failures (Ctrl-C exits)."""
    state = _state(ctx)
    with user_errors():
        engine = state.engine()

        def read() -> reads.Dashboard:
            with engine.connect() as conn:
                return reads.dashboard(conn, batch=batch)

        if once:
            d = read()
            if out.is_terminal:
                out.print(views.dashboard_view(d, batch=batch))
            else:
                print(views.dashboard_line(d), flush=True)
            return
        try:
            if out.is_terminal:
                with Live(
                    views.dashboard_view(read(), batch=batch), console=out, screen=True, auto_refresh=False
                ) as live:
                    while True:
                        time.sleep(interval)
                        live.update(views.dashboard_view(read(), batch=batch), refresh=True)
            else:
                while True:
                    print(views.dashboard_line(read()), flush=True)
                    time.sleep(interval)
        except KeyboardInterrupt:
            return  # Ctrl-C is how you leave a dashboard: not an error


@app.command()
def export(
    ctx: typer.Context,
    status: StatusFilter = None,
    fmt: FormatFilter = None,
    batch: BatchFilter = None,
    since: SinceFilter = None,
    path: PathFilter = None,
    to: Annotated[str, typer.Option("--to", help="jsonl or csv.")] = "jsonl",
    rows: Annotated[bool, typer.Option("--rows", help="CSV: one row per entity/element/page/solid.")] = False,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default stdout).")
    ] = None,
) -> None:
    """Write the results of completed jobs as JSON Lines or CSV, streaming."""
    from cadextract import export as exporter

    state = _state(ctx)
    with user_errors():
        if to not in ("jsonl", "csv"):
            raise Failed(f"--to {to!r}: use jsonl or csv", USAGE)
        if status and _split(status) != ["completed"]:
            raise Failed("export writes results, which only completed jobs have", USAGE)
        f = _filter(None, fmt, batch, since, path)
        engine = state.engine()
        try:
            target = output.open("w", newline="") if output else sys.stdout
        except OSError as exc:  # a folder, a missing folder, '' (the current folder)
            raise Failed(f"cannot write {printable(str(output))}: {exc.strerror}", USAGE) from None
        try:
            with engine.connect() as conn:
                items = reads.iter_results(conn, f)
                if to == "jsonl":
                    n = exporter.write_jsonl(items, target)
                else:
                    header = exporter.csv_header(conn, f, rows=rows)
                    n = exporter.write_csv(items, target, header, rows=rows)
            if output:
                target.close()  # /dev/full fails here, on the last buffer
        except OSError as exc:
            raise Failed(
                f"cannot write {printable(str(output or 'the output'))}: {exc.strerror}", USAGE
            ) from None
        finally:
            if output:
                with contextlib.suppress(OSError):
                    target.close()
    if output:
        err.print(
            f"wrote {n} {'rows' if to == 'csv' else 'results'} to {printable(str(output))}",
            highlight=False,
            markup=False,
        )


# -- db / doctor ----------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Apply schema migrations (also done automatically on first use)."""
    state = _state(ctx)
    with user_errors():
        engine = state.engine(migrate=False)
        db.upgrade(engine)
        db.check_tables(engine)  # "current" is not enough: a dropped table is not current
        err.print(f"schema at revision {db.current_revision(engine)}", highlight=False)


@db_app.command("status")
def db_status(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Where the database is, whether it answers, and its schema revision."""
    state = _state(ctx)
    with user_errors():
        engine = state.engine(migrate=False)
        info = {
            "url": db.mask_url(str(engine.url)),
            "embedded": state.settings.database_url is None,
            "revision": db.current_revision(engine),
            "head": db.head_revision(),
        }
    if as_json:
        print(json.dumps(info, indent=2))
    else:
        out.print(views.summary_table(info, title="database"))


@db_app.command("url")
def db_url(ctx: typer.Context) -> None:
    """The database URL in use, password masked."""
    state = _state(ctx)
    with user_errors():
        s = state.settings
        print(db.mask_url(db.resolve_url(s.database_url, s.home)))


@db_app.command("stop")
def db_stop(ctx: typer.Context) -> None:
    """Stop the embedded PostgreSQL server (it starts again on next use)."""
    state = _state(ctx)
    with user_errors():
        stopped = db.stop_embedded(state.settings.home)
    err.print("embedded server stopped" if stopped else "embedded server was not running", highlight=False)


@app.command()
def doctor(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Check the database, each extractor and the data directory."""
    import shutil

    state = _state(ctx)
    checks: list[dict[str, Any]] = []
    with user_errors():
        s = state.settings
        if s.database_url is None:
            checks.append(
                {"check": "embedded server", "ok": True, "detail": json.dumps(db.embedded_status(s.home))}
            )
        try:
            engine = state.engine()
            rev = db.current_revision(engine)
            checks.append(
                {
                    "check": "database",
                    "ok": rev == db.head_revision(),
                    "detail": f"{db.mask_url(str(engine.url))} at revision {rev}",
                }
            )
        except db.DatabaseUnavailable as exc:
            checks.append({"check": "database", "ok": False, "detail": str(exc)})
        for name in registry.names():
            if registry.is_internal(name):
                continue  # benchmark and fault-test extractors, not formats
            try:
                ext = registry.get(name)
                versions = ext.versions()
                checks.append(
                    {
                        "check": f"extractor {name}",
                        "ok": True,
                        "detail": ", ".join(f"{k} {v}" for k, v in versions.items()) or "ok",
                    }
                )
            except Exception as exc:  # doctor reports whatever is broken
                checks.append(
                    {"check": f"extractor {name}", "ok": False, "detail": f"{type(exc).__name__}: {exc}"}
                )
        create_home(s.home)
        free = shutil.disk_usage(s.home).free
        checks.append(
            {"check": "free disk", "ok": free > 1 << 30, "detail": f"{free / 2**30:.1f} GiB in {s.home}"}
        )
    if as_json:
        print(json.dumps(checks, indent=2))
    else:
        from rich.table import Table

        table = Table(show_header=True)
        table.add_column("check")
        table.add_column("ok")
        table.add_column("detail", overflow="fold")
        for c in checks:
            table.add_row(c["check"], "[green]ok[/]" if c["ok"] else "[red]FAIL[/]", clean(c["detail"]))
        out.print(table)
    if not all(c["ok"] for c in checks):
        raise typer.Exit(
            DATABASE if any(c["check"] == "database" and not c["ok"] for c in checks) else JOBS_FAILED
        )


if __name__ == "__main__":
    # `python -m cadextract.cli …` runs without the fast exit of `cadextract.__main__`,
    # for tools that act after the program returns (python -m cProfile -m cadextract.cli)
    app()
