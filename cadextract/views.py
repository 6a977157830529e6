"""Rich renderables for every command: pure functions of data, no queries, no printing."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from rich import box
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from cadextract.display import clean, printable
from cadextract.store.commands import Enqueued
from cadextract.store.reads import Job, Summary

STATUS_STYLE = {
    "pending": "yellow",
    "processing": "cyan",
    "completed": "green",
    "failed": "red",
    "cancelled": "magenta",
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
    dup = sum(1 for o in outcomes if o.skipped_reason)
    return Text(f"{queued} queued, {dup} already known, {len(skipped_files)} not submittable")


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


def progress_cell(percent: float) -> RenderableType:
    grid = Table.grid(padding=(0, 1))
    grid.add_row(ProgressBar(total=100, completed=percent, width=16), Text(f"{percent:3.0f}%"))
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
        if j.status == "processing":
            state.append(f" {j.progress:.0f}%")
        cells: list[RenderableType] = [
            short_id(j.id),
            state,
            j.format,
            f"{j.attempts}/{j.max_attempts}",
            ago(j.updated_at, now),
        ]
        if wide:
            cells += [str(j.priority), clean(j.batch or "-")]
        cells.append(clean(j.path))
        if with_errors:
            cells.append(clean(f"{j.last_error_type}: {j.last_error_message}") if j.last_error_type else "")
        table.add_row(*cells)
    return table


def work_view(
    snapshot: Sequence[tuple[int, int | None, Any]], stats: Any, *, elapsed: float, connected: bool
) -> RenderableType:
    """The live table `work` shows in a terminal."""
    table = Table(box=box.SIMPLE_HEAD)
    table.add_column("slot", justify="right")
    table.add_column("pid", justify="right")
    table.add_column("job")
    table.add_column("format")
    table.add_column("elapsed", justify="right")
    table.add_column("progress", width=24)
    table.add_column("file", overflow="ellipsis", no_wrap=True, max_width=60)
    now = time.monotonic()
    for index, pid, running in snapshot:
        if running is None:
            table.add_row(str(index), str(pid or "-"), Text("idle", style="dim"), "", "", "", "")
            continue
        job = running.job
        table.add_row(
            str(index),
            str(pid or "-"),
            short_id(job.id),
            job.format,
            duration(now - running.started) if running.started else "-",
            progress_cell(running.progress),
            clean(job.path),
        )
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
        (f"  {rate:.1f} jobs/s  ", "dim"),
        ("" if connected else "DATABASE UNREACHABLE - results kept in memory", "bold red"),
    )
    return Group(head, table)


def dashboard_view(d: Any, *, now: datetime | None = None, batch: str | None = None) -> RenderableType:
    """`watch`: the whole queue on one screen."""
    now = now or datetime.now(UTC)
    s = d.summary
    pending = s.by_status.get("pending", 0)
    rate = d.completed_last_minute / 60.0
    eta = duration(pending / rate) if rate > 0 and pending else ("-" if pending else "done")
    head = Text.assemble(
        ("cadextract watch", "bold"),
        (f"  batch {printable(batch)}" if batch else "", "bold"),
        (f"   {now.astimezone().strftime('%H:%M:%S')}", "dim"),
        ("   throughput ", ""),
        (f"{d.completed_last_minute}/min", "green"),
        (f" ({rate:.1f}/s)", ""),
        ("   failed ", ""),
        (f"{d.failed_last_minute}/min", "red"),
        ("   ETA ", ""),
        (eta, "bold"),
    )
    parts: list[RenderableType] = [head, summary_counts_table(s)]
    if s.running:
        parts.append(running_table(s.running, now=now))
    else:
        parts.append(Text("no jobs running", style="dim"))
    if d.retries:
        t = Table(title="scheduled retries", box=box.SIMPLE_HEAD, title_justify="left")
        for c in ("job", "format", "tries", "next attempt", "last error", "file"):
            t.add_column(
                c,
                overflow="fold" if c in ("file", "last error") else "ellipsis",
                no_wrap=c not in ("file", "last error"),
            )
        for j in d.retries:
            wait = (j.run_after - now).total_seconds()
            t.add_row(
                short_id(j.id),
                j.format,
                f"{j.attempts}/{j.max_attempts}",
                "in " + duration(wait),
                clean(f"{j.last_error_type}: {j.last_error_message}") if j.last_error_type else "-",
                clean(j.path),
            )
        parts.append(t)
    if d.failures:
        t = Table(title="recent failures", box=box.SIMPLE_HEAD, title_justify="left")
        for c in ("job", "format", "when", "error", "file"):
            t.add_column(
                c,
                overflow="fold" if c in ("file", "error") else "ellipsis",
                no_wrap=c not in ("file", "error"),
            )
        for j in d.failures:
            t.add_row(
                short_id(j.id),
                j.format,
                ago(j.updated_at, now),
                Text(printable(f"{j.last_error_type}: {j.last_error_message}"), style="red"),
                clean(j.path),
            )
        parts.append(t)
    return Group(*parts)


def summary_counts_table(s: Summary) -> Table:
    states = ["pending", "processing", "completed", "failed", "cancelled"]
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


def dashboard_line(d: Any, *, now: datetime | None = None) -> str:
    """`watch` when stdout is not a terminal: one timestamped line per refresh."""
    now = now or datetime.now(UTC)
    s = d.summary
    counts = " ".join(f"{k}={s.by_status.get(k, 0)}" for k in STATUS_STYLE)
    return (
        f"{now.astimezone().isoformat(timespec='seconds')} {counts} "
        f"completed_last_min={d.completed_last_minute} failed_last_min={d.failed_last_minute} "
        f"running={len(s.running)} retries_scheduled={s.scheduled_retries}"
    )
