"""The child's side: make a job's preview after its extraction, note time and warnings."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from cadextract.previews import MAX_SECONDS, Preview, take
from cadextract.runtime.messages import JobSpec

#: share of the job's remaining time limit a preview may use, and what stays in reserve
BUDGET_SHARE = 0.5
RESERVE_SECONDS = 1.0


def wanted(options: dict[str, Any]) -> bool:
    """Previews are on unless the job says ``previews=false`` (``--no-previews``)."""
    value = options.get("previews", True)
    return not (value is False or str(value).lower() in ("false", "0", "no", "off"))


def budget(timeout: float | None, elapsed: float) -> float:
    """Seconds the preview may take: never enough to push the job past its time limit."""
    if timeout is None:
        return MAX_SECONDS
    return max(0.0, min(MAX_SECONDS, BUDGET_SHARE * (timeout - elapsed - RESERVE_SECONDS)))


def attach(job: JobSpec, path: Path, document: dict[str, Any], started: float) -> Preview | None:
    """Make the preview of a job whose extraction succeeded; problems become warnings."""
    if not wanted(job.options or {}):
        take(path)  # drop what the extractor offered
        return None
    from cadextract.previews import runner  # only children that make previews pay for it

    preview, warning = runner.make(path, job.format, budget=budget(job.timeout, time.monotonic() - started))
    timings = document.setdefault("timings", {})
    if preview is not None:
        timings["preview_s"] = round(preview.seconds, 6)
    if warning:
        document.setdefault("warnings", []).append(warning)
    return preview
