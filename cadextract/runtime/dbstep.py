"""One database step of the supervisor, run on its own thread while children keep working.

The supervisor's loop decides *what* to write and how many jobs it wants (a ``Plan``);
``execute`` does it against PostgreSQL and returns what the database said (a
``StepResult``). The loop applies that result itself, so every piece of supervisor
state is touched by one thread only; this module never sees it.

A step is at most four transactions, in this order:

1. the outcomes (completions, failures, cancels, releases; all fenced by lease token)
   and the claim of the next jobs, together;
2. the heartbeat: renew leases, store progress, learn of cancel requests;
3. the rescue of jobs whose worker stopped renewing its lease;
4. folding the job counts the triggers appended (``protocol.compact_counts``), right
   after a rescue.

A database error ends the step; what committed before it is still reported.
"""

from __future__ import annotations

import contextlib
import functools
import os
import queue as stdqueue
import threading
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from cadextract.previews import store as preview_store
from cadextract.runtime import ledger
from cadextract.runtime.outcomes import Cancel, Outcome, Release
from cadextract.search import store as search_store
from cadextract.store import protocol


@dataclass
class Plan:
    """What one step writes and asks for, decided by the supervisor's loop."""

    completions: list[protocol.Completion] = field(default_factory=list)
    failures: list[protocol.Failure] = field(default_factory=list)
    cancels: list[Cancel] = field(default_factory=list)
    releases: list[Release] = field(default_factory=list)
    claim: int = 0  # jobs wanted; 0: no claim this step
    worker_id: str = ""
    formats: Sequence[str] = ()
    lease_seconds: float = 60.0
    #: with --until-empty: if the claim finds nothing, ask whether the queue is finished
    check_done: bool = False
    #: with `run`: jobs backing off or held by other workers still count as unfinished
    wait_for_retries: bool = False
    leases: list[protocol.Lease] | None = None  # heartbeat these
    rescue: bool = False
    #: previews of jobs whose completion this step writes or an earlier one wrote
    previews: list[preview_store.Stored] = field(default_factory=list)

    @classmethod
    def writing(cls, outcomes: list[Outcome]) -> Plan:
        """A plan that writes these outcomes (what else it does is filled in after)."""
        completions, failures, cancels, releases = ledger.writes(outcomes)
        return cls(completions, failures, cancels, releases)

    def has_writes(self) -> bool:
        return bool(self.completions or self.failures or self.cancels or self.releases or self.previews)

    def outcomes(self) -> list[Outcome]:
        """Everything this step writes, in the order it writes it."""
        return [*self.completions, *self.failures, *self.cancels, *self.releases]


@dataclass
class StepResult:
    """What the database said; ``None`` fields were not reached."""

    #: jobs whose outcome was written (None: the writes did not commit)
    written: set[uuid.UUID] | None = None
    failure_status: dict[uuid.UUID, str] = field(default_factory=dict)
    claimed: list[protocol.Claimed] | None = None
    queue_done: bool = False
    next_retry_in: float | None = None  # seconds until the next job backing off is due
    alive: set[uuid.UUID] | None = None  # heartbeat: leases still ours
    cancel: set[uuid.UUID] = field(default_factory=set)  # heartbeat: cancel requested
    rescued: int = 0
    error: BaseException | None = None


def execute(engine: Engine, plan: Plan) -> StepResult:
    """Run one step; database errors end up in ``StepResult.error``, never raised."""
    out = StepResult()
    try:
        if plan.has_writes() or plan.claim:
            with engine.begin() as conn:
                written, failure_status = _write(conn, plan)
                claimed = _claim(conn, plan, out) if plan.claim else None
            out.written, out.failure_status, out.claimed = written, failure_status, claimed
        if plan.leases:
            with engine.begin() as conn:
                out.alive, out.cancel = protocol.heartbeat(
                    conn, plan.leases, lease_seconds=plan.lease_seconds
                )
        if plan.rescue:
            with engine.begin() as conn:
                out.rescued = len(protocol.rescue(conn))
            with engine.begin() as conn:
                protocol.compact_counts(conn)
    except (DBAPIError, psycopg.Error) as exc:
        out.error = exc
    return out


