"""Incremental submit: find files and objects, hash only what changed, enqueue, remember.

Local files are hashed only when their stat differs from what the last submit saw
(:func:`decide.needs_hash`); objects are keyed by URL, ETag and size without being
read. A path whose stat (or change key) is unchanged is not enqueued at all when the
newest job of its content already decides the answer (queued, completed, known
failure): the cache look-up brings that job along, so a nightly run over an unchanged
tree sends nothing back to the server. Everything else is enqueued, which dedupes by
content as before. Paths recorded under a walked root and not found this time are
reported as disappeared (their jobs are kept).
"""

from __future__ import annotations

import contextlib
import functools
import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from cadextract import files, ops
from cadextract.display import printable
from cadextract.extractors import registry
from cadextract.sources import bulk, cache, decide, local, remote, urls
from cadextract.sources.decide import Cached, Stat
from cadextract.store import commands, readmodels
from cadextract.store.sql import FINISHED_STATES

#: given the files to hash, yields a callback per file hashed (the CLI's progress bar)
HashProgress = Callable[
    [list[files.Candidate]], AbstractContextManager[Callable[[files.Candidate], None] | None]
]


@dataclass(frozen=True)
class Request:
    """What to submit and how (the command line's flags)."""

    paths: Sequence[str]
    recursive: bool = False
    forced_format: str | None = None
    force: bool = False
    retry_failed: bool = False
    rehash: bool = False
    dry_run: bool = False
    follow_links: bool = False
    priority: int = 0
    max_attempts: int = 4
    batch: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    submitted_by: str | None = None


@dataclass
class Outcome:
    """What a submit did: jobs (queued or known), files it could not submit, and the counts."""

    outcomes: list[commands.Enqueued] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    disappeared: list[str] = field(default_factory=list)
    hashed: int = 0
    unchanged: int = 0
    remote: int = 0
    #: job id -> final fields (``readmodels.final_fields``' shape) of the finished jobs
    #: that decided unchanged paths: a run's report needs no second look-up for them
    finished: dict[uuid.UUID, dict[str, Any]] = field(default_factory=dict)


#: a job to submit, with its path's cache row (same hash and format: its outcome may be known)
_Planned = tuple[commands.NewJob, Cached | None]


@dataclass
class _Scan:
    folders: list[str] = field(default_factory=list)
    singles: list[str] = field(default_factory=list)
    files: list[local.LocalFile] = field(default_factory=list)
    objects: list[remote.RemoteObject] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)


def _nothing(_: list[files.Candidate]) -> AbstractContextManager[None]:
    return contextlib.nullcontext()


def submit(engine: Engine, req: Request, hash_progress: HashProgress = _nothing) -> Outcome:
    """Scan, decide, hash, enqueue and record; with ``dry_run`` the transaction is rolled back."""
    if req.forced_format is not None and not registry.is_registered(req.forced_format):
        raise files.SubmitError(
            f"unknown format {printable(req.forced_format)!r}; known: {', '.join(registry.public_names())}"
        )
    with bulk.paused_gc():
        return _submit(engine, req, hash_progress)


def _submit(engine: Engine, req: Request, hash_progress: HashProgress) -> Outcome:
    scan = _scan(req)
    with engine.connect() as conn:
        known = cache.load(conn, folders=scan.folders + scan.prefixes, files=scan.singles)
    out = Outcome(remote=len(scan.objects))
    planned: list[_Planned] = []
    seen: list[cache.Seen] = []
    _local_jobs(req, scan, known, out, planned, seen, hash_progress)
    _remote_jobs(req, scan, known, out, planned, seen)
    decided = _decided(req, planned, out)
    found = {f.path for f in scan.files} | {o.url for o in scan.objects}
    singles = set(scan.singles)
    under = [p for p in known if p not in singles]
    out.disappeared = decide.disappeared(under, found)
    with engine.connect() as conn:
        tx = conn.begin()
        try:
            todo = [j for (j, _), d in zip(planned, decided, strict=True) if d is None]
            queued = iter(enqueue(conn, todo, force=req.force, retry_failed=req.retry_failed))
            out.outcomes = [d if d is not None else next(queued) for d in decided]
            cache.record(conn, seen)
            cache.mark_missing(conn, [p for p in out.disappeared if not known[p].missing])
        except BaseException:
            tx.rollback()
            raise
        if req.dry_run:
            tx.rollback()  # the exact answer of a real submit, and nothing kept
        else:
            tx.commit()
    return out


