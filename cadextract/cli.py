"""The command line: parse, call the core, render. Nothing here talks SQL.

Exit codes (docs/exit-codes.md):
    0 ok · 1 some jobs failed or did not finish · 2 usage error or bad input ·
    3 database unreachable or unusable · 4 job not found or id prefix ambiguous ·
    5 run: nothing new failed, only known failures ·
    6 object storage unreachable or credentials refused · 130 interrupted
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
from typing import IO, Annotated, Any

import typer
from rich.console import Console
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.text import Text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from cadextract import __version__, db, files, ops, views, watchview
from cadextract import setting_rules as rules
from cadextract.config import ConfigError, Settings, create_home
from cadextract.display import printable
from cadextract.extractors import registry
from cadextract.runtime import pool, stopping, supervisor
from cadextract.sources import submit as sources
from cadextract.sources.urls import StorageUnavailable
from cadextract.store import commands, parsing, readmodels

OK = 0
JOBS_FAILED = 1
USAGE = 2
DATABASE = 3
NOT_FOUND = 4
STORAGE = 6
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
    except StorageUnavailable as exc:
        _die(str(exc), STORAGE)
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
    from cadextract.extractors.ocr import settings as ocr_settings

    problem = ocr_settings.check(options)  # ocr, ocr_engine, ocr_dpi, ocr_lang, ocr_max_pixels
    if problem:
        raise Failed(f"--{problem}", USAGE)
    return options


def _finite(value: float) -> float:
    """Click's ranges let NaN through (every comparison with it is false)."""
    if value != value:
        raise typer.BadParameter("not a number")
    return value


def _submit(
    state: State,
    paths: list[str],
    *,
    recursive: bool,
    fmt: str | None,
    force: bool,
    priority: int,
    max_retries: int | None,
    batch: str | None,
    options: dict[str, Any],
    show_progress: bool,
    rehash: bool = False,
    dry_run: bool = False,
    follow_links: bool = False,
    retry_failed: bool = False,
) -> sources.Outcome:
    retries = state.settings.max_retries if max_retries is None else max_retries
    if retries < 0:
        raise Failed("--max-retries cannot be negative", USAGE)
    request = sources.Request(
        paths=paths,
        recursive=recursive,
        forced_format=fmt,
        force=force,
        retry_failed=retry_failed,
        rehash=rehash,
        dry_run=dry_run,
        follow_links=follow_links,
        priority=priority,
        max_attempts=retries + 1,
        batch=batch,
        options=options,
        submitted_by=_user(),
    )
    engine = state.engine()  # connect before hashing: a dead database should fail fast
    return sources.submit(engine, request, lambda todo: _hash_progress(show_progress and len(todo) > 1, todo))


def _enqueue(
    conn: Any, new_jobs: list[commands.NewJob], *, force: bool, retry_failed: bool
) -> list[commands.Enqueued]:
    """Enqueue, except content whose newest job failed for good (a known failure)."""
    latest = readmodels.latest_jobs(conn, [(j.sha256, j.format) for j in new_jobs])
    known: dict[int, commands.Enqueued] = {}
    for i, j in enumerate(new_jobs):
        hit = latest.get((j.sha256, j.format))
        if (
            ops.admit(hit[1] if hit else None, force=force, retry_failed=retry_failed)
            is ops.Admission.KNOWN_FAILURE
        ):
            known[i] = commands.Enqueued(j, hit[0] if hit else None, skipped_reason=ops.KNOWN_FAILURE_REASON)
    queued = iter(commands.enqueue(conn, [j for i, j in enumerate(new_jobs) if i not in known], force=force))
    return [known[i] if i in known else next(queued) for i in range(len(new_jobs))]


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


PathsArg = Annotated[
    list[str], typer.Argument(help="Files, folders, or URLs (s3://bucket/prefix/).", show_default=False)
]
RehashOpt = Annotated[
    bool, typer.Option("--rehash", help="Hash every file again, even those whose stat is unchanged.")
]
DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="Show what would be queued; queue and record nothing.")
]
RecursiveOpt = Annotated[bool, typer.Option("--recursive", "-r", help="Descend into folders.")]
FormatOpt = Annotated[str | None, typer.Option("--format", "-f", help="Force a format (skip detection).")]
ForceOpt = Annotated[
    bool, typer.Option("--force", help="Queue files already extracted or failed (same content).")
]
RetryFailedOpt = Annotated[
    bool,
    typer.Option(
        "--retry-failed",
        help="Queue files whose same content failed before (default: skip them as known failures).",
    ),
]
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
NoPreviewsOpt = Annotated[
    bool, typer.Option("--no-previews", help="Make no preview images (job option previews=false).")
]


