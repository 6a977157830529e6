"""What a nightly run queues, what its report and exit code say, where the report may go.

Pure: nothing here touches the database or prints; the CLI gathers the facts, asks, then acts.
"""

from __future__ import annotations

import enum
import functools
import os
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cadextract.models import ACTIVE, FINISHED, JobStatus

#: run's exit code when nothing new went wrong but some files are known failures
KNOWN_FAILURES_ONLY = 5


class Admission(enum.Enum):
    """What submitting a file does, given the newest job of the same content and format."""

    QUEUE = "queue"
    ALREADY_QUEUED = "already queued"
    ALREADY_COMPLETED = "already completed"
    KNOWN_FAILURE = "known failure"


def admit(latest_status: str | None, *, force: bool = False, retry_failed: bool = False) -> Admission:
    """Queue unless the same content is active, done (no --force) or failed for good.

    A file whose newest job failed permanently (or used up its retries) is a *known
    failure*: a nightly run must not queue it again every night. ``--retry-failed`` (or
    ``--force``) queues it anyway. A cancelled job is not a verdict on the file: queue.
    """
    if latest_status in ACTIVE:
        return Admission.ALREADY_QUEUED
    if latest_status == JobStatus.COMPLETED and not force:
        return Admission.ALREADY_COMPLETED
    if latest_status == JobStatus.FAILED and not (force or retry_failed):
        return Admission.KNOWN_FAILURE
    return Admission.QUEUE


KNOWN_FAILURE_REASON = "known failure (same content failed before; --retry-failed queues it again)"


#: a job's id: a UUID from the database (written as its text in the report), or that text
JobId = uuid.UUID | str


@dataclass(frozen=True)
class FileOutcome:
    """One submittable file of a run: its job and how that job ended."""

    path: str
    job_id: JobId | None
    status: str
    queued_now: bool
    known_failure: bool = False
    error_type: str | None = None
    error_message: str | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "path": self.path,
            "job_id": None if self.job_id is None else str(self.job_id),
            "status": self.status,
            "queued_now": self.queued_now,
            "known_failure": self.known_failure,
        }
        if self.error_type or self.error_message:
            out["error"] = {"type": self.error_type, "message": self.error_message}
        return out


@dataclass(frozen=True)
class ScanCounts:
    """What the incremental scan of a run saw: files hashed, unchanged, disappeared."""

    hashed: int = 0
    unchanged: int = 0
    disappeared: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RunReport:
    """What `run` did: counts for cron, one entry per file with the reason it failed."""

    batch: str
    seconds: float
    submitted: int
    already_known: int
    files: list[FileOutcome]
    not_submittable: list[tuple[str, str]] = field(default_factory=list)
    scan: ScanCounts = field(default_factory=ScanCounts)

    @functools.cached_property
    def _tally(self) -> Counter[tuple[str, bool]]:
        # (status, known failure) -> files, counted once: the line and the exit code ask
        # a dozen counts of a run that may have 100,000 files
        return Counter((f.status, f.known_failure) for f in self.files)

    def count(self, status: str, *, known: bool | None = None) -> int:
        return sum(n for (st, k), n in self._tally.items() if st == status and (known is None or k == known))

    @property
    def known_failures(self) -> int:
        return sum(n for (_, k), n in self._tally.items() if k)

    @property
    def new_failures(self) -> int:
        return self.count(JobStatus.FAILED, known=False)

    @property
    def unfinished(self) -> int:
        return sum(n for (st, _), n in self._tally.items() if st not in FINISHED)

    def as_json(self) -> dict[str, Any]:
        return {
            "batch": self.batch,
            "seconds": round(self.seconds, 3),
            "submitted": self.submitted,
            "already_known": self.already_known,
            "not_submittable": [{"path": p, "reason": r} for p, r in self.not_submittable],
            "completed": self.count(JobStatus.COMPLETED),
            "failed": self.count(JobStatus.FAILED),
            "new_failures": self.new_failures,
            "known_failures": self.known_failures,
            "cancelled": self.count(JobStatus.CANCELLED),
            "unfinished": self.unfinished,
            "hashed": self.scan.hashed,
            "unchanged": self.scan.unchanged,
            "disappeared": list(self.scan.disappeared),
            "exit_code": run_exit_code(self),
            "files": [f.as_json() for f in self.files],
        }

    def line(self) -> str:
        """The one line `run` prints at the end."""
        return (
            f"run {self.batch}: {self.count(JobStatus.COMPLETED)} completed, {self.new_failures} failed, "
            f"{self.known_failures} known failures, {self.count(JobStatus.CANCELLED)} cancelled, "
            f"{self.unfinished} unfinished, {len(self.not_submittable)} not submittable, "
            f"{len(self.scan.disappeared)} disappeared, in {self.seconds:.1f}s"
        )


def run_exit_code(report: RunReport) -> int:
    """0 all completed; 1 something new went wrong; 5 only old, known failures remain."""
    if report.new_failures or report.count(JobStatus.CANCELLED) or report.unfinished:
        return 1
    if report.known_failures:
        return KNOWN_FAILURES_ONLY
    return 0


@dataclass(frozen=True)
class Submitted:
    """One file as `submit` left it: its job id (new or existing) and the skip reason."""

    path: str
    job_id: JobId | None
    skipped_reason: str | None


_BAD = (JobStatus.FAILED, JobStatus.CANCELLED)


def run_report(
    batch: str,
    submitted: Sequence[Submitted],
    not_submittable: Sequence[tuple[str, str]],
    final: Mapping[JobId, Mapping[str, Any]],
    seconds: float,
    scan: ScanCounts | None = None,
) -> RunReport:
    """Join what was submitted with how each job ended (``final``: job id -> job fields)."""
    files = []
    queued_now = 0
    nothing: Mapping[str, Any] = {}
    for s in submitted:
        job = final.get(s.job_id, nothing) if s.job_id else nothing
        status = str(job.get("status", "missing"))
        bad = status in _BAD
        reason = s.skipped_reason
        queued_now += reason is None
        files.append(
            FileOutcome(
                s.path,
                s.job_id,
                status,
                reason is None,
                bool(reason and reason.startswith("known failure")),
                job.get("last_error_type") if bad else None,
                job.get("last_error_message") if bad else None,
            )
        )
    return RunReport(
        batch=batch,
        seconds=seconds,
        submitted=queued_now,
        already_known=len(files) - queued_now,
        files=files,
        not_submittable=list(not_submittable),
        scan=scan or ScanCounts(),
    )


def report_path_problem(path: Path) -> str | None:
    """Why a --report file could not be written later (checked before any work), or None."""
    if path.is_dir():
        return f"--report {path}: is a folder; give a file name"
    parent = path.parent
    if not parent.exists():
        return f"--report {path}: folder {parent} does not exist (create it first, e.g. mkdir -p {parent})"
    if not parent.is_dir():
        return f"--report {path}: {parent} is not a folder"
    if path.exists() and not os.access(path, os.W_OK):
        return f"--report {path}: not writable"
    if not path.exists() and not os.access(parent, os.W_OK | os.X_OK):
        return f"--report {path}: cannot create files in {parent}"
    return None
