"""Operator commands on the queue: select and cancel, select and retry, purge (or preview it).

Each decides what it may from its arguments first (bad input fails before connecting),
then selects and acts in one transaction, and returns a dataclass for the CLI to render.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cadextract.models import ACTIVE, JobStatus
from cadextract.ops import inputs
from cadextract.ops.errors import BadInput
from cadextract.store import commands, readmodels


@dataclass(frozen=True)
class Cancelled:
    """What `cancel` did to each selected job."""

    cancelled: list[uuid.UUID] = field(default_factory=list)  # pending: cancelled at once
    requested: list[uuid.UUID] = field(default_factory=list)  # running: its worker stops it
    finished: list[uuid.UUID] = field(default_factory=list)  # nothing to do


@dataclass(frozen=True)
class Retried:
    """What `retry` queued again, out of how many it selected."""

    retried: list[uuid.UUID]
    selected: int

    @property
    def not_retried(self) -> int:
        return self.selected - len(self.retried)


@dataclass(frozen=True)
class Purged:
    """What `purge` deleted, or with ``dry_run`` would delete (by group, and listed)."""

    dry_run: bool
    jobs: int
    seconds: float
    statuses: list[str]
    groups: list[readmodels.PurgeGroup] = field(default_factory=list)
    listed: list[readmodels.Job] = field(default_factory=list)


def cancel_filter(
    ids: Sequence[str], *, batch: str | None, status: Sequence[str] | None
) -> readmodels.JobFilter | None:
    """The jobs `cancel` selects besides named ids: a batch and/or statuses (default: the
    active ones). Neither ids nor a filter is refused."""
    if not ids and batch is None and not status:
        raise BadInput("give job ids, --batch or --status")
    if batch is None and not status:
        return None
    return inputs.job_filter(status or [s.value for s in ACTIVE], batch=batch)


def cancel(engine: Engine, ids: Sequence[str], selected: readmodels.JobFilter | None) -> Cancelled:
    """Pending jobs cancelled at once, running ones asked to stop (their worker does it)."""
    with engine.begin() as conn:
        found = _resolve(conn, ids)
        if selected is not None:
            found += [j.id for j in readmodels.list_jobs(conn, selected, limit=None)]
        done = commands.cancel(conn, found)
    return Cancelled(done["cancelled"], done["requested"], done["finished"])


def retry_selection_problem(ids: Sequence[str], *, failed: bool) -> None:
    if not ids and not failed:
        raise BadInput("give job ids or --failed")


def retry(engine: Engine, ids: Sequence[str], *, failed: bool, batch: str | None) -> Retried:
    """Failed or cancelled jobs back to pending with fresh attempts (the history is kept)."""
    with engine.begin() as conn:
        selected = _resolve(conn, ids)
        if failed:
            only_failed = readmodels.JobFilter(statuses=[JobStatus.FAILED.value], batch=batch)
            selected += [j.id for j in readmodels.list_jobs(conn, only_failed, limit=None)]
        back = commands.retry(conn, selected)
    return Retried(back, len(selected))


@dataclass(frozen=True)
class PurgePlan:
    """What `purge` was asked for, checked before connecting."""

    older_than: timedelta
    statuses: list[str]
    dry_run: bool
    list_jobs: bool
    limit: int | None


def purge_plan(
    older_than: str, status: Sequence[str] | None, *, dry_run: bool, list_jobs: bool, limit: int
) -> PurgePlan:
    """The age and finished statuses; ``--list`` only shows what a dry run would delete."""
    age = inputs.parse_age(older_than)
    statuses = inputs.finished_statuses(status)
    if list_jobs and not dry_run:
        raise BadInput("--list goes with --dry-run (see what would go, then purge)")
    return PurgePlan(age, statuses, dry_run, list_jobs, limit or None)


def purge(engine: Engine, plan: PurgePlan) -> Purged:
    """Delete in short transactions until nothing is left (no long locks), or preview."""
    started = time.monotonic()
    seconds = plan.older_than.total_seconds()
    if plan.dry_run:
        with engine.connect() as conn:
            groups = readmodels.purge_preview(conn, older_than_seconds=seconds, statuses=plan.statuses)
            listed = (
                readmodels.purgeable_jobs(
                    conn, older_than_seconds=seconds, statuses=plan.statuses, limit=plan.limit
                )
                if plan.list_jobs
                else []
            )
        jobs = sum(g.jobs for g in groups)
        return Purged(True, jobs, time.monotonic() - started, plan.statuses, groups, listed)
    removed = 0
    while True:
        with engine.begin() as conn:
            n = commands.purge(conn, older_than_seconds=seconds, statuses=plan.statuses)
        removed += n
        if n == 0:
            break
    return Purged(False, removed, time.monotonic() - started, plan.statuses)


def _resolve(conn: sa.Connection, given: Sequence[str]) -> list[uuid.UUID]:
    return [readmodels.resolve(conn, g) for g in given]
