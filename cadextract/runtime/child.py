"""The child process: receives jobs over a pipe, runs their extractor one at a time, reports.

Children never open a database connection. Parsers are native code that may
segfault, hang or eat memory; all of that happens here, where the supervisor can see
it (the pipe closes, the process dies) and kill it without losing anything.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import json
import logging
import os
import signal
import time
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

from cadextract import config, previews, result
from cadextract.extractors import base, registry
from cadextract.previews import job as preview_job
from cadextract.previews import runner as preview_runner
from cadextract.runtime.messages import Done, ErrorInfo, Failed, JobSpec, PreviewMade, Progress
from cadextract.search import document as search_document
from cadextract.sources import urls


@dataclass(frozen=True)
class Extracted:
    """What one extraction hands back: the result JSON, its search-index entry, the file read."""

    text: str
    index: str | None
    path: Path  # the local file (a fetched object's temporary copy): its preview is drawn from it


PROGRESS_EVERY = 0.25  # seconds between progress messages; extractors may call far more often

# Children are forked from a forkserver that imports this module once: scanning the
# plugin entry points here means no child pays for it (it costs ~0.1 s) at its first job.
registry.names()


def main(conn: Connection) -> None:
    """Entry point of a child process (forked from the forkserver, see ``pool.start_forkserver``)."""
    # Ctrl-C in a terminal reaches the whole foreground process group: keep children
    # out of it so only the supervisor decides what happens to running jobs.
    os.setpgrp()
    # the supervisor decides what happens to a running job; it stops children itself
    # (a message between jobs, SIGKILL otherwise), so signals meant for the service
    # (systemd's SIGTERM to the whole cgroup, Ctrl-C) must not kill a job half-way
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    # parsers log what they repair (ezdxf: hundreds of lines on a damaged file); the
    # extractors turn that into result warnings, so it must not spill onto the
    # worker's terminal or cron mail through logging's last-resort handler
    logging.getLogger().addHandler(logging.NullHandler())
    _release_forkserver()
    _die_with_parent()
    if os.path.isdir(config.default_home() / "fetch"):  # downloads left by a crashed child
        from cadextract.sources import fetch

        fetch.clean_stale(config.default_home())
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:  # recycled or shutting down
            return
        # jobs come in lists (several at once for tiny files: one message, not one
        # each); each result goes back as soon as it exists, so the supervisor always
        # knows which job is running
        for job in msg:
            try:
                _serve(job, conn)
            except OSError:  # BrokenPipeError: the supervisor is gone; nobody to tell
                return


def _serve(job: JobSpec, conn: Connection) -> None:
    """Run one job and send its outcome, then draw its preview: the job is done by then,
    so a preview can delay the next job but never fail or time out its own."""
    with contextlib.ExitStack() as keep:  # a fetched object's copy lives until the preview
        outcome, local = attempt(job, conn, keep)
        conn.send(outcome)
        if isinstance(outcome, Done) and outcome.preview_follows and local is not None:
            preview, warning = preview_runner.make(local, job.format)
            conn.send(PreviewMade(job.id, preview, warning))
    previews.take(None)  # nothing the extractor loaded outlives its job


def _release_forkserver() -> None:
    """Close the forkserver's "alive" pipe, which multiprocessing hands every child.

    The forkserver exits when the last holder of that pipe's write end is gone; with
    children holding it too, a SIGKILLed supervisor left the forkserver, and through it
    every child (which only die with the forkserver, see below), running for nobody.
    """
    import multiprocessing.forkserver as mp_forkserver

    server = mp_forkserver._forkserver  # type: ignore[attr-defined]
    fd = getattr(server, "_forkserver_alive_fd", None)
    if fd is not None:
        with contextlib.suppress(OSError):
            os.close(fd)
        server._forkserver_alive_fd = None  # type: ignore[attr-defined]


def _die_with_parent() -> None:
    # A supervisor killed with SIGKILL must not leave children parsing for nobody.
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() == 1:  # parent already gone before prctl took effect
        os._exit(1)


def run(job: JobSpec, conn: Connection | None) -> Done | Failed:
    """Run one job without its preview (tests and benchmarks)."""
    with contextlib.ExitStack() as keep:
        outcome, _ = attempt(job, conn, keep)
    previews.take(None)
    return outcome


def attempt(
    job: JobSpec, conn: Connection | None, keep: contextlib.ExitStack
) -> tuple[Done | Failed, Path | None]:
    """Run one job: its outcome, and the local file it read (kept open in ``keep``).

    ``Progress`` goes over ``conn`` while it runs.
    """
    job_id = job.id
    last_sent = time.monotonic()  # the first progress report waits a period too

    def progress(percent: float, note: str | None = None) -> None:
        nonlocal last_sent
        now = time.monotonic()
        if conn is not None and now - last_sent >= PROGRESS_EVERY:
            last_sent = now
            conn.send(Progress(job_id, max(0.0, min(100.0, float(percent))), note))

    try:
        out = _extract(job, progress, keep)
    except base.ExtractionError as exc:
        return Failed(job_id, error_info(exc, permanent=exc.permanent, error_type=exc.error_type)), None
    except registry.UnknownFormat as exc:
        return Failed(job_id, error_info(exc, permanent=True, error_type="UnknownFormat")), None
    except MemoryError as exc:
        message = "the job ran out of memory (memory limit)"
        failed = Failed(job_id, error_info(exc, permanent=True, error_type="MemoryLimit", message=message))
        return failed, None
    except Exception as exc:
        # unexpected: retried (it may be the machine, not the file), traceback kept
        return Failed(job_id, error_info(exc, permanent=False, with_traceback=True)), None
    follows = preview_job.follows(job.format, job.options or {})
    return Done(job_id, out.text, len(out.text.encode()), out.index, preview_follows=follows), out.path


def _extract(job: JobSpec, progress: base.Progress, keep: contextlib.ExitStack) -> Extracted:
    """Extract one job's file or object (a fetched copy stays in ``keep``)."""
    if urls.is_url(job.path):  # an object: streamed to a temporary file, hashed on the way
        from cadextract.sources import fetch

        local, digest = keep.enter_context(fetch.fetched(job, config.default_home()))
        return _extract_file(job, local, digest, progress)
    path = Path(job.path)
    try:
        digest = _sha256(path)
    except FileNotFoundError:
        raise base.FileUnreadable(f"file not found: {path} (moved, deleted or share not mounted?)") from None
    except OSError as exc:
        raise base.FileUnreadable(f"cannot read {path}: {exc.strerror or exc}") from None
    if digest != job.sha256:
        raise base.PermanentError(
            f"file changed since it was submitted (sha256 {digest[:12]}… != {job.sha256[:12]}…); "
            "submit it again to extract the new content",
            error_type="FileChanged",
        )
    return _extract_file(job, path, digest, progress)