def _with_previews(options: dict[str, Any], no_previews: bool) -> dict[str, Any]:
    return {**options, "previews": False} if no_previews else options


def _default_batch() -> str:
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S")


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
    retry_failed: RetryFailedOpt = False,
    no_previews: NoPreviewsOpt = False,
    rehash: RehashOpt = False,
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
    follow_links: FollowLinksOpt = False,
) -> None:
    """Queue one job per file.

    Unchanged files already queued, done or failed before are skipped.
    """
    state = _state(ctx)
    with user_errors():
        res = _submit(
            state,
            paths,
            recursive=recursive,
            fmt=fmt,
            force=force,
            priority=priority,
            max_retries=max_retries,
            batch=batch or _default_batch(),
            options=_with_previews(_parse_options(option), no_previews),
            show_progress=not as_json,
            rehash=rehash,
            dry_run=dry_run,
            follow_links=follow_links,
            retry_failed=retry_failed,
        )
    outcomes, skipped = res.outcomes, res.skipped
    if as_json:
        rows = _submit_json(outcomes, skipped)
        rows += [
            {
                "path": p,
                "format": None,
                "job_id": None,
                "queued": False,
                "reason": "disappeared",
                "disappeared": True,
            }
            for p in res.disappeared
        ]
        print(json.dumps(rows, indent=2))
        return
    if len(outcomes) + len(skipped) <= 200:
        out.print(views.submit_table(outcomes, skipped))
    out.print(views.submit_counts(outcomes, skipped))
    out.print(_scan_line(res, dry_run), markup=False, highlight=False)


def _scan_line(res: sources.Outcome, dry_run: bool) -> str:
    parts = [f"hashed {res.hashed}", f"unchanged since the last submit {res.unchanged}"]
    if res.remote:
        parts.append(f"objects {res.remote}")
    parts.append(f"disappeared {len(res.disappeared)}")
    line = ", ".join(parts)
    shown = res.disappeared[:20]
    if shown:
        more = f" (+{len(res.disappeared) - len(shown)} more)" if len(res.disappeared) > len(shown) else ""
        line += "\n  gone: " + "\n  gone: ".join(printable(p) for p in shown) + more
    return ("dry run, nothing queued: " if dry_run else "") + line


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
QuietOpt = Annotated[
    bool, typer.Option("--quiet", "-q", help="Warnings only (failed jobs, database trouble); no live table.")
]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Also debug lines (each claim).")]


