"""Queue commands: submit, status, jobs, cancel, retry, purge, watch. Parse → ops → render."""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Callable, Iterator
from typing import Annotated, Any

import typer
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from cadextract import files, setting_rules, views, watchview
from cadextract.cli.base import Exit as Code
from cadextract.cli.base import Failed, err, out, state, user_errors
from cadextract.cli.options import (
    BatchFilter,
    BatchOpt,
    DryRunOpt,
    FollowLinksOpt,
    ForceOpt,
    FormatFilter,
    FormatOpt,
    JobIdsArg,
    JsonOpt,
    NoPreviewsOpt,
    OptionOpt,
    PathFilter,
    PathsArg,
    PriorityOpt,
    RecursiveOpt,
    RehashOpt,
    RetriesOpt,
    RetryFailedOpt,
    SinceFilter,
    StatusFilter,
    finite,
)
from cadextract.display import printable
from cadextract.ops import inputs, results
from cadextract.ops import queue as ops_queue
from cadextract.ops import submit as ops_submit
from cadextract.ops import watch as ops_watch
from cadextract.store import commands, readmodels

# -- submit -------------------------------------------------------------------------


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
    st = state(ctx)
    with user_errors():
        options = inputs.with_previews(inputs.job_options(option), no_previews)
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
            batch=batch or inputs.default_batch(),
            options=options,
        )
        engine = st.engine()  # connect before hashing: a dead database should fail fast
        res = ops_submit.submit(engine, req, hash_progress(enabled=not as_json))
    if as_json:
        print(json.dumps(submit_json(res), indent=2))
        return
    if len(res.outcomes) + len(res.skipped) <= 200:
        out.print(views.submit_table(res.outcomes, res.skipped))
    out.print(views.submit_counts(res.outcomes, res.skipped))
    out.print(scan_line(res, dry_run), markup=False, highlight=False)


