"""What the console's buttons and API calls do: the CLI's queue operations, one transaction each."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine

from cadextract.models import JobStatus
from cadextract.store import commands, readmodels, sql

PURGEABLE = tuple(sql.FINISHED_STATES)
_AGE = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class BadRequest(ValueError):
    """A request the console cannot act on; the message is shown to the user as is."""


def parse_age(text: str) -> timedelta:
    """'30d', '12h', '90m' -> timedelta (the syntax of `cadextract purge --older-than`)."""
    match = _AGE.match(text.strip().lower())
    if not match:
        raise BadRequest(f"cannot read age {text!r}: use e.g. 30d, 12h, 90m")
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


def parse_since(text: str | None) -> datetime | None:
    """An age ('2d') or an ISO time, as `cadextract jobs --since` reads it."""
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
        return parsed if parsed.tzinfo else parsed.astimezone()
    except ValueError:
        return datetime.now(UTC) - parse_age(text)


def job_filter(
    statuses: Sequence[str] = (),
    formats: Sequence[str] = (),
    batch: str | None = None,
    since: str | None = None,
    path: str | None = None,
) -> readmodels.JobFilter:
    """The filters of `cadextract jobs`, checked."""
    wanted = [s for s in statuses if s]
    bad = [s for s in wanted if s not in set(JobStatus)]
    if bad:
        raise BadRequest(f"unknown status {bad[0]!r}; use {', '.join(JobStatus)}")
    return readmodels.JobFilter(
        statuses=wanted,
        formats=[f for f in formats if f],
        batch=batch or None,
        since=parse_since(since),
        path_glob=path or None,
    )


def parse_ids(values: Sequence[str]) -> list[uuid.UUID]:
    out = []
    for v in values:
        try:
            out.append(uuid.UUID(v))
        except ValueError:
            raise BadRequest(f"{v!r} is not a job id") from None
    return out


@dataclass(frozen=True)
class Outcome:
    """What an action did, for a flash message and the API's answer."""

    action: str
    counts: dict[str, int]
    message: str


def cancel(engine: Engine, ids: Sequence[uuid.UUID]) -> Outcome:
    with engine.begin() as conn:
        done = commands.cancel(conn, ids)
    counts = {k: len(v) for k, v in done.items()}
    return Outcome(
        "cancel",
        counts,
        f"cancelled {counts['cancelled']}, cancel requested for {counts['requested']} running, "
        f"{counts['finished']} already finished",
    )


def retry(engine: Engine, ids: Sequence[uuid.UUID]) -> Outcome:
    with engine.begin() as conn:
        back = commands.retry(conn, ids)
    return Outcome(
        "retry",
        {"retried": len(back), "skipped": len(ids) - len(back)},
        f"retrying {len(back)} job(s); {len(ids) - len(back)} were not failed or cancelled",
    )


def retry_failed(engine: Engine, batch: str) -> Outcome:
    """Every failed job of one batch back to pending (`cadextract retry --failed --batch`)."""
    with engine.begin() as conn:
        ids = [
            j.id
            for j in readmodels.list_jobs(
                conn, readmodels.JobFilter(statuses=["failed"], batch=batch), limit=None
            )
        ]
        back = commands.retry(conn, ids)
    return Outcome(
        "retry-failed",
        {"retried": len(back), "failed": len(ids)},
        f"batch {batch}: retrying {len(back)} of {len(ids)} failed job(s)",
    )


def purge(engine: Engine, *, older_than: str, statuses: Sequence[str], dry_run: bool) -> Outcome:
    """Delete finished jobs older than an age, in short transactions; or only count them."""
    age = parse_age(older_than).total_seconds()
    wanted = list(statuses) or list(PURGEABLE)
    bad = [s for s in wanted if s not in PURGEABLE]
    if bad:
        raise BadRequest(f"purge only deletes finished jobs; {bad[0]!r} is not a finished state")
    if dry_run:
        with engine.connect() as conn:
            n = commands.count_purgeable(conn, older_than_seconds=age, statuses=wanted)
        return Outcome(
            "purge",
            {"would_delete": n},
            f"would delete {n} job(s) older than {older_than} ({', '.join(wanted)})",
        )
    removed = 0
    while True:
        with engine.begin() as conn:
            n = commands.purge(conn, older_than_seconds=age, statuses=wanted)
        removed += n
        if n == 0:
            break
    return Outcome(
        "purge",
        {"deleted": removed},
        f"deleted {removed} job(s) older than {older_than} ({', '.join(wanted)})",
    )
