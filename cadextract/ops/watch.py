"""What `watch` can honestly say: whether anything works on the queue, and an ETA. Pure."""

from __future__ import annotations

import enum


class Liveness(enum.Enum):
    """Whether anything is working on the queue, judged from leases and recent finishes."""

    WORKING = "working"
    IDLE = "idle"  # nothing to do
    NO_WORKER = "no worker"  # runnable jobs, nobody holds or finished one lately
    STALLED = "stalled"  # jobs held, but their leases expired (worker gone)


def liveness(*, runnable: int, live_leases: int, expired_leases: int, finished_recently: int) -> Liveness:
    """Pending work with no live lease and nothing finished lately means no worker runs."""
    if live_leases:
        return Liveness.WORKING
    if expired_leases:
        return Liveness.STALLED
    if runnable and not finished_recently:
        return Liveness.NO_WORKER
    if runnable:
        return Liveness.WORKING
    return Liveness.IDLE


def eta_window(mean_job_seconds: float | None) -> float:
    """Seconds of history to judge throughput by: ~20 jobs' worth, 1 to 15 minutes."""
    if not mean_job_seconds:
        return 60.0
    return min(900.0, max(60.0, 20.0 * mean_job_seconds))


def eta_seconds(
    *, remaining: int, finished_in_window: int, window: float, active_for: float | None, state: Liveness
) -> float | None:
    """Time left at the throughput of the window (or of the batch, if it is younger)."""
    if not remaining or state in (Liveness.NO_WORKER, Liveness.STALLED) or finished_in_window <= 0:
        return None
    return remaining / (finished_in_window / throughput_span(window, active_for))


def throughput_span(window: float, active_for: float | None) -> float:
    """Seconds the finished count covers: the window, or the batch's age if younger (10 s at least)."""
    span = min(window, active_for) if active_for and active_for > 0 else window
    return max(span, 10.0)