def hash_progress(*, enabled: bool) -> ops_submit.HashProgress:
    """A progress bar on stderr while hashing more than one file (terminals only)."""

    @contextlib.contextmanager
    def progress(good: list[files.Candidate]) -> Iterator[Callable[[files.Candidate], None] | None]:
        if not enabled or len(good) <= 1 or not err.is_terminal:
            yield None
            return
        with Progress(
            TextColumn("hashing"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=err,
            transient=True,
        ) as bar:
            task = bar.add_task("hash", total=sum(c.size for c in good))
            yield lambda c: bar.advance(task, c.size)

    return progress


def scan_line(res: ops_submit.Outcome, dry_run: bool) -> str:
    """What the incremental scan saw: hashed, unchanged, objects, disappeared (named)."""
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


def submit_json(res: ops_submit.Outcome) -> list[dict[str, Any]]:
    rows = [_enqueued_json(o) for o in res.outcomes]
    rows += [
        {"path": p, "format": None, "job_id": None, "queued": False, "reason": r} for p, r in res.skipped
    ]
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
    return rows


def _enqueued_json(o: commands.Enqueued) -> dict[str, Any]:
    return {
        "path": o.job.path,
        "format": o.job.format,
        "job_id": str(o.job_id) if o.job_id else None,
        "queued": o.skipped_reason is None,
        "reason": o.skipped_reason,
    }


# -- status / jobs ------------------------------------------------------------------


def status(
    ctx: typer.Context,
    job: Annotated[
        str | None, typer.Argument(help="Job id or unique prefix; omit for the queue summary.")
    ] = None,
    batch: Annotated[str | None, typer.Option("--batch", "-b", help="Summary of one batch.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """The queue at a glance, or every detail of one job."""
    st = state(ctx)
    with user_errors():
        if job is None:
            s = results.summary(st.engine(), batch)
            if as_json:
                print(json.dumps(results.summary_json(s), indent=2))
            else:
                out.print(views.summary_view(s))
            return
        job_id = inputs.job_id(job)  # a bad prefix fails before connecting
        d = results.detail(st.engine(), job_id)
    if as_json:
        print(json.dumps(d.as_json(), indent=2, default=str))
    else:
        out.print(views.job_view(d.job, d.document, d.summary))


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
        int, typer.Option("--limit", "-n", min=0, max=setting_rules.LIMIT_MAX, help="0 = no limit.")
    ] = 50,
    as_json: JsonOpt = False,
    ids: Annotated[
        bool, typer.Option("--ids", help="Only ids, one per line (pipe into cancel/retry).")
    ] = False,
) -> None:
    """List jobs, newest first, with filters."""
    st = state(ctx)
    with user_errors():
        order = inputs.sort(sort)
        f = inputs.job_filter(status, fmt, batch, since, path, case_sensitive)
        with st.engine().connect() as conn:
            found = readmodels.list_jobs(conn, f, sort=order, limit=limit or None)
    if ids:
        for j in found:
            print(j.id)
    elif as_json:
        print(json.dumps([j.as_json() for j in found], indent=2))
    else:
        out.print(views.jobs_table(found, width=out.width))


# -- cancel / retry / purge ---------------------------------------------------------


def _ids(given: list[str] | None) -> list[str]:
    """The ids given, or with '-' the ids on stdin (one per line, as `jobs --ids` prints)."""
    if given == ["-"]:
        return [line.strip() for line in sys.stdin if line.strip()]
    return given or []


def cancel(
    ctx: typer.Context,
    job_ids: JobIdsArg = None,
    batch: BatchFilter = None,
    status: StatusFilter = None,
    as_json: JsonOpt = False,
) -> None:
    """Cancel pending or running jobs.

    Pending ones at once, running ones within about a second.
    """
    st = state(ctx)
    with user_errors():
        selected = ops_queue.cancel_filter(job_ids or [], batch=batch, status=status)
        ids = inputs.job_ids(_ids(job_ids))
        done = ops_queue.cancel(st.engine(), ids, selected)
    if as_json:
        data = {"cancelled": done.cancelled, "requested": done.requested, "finished": done.finished}
        print(json.dumps({k: [str(i) for i in v] for k, v in data.items()}, indent=2))
    else:
        err.print(
            f"cancelled {len(done.cancelled)}, cancel requested for {len(done.requested)} running, "
            f"{len(done.finished)} already finished",
            highlight=False,
        )


def retry(
    ctx: typer.Context,
    job_ids: JobIdsArg = None,
    failed: Annotated[
        bool, typer.Option("--failed", help="Every failed job (with --batch: of that batch).")
    ] = False,
    batch: BatchFilter = None,
    as_json: JsonOpt = False,
) -> None:
    """Queue failed or cancelled jobs again.

    They get fresh attempts; the error history is kept.
    """
    st = state(ctx)
    with user_errors():
        ops_queue.retry_selection_problem(job_ids or [], failed=failed)
        ids = inputs.job_ids(_ids(job_ids))
        back = ops_queue.retry(st.engine(), ids, failed=failed, batch=batch)
    if as_json:
        print(json.dumps({"retried": [str(i) for i in back.retried]}))
    else:
        err.print(
            f"retrying {len(back.retried)} job(s); {back.not_retried} were not failed or cancelled",
            highlight=False,
        )


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
    st = state(ctx)
    with user_errors():
        plan = ops_queue.purge_plan(older_than, status, dry_run=dry_run, list_jobs=list_jobs, limit=limit)
        done = ops_queue.purge(st.engine(), plan)
    if as_json:
        data: dict[str, Any] = {"dry_run": dry_run, "jobs": done.jobs, "seconds": round(done.seconds, 3)}
        if dry_run:
            data["groups"] = [
                {
                    "status": g.status,
                    "format": g.format,
                    "batch": g.batch,
                    "jobs": g.jobs,
                    "oldest": g.oldest.isoformat() if g.oldest else None,
                }
                for g in done.groups
            ]
        if list_jobs:
            data["list"] = [j.as_json() for j in done.listed]
        print(json.dumps(data, indent=2 if dry_run else None))
        return
    if done.groups:
        out.print(views.purge_preview_table(done.groups))
    if done.listed:
        out.print(views.jobs_table(done.listed, width=out.width))
    verb = "would delete" if dry_run else "deleted"
    err.print(
        f"{verb} {done.jobs} job(s) older than {older_than} ({', '.join(done.statuses)}) "
        f"in {done.seconds:.1f}s",
        highlight=False,
        markup=False,
    )


# -- watch --------------------------------------------------------------------------


def watch(
    ctx: typer.Context,
    batch: Annotated[
        str | None, typer.Option("--batch", "-b", help="Batch label [the newest batch].")
    ] = None,
    all_batches: Annotated[bool, typer.Option("--all", help="Every batch together.")] = False,
    interval: Annotated[
        float, typer.Option(min=0.1, max=3600, callback=finite, help="Seconds between refreshes.")
    ] = 1.0,
    once: Annotated[bool, typer.Option("--once", help="Render once and exit.")] = False,
) -> None:
    """Live dashboard of a batch (Ctrl-C exits).

    Counts, progress of the batch, throughput, ETA, whether any worker is alive, running
    jobs, scheduled retries and recent failures. Shows the newest batch unless --batch
    or --all is given.
    """
    st = state(ctx)
    with user_errors():
        if all_batches and batch is not None:
            raise Failed("give --batch or --all, not both", Code.USAGE)
        engine = st.engine()

        def read() -> watchview.Watch:
            with engine.connect() as conn:
                shown = None if all_batches else batch or readmodels.newest_batch(conn)
                return watchview.Watch(
                    dashboard=readmodels.dashboard(conn, batch=shown),
                    activity=readmodels.activity(conn, batch=shown, window_for=ops_watch.eta_window),
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
