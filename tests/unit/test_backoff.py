"""The backoff policy and the retry decision are pure functions."""

from __future__ import annotations

import statistics

from cadextract import backoff
from cadextract.models import JobStatus


def test_full_jitter_stays_in_the_exponential_window() -> None:
    wait = backoff.policy(base=2.0, cap=60.0)
    for attempt, ceiling in [(1, 2.0), (2, 4.0), (3, 8.0), (4, 16.0), (6, 60.0), (30, 60.0)]:
        samples = [backoff.delay(wait, attempt) for _ in range(300)]
        assert min(samples) >= 0.0
        assert max(samples) <= ceiling
        # full jitter spreads over the whole window, not a narrow band near the top
        assert max(samples) > 0.8 * ceiling
        assert min(samples) < 0.2 * ceiling
        assert 0.35 * ceiling < statistics.mean(samples) < 0.65 * ceiling


def test_permanent_errors_never_retry() -> None:
    wait = backoff.policy(1, 10)
    d = backoff.decide(attempts=1, max_attempts=4, permanent=True, wait=wait)
    assert d.status == JobStatus.FAILED


def test_transient_errors_retry_until_attempts_run_out() -> None:
    wait = backoff.policy(1, 10)
    for attempt in (1, 2, 3):
        d = backoff.decide(attempts=attempt, max_attempts=4, permanent=False, wait=wait)
        assert d.status == JobStatus.PENDING
        assert 0 <= d.delay <= min(10, 2 ** (attempt - 1))
    assert backoff.decide(attempts=4, max_attempts=4, permanent=False, wait=wait).status == JobStatus.FAILED
