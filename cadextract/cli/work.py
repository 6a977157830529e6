"""The worker commands: work, and run (submit, then work until idle: the cron entry point)."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.live import Live

from cadextract import views
from cadextract.cli import logs
from cadextract.cli.base import Exit as Code
from cadextract.cli.base import Failed, State, err, finish, out, state, user_errors
from cadextract.cli.options import (
    BatchOpt,
    ConcurrencyOpt,
    DryRunOpt,
    FollowLinksOpt,
    ForceOpt,
    FormatOpt,
    NoPreviewsOpt,
    OptionOpt,
    PathsArg,
    PriorityOpt,
    QuietOpt,
    RecursiveOpt,
    RehashOpt,
    RetriesOpt,
    RetryFailedOpt,
    VerboseOpt,
)
from cadextract.cli.queue import hash_progress, scan_line
from cadextract.display import printable
from cadextract.ops import inputs, report
from cadextract.ops import submit as ops_submit
from cadextract.ops import work as ops_work
from cadextract.runtime import pool, supervisor

LogFileOpt = Annotated[Path | None, typer.Option(help="Also log to this file.")]


def _work(state_: State, options: supervisor.Options, *, live: bool) -> supervisor.Stats:
    """Run the worker; on a terminal with a live table that refreshes four times a second."""
    settings = state_.settings
    engine = state_.engine(pool_size=2)
    on_event = ops_work.log_events(live=live)
    if not live:
        return ops_work.run(engine, settings, options, on_event=on_event)
    with Live(console=out, refresh_per_second=4, transient=False) as display, logs.above(display):
        last = 0.0

        def draw(s: supervisor.Supervisor) -> None:
            display.update(
                views.work_view(
                    s.snapshot(),
                    s.stats,
                    elapsed=time.monotonic() - s.started_at,
                    connected=s.connected,
                    width=display.console.width,
                )
            )

        def on_tick(s: supervisor.Supervisor) -> None:
            nonlocal last
            now = time.monotonic()
            if now - last >= 0.25:
                last = now
                draw(s)

        # the last frame shows the final counts
        return ops_work.run(engine, settings, options, on_event=on_event, on_tick=on_tick, on_finish=draw)


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
    log_file: LogFileOpt = None,
) -> None:
    """Run a worker: claim jobs and extract them in child processes."""
    st = state(ctx)
    live = out.is_terminal and not quiet
    with user_errors():
        logs.configure(quiet, verbose, log_file)
        pool.start_forkserver()  # its imports overlap ours and the database's
        formats = inputs.split(fmt) or None
        ops_work.check_formats(formats or [])
        options = supervisor.Options(
            concurrency=concurrency, until_empty=until_empty, prefetch=prefetch, formats=formats
        )
        stats = _work(st, options, live=live)
    err.print(
        f"completed {stats.completed}, failed {stats.failed}, retrying {stats.retried}, "
        f"cancelled {stats.cancelled}, returned {stats.released}",
        highlight=False,
    )


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
    report_file: Annotated[
        Path | None,
        typer.Option("--report", help="Write the run summary as JSON here (the folder must exist)."),
    ] = None,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
    log_file: LogFileOpt = None,
    follow_links: FollowLinksOpt = False,
) -> None:
    """Submit, then work until idle: the cron entry point.

    Exits 0 when every file of this run ends completed (extracted now or before), 1 when
    something failed, was cancelled or did not finish in this run, 5 when the only
    problems are known failures (same content failed in an earlier run; not retried
    unless --retry-failed).
    """
    st = state(ctx)
    label = batch or f"run-{inputs.default_batch()}"
    started = time.monotonic()
    with user_errors():
        if report_file is not None and (problem := report.report_path_problem(report_file)):
            raise Failed(problem, Code.USAGE)  # before any work: a report lost at the end helps nobody
        logs.configure(quiet, verbose, log_file)
        if not dry_run:
            pool.start_forkserver()  # its imports overlap hashing and submitting
        job_options = inputs.with_previews(inputs.job_options(option), no_previews)
        req = ops_submit.request(
            st.settings,
            paths,
            recursive=recursive,
            fmt=fmt,
            force=force,
            retry_failed=retry_failed,
            rehash=rehash,
            dry_run=dry_run,
            follow_links=follow_links,
            priority=priority,
            max_retries=max_retries,
            batch=label,
            options=job_options,
        )
        engine = st.engine()  # connect before hashing: a dead database should fail fast
        res = ops_submit.submit(engine, req, hash_progress(enabled=not quiet))
        logging.getLogger("cadextract").info("%s", views.submit_counts(res.outcomes, res.skipped).plain)
        logging.getLogger("cadextract").info("%s", scan_line(res, dry_run))
        if dry_run:
            return
        options = supervisor.Options(concurrency=concurrency, until_empty=True, wait_for_retries=True)
        _work(st, options, live=out.is_terminal and not quiet)
        summary = ops_submit.run_report(st.engine(), res, label, started)
    if report_file is not None:
        try:
            report_file.write_text(json.dumps(summary.as_json(), indent=2) + "\n")
        except OSError as exc:
            err.print(
                f"cadextract: cannot write report {printable(str(report_file))}: {exc.strerror}",
                markup=False,
                highlight=False,
            )
    err.print(printable(summary.line()), markup=False, highlight=False)
    finish(report.run_exit_code(summary))
