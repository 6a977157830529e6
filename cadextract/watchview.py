"""`watch`: one batch (the newest by default) on one screen, never wider than the terminal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from cadextract import fmt, ops
from cadextract.display import safe_text
from cadextract.models import JobStatus
from cadextract.store.readmodels import Activity, Dashboard
from cadextract.views import ago, duration, progress_cell, short_id, summary_counts_table


@dataclass(frozen=True)
class Watch:
    """What one refresh read: the dashboard, the activity, and whether the scope was chosen."""

    dashboard: Dashboard
    activity: Activity
    chosen: bool  # --batch or --all given; otherwise the newest batch was picked


@dataclass(frozen=True)
class Estimate:
    state: ops.Liveness
    rate: float  # finished jobs per second over the window
    eta: float | None


def estimate(a: Activity) -> Estimate:
    """Liveness, throughput and ETA from the activity figures (pure)."""
    state = ops.liveness(
        runnable=a.runnable,
        live_leases=a.live_leases,
        expired_leases=a.expired_leases,
        finished_recently=a.finished_in_window,
    )
    rate = a.finished_in_window / ops.throughput_span(a.window, a.active_for)
    remaining = a.batch_total - a.batch_done
    eta = ops.eta_seconds(
        remaining=remaining,
        finished_in_window=a.finished_in_window,
        window=a.window,
        active_for=a.active_for,
        state=state,
    )
    return Estimate(state, rate, eta)


def _scope(w: Watch) -> str:
    batch = w.activity.batch
    if batch is None:
        return "all batches"
    return f"batch {batch}" + ("" if w.chosen else " (newest; --batch X or --all for others)")


def _state_text(e: Estimate, a: Activity) -> Text:
    if e.state is ops.Liveness.NO_WORKER:
        return safe_text(
            f"NO WORKER: {a.runnable} runnable job(s), none running - start `cadextract work`", "bold red"
        )
    if e.state is ops.Liveness.STALLED:
        return safe_text(
            f"STALLED: {a.expired_leases} job(s) held by a worker whose lease expired", "bold red"
        )
    if e.state is ops.Liveness.WORKING:
        return safe_text(f"{a.live_leases} job(s) in workers", "green")
    return safe_text("idle", "dim")


def watch_view(w: Watch, *, width: int = 120, now: datetime | None = None) -> RenderableType:
    """The whole dashboard for one refresh."""
    now = now or datetime.now(UTC)
    d, a = w.dashboard, w.activity
    e = estimate(a)
    failed = d.summary.by_status.get(JobStatus.FAILED, 0)
    head = Text.assemble(
        ("cadextract watch  ", "bold"),
        (_scope(w), "bold"),
        (f"   {now.strftime('%H:%M:%S')} UTC", "dim"),
        no_wrap=True,
        overflow="ellipsis",
    )
    elapsed = (now - a.batch_started).total_seconds() if a.batch_started else None
    span = ops.throughput_span(a.window, a.active_for)
    progress = Text.assemble(
        (f"{a.batch_done} of {a.batch_total} done", "bold"),
        (f" ({failed} failed)" if failed else "", "red"),
        (f"   elapsed {duration(elapsed)}" if elapsed is not None else "   not started", ""),
        (f"   throughput {e.rate * 60:.1f}/min over {duration(span)}", ""),
        ("   ETA ", ""),
        (_eta_text(e, a), "bold"),
        no_wrap=True,
        overflow="ellipsis",
    )
    parts: list[RenderableType] = [head, progress, _state_text(e, a), summary_counts_table(d.summary)]
    if d.summary.running:
        parts.append(_running(d, width=width, now=now))
    if d.retries:
        columns = ["job", "format", "tries", "next attempt", "last error", "file"]
        t = _table("scheduled retries", columns, width)
        for j in d.retries:
            t.add_row(
                short_id(j.id),
                j.format,
                f"{j.attempts}/{j.max_attempts}",
                "in " + duration((j.run_after - now).total_seconds()),
                safe_text(f"{j.last_error_type}: {j.last_error_message}" if j.last_error_type else "-"),
                safe_text(fmt.left_ellipsis(j.path, max(12, width // 3))),
            )
        parts.append(t)
    if d.failures:
        t = _table(f"recent failures ({failed} in all)", ["job", "format", "when", "error", "file"], width)
        for j in d.failures:
            t.add_row(
                short_id(j.id),
                j.format,
                ago(j.updated_at, now),
                safe_text(f"{j.last_error_type}: {_one_line(j.last_error_message)}", style="red"),
                safe_text(fmt.left_ellipsis(j.path, max(12, width // 3))),
            )
        parts.append(t)
    return Group(*parts)


def _eta_text(e: Estimate, a: Activity) -> str:
    if a.batch_total and a.batch_done >= a.batch_total:
        return "done"
    if e.state is ops.Liveness.NO_WORKER:
        return "- (no worker)"
    if e.state is ops.Liveness.STALLED:
        return "- (stalled)"
    return duration(e.eta) if e.eta is not None else "- (measuring)"


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split())


def _table(title: str, columns: list[str], width: int) -> Table:
    """One line per row: long cells end in an ellipsis instead of wrapping."""
    t = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left", width=width)
    for c in columns:
        t.add_column(c, no_wrap=True, overflow="ellipsis", ratio=2 if c in ("error", "last error") else None)
    return t


def _running(d: Dashboard, *, width: int, now: datetime) -> Table:
    t = _table("running", ["job", "worker", "format", "elapsed", "progress", "file"], width)
    for j in d.summary.running:
        elapsed = duration((now - j.started_at).total_seconds()) if j.started_at else "-"
        t.add_row(
            short_id(j.id),
            safe_text(j.worker_id or "-"),
            j.format,
            elapsed,
            progress_cell(j.progress, bar=12),
            safe_text(fmt.left_ellipsis(j.path, max(12, width - 75))),
        )
    return t


def watch_line(w: Watch, *, now: datetime | None = None) -> str:
    """`watch` when stdout is not a terminal: one timestamped line per refresh."""
    now = now or datetime.now(UTC)
    d, a = w.dashboard, w.activity
    e = estimate(a)
    counts = " ".join(f"{k}={d.summary.by_status.get(k, 0)}" for k in JobStatus)
    eta = (
        "done"
        if a.batch_total and a.batch_done >= a.batch_total
        else (f"{e.eta:.0f}s" if e.eta is not None else "-")
    )
    return (
        f"{now.isoformat(timespec='seconds').replace('+00:00', 'Z')} batch={a.batch or '*'} {counts} "
        f"done={a.batch_done}/{a.batch_total} workers={e.state.value} rate_per_min={e.rate * 60:.1f} "
        f"eta={eta} running={len(d.summary.running)} retries_scheduled={d.summary.scheduled_retries}"
    )
