"""Every job this worker holds, and where it is.

A claimed job moves QUEUED (here, waiting for a child) → PIPED (sent to a child, behind
the one it runs) → RUNNING (its child's current job) → OUTBOX (an outcome waiting for
the next database step) → WRITING (in the step in flight) → gone. A job can also leave
the pipeline early; the three ways it does are each decided in one method here:
``lease_lost``, ``cancel_requested`` and ``child_gone``. The ledger decides and
records; the supervisor kills children and writes.
"""

from __future__ import annotations

import enum
import uuid
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from cadextract.config import Settings
from cadextract.runtime import outcomes
from cadextract.runtime.messages import JobSpec
from cadextract.runtime.outcomes import Cancel, Fate, Kill, KillReason, Outcome, Release, Verdict
from cadextract.runtime.pool import Child
from cadextract.search import document as search_document
from cadextract.store.protocol import Claimed, Completion, Failure, Lease


class Place(enum.Enum):
    QUEUED = "queued"  # claimed, held here until a child has room
    PIPED = "piped"  # in a child's pipe, behind the job it runs
    RUNNING = "running"  # its child's current job
    OUTBOX = "outbox"  # finished; its outcome waits for the next database step
    WRITING = "writing"  # its outcome is in the database step in flight


@dataclass
class HeldJob:
    """A job this worker holds (claimed, maybe running in a child, maybe awaiting its write)."""

    job: Claimed
    timeout: float  # seconds it may run (limits.timeout_for), counted from ``started``
    place: Place = Place.QUEUED
    child: Child | None = None  # while PIPED or RUNNING
    started: float | None = None  # monotonic, when the child began it
    deadline: float | None = None
    progress: float = 0.0
    note: str | None = None
    fate: Fate = Fate.WRITE

    def spec(self, settings: Settings) -> JobSpec:
        """What its child needs to run it."""
        job = self.job
        max_bytes = int(settings.max_result_mb * 1024 * 1024)
        return JobSpec(
            job.id,
            job.path,
            job.format,
            job.sha256,
            job.size,
            job.options,
            max_bytes,
            search_index=search_document.enabled(),
            timeout=self.timeout,
        )


class Act(enum.Enum):
    """What the supervisor must do after the ledger took in a lease loss or cancel."""

    NOTHING = "nothing"
    KILL_CHILD = "kill child"  # the job is running: kill its child (the kill settles it)
    DROPPED = "dropped"  # the job is no longer held: tell the user it was lost


CHILD_STOPPED = Kill(KillReason.SHUTDOWN, "child stopped")  # for jobs queued behind a dead child's


@dataclass(frozen=True)
class Ending:
    """A job whose child went away, and what becomes of it."""

    held: HeldJob
    verdict: Verdict
    why: Kill


