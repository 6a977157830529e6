"""`submit` and the submit phase of `run`: the request from the flags, then sources.submit.

Collecting, hashing and enqueueing live in :mod:`cadextract.sources.submit`; this module
only turns the operator's flags into its request and its outcome into the run report's input.
"""

from __future__ import annotations

import getpass
import time
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Engine

from cadextract.config import Settings
from cadextract.ops import report
from cadextract.ops.errors import BadInput
from cadextract.ops.report import RunReport, ScanCounts, Submitted
from cadextract.sources import bulk
from cadextract.sources import submit as sources
from cadextract.store import readmodels

Outcome = sources.Outcome
HashProgress = sources.HashProgress


def request(
    settings: Settings,
    paths: Sequence[str],
    *,
    recursive: bool = False,
    fmt: str | None = None,
    force: bool = False,
    retry_failed: bool = False,
    rehash: bool = False,
    dry_run: bool = False,
    follow_links: bool = False,
    priority: int = 0,
    max_retries: int | None = None,
    batch: str | None = None,
    options: dict[str, Any] | None = None,
) -> sources.Request:
    """What to submit: retries default to the setting, the submitter is the login name."""
    retries = settings.max_retries if max_retries is None else max_retries
    if retries < 0:
        raise BadInput("--max-retries cannot be negative")
    return sources.Request(
        paths=list(paths),
        recursive=recursive,
        forced_format=fmt,
        force=force,
        retry_failed=retry_failed,
        rehash=rehash,
        dry_run=dry_run,
        follow_links=follow_links,
        priority=priority,
        max_attempts=retries + 1,
        batch=batch,
        options=options or {},
        submitted_by=user(),
    )


def submit(engine: Engine, req: sources.Request, hash_progress: HashProgress | None = None) -> Outcome:
    """Scan, hash what changed, enqueue (sources.submit); the engine is connected first."""
    if hash_progress is None:
        return sources.submit(engine, req)
    return sources.submit(engine, req, hash_progress)


def submitted(outcome: Outcome) -> list[Submitted]:
    """Each submittable file with its job id and skip reason, as the run report joins them."""
    return [Submitted(o.job.path, o.job_id, o.skipped_reason) for o in outcome.outcomes]


def run_report(engine: Engine, outcome: Outcome, batch: str, started: float) -> RunReport:
    """`run`'s report once the work is done: how each file's job ended, timed from ``started``.

    The jobs that were already finished when the submit found them (unchanged files)
    come from the submit's own look-up; only the others are read again.
    """
    with bulk.paused_gc():  # one object per file again (see sources.bulk)
        ids = [
            o.job_id for o in outcome.outcomes if o.job_id is not None and o.job_id not in outcome.finished
        ]
        with engine.connect() as conn:
            final: dict[report.JobId, Mapping[str, Any]] = dict(outcome.finished.items())
            final.update(readmodels.final_fields(conn, ids).items())
        return report.run_report(
            batch,
            submitted(outcome),
            outcome.skipped,
            final,
            time.monotonic() - started,
            scan=ScanCounts(
                hashed=outcome.hashed, unchanged=outcome.unchanged, disappeared=outcome.disappeared
            ),
        )


def user() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None