def _decided(req: Request, planned: list[_Planned], out: Outcome) -> list[commands.Enqueued | None]:
    """Per planned job, its outcome when the cache alone knows it (an unchanged path whose
    content's job decides), else None (it goes through the enqueue)."""
    decided: list[commands.Enqueued | None] = []
    finished = out.finished
    for job, cached in planned:
        latest = cached.latest if cached is not None else None
        reason = None
        if latest is not None:
            reason = decide.decided_reason(
                cached, job.sha256, job.format, force=req.force, retry_failed=req.retry_failed
            )
        if latest is None or reason is None:
            decided.append(None)
            continue
        decided.append(commands.Enqueued(job, latest.id, reason))
        if latest.status in FINISHED_STATES and latest.id not in finished:
            finished[latest.id] = {
                "id": latest.id,
                "status": latest.status,
                "last_error_type": latest.error_type,
                "last_error_message": latest.error_message,
                "attempts": latest.attempts,
            }
    return decided


def enqueue(
    conn: Any, new_jobs: list[commands.NewJob], *, force: bool, retry_failed: bool
) -> list[commands.Enqueued]:
    """Enqueue, except content whose newest job failed for good (a known failure)."""
    latest = readmodels.latest_jobs(conn, [(j.sha256, j.format) for j in new_jobs])
    known: dict[int, commands.Enqueued] = {}
    for i, j in enumerate(new_jobs):
        hit = latest.get((j.sha256, j.format))
        admission = ops.admit(hit[1] if hit else None, force=force, retry_failed=retry_failed)
        if admission is ops.Admission.KNOWN_FAILURE:
            known[i] = commands.Enqueued(j, hit[0] if hit else None, skipped_reason=ops.KNOWN_FAILURE_REASON)
    queued = iter(commands.enqueue(conn, [j for i, j in enumerate(new_jobs) if i not in known], force=force))
    return [known[i] if i in known else next(queued) for i in range(len(new_jobs))]


def _scan(req: Request) -> _Scan:
    scan = _Scan()
    seen: set[str] = set()
    for raw in req.paths:
        if urls.is_url(raw):
            objects, is_prefix = remote.list_objects(
                raw, recursive=req.recursive, forced_format=req.forced_format
            )
            if is_prefix:
                scan.prefixes.append(raw)
            for o in objects:
                if o.url not in seen:
                    seen.add(o.url)
                    scan.objects.append(o)
            continue
        root = local.resolve(raw, recursive=req.recursive)
        if root.is_dir:
            scan.folders.append(str(root.path))
            for f in local.walk(root.path, follow_links=req.follow_links):
                if f.path not in seen:
                    seen.add(f.path)
                    scan.files.append(f)
        elif str(root.path) not in seen:
            f = local.one(root.path)
            if f.skip_reason:
                raise files.SubmitError(f"{printable(raw)}: {f.skip_reason}")
            seen.add(f.path)
            scan.singles.append(f.path)
            scan.files.append(f)
    return scan