def _configure_logging(quiet: bool, verbose: bool, log_file: Path | None) -> None:
    level = logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO
    root_logger = logging.getLogger()
    root_logger.setLevel(level)
    for h in list(root_logger.handlers):
        root_logger.removeHandler(h)
    handler: logging.Handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_utc_formatter("%(asctime)s %(levelname)s %(message)s"))
    root_logger.addHandler(handler)
    if log_file is not None:
        try:
            fh = logging.FileHandler(log_file)
        except OSError as exc:
            raise Failed(f"cannot open log file {log_file}: {exc.strerror}", USAGE) from None
        fh.setFormatter(_utc_formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        root_logger.addHandler(fh)
    for noisy in ("pgserver", "alembic", "sqlalchemy", "ezdxf", "pdfminer"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


def _utc_formatter(fmt: str) -> logging.Formatter:
    """Log times in UTC with the zone shown (Z), like every time cadextract prints."""
    formatter = logging.Formatter(fmt, "%Y-%m-%dT%H:%M:%SZ")
    formatter.converter = time.gmtime
    return formatter


@contextlib.contextmanager
def _logs_above(display: Live) -> Iterator[None]:
    """Send log lines through the live display's console, so they print above its table.

    A handler writing to the real stderr would print into the live region, and the table
    would be drawn again below each line instead of in place.
    """
    root_logger = logging.getLogger()
    moved: list[tuple[logging.StreamHandler[Any], Any]] = []
    for h in root_logger.handlers:
        if isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler):
            moved.append((h, h.setStream(_LiveStream(display))))
    try:
        yield
    finally:
        for h, stream in moved:
            h.setStream(stream)


class _LiveStream:
    """A file-like object printing whole lines above a rich Live display."""

    def __init__(self, display: Live) -> None:
        self.display = display
        self.buffer = ""

    def write(self, text: str) -> int:
        self.buffer += text
        while "\n" in self.buffer:
            line, self.buffer = self.buffer.split("\n", 1)
            self.display.console.print(Text(line), soft_wrap=True)
        return len(text)

    def flush(self) -> None:
        return None


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
            with Live(console=out, refresh_per_second=4, transient=False) as display, _logs_above(display):
                last = 0.0

                def on_tick(s: supervisor.Supervisor) -> None:
                    nonlocal last
                    now = time.monotonic()
                    if now - last >= 0.25:
                        last = now
                        display.update(
                            views.work_view(
                                s.snapshot(),
                                s.stats,
                                elapsed=now - s.started_at,
                                connected=s.connected,
                                width=display.console.width,
                            )
                        )

                sup.on_tick = on_tick
                stats = sup.run()
                last = 0.0
                on_tick(sup)  # the last frame shows the final counts
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
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
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
    retry_failed: RetryFailedOpt = False,
    priority: PriorityOpt = 0,
    max_retries: RetriesOpt = None,
    batch: BatchOpt = None,
    option: OptionOpt = None,
    no_previews: NoPreviewsOpt = False,
    rehash: RehashOpt = False,
    dry_run: DryRunOpt = False,
    report: Annotated[
        Path | None, typer.Option(help="Write the run summary as JSON here (the folder must exist).")
    ] = None,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
    log_file: Annotated[Path | None, typer.Option(help="Also log to this file.")] = None,
    follow_links: FollowLinksOpt = False,
) -> None:
    """Submit, then work until idle: the cron entry point.

    Exits 0 when every file of this run ends completed (extracted now or before), 1 when
    something failed, was cancelled or did not finish in this run, 5 when the only
    problems are known failures (same content failed in an earlier run; not retried
    unless --retry-failed).
    """
    state = _state(ctx)
    label = batch or f"run-{_default_batch()}"
    started = time.monotonic()
    with user_errors():
        if report is not None and (problem := ops.report_path_problem(report)):
            raise Failed(problem, USAGE)  # before any work: a report lost at the end helps nobody
        _configure_logging(quiet, verbose, log_file)
        if not dry_run:
            pool.start_forkserver()  # its imports overlap hashing and submitting
        res = _submit(
            state,
            paths,
            recursive=recursive,
            fmt=fmt,
            force=force,
            priority=priority,
            max_retries=max_retries,
            batch=label,
            options=_with_previews(_parse_options(option), no_previews),
            show_progress=not quiet,
            rehash=rehash,
            dry_run=dry_run,
            follow_links=follow_links,
            retry_failed=retry_failed,
        )
        outcomes, skipped = res.outcomes, res.skipped
        logging.getLogger("cadextract").info("%s", views.submit_counts(outcomes, skipped).plain)
        logging.getLogger("cadextract").info("%s", _scan_line(res, dry_run))
        if dry_run:
            return
        _work(
            state,
            concurrency=concurrency,
            until_empty=True,
            wait_for_retries=True,
            prefetch=None,
            formats=None,
            live=out.is_terminal and not quiet,
        )
        # jobs already finished when submit found them (unchanged files) need no second look
        ids = [o.job_id for o in outcomes if o.job_id is not None and o.job_id not in res.finished]
        with state.engine().connect() as conn:
            final = {f["id"]: f for f in res.finished.values()} | readmodels.final_fields(conn, ids)
    submitted = [
        ops.Submitted(o.job.path, str(o.job_id) if o.job_id else None, o.skipped_reason) for o in outcomes
    ]
    summary = ops.run_report(
        label,
        submitted,
        skipped,
        final,
        time.monotonic() - started,
        scan=ops.ScanCounts(hashed=res.hashed, unchanged=res.unchanged, disappeared=res.disappeared),
    )
    if report is not None:
        try:
            report.write_text(json.dumps(summary.as_json(), indent=2) + "\n")
        except OSError as exc:
            err.print(
                f"cadextract: cannot write report {printable(str(report))}: {exc.strerror}",
                markup=False,
                highlight=False,
            )
    err.print(printable(summary.line()), markup=False, highlight=False)
    code = ops.run_exit_code(summary)
    if code:
        raise typer.Exit(code)


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
                s = readmodels.summary(conn, batch=batch)
                if as_json:
                    print(json.dumps(_summary_json(s), indent=2))
                else:
                    out.print(views.summary_view(s))
                return
            job_id = readmodels.resolve(conn, job)
            j = readmodels.get(conn, job_id)
            document = readmodels.get_result(conn, job_id)
    summary = _result_summary(document)
    if as_json:
        print(json.dumps({**j.as_json(), "result_summary": summary}, indent=2, default=str))
    else:
        out.print(views.job_view(j, document, summary))


