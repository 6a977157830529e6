"""Stopping: the two-stage stop (graceful, then now) and the signals that ask for it."""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

GIVE_UP_WRITING_AFTER = 30.0  # seconds past the grace period, with the database down


@dataclass
class Stop:
    """Whether the worker is stopping, and how patiently."""

    grace_seconds: float
    requested: bool = False
    deadline: float | None = None  # monotonic end of the grace period
    force: bool = False

    def request(self, now: float, force: bool = False) -> None:
        """Stop claiming; running jobs get the grace period (or none when ``force``)."""
        if self.requested and not force:
            force = True  # a second request means now
        if not self.requested:
            log.info("stopping: no new jobs; waiting up to %.0fs for running ones", self.grace_seconds)
        self.requested = True
        if self.deadline is None:
            self.deadline = now + self.grace_seconds
        if force and not self.force:
            log.info("stopping now: running jobs go back to the queue")
            self.force = True

    def kill_running(self, now: float) -> bool:
        """Whether running jobs are to be killed and returned to the queue now."""
        return self.force or (self.deadline is not None and now > self.deadline)

    def gave_up_writing(self, now: float) -> bool:
        """Stopping with the database down: once the grace period and 30 s more are over,
        leave; leases expire and the rescuer returns the jobs (counting an attempt)."""
        if self.deadline is None:
            return False
        return self.force or now > self.deadline + GIVE_UP_WRITING_AFTER


def install_signal_handlers(request_stop: Callable[[], None]) -> Callable[[], None]:
    """SIGTERM / Ctrl-C stop gracefully; a second one stops at once.

    Returns the function to call once the supervisor has returned: from then on the
    process is only exiting (forkserver and idle children being torn down), and a
    further signal ends it at once, quietly, instead of raising KeyboardInterrupt
    into interpreter shutdown.
    """

    def handler(signum: int, frame: object) -> None:
        request_stop()

    def exit_now(signum: int, frame: object) -> None:
        os._exit(128 + signum)

    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, handler)

    def exiting() -> None:
        for s in (signal.SIGINT, signal.SIGTERM):
            signal.signal(s, exit_now)

    return exiting
