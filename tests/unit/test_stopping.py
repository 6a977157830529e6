"""The two-stage stop: graceful first, now on a second request or past the grace period."""

from __future__ import annotations

from cadextract.runtime.stopping import GIVE_UP_WRITING_AFTER, Stop


def test_first_request_is_graceful_second_is_now() -> None:
    stop = Stop(grace_seconds=30.0)
    stop.request(now=100.0)
    assert stop.requested and not stop.force and stop.deadline == 130.0
    assert not stop.kill_running(now=129.0) and stop.kill_running(now=130.5)
    stop.request(now=101.0)
    assert stop.force and stop.deadline == 130.0 and stop.kill_running(now=101.0)


def test_forced_request_skips_the_grace_period() -> None:
    stop = Stop(grace_seconds=30.0)
    stop.request(now=100.0, force=True)
    assert stop.force and stop.kill_running(now=100.0)


def test_with_the_database_down_it_gives_up_writing_after_grace_and_thirty_seconds() -> None:
    stop = Stop(grace_seconds=30.0)
    assert not stop.gave_up_writing(now=1e9)  # not stopping
    stop.request(now=100.0)
    assert not stop.gave_up_writing(now=130.0 + GIVE_UP_WRITING_AFTER)
    assert stop.gave_up_writing(now=130.1 + GIVE_UP_WRITING_AFTER)