def _summary_json(s: readmodels.Summary) -> dict[str, Any]:
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
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="Rows per list.")] = 40,
    show_all: Annotated[bool, typer.Option("--all", help="Every row of every list.")] = False,
) -> None:
    """Show what was extracted from one file."""
    from cadextract import resultview

    state = _state(ctx)
    with user_errors():
        with state.engine().connect() as conn:
            job_id = readmodels.resolve(conn, job)
            j = readmodels.get(conn, job_id)
            document = readmodels.get_result(conn, job_id)
        if document is None:
            raise Failed(f"job {views.short_id(job_id)} has no result (status {j.status})", NOT_FOUND)
    if as_json:
        print(json.dumps(document, indent=2))
        return
    extractor = registry.get(document["format"])
    rows = list(extractor.rows(document.get("payload", {}))) if extractor.rows is not None else []
    out.print(
        resultview.result_view(
            path=j.path,
            job_id=str(j.id),
            document=document,
            summary=_result_summary(document),
            rows=rows,
            limit=None if show_all else limit,
        )
    )
    from cadextract.extractors.drawing import report as drawing_report  # only `result` needs it

    # what a person reads on the sheet: dimensions, frames, title block, parts list
    for title, section in drawing_report.sections(document["format"], document.get("payload", {})):
        out.print(views.rows_table(section, title=title, limit=len(section) if show_all else limit))


@app.command()
def preview(
    ctx: typer.Context,
    job: Annotated[str, typer.Argument(help="Job id or unique prefix.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write ('-': stdout).")],
) -> None:
    """Write one job's preview image.

    SVG, PNG or JPEG, as the extraction job made it.
    """
    from cadextract.previews import store as preview_store

    state = _state(ctx)
    with user_errors():
        with state.engine().connect() as conn:
            job_id = readmodels.resolve(conn, job)
            image = preview_store.get(conn, job_id)
        if image is None:
            raise Failed(f"job {views.short_id(job_id)} has no preview", NOT_FOUND)
        data = image.plain()
        if str(output) == "-":
            sys.stdout.buffer.write(data)
            return
        try:
            output.write_bytes(data)
        except OSError as exc:
            raise Failed(f"cannot write {output}: {exc.strerror}", USAGE) from None
    err.print(f"wrote the {image.mime} preview ({len(data)} bytes) to {output}", highlight=False)


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on; other than loopback needs a token.")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 8765,
    token: Annotated[
        str | None,
        typer.Option(envvar="CADEXTRACT_WEB_TOKEN", show_envvar=True, help="Access token for pages and API."),
    ] = None,
    read_only: Annotated[bool, typer.Option("--read-only", help="Show everything, allow no action.")] = False,
) -> None:
    """Run the web console.

    Dashboard, jobs, results with previews, actions, and a JSON API under /api/.
    """
    from cadextract.web import security
    from cadextract.web.serve import serve as run_console

    state = _state(ctx)
    with user_errors():
        config = security.WebConfig(host=host, port=port, token=token or None, read_only=read_only)
        try:
            security.check_config(config)
        except security.RefuseToStart as exc:
            raise Failed(str(exc), USAGE) from None
        engine = state.engine(pool_size=5)
        err.print(
            f"console on http://{host}:{port}/{' (read-only)' if read_only else ''}"
            f"{'' if token else ' (no token: local access only)'}; Ctrl-C stops it",
            highlight=False,
        )
        run_console(engine, config)


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
    status: list[str] | None,
    fmt: list[str] | None,
    batch: str | None,
    since: str | None,
    path: str | None,
    case_sensitive: bool = False,
) -> readmodels.JobFilter:
    statuses = _split(status)
    bad = [s for s in statuses if s not in views.STATUS_STYLE]
    if bad:
        raise Failed(f"unknown status {bad[0]!r}; use {', '.join(views.STATUS_STYLE)}", USAGE)
    return readmodels.JobFilter(
        statuses=statuses,
        formats=_split(fmt),
        batch=batch,
        since=_since(since),
        path_glob=path,
        path_case_sensitive=case_sensitive,
    )


