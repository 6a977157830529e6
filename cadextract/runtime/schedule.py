"""When the worker talks to the database, and how long its loop may sleep; pure timekeeping.

A claim is due at once after a notification, a full batch or a written last job, and
otherwise at the next poll; a heartbeat every ``heartbeat_seconds`` (at once when a
cancel was announced); a rescue of dead workers' jobs every ``rescue_seconds``. The
supervisor reads the clock and passes ``now``; nothing here sleeps or measures.
"""

from __future__ import annotations

from dataclasses import dataclass

from cadextract.config import Settings

MAX_WAIT = 0.25  # longest the loop sleeps, so signals and deadlines are seen promptly
MEMORY_CHECK_EVERY = 0.2  # seconds between RSS checks of the running children


@dataclass(frozen=True)
class Due:
    """What the next database step does besides writing outcomes."""

    claim: int  # jobs to claim; 0: none
    heartbeat: bool
    rescue: bool


@dataclass
class Schedule:
    poll_seconds: float
    heartbeat_seconds: float
    rescue_seconds: float
    wake: bool = True  # claim at once rather than at the next poll
    next_poll: float = 0.0
    next_heartbeat: float = 0.0
    next_rescue: float = 0.0
    next_memory_check: float = 0.0

    @classmethod
    def of(cls, settings: Settings) -> Schedule:
        """Rescue every half lease (at most once a second): a dead worker's job waits at most 1.5 leases."""
        return cls(settings.poll_seconds, settings.heartbeat_seconds, max(1.0, settings.lease_seconds / 2))

    def claim_due(self, now: float) -> bool:
        return self.wake or now >= self.next_poll

    def step(self, now: float, *, claim: int, writes: bool) -> Due | None:
        """The database step due now (None: nothing to do); the timers of what it does move on."""
        heartbeat = now >= self.next_heartbeat
        rescue = now >= self.next_rescue
        if not (writes or claim or heartbeat or rescue):
            return None
        if claim:
            self.wake = False
            self.next_poll = now + self.poll_seconds
        if heartbeat:
            self.next_heartbeat = now + self.heartbeat_seconds
        if rescue:
            self.next_rescue = now + self.rescue_seconds
        return Due(claim, heartbeat, rescue)

    def sleep(self, now: float, *, can_claim: bool, connected: bool, writes: bool) -> float:
        """How long the loop may wait for children or notifications before something is due."""
        if self.wake and connected and can_claim:
            return 0.0
        due = [self.next_heartbeat, self.next_rescue]
        if can_claim:
            # only when a claim could follow: with every child busy, a poll time in the
            # past would make the loop spin (it did, taking a core from the children)
            due.append(self.next_poll)
        if writes:
            due.append(now)
        return max(0.0, min(MAX_WAIT, min(due) - now))

    def measure_memory(self, now: float) -> bool:
        """Whether to measure the children's memory this turn (psutil costs a syscall per child)."""
        if now < self.next_memory_check:
            return False
        self.next_memory_check = now + MEMORY_CHECK_EVERY
        return True

    # -- what moves the timers ---------------------------------------------------------

    def heartbeat_now(self) -> None:
        """A cancel was announced, or the database is back: learn at once what changed."""
        self.next_heartbeat = 0.0

    def claimed(self, got: int, wanted: int) -> None:
        """A full batch means more may be waiting: claim again at once."""
        self.wake = self.wake or got == wanted

    def retry_due_in(self, now: float, seconds: float) -> None:
        """A job backing off is due then: poll no later (`run` waits for retries)."""
        self.next_poll = min(self.next_poll, now + seconds)
