"""When the worker claims, heartbeats and rescues, and how long its loop sleeps."""

from __future__ import annotations

import dataclasses

import pytest

from cadextract.runtime.schedule import MAX_WAIT, MEMORY_CHECK_EVERY, Due, Schedule
from tests.unit.runtime_helpers import SETTINGS


def _schedule() -> Schedule:
    return Schedule(poll_seconds=5.0, heartbeat_seconds=10.0, rescue_seconds=30.0)


def test_the_first_step_claims_heartbeats_and_rescues_then_the_timers_move_on() -> None:
    s = _schedule()
    assert s.claim_due(now=100.0)
    assert s.step(100.0, claim=8, writes=False) == Due(claim=8, heartbeat=True, rescue=True)
    assert (s.wake, s.next_poll, s.next_heartbeat, s.next_rescue) == (False, 105.0, 110.0, 130.0)
    assert not s.claim_due(now=104.9) and s.claim_due(now=105.0)
    # nothing due, nothing to write: no step at all
    assert s.step(104.0, claim=0, writes=False) is None
    # outcomes to write make a step on their own, without a heartbeat or rescue
    assert s.step(104.0, claim=0, writes=True) == Due(claim=0, heartbeat=False, rescue=False)
    assert s.step(110.0, claim=0, writes=False) == Due(claim=0, heartbeat=True, rescue=False)
    assert s.next_heartbeat == 120.0 and s.next_poll == 105.0


def test_a_claim_of_nothing_keeps_the_wake_up_for_when_there_is_room() -> None:
    s = _schedule()
    s.step(100.0, claim=0, writes=False)  # every child full: claim was due but 0 wanted
    assert s.wake and s.next_poll == 0.0


def test_a_full_batch_claims_again_at_once_a_partial_one_waits_for_the_poll() -> None:
    s = _schedule()
    s.step(100.0, claim=4, writes=False)
    s.claimed(got=3, wanted=4)
    assert not s.claim_due(now=101.0)
    s.claimed(got=4, wanted=4)
    assert s.claim_due(now=101.0)


def test_a_job_backing_off_brings_the_poll_forward_never_back() -> None:
    s = _schedule()
    s.step(100.0, claim=1, writes=False)  # next poll at 105
    s.retry_due_in(now=100.0, seconds=2.0)
    assert s.next_poll == 102.0
    s.retry_due_in(now=100.0, seconds=60.0)
    assert s.next_poll == 102.0


def test_a_cancel_notice_or_a_reconnect_heartbeats_at_once() -> None:
    s = _schedule()
    s.step(100.0, claim=0, writes=False)
    s.heartbeat_now()
    due = s.step(100.5, claim=0, writes=False)
    assert due is not None and due.heartbeat and not due.rescue


def test_sleep_is_zero_when_a_claim_is_wanted_and_possible() -> None:
    s = _schedule()
    s.step(100.0, claim=1, writes=False)
    s.wake = True  # a notification: new jobs
    assert s.sleep(101.0, can_claim=True, connected=True, writes=False) == 0.0
    # but not while the database is away, nor with no room to claim into
    assert s.sleep(101.0, can_claim=True, connected=False, writes=False) == MAX_WAIT
    assert s.sleep(101.0, can_claim=False, connected=True, writes=False) == MAX_WAIT


def test_sleep_waits_for_the_next_timer_but_never_longer_than_max_wait() -> None:
    s = _schedule()
    s.step(100.0, claim=1, writes=False)  # poll 105, heartbeat 110, rescue 130
    assert s.sleep(104.9, can_claim=True, connected=True, writes=False) == pytest.approx(0.1)
    assert s.sleep(100.0, can_claim=True, connected=True, writes=False) == MAX_WAIT
    assert s.sleep(100.0, can_claim=True, connected=True, writes=True) == 0.0  # outcomes wait


def test_with_every_child_busy_an_overdue_poll_does_not_make_the_loop_spin() -> None:
    s = _schedule()
    s.step(100.0, claim=1, writes=False)
    assert s.sleep(107.0, can_claim=True, connected=True, writes=False) == 0.0  # poll overdue
    assert s.sleep(107.0, can_claim=False, connected=True, writes=False) == MAX_WAIT
    assert s.sleep(109.9, can_claim=False, connected=True, writes=False) == pytest.approx(0.1)


def test_memory_is_measured_every_fifth_of_a_second() -> None:
    s = _schedule()
    assert s.measure_memory(100.0)
    assert not s.measure_memory(100.0 + MEMORY_CHECK_EVERY / 2)
    assert s.measure_memory(100.0 + MEMORY_CHECK_EVERY)


def test_rescue_runs_every_half_lease_but_at_most_once_a_second() -> None:
    s = Schedule.of(
        dataclasses.replace(SETTINGS, lease_seconds=60.0, poll_seconds=2.0, heartbeat_seconds=20.0)
    )
    assert (s.poll_seconds, s.heartbeat_seconds, s.rescue_seconds) == (2.0, 20.0, 30.0)
    assert Schedule.of(dataclasses.replace(SETTINGS, lease_seconds=0.5)).rescue_seconds == 1.0