StatusFilter = Annotated[
    list[str] | None, typer.Option("--status", "-s", help="pending, processing, ... (comma list).")
]
FormatFilter = Annotated[list[str] | None, typer.Option("--format", "-f", help="dxf, pdf, ifc, step.")]
BatchFilter = Annotated[str | None, typer.Option("--batch", "-b", help="Batch label.")]
SinceFilter = Annotated[
    str | None, typer.Option("--since", help="Created within (30m, 2d) or since ISO time.")
]
PathFilter = Annotated[
    str | None,
    typer.Option(
        "--path",
        help="Glob on the file path, case-insensitive: '*.pdf' also matches X.PDF (no '/': the file name).",
    ),
]


@app.command()
def jobs(
    ctx: typer.Context,
    status: StatusFilter = None,
    fmt: FormatFilter = None,
    batch: BatchFilter = None,
    since: SinceFilter = None,
    path: PathFilter = None,
    case_sensitive: Annotated[
        bool, typer.Option("--case-sensitive", help="--path matches case exactly.")
    ] = False,
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
        if sort not in readmodels.SORTS:
            raise Failed(f"unknown sort {sort!r}; use {', '.join(readmodels.SORTS)}", USAGE)
        f = _filter(status, fmt, batch, since, path, case_sensitive)
        with state.engine().connect() as conn:
            found = readmodels.list_jobs(conn, f, sort=sort, limit=limit or None)
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
    return [readmodels.resolve(conn, g) for g in given]


@app.command()
def cancel(
    ctx: typer.Context,
    job_ids: Annotated[list[str] | None, typer.Argument(help="Ids or prefixes ('-' reads stdin).")] = None,
    batch: BatchFilter = None,
    status: StatusFilter = None,
    as_json: JsonOpt = False,
) -> None:
    """Cancel pending or running jobs.

    Pending ones at once, running ones within about a second.
    """
    state = _state(ctx)
    with user_errors():
        if not job_ids and batch is None and not status:
            raise Failed("give job ids, --batch or --status", USAGE)
        with state.engine().begin() as conn:
            ids = _ids_from(conn, job_ids or [])
            if batch is not None or status:
                f = _filter(status or ["pending", "processing"], None, batch, None, None)
                ids += [j.id for j in readmodels.list_jobs(conn, f, limit=None)]
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
    """Queue failed or cancelled jobs again.

    They get fresh attempts; the error history is kept.
    """
    state = _state(ctx)
    with user_errors():
        if not job_ids and not failed:
            raise Failed("give job ids or --failed", USAGE)
        with state.engine().begin() as conn:
            ids = _ids_from(conn, job_ids or [])
            if failed:
                ids += [
                    j.id
                    for j in readmodels.list_jobs(
                        conn, readmodels.JobFilter(statuses=["failed"], batch=batch), limit=None
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
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would go (by status, format, batch); delete nothing.")
    ] = False,
    list_jobs: Annotated[
        bool, typer.Option("--list", help="With --dry-run: also list the jobs (up to --limit).")
    ] = False,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=0, help="--list: at most N jobs; 0 = all.")
    ] = 100,
    as_json: JsonOpt = False,
) -> None:
    """Delete old finished jobs and their results.

    Only completed, failed or cancelled jobs whose last update is older than the age;
    never pending or running ones.
    """
    state = _state(ctx)
    with user_errors():
        age = parse_age(older_than)
        statuses = _split(status) or ["completed", "failed", "cancelled"]
        bad = [s for s in statuses if s not in ("completed", "failed", "cancelled")]
        if bad:
            raise Failed(f"purge only deletes finished jobs; {bad[0]!r} is not a finished state", USAGE)
        engine = state.engine()
        started = time.monotonic()
        groups: list[readmodels.PurgeGroup] = []
        listed: list[readmodels.Job] = []
        if list_jobs and not dry_run:
            raise Failed("--list goes with --dry-run (see what would go, then purge)", USAGE)
        if dry_run:
            with engine.connect() as conn:
                groups = readmodels.purge_preview(
                    conn, older_than_seconds=age.total_seconds(), statuses=statuses
                )
                if list_jobs:
                    listed = readmodels.purgeable_jobs(
                        conn, older_than_seconds=age.total_seconds(), statuses=statuses, limit=limit or None
                    )
            removed = sum(g.jobs for g in groups)
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
        data: dict[str, Any] = {"dry_run": dry_run, "jobs": removed, "seconds": round(seconds, 3)}
        if dry_run:
            data["groups"] = [
                {
                    "status": g.status,
                    "format": g.format,
                    "batch": g.batch,
                    "jobs": g.jobs,
                    "oldest": g.oldest.isoformat() if g.oldest else None,
                }
                for g in groups
            ]
        if list_jobs:
            data["list"] = [j.as_json() for j in listed]
        print(json.dumps(data, indent=2 if dry_run else None))
    else:
        if groups:
            out.print(views.purge_preview_table(groups))
        if listed:
            out.print(views.jobs_table(listed, width=out.width))
        verb = "would delete" if dry_run else "deleted"
        err.print(
            f"{verb} {removed} job(s) older than {older_than} ({', '.join(statuses)}) in {seconds:.1f}s",
            highlight=False,
            markup=False,
        )