def _local_jobs(
    req: Request,
    scan: _Scan,
    known: dict[str, Cached],
    out: Outcome,
    planned: list[_Planned],
    seen: list[cache.Seen],
    hash_progress: HashProgress,
) -> None:
    singles = set(scan.singles)
    rehash, forced = req.rehash, req.forced_format
    # (scan position, path, stat, sha256, format, cache row: decide.decided_reason checks its hash)
    ready: list[tuple[int, str, Stat, str, str, Cached | None]] = []
    todo: list[tuple[int, str, Stat, files.Candidate]] = []
    for pos, (path, stat, reason) in enumerate(scan.files):
        if reason or stat is None:
            out.skipped.append((path, reason or "cannot read"))
            continue
        cached = known.get(path)
        if stat.size == 0:
            _skip(path, "empty file (0 bytes)", singles, out)
            continue
        if cached is not None and cached.sha256 and not decide.needs_hash(stat, cached, rehash=rehash):
            fmt = forced or cached.format
            if fmt:
                ready.append((pos, path, stat, cached.sha256, fmt, cached))
                if cached.missing:  # back again: no longer missing
                    seen.append(_seen(path, stat, cached.sha256, fmt, cached.checked_ns))
                continue
        fmt = forced or files.detect_format(Path(path))
        if fmt is None:
            _skip(path, files.UNSUPPORTED, singles, out)
            continue
        todo.append((pos, path, stat, files.Candidate(Path(path), stat.size, fmt)))
    out.unchanged = len(ready)
    checked_ns = time.time_ns()  # before reading: a write during hashing makes the row racy
    digests = _hash([c for *_, c in todo], singles, out, hash_progress)
    out.hashed = len(digests)
    for pos, path, stat, cand in todo:
        digest = digests.get(path)
        if digest is not None:
            # hashed again but the same content (touched, --rehash): its job still decides
            ready.append((pos, path, stat, digest, cand.format or "", known.get(path)))
            seen.append(_seen(path, stat, digest, cand.format or "", checked_ns))
    ready.sort(key=itemgetter(0))
    new_job = _new_job(req)
    planned.extend(
        (new_job(path, stat.size, digest, fmt), cached) for _, path, stat, digest, fmt, cached in ready
    )


def _skip(path: str, reason: str, singles: set[str], out: Outcome) -> None:
    if path in singles:  # a file named on the command line must be submittable
        raise files.SubmitError(f"{printable(path)}: {reason}")
    out.skipped.append((path, reason))


def _hash(
    candidates: list[files.Candidate], singles: set[str], out: Outcome, progress: HashProgress
) -> dict[str, str]:
    with progress(candidates) as on_done:
        try:
            return {str(p): d for p, d in files.hash_all(candidates, on_done=on_done).items()}
        except OSError:
            pass  # one file unreadable: hash one by one to name each failure
    digests: dict[str, str] = {}
    for c in candidates:
        try:
            digests[str(c.path)] = files.sha256_file(c.path)
        except OSError as exc:
            _skip(str(c.path), f"cannot read: {exc.strerror}", singles, out)
    return digests


def _seen(path: str, stat: Stat, digest: str, fmt: str, checked_ns: int | None) -> cache.Seen:
    return cache.Seen(path, stat.size, stat=stat, sha256=digest, format=fmt, checked_ns=checked_ns)


def _remote_jobs(
    req: Request,
    scan: _Scan,
    known: dict[str, Cached],
    out: Outcome,
    planned: list[_Planned],
    seen: list[cache.Seen],
) -> None:
    new_job = _new_job(req)
    for o in scan.objects:
        if o.skip_reason or o.format is None:
            out.skipped.append((o.url, o.skip_reason or "unsupported file type"))
            continue
        key = decide.remote_key(o.url, o.etag, None, o.size)
        cached = known.get(o.url)
        unchanged = cached is not None and cached.sha256 == key and cached.format == o.format
        planned.append((new_job(o.url, o.size, key, o.format), cached if unchanged else None))
        if not unchanged or (cached is not None and cached.missing):
            seen.append(
                cache.Seen(o.url, o.size, etag=o.etag, version=o.version, sha256=key, format=o.format)
            )


def _new_job(req: Request) -> Callable[[str, int, str, str], commands.NewJob]:
    """NewJob(path, size, sha256, format) with the request's other fields (built once per file)."""
    return functools.partial(
        commands.NewJob,
        priority=req.priority,
        max_attempts=req.max_attempts,
        options=req.options,
        batch=req.batch,
        submitted_by=req.submitted_by,
    )
