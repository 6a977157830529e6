"""The child's side of a job's preview: whether one follows its completion, and making it."""

from __future__ import annotations

import os
from typing import Any

from cadextract.previews import MAX_SECONDS, runner


def wanted(options: dict[str, Any]) -> bool:
    """Previews are on unless the job says ``previews=false`` (``--no-previews``)."""
    value = options.get("previews", True)
    return not (value is False or str(value).lower() in ("false", "0", "no", "off"))


def follows(fmt: str, options: dict[str, Any]) -> bool:
    """Whether the child draws a preview after this job's completion."""
    return wanted(options) and runner.has_renderer(fmt)


def seconds_allowed() -> float:
    """How long a preview may take before its child is replaced (CADEXTRACT_PREVIEW_SECONDS)."""
    try:
        value = float(os.environ.get("CADEXTRACT_PREVIEW_SECONDS", "") or MAX_SECONDS)
    except ValueError:
        return MAX_SECONDS
    return value if value > 0 else MAX_SECONDS
