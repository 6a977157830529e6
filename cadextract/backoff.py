"""Retry timing and the retry decision, both pure.

One tenacity wait strategy (exponential with full jitter) is the single source of
backoff: the worker asks it how long a failed job waits in the database
(``run_after``) and how long to wait before reconnecting to PostgreSQL. No worker slot
ever sleeps on a retry.
"""

from __future__ import annotations

from dataclasses import dataclass

import tenacity
from tenacity.wait import wait_base

from cadextract.models import JobStatus


def policy(base: float, cap: float) -> wait_base:
    """Full-jitter exponential backoff: uniform(0, min(cap, base * 2**(n-1))) for attempt n."""
    return tenacity.wait_random_exponential(multiplier=base, max=cap)


def delay(wait: wait_base, attempt: int) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
    state = tenacity.RetryCallState(retry_object=tenacity.Retrying(), fn=None, args=(), kwargs={})
    state.attempt_number = max(1, attempt)
    return float(wait(state))


@dataclass(frozen=True)
class Decision:
    """What a failed attempt turns into: a retry after ``delay`` seconds, or the end."""

    status: JobStatus
    delay: float = 0.0


def decide(*, attempts: int, max_attempts: int, permanent: bool, wait: wait_base) -> Decision:
    """processing -> pending (retry later) or failed (permanent, or out of attempts)."""
    if permanent or attempts >= max_attempts:
        return Decision(JobStatus.FAILED)
    return Decision(JobStatus.PENDING, delay(wait, attempts))
