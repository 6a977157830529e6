"""Where each held job is, and what lease loss, cancels and child deaths do to it."""

from __future__ import annotations

from cadextract.models import JobStatus
from cadextract.runtime.ledger import Act, HeldJob, Ledger, Place
from cadextract.runtime.outcomes import (
    CANCELLED,
    LEASE_LOST,
    Cancel,
    Fate,
    Kill,
    KillReason,
    Release,
    Verdict,
)
from cadextract.runtime.pool import Child
from cadextract.store.protocol import Completion, Failure
from tests.unit.runtime_helpers import child, claimed

DIED = Kill(KillReason.WORKER_DIED, "worker process died (killed by SIGSEGV)")


def _ledger_with(n: int) -> tuple[Ledger, list[HeldJob]]:
    ledger = Ledger()
    return ledger, [ledger.claimed(claimed(), timeout=5.0) for _ in range(n)]


def _running_in(ledger: Ledger, jobs: list[HeldJob]) -> Child:
    """Send ``jobs`` to a child, which starts the first."""
    c = child()
    ledger.piped(jobs, c, now=100.0)
    return c


def test_a_job_moves_queued_piped_running_outbox_writing_then_is_forgotten() -> None:
    ledger, [a, b] = _ledger_with(2)
    assert [a.place, b.place] == [Place.QUEUED, Place.QUEUED] and list(ledger.backlog) == [a.job.id, b.job.id]
    c = _running_in(ledger, [a, b])
    assert (a.place, b.place) == (Place.RUNNING, Place.PIPED) and not ledger.backlog
    assert list(c.jobs) == [a.job.id, b.job.id] and a.child is c and a.deadline == 105.0
    assert ledger.moved_on(c, now=103.0) is a  # a reported; b starts at once, with its own deadline
    assert (b.place, b.started, b.deadline, list(c.jobs), c.jobs_run) == (
        Place.RUNNING,
        103.0,
        108.0,
        [b.job.id],
        1,
    )
    ledger.record(a, Completion(a.job.id, a.job.token, "{}", 2))
    assert a.place is Place.OUTBOX and a.child is None
    taken = ledger.take_outbox()
    assert [o.id for o in taken] == [a.job.id] and a.place is Place.WRITING and not ledger.outbox
    assert ledger.forget(a.job.id) is a and a.job.id not in ledger
    assert ledger.count(Place.QUEUED, Place.PIPED, Place.RUNNING) == 1


def test_jobs_sent_to_a_busy_child_wait_behind_its_running_one() -> None:
    ledger, [a, b, c2] = _ledger_with(3)
    c = _running_in(ledger, [a])
    ledger.piped([b, c2], c, now=101.0)
    assert (a.place, b.place, c2.place) == (Place.RUNNING, Place.PIPED, Place.PIPED)
    assert (a.started, b.started) == (100.0, None) and list(c.jobs) == [a.job.id, b.job.id, c2.job.id]


def test_an_unwritten_step_gives_its_outcomes_back_ahead_of_newer_ones() -> None:
    ledger, [a, b] = _ledger_with(2)
    ledger.backlog.clear()
    ledger.record(a, Release(a.job.id, a.job.token))
    taken = ledger.take_outbox()
    ledger.record(b, Release(b.job.id, b.job.token))
    ledger.give_back(taken)
    assert [o.id for o in ledger.outbox] == [a.job.id, b.job.id]
    assert a.place is Place.OUTBOX


def test_cancel_while_running_kills_the_child_and_the_job_ends_cancelled() -> None:
    ledger, [a, b] = _ledger_with(2)
    c = _running_in(ledger, [a, b])
    assert ledger.cancel_requested(a.job.id) is Act.KILL_CHILD
    endings = ledger.child_gone(c, CANCELLED)
    assert [(e.held, e.verdict) for e in endings] == [(a, Verdict.CANCEL), (b, Verdict.RELEASE)]
    assert not c.jobs and a.child is None and b.child is None


def test_cancel_while_piped_waits_for_the_child_and_overrides_its_report() -> None:
    ledger, [a, b] = _ledger_with(2)
    _running_in(ledger, [a, b])
    assert ledger.cancel_requested(b.job.id) is Act.NOTHING
    assert b.fate is Fate.CANCEL and b.place is Place.PIPED


