"""Extractors for benchmarks and fault tests, registered through the same entry points
as any plugin. They ignore the file's content; jobs use them with ``--format noop`` or
``--format test-…`` and pass parameters as job options (``--option seconds=5``).
"""

from __future__ import annotations

import hashlib
import os
import signal
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cadextract.extractors.base import Extractor, Progress, TransientError


def _versions() -> dict[str, str]:
    return {}


def noop(path: Path, options: Mapping[str, Any], progress: Progress) -> dict[str, Any]:
    """Do nothing: measures the queue, not a parser."""
    return {}


def sleep(path: Path, options: Mapping[str, Any], progress: Progress) -> dict[str, Any]:
    """Sleep ``seconds`` (default 1), reporting progress ten times a second."""
    seconds = float(options.get("seconds", 1.0))
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        progress(100.0 * (1 - left / seconds) if seconds else 100.0, "sleeping")
        time.sleep(min(0.1, left))
    return {"slept": seconds}


def crash(path: Path, options: Mapping[str, Any], progress: Progress) -> dict[str, Any]:
    """Kill the own process with ``signal`` (default SIGSEGV) after ``delay`` seconds.

    With ``times`` set, crash only on the first N attempts (counted in ``state_dir``).
    """
    time.sleep(float(options.get("delay", 0.0)))
    if "times" in options and _bump(path, options) > int(options["times"]):
        return {"crashed": False}
    sig = getattr(signal, str(options.get("signal", "SIGSEGV")))
    os.kill(os.getpid(), sig)
    time.sleep(10)  # never reached for fatal signals
    return {}


def allocate(path: Path, options: Mapping[str, Any], progress: Progress) -> dict[str, Any]:
    """Allocate ``mb`` megabytes in 32 MB steps (touching every page), then return."""
    total = int(options.get("mb", 100))
    blocks = []
    for done in range(0, total, 32):
        blocks.append(bytearray(os.urandom(1)) * (32 * 1024 * 1024))
        progress(100.0 * done / total, "allocating")
        time.sleep(float(options.get("step_delay", 0.02)))
    return {"allocated_mb": total}


def flaky(path: Path, options: Mapping[str, Any], progress: Progress) -> dict[str, Any]:
    """Fail transiently on the first ``fail_times`` attempts, then succeed."""
    attempt = _bump(path, options)
    if attempt <= int(options.get("fail_times", 1)):
        raise TransientError(f"flaky failure {attempt}")
    return {"attempts_seen": attempt}


def preview_test(path: Path, options: Mapping[str, Any], progress: Progress) -> dict[str, Any]:
    """Extract nothing; the file's first word says how its preview misbehaves (``draw_preview``)."""
    return {"preview": path.read_bytes()[:16].decode(errors="replace").split()[0]}


def draw_preview(path: Path, loaded: object) -> tuple[str, bytes]:
    """The renderer of ``test-preview`` files: ``hang``, ``crash``, ``fail`` or a small SVG."""
    word = path.read_bytes()[:16].split()[0]
    if word == b"hang":
        time.sleep(3600)
    if word == b"crash":
        os.kill(os.getpid(), signal.SIGSEGV)
    if word == b"fail":
        raise ValueError("this test file asks for a failing preview")
    return "image/svg+xml", b'<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"/>'


def _bump(path: Path, options: Mapping[str, Any]) -> int:
    """Count calls per file in a counter file under ``state_dir`` (survives child deaths)."""
    state_dir = Path(str(options["state_dir"]))
    state_dir.mkdir(parents=True, exist_ok=True)
    counter = state_dir / hashlib.sha256(str(path).encode()).hexdigest()[:16]
    count = int(counter.read_text()) + 1 if counter.exists() else 1
    counter.write_text(str(count))
    return count


NOOP = Extractor(name="noop", extract=noop, versions=_versions, default_timeout=60)
SLEEP = Extractor(name="test-sleep", extract=sleep, versions=_versions, default_timeout=600)
CRASH = Extractor(name="test-crash", extract=crash, versions=_versions, default_timeout=60)
ALLOCATE = Extractor(name="test-allocate", extract=allocate, versions=_versions, default_timeout=120)
FLAKY = Extractor(name="test-flaky", extract=flaky, versions=_versions, default_timeout=60)
PREVIEW = Extractor(name="test-preview", extract=preview_test, versions=_versions, default_timeout=60)
