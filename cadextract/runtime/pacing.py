"""How many jobs to hold and where: pure arithmetic on the recent job duration.

Holding jobs ahead (claimed, not yet running) saves round trips on tiny files but
keeps them from idle workers elsewhere, so a worker holds about ``HOLD_AHEAD_SECONDS``
of work per child, and queues in a child's pipe only what takes a few milliseconds
(a pipe can't be rebalanced; the rest waits in the supervisor for whichever child
frees first). ``--prefetch`` fixes the number instead, all of it in the pipe.
"""

from __future__ import annotations

from collections.abc import Iterable, Sized
from dataclasses import dataclass
from typing import Protocol

HOLD_AHEAD_SECONDS = 0.1
MAX_AHEAD = 256  # never more than this many jobs per child
PIPE_AHEAD = 8  # of which at most this many wait in the child's pipe,
PIPE_AHEAD_SECONDS = 0.005  # and only as many as take this long
JOB_SECONDS_WEIGHT = 0.2  # of the newest job in the moving average of durations


@dataclass
class Pacing:
    """The moving average of job durations, and what it implies per child."""

    prefetch: int | None = None
    job_seconds: float | None = None  # None until the first job has ended

    def took(self, seconds: float) -> None:
        """Fold a finished job's duration into the moving average."""
        if self.job_seconds is None:
            self.job_seconds = seconds
        else:
            self.job_seconds += JOB_SECONDS_WEIGHT * (seconds - self.job_seconds)

    def jobs_within(self, seconds: float) -> int:
        """How many recent-average jobs fit in ``seconds`` (0 before the first one ends)."""
        if self.job_seconds is None:
            return 0
        return int(seconds / max(self.job_seconds, 1e-6))

    def ahead(self) -> int:
        """Jobs to hold per child beyond the one it runs."""
        if self.prefetch is not None:
            return max(0, self.prefetch)
        return min(MAX_AHEAD, self.jobs_within(HOLD_AHEAD_SECONDS))

    def pipe_ahead(self) -> int:
        """Of those, how many to queue in the child's pipe."""
        if self.prefetch is not None:
            return max(0, self.prefetch)
        return min(PIPE_AHEAD, self.ahead(), self.jobs_within(PIPE_AHEAD_SECONDS))

    def depth(self) -> int:
        """How many jobs a child may hold: the one it runs and those queued in its pipe."""
        return 1 + self.pipe_ahead()

    def held_here(self, children: int) -> int:
        """Jobs held in the supervisor beyond what the pipes take (adaptive mode only)."""
        if self.prefetch is not None:
            return 0
        return children * max(0, self.ahead() - self.pipe_ahead())


def room(depth: int, recycle_after: int, *, jobs_run: int, in_pipe: int, retiring: bool) -> int:
    """How many more jobs one child may take: up to its depth, never past its recycling quota."""
    if retiring:
        return 0
    quota = recycle_after - jobs_run - in_pipe
    return max(0, min(depth - in_pipe, quota))


def empty_room(depth: int, recycle_after: int, *, stopping: bool) -> int:
    """Room in a slot with no child yet (one is spawned when a job is sent)."""
    return 0 if stopping else min(depth, recycle_after)


class Slot(Protocol):
    """What pacing needs to know of a child (``pool.Child``)."""

    # read-only properties: a protocol's plain attributes would have to match types exactly
    @property
    def jobs(self) -> Sized: ...  # the jobs in its pipe, the running one first
    @property
    def jobs_run(self) -> int: ...
    @property
    def retiring(self) -> bool: ...


def slot_room(depth: int, recycle_after: int, slot: Slot | None, *, stopping: bool) -> int:
    """How many more jobs a pool slot may take, whether a child runs in it yet or not."""
    if slot is None:
        return empty_room(depth, recycle_after, stopping=stopping)
    return room(depth, recycle_after, jobs_run=slot.jobs_run, in_pipe=len(slot.jobs), retiring=slot.retiring)


def capacity(rooms: Iterable[int], held_here: int, backlog: int) -> int:
    """How many more jobs to claim: room in the children plus what to hold here, minus what waits."""
    return sum(rooms) + held_here - backlog


def worth_sending(room: int, in_pipe: int, depth: int) -> bool:
    """Top a child's pipe up in chunks (one message for several tiny jobs), or at once when idle."""
    if room <= 0:
        return False
    return in_pipe == 0 or room >= max(1, depth // 2)