class Ledger:
    def __init__(self) -> None:
        self.held: dict[uuid.UUID, HeldJob] = {}
        self.backlog: deque[uuid.UUID] = deque()  # the QUEUED jobs, in claim order
        self.outbox: list[Outcome] = []  # the OUTBOX jobs' outcomes, in the order they ended

    def __len__(self) -> int:
        return len(self.held)

    def __contains__(self, job_id: uuid.UUID) -> bool:
        return job_id in self.held

    def __getitem__(self, job_id: uuid.UUID) -> HeldJob:
        return self.held[job_id]

    def get(self, job_id: uuid.UUID | None) -> HeldJob | None:
        return self.held.get(job_id) if job_id is not None else None

    def count(self, *places: Place) -> int:
        return sum(1 for h in self.held.values() if h.place in places)

    # -- moving along --------------------------------------------------------------

    def claimed(self, job: Claimed, timeout: float) -> HeldJob:
        held = HeldJob(job, timeout)
        self.held[job.id] = held
        self.backlog.append(job.id)
        return held

    def next_queued(self, n: int) -> list[HeldJob]:
        """The first ``n`` queued jobs, without moving them."""
        return [self.held[self.backlog[i]] for i in range(min(n, len(self.backlog)))]

    def piped(self, jobs: Iterable[HeldJob], child: Child, now: float) -> None:
        """QUEUED → PIPED: sent to ``child`` (they leave the backlog from its front); an
        idle child begins the first at once (one drawing a preview, once it is done)."""
        idle = not child.jobs and child.drawing is None
        for held in jobs:
            self.backlog.popleft()
            held.place, held.child = Place.PIPED, child
            child.jobs.append(held.job.id)
        if idle and child.jobs:
            self.started(self.held[child.jobs[0]], now)

    def started(self, held: HeldJob, now: float) -> None:
        """PIPED → RUNNING: its child began it; its wall-clock limit starts."""
        held.place = Place.RUNNING
        held.started, held.deadline = now, now + held.timeout

    def moved_on(self, child: Child, now: float) -> HeldJob:
        """The child reported its current job (returned; its outcome follows) and goes
        straight on to the next one in its pipe, or first draws the preview."""
        held = self.held[child.jobs.popleft()]
        child.jobs_run += 1
        self.ended(held)
        if child.jobs and child.drawing is None:
            self.started(self.held[child.jobs[0]], now)
        return held

    def resumed(self, child: Child, now: float) -> None:
        """The child has drawn its preview and begins the next job in its pipe, if any."""
        if child.jobs:
            self.started(self.held[child.jobs[0]], now)

    def ended(self, held: HeldJob) -> None:
        """The child is done with it (reported, killed or died); an outcome or a drop follows."""
        held.child = None

    def record(self, held: HeldJob, outcome: Outcome) -> None:
        """→ OUTBOX."""
        held.place = Place.OUTBOX
        self.outbox.append(outcome)

    def take_outbox(self) -> list[Outcome]:
        """OUTBOX → WRITING: every waiting outcome now belongs to a database step."""
        taken, self.outbox = self.outbox, []
        for outcome in taken:
            if (held := self.held.get(outcome.id)) is not None:
                held.place = Place.WRITING
        return taken

    def give_back(self, outcomes: list[Outcome]) -> None:
        """WRITING → OUTBOX: the step did not commit; written again next, ahead of newer ones."""
        kept = [o for o in outcomes if o.id in self.held]
        for outcome in kept:
            self.held[outcome.id].place = Place.OUTBOX
        self.outbox[:0] = kept

    def forget(self, job_id: uuid.UUID) -> HeldJob | None:
        """No longer held: its outcome was written (or not, the lease being lost)."""
        return self.held.pop(job_id, None)

    def release_backlog(self) -> None:
        """QUEUED → OUTBOX as releases: stopping, the jobs not started go back to the queue."""
        while self.backlog:
            held = self.held[self.backlog.popleft()]
            self.record(held, Release(held.job.id, held.job.token))

    def leases(self) -> list[Lease]:
        return [Lease(h.job.id, h.job.token, h.progress, h.note) for h in self.held.values()]

    def __iter__(self) -> Iterator[HeldJob]:
        return iter(self.held.values())

    # -- leaving early ---------------------------------------------------------------

    def lease_lost(self, job_id: uuid.UUID) -> Act:
        """Another worker holds the job now: nothing of ours about it may be written."""
        held = self.held.get(job_id)
        if held is None:
            return Act.NOTHING
        if held.place is Place.RUNNING:
            return Act.KILL_CHILD
        if held.place is Place.PIPED:
            held.fate = Fate.DROP  # ignore whatever its child reports
            return Act.NOTHING
        # queued, or an outcome waiting or being written: the fenced write would be refused
        if held.place is Place.QUEUED:
            self.backlog.remove(job_id)
        self.outbox = [o for o in self.outbox if o.id != job_id]
        self.held.pop(job_id)
        return Act.DROPPED

    def cancel_requested(self, job_id: uuid.UUID) -> Act:
        """Someone asked to cancel the job; a job that has already ended keeps its outcome."""
        held = self.held.get(job_id)
        if held is None:
            return Act.NOTHING
        if held.place is Place.RUNNING:
            return Act.KILL_CHILD
        if held.place is Place.PIPED:
            held.fate = Fate.CANCEL  # cancelled when its child reports
        elif held.place is Place.QUEUED:
            self.backlog.remove(job_id)
            self.record(held, Cancel(job_id, held.job.token))
        return Act.NOTHING

    def child_gone(self, child: Child, kill: Kill) -> list[Ending]:
        """The child died or was killed: its current job ends for ``kill``, the jobs queued
        behind it go back to the queue (unless cancelled or lost meanwhile)."""
        endings = []
        why = kill
        while child.jobs:
            held = self.held[child.jobs.popleft()]
            self.ended(held)
            endings.append(Ending(held, outcomes.after_kill(held.fate, why), why))
            why = CHILD_STOPPED
        return endings


def writes(
    outcomes: Iterable[Outcome],
) -> tuple[list[Completion], list[Failure], list[Cancel], list[Release]]:
    """Split outcomes by kind, keeping their order (the database step writes each kind at once)."""
    c: list[Completion] = []
    f: list[Failure] = []
    x: list[Cancel] = []
    r: list[Release] = []
    for o in outcomes:
        match o:
            case Completion():
                c.append(o)
            case Failure():
                f.append(o)
            case Cancel():
                x.append(o)
            case Release():
                r.append(o)
    return c, f, x, r
