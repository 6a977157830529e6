"""What a report or a kill turns into, the retry decision, and what is told afterwards."""

from __future__ import annotations

import pickle
import uuid

import pytest

from cadextract import backoff
from cadextract.models import JobStatus
from cadextract.runtime import outcomes
from cadextract.runtime.messages import Done, ErrorInfo, Failed, JobSpec, Progress
from cadextract.runtime.outcomes import (
    SHUTDOWN,
    Cancel,
    EventKind,
    Fate,
    Kill,
    KillReason,
    Release,
    Stats,
    Verdict,
)
from cadextract.store.protocol import Completion, Failure
from tests.unit.runtime_helpers import SETTINGS, claimed

JOB = uuid.uuid4()
DONE = Done(JOB, "{}", 2)
FAILED = Failed(JOB, ErrorInfo("CorruptFile", "bad header", permanent=True))


@pytest.mark.parametrize(
    ("fate", "message", "verdict"),
    [
        (Fate.WRITE, DONE, Verdict.COMPLETE),
        (Fate.WRITE, FAILED, Verdict.FAIL),
        (Fate.CANCEL, DONE, Verdict.CANCEL),  # cancelled while it waited in the pipe
        (Fate.DROP, FAILED, Verdict.DROP),  # lease lost while it waited in the pipe
    ],
)
def test_after_report(fate: Fate, message: Done | Failed, verdict: Verdict) -> None:
    assert outcomes.after_report(fate, message) is verdict


@pytest.mark.parametrize(
    ("fate", "reason", "verdict"),
    [
        (Fate.WRITE, KillReason.TIMEOUT, Verdict.FAIL),
        (Fate.WRITE, KillReason.MEMORY_LIMIT, Verdict.FAIL),
        (Fate.WRITE, KillReason.WORKER_DIED, Verdict.FAIL),
        (Fate.WRITE, KillReason.CANCELLED, Verdict.CANCEL),
        (Fate.WRITE, KillReason.LEASE_LOST, Verdict.DROP),
        (Fate.WRITE, KillReason.SHUTDOWN, Verdict.RELEASE),
        (Fate.CANCEL, KillReason.WORKER_DIED, Verdict.CANCEL),
        (Fate.CANCEL, KillReason.SHUTDOWN, Verdict.CANCEL),
        (Fate.DROP, KillReason.CANCELLED, Verdict.DROP),
        (Fate.DROP, KillReason.TIMEOUT, Verdict.DROP),
    ],
)
def test_after_kill(fate: Fate, reason: KillReason, verdict: Verdict) -> None:
    assert outcomes.after_kill(fate, Kill(reason, "x")) is verdict


def test_kill_errors_say_whether_a_retry_could_help() -> None:
    assert Kill(KillReason.MEMORY_LIMIT, "m").error() == ErrorInfo("MemoryLimit", "m", permanent=True)
    assert Kill(KillReason.TIMEOUT, "t").error() == ErrorInfo("Timeout", "t", permanent=False)
    assert Kill(KillReason.WORKER_DIED, "d").error().permanent is False


def _failure(attempts: int, error: ErrorInfo, max_attempts: int = 3) -> Failure:
    job = claimed(attempts=attempts, max_attempts=max_attempts)
    wait = backoff.policy(1.0, 8.0)
    return outcomes.failure(job, error, wait=wait, worker_id="h:1", at="2026-01-01T00:00:00+0000")


def test_a_transient_failure_is_retried_after_a_backoff_until_attempts_run_out() -> None:
    timeout = Kill(KillReason.TIMEOUT, "took longer than the 5s limit").error()
    first = _failure(1, timeout)
    assert first.status is JobStatus.PENDING and 0.0 <= first.delay <= 1.0
    assert first.error == {
        "at": "2026-01-01T00:00:00+0000",
        "attempt": 1,
        "worker": "h:1",
        "type": "Timeout",
        "message": "took longer than the 5s limit",
        "permanent": False,
    }
    last = _failure(3, timeout)
    assert last.status is JobStatus.FAILED and last.delay == 0.0


def test_a_permanent_failure_ends_at_the_first_attempt() -> None:
    assert _failure(1, FAILED.error).status is JobStatus.FAILED
    assert _failure(1, Kill(KillReason.MEMORY_LIMIT, "m").error()).status is JobStatus.FAILED


def test_a_job_may_bring_its_own_backoff_but_a_bad_one_falls_back() -> None:
    default = backoff.policy(SETTINGS.backoff_base, SETTINGS.backoff_cap)
    assert outcomes.wait_policy(claimed(), SETTINGS, default) is default
    assert outcomes.wait_policy(claimed(backoff_base="fast"), SETTINGS, default) is default
    own = outcomes.wait_policy(claimed(backoff_base=3600, backoff_cap=7200), SETTINGS, default)
    delays = [backoff.delay(own, 1) for _ in range(200)]
    assert max(delays) > SETTINGS.backoff_cap and max(delays) <= 3600


