"""What happened to a held job, and what the worker does about it; all pure.

A child reports ``Done`` or ``Failed``, or is killed for a typed ``Kill`` reason (or
dies). ``after_report`` / ``after_kill`` turn that, and what was decided for the job
meanwhile (its ``Fate``), into a ``Verdict``; ``conclude`` turns the verdict into the
outcome to write (``Completion``, ``Failure``, ``Cancel``, ``Release``), calling
``failure``, the retry decision. The outcome waits in the ledger's outbox until a
database step writes it, and ``reported`` says what to tell the user once the write
has committed.
"""

from __future__ import annotations

import enum
import time
import uuid
from dataclasses import dataclass

from tenacity.wait import wait_base

from cadextract import backoff
from cadextract.config import Settings
from cadextract.models import JobStatus
from cadextract.runtime.messages import Done, ErrorInfo, Failed
from cadextract.store.protocol import Claimed, Completion, Failure

__all__ = ["Completion", "Failure"]


class Fate(enum.Enum):
    """What to do with a job's outcome when it arrives."""

    WRITE = "write"  # the normal case
    CANCEL = "cancel"  # cancel requested while it waited in a child's pipe
    DROP = "drop"  # lease lost while it waited in a child's pipe: not ours to write


class KillReason(enum.Enum):
    """Why the supervisor killed a child (or found it dead)."""

    TIMEOUT = "Timeout"
    MEMORY_LIMIT = "MemoryLimit"
    CANCELLED = "Cancelled"
    LEASE_LOST = "LeaseLost"
    SHUTDOWN = "Released"
    WORKER_DIED = "WorkerDied"


@dataclass(frozen=True)
class Kill:
    reason: KillReason
    message: str

    def error(self) -> ErrorInfo:
        """The error entry of the job it ended (only Timeout, MemoryLimit, WorkerDied get one)."""
        permanent = self.reason in (KillReason.MEMORY_LIMIT, KillReason.CANCELLED)
        return ErrorInfo(self.reason.value, self.message, permanent)


SHUTDOWN = Kill(KillReason.SHUTDOWN, "shutdown")
LEASE_LOST = Kill(KillReason.LEASE_LOST, "lease lost")
CANCELLED = Kill(KillReason.CANCELLED, "cancelled")


@dataclass(frozen=True)
class Cancel:
    """processing → cancelled, fenced by the lease token."""

    id: uuid.UUID
    token: uuid.UUID


@dataclass(frozen=True)
class Release:
    """processing → pending without counting the attempt, fenced by the lease token."""

    id: uuid.UUID
    token: uuid.UUID


Outcome = Completion | Failure | Cancel | Release


class Verdict(enum.Enum):
    COMPLETE = "complete"
    FAIL = "fail"
    CANCEL = "cancel"
    RELEASE = "release"
    DROP = "drop"


def after_report(fate: Fate, message: Done | Failed) -> Verdict:
    """A child reported the end of a job: its report stands unless the job's fate says otherwise."""
    if fate is Fate.CANCEL:
        return Verdict.CANCEL
    if fate is Fate.DROP:
        return Verdict.DROP
    return Verdict.COMPLETE if isinstance(message, Done) else Verdict.FAIL


def after_kill(fate: Fate, kill: Kill) -> Verdict:
    """A job's child was killed or died: lease loss and cancels win, a shutdown returns the job."""
    if fate is Fate.DROP or kill.reason is KillReason.LEASE_LOST:
        return Verdict.DROP
    if fate is Fate.CANCEL or kill.reason is KillReason.CANCELLED:
        return Verdict.CANCEL
    if kill.reason is KillReason.SHUTDOWN:
        return Verdict.RELEASE
    return Verdict.FAIL