@app.command()
def watch(
    ctx: typer.Context,
    batch: Annotated[
        str | None, typer.Option("--batch", "-b", help="Batch label [the newest batch].")
    ] = None,
    all_batches: Annotated[bool, typer.Option("--all", help="Every batch together.")] = False,
    interval: Annotated[
        float, typer.Option(min=0.1, max=3600, callback=_finite, help="Seconds between refreshes.")
    ] = 1.0,
    once: Annotated[bool, typer.Option("--once", help="Render once and exit.")] = False,
) -> None:
    """Live dashboard of a batch (Ctrl-C exits).

    Counts, progress of the batch, throughput, ETA, whether any worker is alive, running
    jobs, scheduled retries and recent failures. Shows the newest batch unless --batch
    or --all is given.
    """
    state = _state(ctx)
    with user_errors():
        if all_batches and batch is not None:
            raise Failed("give --batch or --all, not both", USAGE)
        engine = state.engine()

        def read() -> watchview.Watch:
            with engine.connect() as conn:
                shown = None if all_batches else batch or readmodels.newest_batch(conn)
                return watchview.Watch(
                    dashboard=readmodels.dashboard(conn, batch=shown),
                    activity=readmodels.activity(conn, batch=shown, window_for=ops.eta_window),
                    chosen=batch is not None or all_batches,
                )

        if once:
            w = read()
            if out.is_terminal:
                out.print(watchview.watch_view(w, width=out.width))
            else:
                print(watchview.watch_line(w), flush=True)
            return
        try:
            if out.is_terminal:
                with Live(
                    watchview.watch_view(read(), width=out.width),
                    console=out,
                    screen=True,
                    auto_refresh=False,
                ) as live:
                    while True:
                        time.sleep(interval)
                        live.update(watchview.watch_view(read(), width=out.width), refresh=True)
            else:
                while True:
                    print(watchview.watch_line(read()), flush=True)
                    time.sleep(interval)
        except KeyboardInterrupt:
            return  # Ctrl-C is how you leave a dashboard: not an error


def _export_view(
    state: State,
    view: str,
    *,
    to: str,
    fmt: list[str] | None,
    batch: str | None,
    path: str | None,
    rows: bool,
    since: str | None,
    output: Path | None,
) -> None:
    from cadextract.search import export_view

    try:
        export_view.check(view)
    except export_view.UnknownView as exc:
        raise Failed(str(exc), USAGE) from None
    if rows or since:
        raise Failed("--view exports the view's own rows; --rows and --since do not apply", USAGE)
    engine = state.engine()
    target = output.open("w", newline="") if output else sys.stdout
    try:
        with engine.connect() as conn:
            n = export_view.write(
                conn,
                view,
                target,
                to=to,
                formats=_split(fmt),
                batch=batch,
                path_like=parsing.glob_to_like(path) if path else None,
            )
    finally:
        if output:
            target.close()
    if output:
        err.print(f"wrote {n} rows of {view} to {output}", highlight=False)