def test_what_is_reported_once_a_step_committed() -> None:
    job, token = uuid.uuid4(), uuid.uuid4()
    written = {job}
    retry = Failure(job, token, JobStatus.PENDING, 12.4, {"type": "Timeout", "message": "slow"})
    failed = Failure(job, token, JobStatus.FAILED, 0.0, {"type": "CorruptFile", "message": "bad"})

    def told(
        outcome: outcomes.Outcome, done: set[uuid.UUID], status: dict[uuid.UUID, str] | None = None
    ) -> tuple[str, str]:
        event = outcomes.reported(outcome, done, status or {})
        return event.kind, event.detail

    assert told(Completion(job, token, "{}", 2), written) == (EventKind.COMPLETED, "")
    assert told(retry, written) == (EventKind.RETRYING, "Timeout: slow (retry in 12s)")
    assert told(failed, written) == (EventKind.FAILED, "CorruptFile: bad")
    # cancel requested while it failed: the store wrote 'cancelled'
    assert told(failed, written, {job: "cancelled"}) == (
        EventKind.CANCELLED,
        "cancel requested while it failed",
    )
    assert told(Cancel(job, token), written) == (EventKind.CANCELLED, "")
    assert told(Release(job, token), written) == (EventKind.RELEASED, "returned to the queue")
    # refused by the lease fence
    assert told(Completion(job, token, "{}", 2), set()) == (EventKind.LOST, "not written: lease lost")
    assert told(Cancel(job, token), set()) == (EventKind.LOST, "")


def test_stats_count_events_by_kind() -> None:
    stats = Stats()
    for kind in [
        EventKind.CLAIMED,
        EventKind.CLAIMED,
        EventKind.COMPLETED,
        EventKind.RETRYING,
        EventKind.LOST,
    ]:
        stats.count(kind)
    assert (stats.claimed, stats.completed, stats.retried, stats.failed, stats.released) == (2, 1, 1, 0, 0)
    assert EventKind.CLAIMED == "claimed"  # the CLI and tests compare with plain names


@pytest.mark.parametrize(
    "message",
    [
        JobSpec(JOB, "/a.pdf", "pdf", "0" * 64, 3, {"max_items": 5}, 1000),
        Progress(JOB, 40.0, "page 2/5"),
        DONE,
        FAILED,
        Failed(JOB, ErrorInfo("ValueError", "x", permanent=False, traceback="Traceback…")),
    ],
)
def test_messages_survive_the_pipe(message: object) -> None:
    assert pickle.loads(pickle.dumps(message)) == message


def test_error_entry_keeps_a_traceback_only_when_there_is_one() -> None:
    assert "traceback" not in ErrorInfo("A", "b", permanent=True).entry()
    assert ErrorInfo("A", "b", permanent=False, traceback="tb").entry()["traceback"] == "tb"
    assert SHUTDOWN.reason is KillReason.SHUTDOWN


def _conclude(verdict: Verdict, why: Done | Failed | Kill, **options: object) -> outcomes.Outcome | None:
    job = claimed(attempts=1, max_attempts=3, **options)
    wait = backoff.policy(SETTINGS.backoff_base, SETTINGS.backoff_cap)
    out = outcomes.conclude(job, verdict, why, settings=SETTINGS, wait=wait, worker_id="h:1", at="T")
    assert out is None or (out.id, out.token) == (job.id, job.token)
    return out


def test_a_verdict_becomes_the_outcome_to_write() -> None:
    done = Done(JOB, '{"a":1}', 7, index="{}")
    completion = _conclude(Verdict.COMPLETE, done)
    assert isinstance(completion, Completion)
    assert (completion.document, completion.size, completion.index) == ('{"a":1}', 7, "{}")
    assert isinstance(_conclude(Verdict.CANCEL, Kill(KillReason.CANCELLED, "cancelled")), Cancel)
    assert isinstance(_conclude(Verdict.RELEASE, SHUTDOWN), Release)
    assert _conclude(Verdict.DROP, DONE) is None  # lease lost: nothing of ours may be written


def test_a_failure_verdict_carries_the_retry_decision() -> None:
    reported = _conclude(Verdict.FAIL, FAILED)  # the child said: permanent
    assert isinstance(reported, Failure) and reported.status is JobStatus.FAILED
    assert (reported.error["type"], reported.error["at"], reported.error["worker"]) == (
        "CorruptFile",
        "T",
        "h:1",
    )
    killed = _conclude(Verdict.FAIL, Kill(KillReason.TIMEOUT, "slow"))
    assert isinstance(killed, Failure) and killed.status is JobStatus.PENDING
    assert 0.0 <= killed.delay <= SETTINGS.backoff_base
    # the job's own backoff is used for its retry
    slow = [
        _conclude(Verdict.FAIL, Kill(KillReason.TIMEOUT, "slow"), backoff_base=3600, backoff_cap=7200)
        for _ in range(50)
    ]
    assert max(f.delay for f in slow if isinstance(f, Failure)) > SETTINGS.backoff_cap
