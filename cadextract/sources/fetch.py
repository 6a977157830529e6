"""A worker's side of remote inputs: stream the object to a bounded temporary file.

The content's sha256 is taken while the bytes stream in (no second read). The file
lives in ``$CADEXTRACT_HOME/fetch/<pid>-<start>/`` of the child that runs the job and is
deleted when the job ends; folders of processes that no longer exist (a crashed or
killed child) are removed when a child starts. The object must still be the one
submitted: its change key (URL, ETag, size) is checked before the download.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil

from cadextract.extractors import base
from cadextract.runtime.messages import JobSpec
from cadextract.sources import decide, urls

CHUNK = 1024 * 1024
DEFAULT_CAP_MB = 2048.0


def cap_bytes() -> int:
    """The largest object a worker downloads (CADEXTRACT_FETCH_MAX_MB, default 2048)."""
    raw = os.environ.get("CADEXTRACT_FETCH_MAX_MB", "")
    try:
        mb = float(raw) if raw else DEFAULT_CAP_MB
    except ValueError:
        raise base.PermanentError(
            f"CADEXTRACT_FETCH_MAX_MB={raw!r} is not a number", error_type="BadSetting"
        ) from None
    return int(mb * 1024 * 1024)


def _tag(pid: int) -> str | None:
    try:
        return f"{pid}-{int(psutil.Process(pid).create_time())}"
    except (psutil.Error, OSError):
        return None


def workdir(home: Path) -> Path:
    """This process's own download folder (created on demand)."""
    folder = home / "fetch" / (_tag(os.getpid()) or str(os.getpid()))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def clean_stale(home: Path) -> list[Path]:
    """Remove the download folders of processes that are gone; returns what was removed."""
    root = home / "fetch"
    removed: list[Path] = []
    try:
        entries = list(root.iterdir())
    except OSError:
        return removed
    for entry in entries:
        pid_text = entry.name.split("-", 1)[0]
        if pid_text.isdigit() and _tag(int(pid_text)) == entry.name:
            continue  # that process is alive (same pid and start time)
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry)
    return removed


def classify(exc: BaseException, url: str) -> base.ExtractionError | None:
    """A reading error as a job failure: 404/403 permanent, network and 5xx transient.

    None means "not a storage error" (the caller re-raises it).
    """
    where = urls.mask(url)
    status = _status(exc)
    if isinstance(exc, FileNotFoundError) or status == 404:
        return base.PermanentError(
            f"{where}: object not found (404): deleted or moved since submit", error_type="ObjectNotFound"
        )
    if isinstance(exc, PermissionError) or status in (401, 403):
        return base.PermanentError(
            f"{where}: access denied ({status or 403}): check the worker's storage credentials",
            error_type="AccessDenied",
        )
    if status is not None and status >= 400 and status < 500 and status not in (408, 429):
        return base.PermanentError(
            f"{where}: refused ({status}): {_first(exc)}", error_type="ObjectUnreadable"
        )
    if status is not None or isinstance(exc, (OSError, TimeoutError, ConnectionError)) or _is_network(exc):
        shown = f"{status}: " if status else ""
        return base.FileUnreadable(f"{where}: cannot read ({shown}{_first(exc)}); will retry")
    return None


def _status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)  # botocore ClientError
    if isinstance(response, dict):
        code = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return int(code) if code else None
    status = getattr(exc, "status", None)  # aiohttp ClientResponseError
    return status if isinstance(status, int) else None


def _is_network(exc: BaseException) -> bool:
    # botocore's EndpointConnectionError and aiohttp's errors are not OSErrors
    names = {t.__name__ for t in type(exc).__mro__}
    return bool(names & {"BotoCoreError", "ClientError", "HTTPClientError", "ConnectionError"})


def _first(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return (lines[0] if lines else type(exc).__name__)[:300]


@contextlib.contextmanager
def fetched(job: JobSpec, home: Path) -> Iterator[tuple[Path, str]]:
    """(local temporary copy, its sha256) of the job's object; the copy is gone afterwards."""
    url = job.path
    cap = cap_bytes()
    if job.size > cap:
        raise base.PermanentError(
            f"{urls.mask(url)}: object is {job.size / 1e6:.1f} MB, over the worker's temp-space cap of "
            f"{cap / 1e6:.0f} MB (CADEXTRACT_FETCH_MAX_MB)",
            error_type="ObjectTooLarge",
        )
    from cadextract.sources import remote  # fsspec is imported only by children that need it

    # the object's own name (in a folder per job): extractors name the file in messages
    folder = workdir(home) / str(job.id)
    folder.mkdir(exist_ok=True)
    name = url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1][-200:]
    target = folder / (name if name not in ("", ".", "..") else "object")
    try:
        digest = _download(remote, url, job, target, cap)
        yield target, digest
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _download(remote: Any, url: str, job: JobSpec, target: Path, cap: int) -> str:
    try:
        fs, path = remote.filesystem(url)
        info = fs.info(path)
        key = decide.remote_key(url, remote.etag_of(info), None, int(info.get("size") or 0))
        if key != job.sha256:
            raise base.PermanentError(
                f"{urls.mask(url)}: changed since submit (ETag or size differs); "
                "submit it again to extract the new content",
                error_type="ChangedSinceSubmit",
            )
        h = hashlib.sha256()
        written = 0
        # the size just checked: s3fs/http would otherwise send a second HEAD to learn it
        known = {"size": int(info.get("size") or 0)} if urls.scheme(url) in ("s3", "http", "https") else {}
        with fs.open(path, "rb", block_size=8 * CHUNK, **known) as src, target.open("wb") as dst:
            while chunk := src.read(CHUNK):
                written += len(chunk)
                if written > cap:
                    raise base.PermanentError(
                        f"{urls.mask(url)}: object grew past the temp-space cap of {cap / 1e6:.0f} MB",
                        error_type="ObjectTooLarge",
                    )
                h.update(chunk)
                dst.write(chunk)
    except base.ExtractionError:
        raise
    except Exception as exc:
        mapped = classify(exc, url)
        if mapped is None:
            raise
        raise mapped from None
    return h.hexdigest()