@app.command()
def export(
    ctx: typer.Context,
    status: Annotated[
        list[str] | None,
        typer.Option(
            "--status", "-s", help="Only 'completed' is accepted: only completed jobs have results."
        ),
    ] = None,
    fmt: FormatFilter = None,
    batch: BatchFilter = None,
    since: SinceFilter = None,
    path: PathFilter = None,
    to: Annotated[str, typer.Option("--to", help="jsonl or csv.")] = "jsonl",
    rows: Annotated[bool, typer.Option("--rows", help="CSV: one row per entity/element/page/solid.")] = False,
    latest: Annotated[
        bool, typer.Option("--latest", help="Only the newest completed job of each file path.")
    ] = False,
    bom: Annotated[
        bool,
        typer.Option("--bom/--no-bom", help="CSV to a file: start with a UTF-8 BOM so Excel reads it right."),
    ] = True,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default stdout).")
    ] = None,
    view: Annotated[
        str | None, typer.Option("--view", help="A SQL view instead (texts, documents, ...; docs/sql.md).")
    ] = None,
) -> None:
    """Write results of completed jobs as JSON Lines or CSV.

    Streams from the database. CSV columns are the union of every field in the
    selection (a first pass finds them): nothing is dropped. See docs/results.md.
    """
    from cadextract import export as exporter

    state = _state(ctx)
    with user_errors():
        if to not in ("jsonl", "csv"):
            raise Failed(f"--to {to!r}: use jsonl or csv", USAGE)
        if view is not None:
            _export_view(
                state, view, to=to, fmt=fmt, batch=batch, path=path, rows=rows, since=since, output=output
            )
            return
        if status and _split(status) != ["completed"]:
            raise Failed("export writes results, which only completed jobs have (--status completed)", USAGE)
        f = _filter(None, fmt, batch, since, path)
        engine = state.engine()
        target: IO[str]
        if output:
            encoding = "utf-8-sig" if to == "csv" and bom else "utf-8"
            try:
                target = output.open("w", newline="", encoding=encoding)
            except OSError as exc:  # a folder, a missing folder, '' (the current folder)
                raise Failed(f"cannot write {printable(str(output))}: {exc.strerror}", USAGE) from None
        else:
            target = sys.stdout
        try:
            with engine.connect() as conn:
                if to == "jsonl":
                    n = exporter.write_jsonl(readmodels.iter_results(conn, f, latest=latest), target)
                else:
                    # two streaming passes: the first finds every column, the second writes
                    header, prefixed = exporter.csv_header(
                        readmodels.iter_results(conn, f, latest=latest), rows=rows
                    )
                    items = readmodels.iter_results(conn, f, latest=latest)
                    n = exporter.write_csv(items, target, header, rows=rows, prefixed=prefixed)
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
        what = "rows" if to == "csv" else "results"
        err.print(f"wrote {n} {what} to {printable(str(output))}", highlight=False, markup=False)


# -- search (cadextract/search/) -----------------------------------------------------


@app.command()
def search(
    ctx: typer.Context,
    query: Annotated[
        str | None,
        typer.Argument(help='Words, "a phrase", -exclude, a or b, prefix*. Optional with --field.'),
    ] = None,
    fmt: FormatFilter = None,
    batch: BatchFilter = None,
    path: PathFilter = None,
    field: Annotated[
        list[str] | None,
        typer.Option(
            "--field", help="Title-block field NAME=VALUE, e.g. revision=B (repeatable, all must match)."
        ),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=10000, help="Hits to show.")] = 20,
    all_jobs: Annotated[
        bool, typer.Option("--all-jobs", help="Every completed job, not only the latest per file.")
    ] = False,
    as_json: JsonOpt = False,
    ids: Annotated[bool, typer.Option("--ids", help="Only job ids, one per line.")] = False,
) -> None:
    """Find files by what they say.

    Title blocks, texts, table cells, names and properties, in the search index.
    """
    from cadextract.search import query as sq
    from cadextract.search import render, store

    state = _state(ctx)
    with user_errors():
        try:
            fields = tuple(sq.parse_field(f) for f in field or [])
            parsed = None if query is None and fields else sq.parse(query or "")
        except sq.BadQuery as exc:
            raise Failed(str(exc), USAGE) from None
        filters = sq.Filters(formats=tuple(_split(fmt)), batch=batch, path_glob=path, fields=fields)
        with state.engine().connect() as conn:
            hits = store.search(conn, parsed, filters, limit=limit, all_jobs=all_jobs)
    if ids:
        for hit in hits:
            print(hit.job_id)
    elif as_json:
        print(json.dumps([h.as_json() for h in hits], indent=2, ensure_ascii=False))
    else:
        if hits:
            out.print(render.hits_table(hits))
        err.print(render.footer(hits, all_jobs=all_jobs), highlight=False, markup=False)