def _extract_file(job: JobSpec, path: Path, digest: str, progress: base.Progress) -> Extracted:
    extractor = registry.get(job.format)
    extract_started = time.perf_counter()
    payload = extractor.extract(path, job.options, progress)
    elapsed = time.perf_counter() - extract_started
    document = result.build_document(
        format=job.format,
        extractor_name=extractor.name,
        extractor_version=extractor.version,
        libraries=extractor.versions(),
        path=job.path,  # the object's URL for remote inputs
        sha256=digest,
        size=job.size,
        payload=payload,
        extract_seconds=elapsed,
    )
    # the search index entry, here where the children work in parallel (search/document.py)
    index, index_warnings = search_document.entry_json(document, enabled=job.search_index)
    document["warnings"].extend(index_warnings)
    try:
        text = json.dumps(document, allow_nan=False, separators=(",", ":"), default=str)
    except ValueError as exc:
        raise base.PermanentError(f"result is not valid JSON: {exc}", error_type="BadResult") from None
    limit = job.max_result_bytes
    if limit and len(text) > limit:
        raise base.PermanentError(
            f"result document is {len(text) / 1e6:.1f} MB, over the {limit / 1e6:.0f} MB ceiling "
            "(raise CADEXTRACT_MAX_RESULT_MB, or lower the extractor's limits, e.g. --option max_items=…)",
            error_type="ResultTooLarge",
        )
    return Extracted(text, index, path)  # completion itself sets progress to 100


def _sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def error_info(
    exc: BaseException,
    *,
    permanent: bool,
    error_type: str | None = None,
    message: str | None = None,
    with_traceback: bool = False,
) -> ErrorInfo:
    """The error entry stored in a job's history (time, attempt and worker added later)."""
    # the last frames are where the parser gave up; keep it short for the table
    trace = "".join(traceback.format_exception(exc, limit=-8))[-4000:] if with_traceback else None
    return ErrorInfo(
        type=error_type or type(exc).__name__,
        message=message or str(exc) or type(exc).__name__,
        permanent=permanent,
        traceback=trace,
    )