def conclude(
    job: Claimed,
    verdict: Verdict,
    why: Done | Failed | Kill,
    *,
    settings: Settings,
    wait: wait_base,
    worker_id: str,
    at: str | None = None,
) -> Outcome | None:
    """The outcome to write for a verdict; None for DROP (the lease is gone: nothing to write).

    ``why`` is the child's report or the kill; ``wait`` the worker's backoff policy (a job
    may bring its own); ``at`` the failure's time stamp (now when not given)."""
    match verdict:
        case Verdict.COMPLETE:
            assert isinstance(why, Done)
            return Completion(job.id, job.token, why.document, why.size, index=why.index)
        case Verdict.FAIL:
            assert not isinstance(why, Done)
            error = why.error() if isinstance(why, Kill) else why.error
            at = at or time.strftime("%Y-%m-%dT%H:%M:%S%z")
            return failure(job, error, wait=wait_policy(job, settings, wait), worker_id=worker_id, at=at)
        case Verdict.CANCEL:
            return Cancel(job.id, job.token)
        case Verdict.RELEASE:
            return Release(job.id, job.token)
        case Verdict.DROP:
            return None


def failure(job: Claimed, error: ErrorInfo, *, wait: wait_base, worker_id: str, at: str) -> Failure:
    """The retry decision: processing → pending after a backoff, or failed (permanent / out of attempts)."""
    decision = backoff.decide(
        attempts=job.attempts, max_attempts=job.max_attempts, permanent=error.permanent, wait=wait
    )
    entry = {"at": at, "attempt": job.attempts, "worker": worker_id, **error.entry()}
    return Failure(job.id, job.token, decision.status, decision.delay, entry)


def wait_policy(job: Claimed, settings: Settings, default: wait_base) -> wait_base:
    """The worker's backoff policy, or the job's own (options backoff_base / backoff_cap)."""
    base, cap = job.options.get("backoff_base"), job.options.get("backoff_cap")
    if base is None and cap is None:
        return default
    try:
        return backoff.policy(
            float(base if base is not None else settings.backoff_base),
            float(cap if cap is not None else settings.backoff_cap),
        )
    except (TypeError, ValueError):
        return default


class EventKind(enum.StrEnum):
    CLAIMED = "claimed"
    COMPLETED = "completed"
    RETRYING = "retrying"
    FAILED = "failed"
    CANCELLED = "cancelled"
    RELEASED = "released"
    LOST = "lost"


@dataclass(frozen=True)
class Event:
    """Something that happened to a job, for the CLI to log or render."""

    kind: EventKind
    job_id: uuid.UUID
    path: str
    format: str
    detail: str = ""


LEASE_LOST_WRITE = "not written: lease lost"


def reported(outcome: Outcome, written: set[uuid.UUID], failure_status: dict[uuid.UUID, str]) -> Event:
    """What to tell about an outcome once its step committed (path and format filled in later)."""
    if outcome.id not in written:
        detail = LEASE_LOST_WRITE if isinstance(outcome, Completion | Failure) else ""
        if isinstance(outcome, Release):
            detail = "returned to the queue"
        return Event(EventKind.LOST, outcome.id, "", "", detail)
    match outcome:
        case Completion():
            return Event(EventKind.COMPLETED, outcome.id, "", "")
        case Failure() if failure_status.get(outcome.id) == JobStatus.CANCELLED:
            return Event(EventKind.CANCELLED, outcome.id, "", "", "cancel requested while it failed")
        case Failure():
            why = f"{outcome.error['type']}: {outcome.error['message']}"
            if outcome.status == JobStatus.FAILED:
                return Event(EventKind.FAILED, outcome.id, "", "", why)
            return Event(EventKind.RETRYING, outcome.id, "", "", f"{why} (retry in {outcome.delay:.0f}s)")
        case Cancel():
            return Event(EventKind.CANCELLED, outcome.id, "", "")
        case Release():
            return Event(EventKind.RELEASED, outcome.id, "", "", "returned to the queue")


@dataclass
class Stats:
    """What one worker run did, counted from its events."""

    claimed: int = 0
    completed: int = 0
    failed: int = 0
    retried: int = 0
    cancelled: int = 0
    released: int = 0
    children_started: int = 0

    def count(self, kind: EventKind) -> None:
        match kind:
            case EventKind.CLAIMED:
                self.claimed += 1
            case EventKind.COMPLETED:
                self.completed += 1
            case EventKind.FAILED:
                self.failed += 1
            case EventKind.RETRYING:
                self.retried += 1
            case EventKind.CANCELLED:
                self.cancelled += 1
            case EventKind.RELEASED:
                self.released += 1
            case EventKind.LOST:
                pass