def test_cancel_while_queued_writes_a_cancel_at_once() -> None:
    ledger, [a] = _ledger_with(1)
    assert ledger.cancel_requested(a.job.id) is Act.NOTHING
    assert not ledger.backlog and ledger.outbox == [Cancel(a.job.id, a.job.token)]
    assert a.place is Place.OUTBOX


def test_cancel_after_the_job_ended_keeps_its_outcome() -> None:
    ledger, [a, b] = _ledger_with(2)
    ledger.backlog.clear()
    ledger.record(b, Failure(b.job.id, b.job.token, JobStatus.FAILED, 0.0, {}))
    ledger.take_outbox()  # b's failure is being written
    done = Completion(a.job.id, a.job.token, "{}", 2)
    ledger.record(a, done)  # and a's completion waits
    assert (a.place, b.place) == (Place.OUTBOX, Place.WRITING)
    assert ledger.cancel_requested(a.job.id) is Act.NOTHING
    assert ledger.cancel_requested(b.job.id) is Act.NOTHING
    assert ledger.outbox == [done] and a.job.id in ledger and b.job.id in ledger


def test_lease_lost_while_an_outcome_waits_drops_it_unwritten() -> None:
    ledger, [a, b] = _ledger_with(2)
    ledger.backlog.clear()
    ledger.record(a, Completion(a.job.id, a.job.token, "{}", 2))
    ledger.record(b, Completion(b.job.id, b.job.token, "{}", 2))
    assert ledger.lease_lost(a.job.id) is Act.DROPPED
    assert [o.id for o in ledger.outbox] == [b.job.id] and a.job.id not in ledger


def test_lease_lost_while_being_written_drops_it_and_a_failed_step_does_not_bring_it_back() -> None:
    ledger, [a] = _ledger_with(1)
    ledger.backlog.clear()
    ledger.record(a, Completion(a.job.id, a.job.token, "{}", 2))
    taken = ledger.take_outbox()
    assert ledger.lease_lost(a.job.id) is Act.DROPPED
    ledger.give_back(taken)
    assert not ledger.outbox and not ledger


def test_lease_lost_while_queued_or_piped_or_running() -> None:
    ledger, [a, b, q] = _ledger_with(3)
    c = _running_in(ledger, [a, b])
    assert ledger.lease_lost(q.job.id) is Act.DROPPED and not ledger.backlog
    assert ledger.lease_lost(b.job.id) is Act.NOTHING and b.fate is Fate.DROP
    assert ledger.lease_lost(a.job.id) is Act.KILL_CHILD
    endings = ledger.child_gone(c, LEASE_LOST)
    assert [e.verdict for e in endings] == [Verdict.DROP, Verdict.DROP]


def test_child_death_fails_its_job_and_returns_the_ones_queued_behind_it() -> None:
    ledger, [a, b, c2, waiting] = _ledger_with(4)
    c = _running_in(ledger, [a, b, c2])
    endings = ledger.child_gone(c, DIED)
    assert [(e.held, e.verdict) for e in endings] == [
        (a, Verdict.FAIL),
        (b, Verdict.RELEASE),
        (c2, Verdict.RELEASE),
    ]
    assert endings[0].why is DIED and endings[1].why.message == "child stopped"
    # a job still held here is untouched: it goes to the next child
    assert waiting.place is Place.QUEUED and list(ledger.backlog) == [waiting.job.id]


def test_stopping_releases_the_backlog() -> None:
    ledger, [a, b] = _ledger_with(2)
    ledger.release_backlog()
    assert ledger.outbox == [Release(a.job.id, a.job.token), Release(b.job.id, b.job.token)]
    assert not ledger.backlog


def test_leases_cover_every_held_job_with_its_progress() -> None:
    ledger, [a, b] = _ledger_with(2)
    a.progress, a.note = 40.0, "page 2/5"
    leases = {lease.id: lease for lease in ledger.leases()}
    assert set(leases) == {a.job.id, b.job.id}
    assert (leases[a.job.id].progress, leases[a.job.id].note, leases[a.job.id].token) == (
        40.0,
        "page 2/5",
        a.job.token,
    )
