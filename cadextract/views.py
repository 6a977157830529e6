"""Rich renderables for every command: pure functions of data, no queries, no printing."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from rich import box
from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from cadextract.display import clean, printable, safe_text
from cadextract.fmt import left_ellipsis
from cadextract.models import JobStatus
from cadextract.store.commands import Enqueued
from cadextract.store.readmodels import Job, PurgeGroup, Summary

#: the colour of each status (a colour map, not the list of statuses: that is models.JobStatus)
STATUS_STYLE: dict[str, str] = {
    JobStatus.PENDING: "yellow",
    JobStatus.PROCESSING: "cyan",
    JobStatus.COMPLETED: "green",
    JobStatus.FAILED: "red",
    JobStatus.CANCELLED: "magenta",
}


def short_id(job_id: Any) -> str:
    return str(job_id)[:8]


def ago(when: datetime | None, now: datetime | None = None) -> str:
    """'3m ago' style age of a timestamp."""
    if when is None:
        return "-"
    now = now or datetime.now(UTC)
    return duration((now - when).total_seconds()) + " ago"


def duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.1f}s" if seconds < 10 else f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{seconds // 60:.0f}m{seconds % 60:02.0f}s"
    if seconds < 86400:
        return f"{seconds // 3600:.0f}h{(seconds % 3600) // 60:02.0f}m"
    return f"{seconds // 86400:.0f}d{(seconds % 86400) // 3600:02.0f}h"


def status_text(status: str) -> Text:
    return Text(status, style=STATUS_STYLE.get(status, ""))


def submit_table(outcomes: Sequence[Enqueued], skipped_files: Sequence[tuple[str, str]]) -> RenderableType:
    """What `submit` queued and skipped."""
    table = Table(box=box.SIMPLE, show_edge=False)
    table.add_column("job")
    table.add_column("format")
    table.add_column("result")
    table.add_column("file", overflow="fold")
    for o in outcomes:
        if o.skipped_reason:
            table.add_row(
                short_id(o.job_id) if o.job_id else "-",
                o.job.format,
                Text(f"skipped: {printable(o.skipped_reason)}", style="dim"),
                clean(o.job.path),
            )
        else:
            table.add_row(short_id(o.job_id), o.job.format, Text("queued", style="green"), clean(o.job.path))
    for path, reason in skipped_files:
        table.add_row("-", "-", Text(f"skipped: {printable(reason)}", style="dim"), clean(path))
    return table


def submit_counts(outcomes: Sequence[Enqueued], skipped_files: Sequence[tuple[str, str]]) -> Text:
    queued = sum(1 for o in outcomes if not o.skipped_reason)
    known = sum(1 for o in outcomes if o.skipped_reason and o.skipped_reason.startswith("known failure"))
    dup = sum(1 for o in outcomes if o.skipped_reason) - known
    return Text(
        f"{queued} queued, {dup} already known, {known} known failures, {len(skipped_files)} not submittable"
    )


def summary_view(s: Summary, *, now: datetime | None = None) -> RenderableType:
    """`status` with no id: counts per state and format, oldest pending, running jobs."""
    counts = summary_counts_table(s)
    lines: list[RenderableType] = [counts]
    extra = []
    if s.oldest_pending is not None:
        extra.append(f"oldest runnable job waiting {ago(s.oldest_pending, now)}")
    if s.scheduled_retries:
        extra.append(f"{s.scheduled_retries} job(s) waiting to retry")
    if extra:
        lines.append(Text("; ".join(extra)))
    if s.running:
        lines.append(running_table(s.running, now=now))
    return Group(*lines)


def running_table(jobs: Sequence[Job], *, now: datetime | None = None) -> Table:
    table = Table(title="running", box=box.SIMPLE_HEAD, title_justify="left")
    table.add_column("job")
    table.add_column("worker")
    table.add_column("format")
    table.add_column("elapsed", justify="right")
    table.add_column("progress", width=24)
    table.add_column("file", overflow="fold")
    now = now or datetime.now(UTC)
    for j in jobs:
        elapsed = duration((now - j.started_at).total_seconds()) if j.started_at else "-"
        table.add_row(
            short_id(j.id),
            clean(j.worker_id or "-"),
            j.format,
            elapsed,
            progress_cell(j.progress),
            clean(j.path),
        )
    return table


def progress_cell(percent: float, *, bar: int = 16) -> RenderableType:
    grid = Table.grid(padding=(0, 1))
    grid.add_row(ProgressBar(total=100, completed=percent, width=bar), Text(f"{percent:3.0f}%"))
    return grid


def job_view(
    job: Job, document: Mapping[str, Any] | None, summary: Mapping[str, Any] | None
) -> RenderableType:
    """`status <id>`: every field, the error history, and a result summary."""
    fields = Table.grid(padding=(0, 2))
    fields.add_column(style="bold")
    fields.add_column(overflow="fold")
    data = job.as_json()
    errors = data.pop("errors")
    for key, value in data.items():
        if key == "status":
            fields.add_row(key, status_text(str(value)))
        elif key == "progress":
            fields.add_row(key, f"{value:.0f}%")
        else:
            fields.add_row(
                key,
                "-"
                if value in (None, "", {})
                else clean(json.dumps(value) if isinstance(value, dict) else str(value)),
            )
    parts: list[RenderableType] = [Panel(fields, title=f"job {job.id}", title_align="left")]
    if errors:
        parts.append(errors_table(errors))
    if summary:
        parts.append(summary_table(summary, title="result summary"))
    if document and document.get("warnings"):
        parts.append(Text("warnings: " + printable("; ".join(document["warnings"])), style="yellow"))
    return Group(*parts)


def errors_table(errors: Sequence[Mapping[str, Any]]) -> Table:
    table = Table(title="error history", box=box.SIMPLE_HEAD, title_justify="left")
    table.add_column("attempt", justify="right")
    table.add_column("at")
    table.add_column("worker")
    table.add_column("type", style="red")
    table.add_column("message", overflow="fold")
    for e in errors:
        table.add_row(
            str(e.get("attempt", "")),
            str(e.get("at", ""))[:19],
            clean(e.get("worker", "")),
            clean(e.get("type", "")),
            clean(e.get("message", "")),
        )
    return table


def summary_table(summary: Mapping[str, Any], *, title: str) -> Table:
    table = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left", show_header=False)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for key, value in summary.items():
        table.add_row(clean(key), _fmt(value))
    return table


def rows_table(rows: Sequence[Mapping[str, Any]], *, title: str, limit: int = 40) -> Table:
    """A table of flat rows (entities, elements, pages, solids), first ``limit`` of them."""
    table = Table(
        title=f"{title} ({len(rows)})" if len(rows) <= limit else f"{title} (first {limit} of {len(rows)})",
        box=box.SIMPLE_HEAD,
        title_justify="left",
    )
    columns: list[str] = []
    for r in rows[:limit]:
        for k in r:
            if k not in columns:
                columns.append(k)
    for c in columns[:8]:
        table.add_column(clean(c), overflow="fold")
    for r in rows[:limit]:
        table.add_row(*[_fmt(r.get(c)) for c in columns[:8]])
    return table


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.6g}"
    return clean(value)  # what a drawing says: no markup, no terminal escapes


def jobs_table(jobs: Sequence[Job], *, now: datetime | None = None, width: int = 200) -> Table:
    """`jobs`: one line per job, like `docker ps`; narrow terminals drop priority and batch."""
    wide = width >= 130
    table = Table(box=box.SIMPLE_HEAD)
    columns = ["job", "status", "format", "tries", "updated"] + (["prio", "batch"] if wide else [])
    for name in columns:
        table.add_column(name, no_wrap=True, justify="right" if name in ("tries", "prio") else "left")
    table.add_column("file", overflow="fold", min_width=24)
    with_errors = any(j.last_error_type for j in jobs)
    if with_errors:
        table.add_column("error", overflow="fold", style="red")
    for j in jobs:
        state = status_text(j.status)
        if j.status == JobStatus.PROCESSING:
            state.append(f" {j.progress:.0f}%")
        cells: list[RenderableType] = [
            short_id(j.id),
            state,
            j.format,
            tries_text(j),
            ago(j.updated_at, now),
        ]
        if wide:
            cells += [str(j.priority), clean(j.batch or "-")]
        cells.append(clean(j.path))
        if with_errors:
            cells.append(clean(f"{j.last_error_type}: {j.last_error_message}") if j.last_error_type else "")
        table.add_row(*cells)
    return table


def tries_text(j: Job) -> str:
    """'2/4' while retries remain; a failed job says it is over ('1, final')."""
    if j.status == JobStatus.FAILED:
        return f"{j.attempts}, final"
    return f"{j.attempts}/{j.max_attempts}"


#: an off-screen console, only to measure renderables
_MEASURE = Console(width=2000, file=io.StringIO(), color_system=None)


def work_view(
    snapshot: Sequence[tuple[int, int | None, Any]],
    stats: Any,
    *,
    elapsed: float,
    connected: bool,
    width: int = 120,
) -> RenderableType:
    """The live table `work` shows in a terminal; never wider than ``width``."""
    now = time.monotonic()
    rows: list[tuple[list[str], float | None, str]] = []
    for index, pid, running in snapshot:
        if running is None:
            rows.append(([str(index), str(pid or "-"), "idle", "", ""], None, ""))
            continue
        job = running.job
        elapsed_cell = duration(now - running.started) if running.started else "-"
        rows.append(
            (
                [str(index), str(pid or "-"), short_id(job.id), job.format, elapsed_cell],
                running.progress,
                printable(job.path),
            )
        )

    def build(path_width: int | None) -> Table:
        table = Table(box=box.SIMPLE_HEAD, safe_box=True)
        for name in ("slot", "pid", "job", "format", "elapsed"):
            table.add_column(
                name, justify="right" if name in ("slot", "pid", "elapsed") else "left", no_wrap=True
            )
        table.add_column("progress", width=22, no_wrap=True)
        table.add_column("file", no_wrap=True, overflow="ellipsis")
        for fixed, progress, path in rows:
            if progress is None:
                table.add_row(*fixed[:2], Text("idle", style="dim"), "", "", "", "")
            else:
                shown = left_ellipsis(path, path_width) if path_width is not None else ""
                table.add_row(*fixed, progress_cell(progress, bar=14), Text(shown))
        return table

    # measure the table without paths: what is left of the width is the path's
    others = _MEASURE.measure(build(None)).maximum
    table = build(max(8, width - others - 1))
    rate = stats.completed / elapsed if elapsed > 0 else 0.0
    head = Text.assemble(
        ("completed ", ""),
        (str(stats.completed), "green"),
        ("  failed ", ""),
        (str(stats.failed), "red"),
        ("  retrying ", ""),
        (str(stats.retried), "yellow"),
        ("  cancelled ", ""),
        (str(stats.cancelled), "magenta"),
        (f"  {rate:.1f} jobs/s  elapsed {duration(elapsed)}  ", "dim"),
        ("" if connected else "DATABASE UNREACHABLE - results kept in memory", "bold red"),
        no_wrap=True,
        overflow="ellipsis",
    )
    return Group(head, table)


def summary_counts_table(s: Summary) -> Table:
    states = [s.value for s in JobStatus]
    counts = Table(box=box.SIMPLE_HEAD)
    counts.add_column("format")
    for st in states:
        counts.add_column(st, justify="right", style=STATUS_STYLE[st])
    counts.add_column("total", justify="right")
    for fmt in sorted(s.by_format):
        row = s.by_format[fmt]
        counts.add_row(clean(fmt), *[str(row.get(st, 0)) for st in states], str(sum(row.values())))
    counts.add_row(
        Text("all", style="bold"),
        *[str(s.by_status.get(st, 0)) for st in states],
        str(sum(s.by_status.values())),
    )
    return counts


def purge_preview_table(groups: Sequence[PurgeGroup], *, now: datetime | None = None) -> Table:
    """`purge --dry-run`: what would go, by status, format and batch."""
    table = Table(title="would delete", box=box.SIMPLE_HEAD, title_justify="left")
    for name in ("status", "format", "batch", "jobs", "oldest update"):
        table.add_column(name, justify="right" if name == "jobs" else "left", no_wrap=name != "batch")
    for g in groups:
        table.add_row(
            status_text(g.status), g.format, safe_text(g.batch or "-"), str(g.jobs), ago(g.oldest, now)
        )
    return table