def _write(conn: sa.Connection, plan: Plan) -> tuple[set[uuid.UUID], dict[uuid.UUID, str]]:
    done: set[uuid.UUID] = set()
    completed = protocol.complete(conn, plan.completions)
    search_store.write_completions(conn, plan.completions, completed)  # same transaction
    preview_store.save(conn, plan.previews)  # after the completions: it keeps completed jobs' only
    done |= completed
    failure_status = protocol.record_failures(conn, plan.failures)
    done |= set(failure_status)
    done |= protocol.mark_cancelled(conn, [protocol.Held(c.id, c.token) for c in plan.cancels])
    done |= protocol.release(conn, [protocol.Held(r.id, r.token) for r in plan.releases])
    return done, failure_status


def _claim(conn: sa.Connection, plan: Plan, out: StepResult) -> list[protocol.Claimed]:
    claimed = protocol.claim(
        conn,
        worker_id=plan.worker_id,
        limit=plan.claim,
        lease_seconds=plan.lease_seconds,
        formats=plan.formats,
    )
    if not claimed and plan.check_done:
        out.queue_done = _queue_done(conn, plan, out)
    return claimed


def _queue_done(conn: sa.Connection, plan: Plan, out: StepResult) -> bool:
    if protocol.has_runnable(conn, plan.formats):
        return False
    if plan.wait_for_retries:
        # jobs of a dead worker come back when their lease expires: wait for them too
        if protocol.has_processing(conn, plan.formats):
            return False
        out.next_retry_in = protocol.next_run_after(conn, plan.formats)
        if out.next_retry_in is not None:
            return False
    return True


class Runner:
    """A daemon thread that runs one step at a time; ``fileno()`` becomes readable when one ends.

    A daemon thread rather than concurrent.futures' pool: the pool's threads are joined
    at interpreter exit, so a step stuck on a dead network would hang the worker's exit.
    """

    def __init__(self) -> None:
        self._requests: stdqueue.SimpleQueue[tuple[Callable[[], StepResult], Future[StepResult]] | None] = (
            stdqueue.SimpleQueue()
        )
        self._read, self._write = os.pipe()
        os.set_blocking(self._read, False)
        os.set_blocking(self._write, False)
        self._thread = threading.Thread(target=self._serve, name="cadextract-db", daemon=True)
        self._thread.start()
        self._step: tuple[Plan, Future[StepResult]] | None = None  # the step in flight

    @property
    def busy(self) -> bool:
        """A step is in flight (its end makes ``fileno()`` readable)."""
        return self._step is not None

    def start(self, engine: Engine, plan: Plan) -> None:
        """Run ``plan`` on the thread; one step at a time."""
        assert self._step is None, "a database step is already in flight"
        self._step = (plan, self.submit(functools.partial(execute, engine, plan)))

    def collect(self, timeout: float | None = 0.0) -> tuple[Plan, StepResult] | None:
        """The step in flight and its result once it has ended (waiting up to ``timeout``);
        None while it runs or when none does. A non-database error is re-raised here."""
        if self._step is None:
            return None
        plan, future = self._step
        try:
            result = future.result(timeout)
        except TimeoutError:
            return None
        self.clear()
        self._step = None
        return plan, result

    def submit(self, fn: Callable[[], StepResult]) -> Future[StepResult]:
        future: Future[StepResult] = Future()
        self._requests.put((fn, future))
        return future

    def fileno(self) -> int:
        return self._read

    def clear(self) -> None:
        """Consume the wake-up bytes (call when ``fileno()`` was readable)."""
        with contextlib.suppress(BlockingIOError):
            while os.read(self._read, 4096):
                pass

    def close(self) -> None:
        """End the thread once it has finished what it was given."""
        self._requests.put(None)

    def _serve(self) -> None:
        while True:
            request = self._requests.get()
            if request is None:
                os.close(self._write)
                os.close(self._read)
                return
            fn, future = request
            try:
                future.set_result(fn())
            except BaseException as exc:  # handed to the loop, which re-raises it
                future.set_exception(exc)
            # a full pipe means the loop is already due to wake up
            with contextlib.suppress(BlockingIOError):
                os.write(self._write, b"\0")
