"""How many jobs a worker holds (pacing) and when a child is killed (limits)."""

from __future__ import annotations

import dataclasses
import signal

import pytest

from cadextract.runtime import limits, pacing
from cadextract.runtime.outcomes import SHUTDOWN, Kill, KillReason
from tests.unit.runtime_helpers import SETTINGS, claimed


def test_before_any_job_ended_only_one_job_per_child() -> None:
    p = pacing.Pacing()
    assert (p.ahead(), p.pipe_ahead(), p.depth(), p.held_here(2)) == (0, 0, 1, 0)


def test_seconds_long_jobs_are_not_held_ahead() -> None:
    p = pacing.Pacing(job_seconds=2.0)
    assert (p.ahead(), p.depth(), p.held_here(4)) == (0, 1, 0)


def test_millisecond_jobs_are_held_about_a_tenth_of_a_second_ahead_and_a_few_piped() -> None:
    p = pacing.Pacing(job_seconds=0.001)
    assert p.ahead() == 100  # 0.1 s of work
    assert p.pipe_ahead() == 5  # 5 ms of work in the pipe
    assert p.held_here(2) == 2 * (100 - 5)
    tiny = pacing.Pacing(job_seconds=1e-6)
    assert (tiny.ahead(), tiny.pipe_ahead()) == (pacing.MAX_AHEAD, pacing.PIPE_AHEAD)


def test_prefetch_fixes_the_number_all_in_the_pipe() -> None:
    p = pacing.Pacing(prefetch=4, job_seconds=0.001)
    assert (p.ahead(), p.pipe_ahead(), p.depth(), p.held_here(2)) == (4, 4, 5, 0)
    assert pacing.Pacing(prefetch=-3).depth() == 1


def test_the_moving_average_weighs_the_newest_job_a_fifth() -> None:
    p = pacing.Pacing()
    p.took(1.0)
    assert p.job_seconds == 1.0
    p.took(2.0)
    assert p.job_seconds == pytest.approx(1.2)


def test_room_in_a_child_respects_depth_recycling_and_retiring() -> None:
    assert pacing.room(5, 1000, jobs_run=0, in_pipe=2, retiring=False) == 3
    # three jobs before it is recycled: never sent more than that
    assert pacing.room(5, 10, jobs_run=7, in_pipe=1, retiring=False) == 2
    assert pacing.room(5, 1000, jobs_run=0, in_pipe=0, retiring=True) == 0
    assert pacing.empty_room(5, 3, stopping=False) == 3
    assert pacing.empty_room(5, 1000, stopping=True) == 0


def test_capacity_is_room_plus_what_to_hold_minus_what_waits() -> None:
    assert pacing.capacity([1, 1], held_here=0, backlog=0) == 2
    assert pacing.capacity([0, 3], held_here=190, backlog=50) == 143
    assert pacing.capacity([0, 0], held_here=0, backlog=3) == -3  # nothing to claim


def test_pipes_are_topped_up_in_chunks_or_at_once_when_idle() -> None:
    assert pacing.worth_sending(1, in_pipe=0, depth=9)  # idle: send even one
    assert not pacing.worth_sending(3, in_pipe=6, depth=9)  # busy: wait for half the depth
    assert pacing.worth_sending(4, in_pipe=5, depth=9)
    assert not pacing.worth_sending(0, in_pipe=0, depth=1)


def test_timeout_comes_from_the_job_then_the_worker_then_the_format() -> None:
    assert limits.timeout_for(claimed(timeout=5), SETTINGS) == 5.0
    with_setting = dataclasses.replace(SETTINGS, timeout_seconds=42.0)
    assert limits.timeout_for(claimed(timeout=0), with_setting) == 42.0  # submit's rule refuses 0
    assert limits.timeout_for(claimed(), with_setting) == 42.0
    assert limits.timeout_for(claimed(timeout="soon"), with_setting) == 42.0  # warns, falls back
    assert limits.timeout_for(claimed(fmt="no-such-format"), SETTINGS) == limits.FALLBACK_TIMEOUT


def test_a_job_times_out_only_past_its_deadline() -> None:
    assert limits.timed_out(started=10.0, deadline=15.0, now=15.0) is None
    kill = limits.timed_out(started=10.0, deadline=15.0, now=15.1)
    assert kill == Kill(KillReason.TIMEOUT, "took longer than the 5s limit; the child was killed")


def test_memory_kill_above_the_limit_recycle_above_half() -> None:
    mb = 1024 * 1024
    assert limits.memory_verdict(100 * mb, 300) is limits.Memory.OK
    assert limits.memory_verdict(151 * mb, 300) is limits.Memory.RECYCLE
    assert limits.memory_verdict(301 * mb, 300) is limits.Memory.KILL
    assert limits.memory_kill(300).reason is KillReason.MEMORY_LIMIT
    assert "300 MB memory limit" in limits.memory_kill(300).message


def test_why_a_childs_job_ended() -> None:
    ours = Kill(KillReason.TIMEOUT, "slow")
    assert limits.death_reason(ours, -signal.SIGKILL, stopping=False) is ours
    died = limits.death_reason(None, -signal.SIGSEGV, stopping=False)
    assert died == Kill(KillReason.WORKER_DIED, "worker process died (killed by SIGSEGV)")
    # a stop signal that reached a child before it could ignore it: the job goes back
    assert limits.death_reason(None, -signal.SIGTERM, stopping=True) is SHUTDOWN
    assert limits.death_reason(None, -signal.SIGTERM, stopping=False).reason is KillReason.WORKER_DIED
    assert limits.describe_exit(3) == "exit code 3" and limits.describe_exit(None) == "still running"


def test_one_check_of_a_running_child_deadline_first_then_memory() -> None:
    mb = 1024 * 1024

    def check(now: float, rss_mb: int | None) -> Kill | limits.Memory:
        rss = None if rss_mb is None else rss_mb * mb
        return limits.check(started=10.0, deadline=15.0, now=now, rss=rss, limit_mb=300)

    assert check(12.0, None) is limits.Memory.OK  # memory not measured this turn
    assert check(12.0, 100) is limits.Memory.OK
    assert check(12.0, 200) is limits.Memory.RECYCLE
    assert check(12.0, 400) == limits.memory_kill(300)
    # past its deadline the timeout wins, whatever the memory
    timeout = check(15.5, 400)
    assert isinstance(timeout, Kill) and timeout.reason is KillReason.TIMEOUT
    assert check(15.5, None) == timeout


def test_a_child_is_recycled_once_given_recycle_after_jobs() -> None:
    assert not limits.recycle_due(jobs_run=7, in_pipe=2, recycle_after=10)
    assert limits.recycle_due(jobs_run=8, in_pipe=2, recycle_after=10)  # the last two are in its pipe
    assert limits.recycle_due(jobs_run=10, in_pipe=0, recycle_after=10)
    assert limits.recycle_due(jobs_run=1, in_pipe=0, recycle_after=1)  # recycle_after=1: one job per child


@dataclasses.dataclass
class _Slot:
    jobs: list[int]
    jobs_run: int = 0
    retiring: bool = False


def test_room_of_a_pool_slot_with_or_without_a_child() -> None:
    assert pacing.slot_room(5, 1000, None, stopping=False) == 5  # a child is spawned when sent
    assert pacing.slot_room(5, 1000, None, stopping=True) == 0
    assert pacing.slot_room(5, 1000, _Slot([1, 2]), stopping=False) == 3
    assert pacing.slot_room(5, 10, _Slot([1], jobs_run=8), stopping=False) == 1
    assert pacing.slot_room(5, 1000, _Slot([], retiring=True), stopping=False) == 0
