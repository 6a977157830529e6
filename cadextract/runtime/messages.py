"""What the supervisor and a child say to each other over the pipe, as typed messages.

The supervisor sends a list of ``JobSpec`` (several at once for tiny files) or ``None``
(exit between jobs); the child answers each job with ``Progress`` now and then and
exactly one ``Done`` or ``Failed``; a ``Done`` whose preview follows is followed by one
``PreviewMade`` before the child begins its next job. Every class pickles as a plain tuple would
(``__reduce__``): one goes through the pipe per job, and the default pickling of a
frozen dataclass costs twice as much.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from cadextract.previews import Preview


@dataclass(frozen=True, slots=True)
class JobSpec:
    """What a child needs to run a job."""

    id: uuid.UUID
    path: str
    format: str
    sha256: str
    size: int
    options: dict[str, Any]
    max_result_bytes: int
    #: read by the supervisor, not the child: children fork from a server started earlier
    search_index: bool = True
    timeout: float | None = None  # the job's wall-clock limit; a preview's budget comes out of it

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return (
            JobSpec,
            (
                self.id,
                self.path,
                self.format,
                self.sha256,
                self.size,
                self.options,
                self.max_result_bytes,
                self.search_index,
                self.timeout,
            ),
        )


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """Why an attempt failed; ``entry()`` is what the job's error history stores."""

    type: str
    message: str
    permanent: bool
    traceback: str | None = None

    def entry(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "message": self.message, "permanent": self.permanent}
        if self.traceback is not None:
            out["traceback"] = self.traceback
        return out

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return (ErrorInfo, (self.type, self.message, self.permanent, self.traceback))


@dataclass(frozen=True, slots=True)
class Progress:
    job_id: uuid.UUID
    percent: float
    note: str | None

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return (Progress, (self.job_id, self.percent, self.note))


@dataclass(frozen=True, slots=True)
class Done:
    job_id: uuid.UUID
    document: str  # the result, serialised and size-checked
    size: int
    index: str | None = None  # its search index entry (JSON), see search/document.py
    #: the child draws the job's preview next (``PreviewMade``) before its next job
    preview_follows: bool = False

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return (Done, (self.job_id, self.document, self.size, self.index, self.preview_follows))


@dataclass(frozen=True, slots=True)
class Failed:
    job_id: uuid.UUID
    error: ErrorInfo

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return (Failed, (self.job_id, self.error))


@dataclass(frozen=True, slots=True)
class PreviewMade:
    """A completed job's preview, drawn after its ``Done`` (or why there is none)."""

    job_id: uuid.UUID
    preview: Preview | None
    warning: str | None = None

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return (PreviewMade, (self.job_id, self.preview, self.warning))


ChildMessage = Progress | Done | Failed | PreviewMade
