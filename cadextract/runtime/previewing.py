"""Previews drawn after their job's completion: which child draws one and until when, the
warning when it is lost, and the previews waiting to be saved.

A child sends ``Done`` and then draws the preview (``runtime.child``). While it draws,
the jobs in its pipe wait and their clocks do not run; a preview past its deadline or
over the memory limit costs the child (killed, its waiting jobs go back to the queue
unharmed) and the preview, never the job. A preview is saved in the step that writes
its job's completion or in a later one.
"""

from __future__ import annotations

import signal
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from cadextract.previews.store import Stored
from cadextract.runtime.ledger import Ledger, Place
from cadextract.runtime.messages import PreviewMade
from cadextract.runtime.outcomes import Kill, KillReason
from cadextract.runtime.pool import Child, Drawing


def lost_warning(kill: Kill | None, exitcode: int | None) -> str | None:
    """Why a job has no preview when its child went away while drawing it (None: stopping)."""
    if kill is not None:
        if kill.reason in (KillReason.TIMEOUT, KillReason.MEMORY_LIMIT):
            return f"preview skipped: it {kill.message}"
        return None  # the worker is stopping, or the job was cancelled: nothing went wrong
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"preview failed: the renderer was killed by {name}"
    return f"preview failed: the child exited ({exitcode}) while drawing it"


def writable(ledger: Ledger) -> Callable[[uuid.UUID], bool]:
    """A preview is saved with its job's completion (being written) or after it, never before."""

    def check(job_id: uuid.UUID) -> bool:
        held = ledger.get(job_id)
        return held is None or held.place is Place.WRITING

    return check


@dataclass
class Previews:
    """The previews waiting to be saved, and the children drawing one."""

    seconds: float  # how long one may take (previews.job.seconds_allowed)

    def __post_init__(self) -> None:
        self.pending: list[Stored] = []

    def began(self, child: Child, job_id: uuid.UUID, now: float) -> None:
        child.drawing = Drawing(job_id, now, now + self.seconds)

    def made(self, child: Child, message: PreviewMade) -> bool:
        """The child sent the preview it was drawing (True), or something stale (False)."""
        if child.drawing is None or child.drawing.job_id != message.job_id:
            return False
        child.drawing = None
        self.pending.append(Stored(message.job_id, message.preview, message.warning))
        return True

    def lost(self, child: Child, warning: str | None) -> bool:
        """The child died or was killed; True if it was drawing (its jobs had not begun)."""
        drawing, child.drawing = child.drawing, None
        if drawing is None:
            return False
        if warning:
            self.pending.append(Stored(drawing.job_id, None, warning))
        return True

    def waiting(self, held: Callable[[uuid.UUID], bool]) -> bool:
        """Some preview could be saved now (its job is no longer held: its outcome is written)."""
        return any(not held(p.job_id) for p in self.pending)

    def take(self, writable: Callable[[uuid.UUID], bool]) -> list[Stored]:
        """The previews a step may save: those whose job's completion it writes or has written."""
        taken = [p for p in self.pending if writable(p.job_id)]
        self.pending = [p for p in self.pending if not writable(p.job_id)]
        return taken

    def give_back(self, items: list[Stored]) -> None:
        """The step did not commit: saved again by the next one."""
        self.pending[:0] = items