@app.command("index")
def index_(
    ctx: typer.Context,
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="Index every completed result again, not only missing ones.")
    ] = False,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, max=10000, help="Results per transaction.")
    ] = 200,
    as_json: JsonOpt = False,
) -> None:
    """Build the search index.

    For results that lack it, or all of them again with --rebuild.
    """
    from cadextract.search import store

    state = _state(ctx)
    with user_errors():
        engine = state.engine()
        with engine.connect() as conn:
            c = store.counts(conn)
        total = c.completed if rebuild else max(0, c.completed - c.indexed)
        started = time.monotonic()
        done = 0
        after = uuid.UUID(int=0) if rebuild else None
        with Progress(
            TextColumn("indexing"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=err,
            disable=not err.is_terminal or as_json,
        ) as bar:
            task = bar.add_task("index", total=total)
            while True:
                with engine.begin() as conn:  # one transaction per batch: short locks, resumable
                    n, last = store.index_batch(conn, limit=batch_size, rebuild_after=after)
                if not n:
                    break
                done += n
                after = last if rebuild else None
                bar.update(task, completed=done)
        with engine.begin() as conn:
            store.fix_latest(conn)
        seconds = time.monotonic() - started
    if as_json:
        print(json.dumps({"indexed": done, "rebuild": rebuild, "seconds": round(seconds, 3)}))
    else:
        err.print(f"indexed {done} result(s) in {seconds:.1f}s", highlight=False)


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
def db_url(
    ctx: typer.Context,
    show_password: Annotated[
        bool,
        typer.Option(
            "--show-password", help="Print the real URL (for pg_dump/psql); it contains the password."
        ),
    ] = False,
) -> None:
    """The database URL in use, password masked.

    With --show-password: a plain postgresql:// URL that pg_dump and psql accept, e.g.
    pg_dump "$(cadextract db url --show-password)" > backup.sql
    """
    state = _state(ctx)
    with user_errors():
        s = state.settings
        url = db.resolve_url(s.database_url, s.home)
        if show_password:
            url = ops.libpq_url(url)
            err.print("warning: this URL contains the database password", highlight=False, markup=False)
            print(url)
        else:
            print(db.mask_url(url))


@db_app.command("stop")
def db_stop(ctx: typer.Context) -> None:
    """Stop the embedded PostgreSQL server (it starts again on next use)."""
    state = _state(ctx)
    with user_errors():
        stopped = db.stop_embedded(state.settings.home)
    err.print("embedded server stopped" if stopped else "embedded server was not running", highlight=False)


@app.command()
def doctor(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Check the database, extractors and free disk."""
    import shutil

    state = _state(ctx)
    checks: list[dict[str, Any]] = []
    with user_errors():
        s = state.settings
        if s.database_url is None:
            checks.append({"check": "embedded server", "ok": True, "detail": db.embedded_status(s.home)})
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
        from cadextract.extractors.ocr import engines as ocr_engines

        checks.extend(ocr_engines.doctor_checks())  # which OCR engines this host can run
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
            detail = c["detail"]
            if isinstance(detail, dict):
                detail = ", ".join(f"{k} {v}" for k, v in detail.items())
            table.add_row(
                c["check"], "[green]ok[/]" if c["ok"] else "[red]FAIL[/]", Text(printable(str(detail)))
            )
        out.print(table)
    if not all(c["ok"] for c in checks):
        raise typer.Exit(
            DATABASE if any(c["check"] == "database" and not c["ok"] for c in checks) else JOBS_FAILED
        )


if __name__ == "__main__":
    # `python -m cadextract.cli …` runs without the fast exit of `cadextract.__main__`,
    # for tools that act after the program returns (python -m cProfile -m cadextract.cli)
    app()
