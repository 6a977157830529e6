"""The supervisor: claims jobs, hands each to a child process, writes what happened.

One process, one loop, plus a thread that talks to the database (``dbstep.py``);
children only extract (see ``child.py``). Each turn of the loop it

1. reads messages and deaths from children (``multiprocessing.connection.wait``),
   and the result of the last database step, if it has ended;
2. enforces timeouts, memory limits, cancel requests and lost leases by killing children,
3. if no database step is running, starts the next one: write finished jobs (results +
   status, fenced by lease token) and claim as many jobs as it has room for, in one
   transaction; every heartbeat also renew leases, store progress and learn of cancel
   requests; every lease/2 rescue jobs whose worker died;
4. hands claimed jobs to children.

Only the loop's thread touches the supervisor's state: the database thread gets a
``Plan`` and returns a ``StepResult``, which the loop applies. Children are fed while
a step's round trips are in flight.

If PostgreSQL goes away, the children keep working; outcomes wait in memory and are
written when the connection is back (reconnects follow the tenacity backoff policy).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import multiprocessing
import multiprocessing.context
import multiprocessing.forkserver
import os
import signal
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any

import psutil
import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from cadextract import backoff, child, dbstep, dburl, queue, schema_health
from cadextract.config import Settings
from cadextract.db import first_line
from cadextract.extractors import registry
from cadextract.models import JobStatus

log = logging.getLogger(__name__)

MEMORY_CHECK_EVERY = 0.2  # seconds
MAX_WAIT = 0.25  # longest the loop sleeps, so signals and deadlines are seen promptly
RECYCLE_AT_MEMORY = 0.5  # a child above this share of the memory limit is replaced after its jobs
# Holding jobs ahead (claimed, not yet running) saves round trips on tiny files but
# keeps them from idle workers elsewhere: hold about this much work per child...
HOLD_AHEAD_SECONDS = 0.1
MAX_AHEAD = 256  # ...and never more than this many jobs per child
PIPE_AHEAD = 8  # of which at most this many wait in the child's pipe; the rest stay here,
PIPE_AHEAD_SECONDS = 0.005  # and only as many as take this long: a pipe can't be rebalanced
JOB_SECONDS_WEIGHT = 0.2  # of the newest job in the moving average of durations
SHUTDOWN_STEP_WAIT = 30.0  # seconds a stopping worker waits for a database step in flight


@dataclass(frozen=True)
class Event:
    """Something that happened to a job, for the CLI to log or render."""

    kind: str  # claimed | completed | retrying | failed | cancelled | released | lost
    job_id: uuid.UUID
    path: str
    format: str
    detail: str = ""


@dataclass
class Running:
    """A job this worker holds (claimed, maybe running in a child, maybe awaiting its write)."""

    job: queue.Claimed
    slot: Slot | None = None
    started: float | None = None  # monotonic, when the child began it
    deadline: float | None = None
    progress: float = 0.0
    note: str | None = None
    #: what to do with its outcome when it arrives: None (write it), "cancel", "drop"
    fate: str | None = None


@dataclass(eq=False)
class Slot:
    """One child process and the jobs sent to it, in the order it runs them."""

    index: int
    process: BaseProcess
    conn: Connection
    jobs: deque[uuid.UUID] = field(default_factory=deque)
    jobs_run: int = 0
    retiring: bool = False
    kill_reason: dict[str, Any] | None = None  # why we killed it, if we did

    @property
    def current(self) -> uuid.UUID | None:
        return self.jobs[0] if self.jobs else None


@dataclass
class Stats:
    claimed: int = 0
    completed: int = 0
    failed: int = 0
    retried: int = 0
    cancelled: int = 0
    released: int = 0
    children_started: int = 0


@dataclass
class Options:
    """How one `cadextract work` runs (on top of Settings)."""

    concurrency: int = 2
    until_empty: bool = False
    #: with until_empty: also wait for jobs backing off before a retry (used by `run`)
    wait_for_retries: bool = False
    #: jobs queued in each child beyond the one it runs; None: judged from job durations
    prefetch: int | None = None
    formats: Sequence[str] | None = None
    batch_limit: int = 500


class Supervisor:
    """Runs jobs from the queue in child processes until stopped (or the queue is empty)."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        options: Options,
        *,
        on_event: Callable[[Event], None] | None = None,
        on_tick: Callable[[Supervisor], None] | None = None,
        reconnect: Callable[[], Engine] | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.options = options
        self.on_event = on_event or (lambda e: None)
        self.on_tick = on_tick or (lambda s: None)
        self._reconnect_engine = reconnect
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}"
        self.wait_policy = backoff.policy(settings.backoff_base, settings.backoff_cap)
        # reconnecting uses the same policy shape, capped so a restarted server is seen soon
        self.reconnect_policy = backoff.policy(
            min(settings.backoff_base, 0.5), min(settings.backoff_cap, 10.0)
        )
        self.formats = list(options.formats) if options.formats else registry.names()
        self.ctx = start_forkserver()
        self._job_seconds: float | None = None  # moving average of recent jobs' durations
        self.slots: list[Slot | None] = [None] * options.concurrency
        self.held: dict[uuid.UUID, Running] = {}
        self.draining: list[Slot] = []  # recycled children finishing the jobs they hold
        self.exiting: list[BaseProcess] = []  # retired children not yet reaped
        self.backlog: deque[uuid.UUID] = deque()
        self.completions: list[queue.Completion] = []
        self.failures: list[queue.Failure] = []
        self.cancels: list[tuple[uuid.UUID, uuid.UUID]] = []
        self.releases: list[tuple[uuid.UUID, uuid.UUID]] = []
        self._db = dbstep.Runner()
        self._step: tuple[dbstep.Plan, Future[dbstep.StepResult]] | None = None  # in flight
        self.stats = Stats()
        self.started_at = time.monotonic()
        self.connected = True
        self._db_failures = 0
        self._next_reconnect = 0.0
        self._listen: psycopg.Connection[Any] | None = None
        self._wake = True
        self._next_poll = 0.0
        self._next_heartbeat = 0.0
        self._next_rescue = 0.0
        self._next_memcheck = 0.0
        self._stopping = False
        self._stop_deadline: float | None = None
        self._force = False
        self._idle_since: float | None = None
        #: set when the schema turned out damaged: the worker stops; the CLI exits 3 with it
        self.fatal: str | None = None

    # -- public ---------------------------------------------------------------------

    def request_stop(self, force: bool = False) -> None:
        """Stop claiming; running jobs get the grace period (or none when ``force``)."""
        if self._stopping and not force:
            force = True  # a second request means now
        if not self._stopping:
            log.info(
                "stopping: no new jobs; waiting up to %.0fs for running ones", self.settings.grace_seconds
            )
        self._stopping = True
        if self._stop_deadline is None:
            self._stop_deadline = time.monotonic() + self.settings.grace_seconds
        if force and not self._force:
            log.info("stopping now: running jobs go back to the queue")
            self._force = True

    def run(self) -> Stats:
        """The main loop; returns when stopped or (with until_empty) when the queue is done."""
        self._open_listener()
        try:
            # children first, like any prefork pool: a job is claimed only when a child
            # can start it, so its lease and started_at don't include the start-up
            for index, slot in enumerate(self.slots):
                if slot is None and not self._stopping:
                    self._spawn(index)
            while not self._finished():
                self._turn()
                self.on_tick(self)
        finally:
            try:
                self._shutdown()
            finally:
                self._db.close()
        return self.stats

    def snapshot(self) -> list[tuple[int, int | None, Running | None]]:
        """(slot index, child pid, running job) for each slot, for live views."""
        out = []
        for i, slot in enumerate(self.slots):
            current = slot.current if slot else None
            out.append((i, slot.process.pid if slot else None, self.held.get(current) if current else None))
        return out

    # -- the loop -----------------------------------------------------------------

    def _turn(self) -> None:
        now = time.monotonic()
        self._read_children(self._wait_timeout(now))
        self._collect_step()
        now = time.monotonic()
        if self.exiting:
            self._reap()
        self._enforce_limits(now)
        if self._stopping:
            self._stop_work(now)
        if not self.connected and self._step is None:
            self._try_reconnect(now)
        if self.connected:
            self._db_step(now)
        self._assign_work()

    def _wait_timeout(self, now: float) -> float:
        if self._step is not None:
            return MAX_WAIT  # the step's end wakes the loop (Runner.fileno)
        if self._wake and self.connected and not self._stopping and self._capacity() > 0:
            return 0.0
        due = [self._next_heartbeat, self._next_rescue]
        if not self._stopping and self._capacity() > 0:
            # only when a claim could follow: with every child busy, a poll time in the
            # past would make this loop spin (it did, taking a core from the children)
            due.append(self._next_poll)
        if self._outcomes_waiting():
            due.append(now)
        return max(0.0, min(MAX_WAIT, min(due) - now))

    def _outcomes_waiting(self) -> bool:
        return bool(self.completions or self.failures or self.cancels or self.releases)

    def _db_step(self, now: float) -> None:
        """Start the next database step on the database thread, if one is due and none runs."""
        if self._step is not None:
            return
        plan = self._plan(now)
        if plan is not None:
            self._step = (plan, self._db.submit(functools.partial(dbstep.execute, self.engine, plan)))

    def _collect_step(self, timeout: float | None = 0.0) -> None:
        """Apply the database step's result once it has ended (wait up to ``timeout``)."""
        if self._step is None:
            return
        plan, future = self._step
        try:
            result = future.result(timeout)
        except TimeoutError:
            return
        self._db.clear()
        self._step = None
        self._apply(plan, result, time.monotonic())

    # -- children -----------------------------------------------------------------

    def _spawn(self, index: int) -> Slot:
        parent_conn, child_conn = self.ctx.Pipe(duplex=True)
        process = self.ctx.Process(target=child.main, args=(child_conn,), name=f"cadextract-child-{index}")
        process.start()
        child_conn.close()
        self.stats.children_started += 1
        slot = Slot(index=index, process=process, conn=parent_conn)
        self.slots[index] = slot
        return slot

    def _read_children(self, timeout: float) -> None:
        waitables: list[Any] = []
        for slot in self._live():
            waitables += [slot.conn, slot.process.sentinel]
        if self._listen is not None:
            waitables.append(self._listen.fileno())
        if self._step is not None:
            waitables.append(self._db.fileno())
        if not waitables:
            time.sleep(timeout)
            return
        ready_list = wait(waitables, timeout)
        ready = {id(r) for r in ready_list}
        if self._listen is not None and self._listen.fileno() in ready_list:
            self._drain_notifications()
        for slot in self._live():
            if id(slot.conn) in ready:
                self._drain(slot)
            if id(slot.process.sentinel) in ready or not slot.process.is_alive():
                slot.process.join(0.05)
                if slot.process.exitcode is not None and not slot.conn.closed:
                    self._drain(slot)
                    self._child_died(slot)

    def _live(self) -> list[Slot]:
        """Every child with a pipe open: the slots' and the recycled ones still draining."""
        return [s for s in self.slots if s is not None] + self.draining

    def _detach(self, slot: Slot) -> None:
        if self.slots[slot.index] is slot:
            self.slots[slot.index] = None
        if slot in self.draining:
            self.draining.remove(slot)

    def _drain(self, slot: Slot) -> None:
        try:
            while slot.conn.poll():
                self._handle(slot, slot.conn.recv())
        except (EOFError, OSError):
            pass

    def _handle(self, slot: Slot, msg: tuple[Any, ...]) -> None:
        kind, job_id = msg[0], msg[1]
        if slot.current != job_id:
            return  # not what this child is running (we gave up on it)
        running = self.held[job_id]
        if kind == "progress":
            running.progress, running.note = msg[2], msg[3]
            return
        slot.jobs.popleft()
        slot.jobs_run += 1
        running.slot = None
        self._took(running)
        if slot.jobs:
            self._started(slot.jobs[0])  # the child goes straight on to the next one
        if running.fate == "cancel":
            self.cancels.append((job_id, running.job.token))
        elif running.fate == "drop":
            self._drop(running)
        elif kind == "done":
            self.completions.append(queue.Completion(job_id, running.job.token, msg[2], msg[3]))
        else:
            self._failed(running, msg[2])
        if slot.jobs_run + len(slot.jobs) >= self.settings.recycle_after and not slot.retiring:
            self._recycle(slot)
        if slot.retiring and not slot.jobs:
            self._retire(slot)

    def _recycle(self, slot: Slot) -> None:
        """The child gets no more jobs; a successor takes its slot at once, so the
        pipeline keeps flowing while this one finishes what it holds, then exits."""
        slot.retiring = True
        if self.slots[slot.index] is slot:
            self.slots[slot.index] = None
        if slot not in self.draining:
            self.draining.append(slot)

    def _retire(self, slot: Slot, *, wait: bool = False) -> None:
        """Ask an idle child to exit (a clean exit between jobs contains parser leaks)."""
        with contextlib.suppress(OSError):
            slot.conn.send(None)
        slot.conn.close()
        self._detach(slot)
        # the slot gets a new child at once; the old one is reaped when it has exited
        self.exiting.append(slot.process)
        if wait:
            self._reap(timeout=5)

    def _reap(self, timeout: float = 0.0) -> None:
        deadline = time.monotonic() + timeout
        for process in list(self.exiting):
            process.join(max(0.0, deadline - time.monotonic()))
            if process.exitcode is None and timeout:
                process.kill()
                process.join(1)
            if process.exitcode is not None:
                self.exiting.remove(process)

    def _child_died(self, slot: Slot) -> None:
        """The child is gone: its current job gets the reason, the ones queued behind go back."""
        code = slot.process.exitcode
        slot.conn.close()
        self._detach(slot)
        if not slot.jobs:
            return
        head = self.held[slot.jobs.popleft()]
        head.slot = None
        self._took(head)
        reason = slot.kill_reason
        log.debug(
            "child %s ended (%s) holding %d job(s); kill reason %s",
            slot.process.pid,
            _describe_exit(code),
            len(slot.jobs) + 1,
            reason,
        )
        if reason is None and self._stopping and code in (-signal.SIGTERM, -signal.SIGINT):
            # a stop signal sent to every process reached a child still starting up
            # (before it could ignore it): the job goes back, its attempt not counted
            reason = {"type": "Released", "message": "shutdown", "permanent": False}
        if reason is None:
            reason = {
                "type": "WorkerDied",
                "message": f"worker process died ({_describe_exit(code)})",
                "permanent": False,
            }
        self._settle(head, reason)
        while slot.jobs:
            behind = self.held[slot.jobs.popleft()]
            behind.slot = None
            self._settle(behind, {"type": "Released", "message": "child stopped", "permanent": False})

    def _settle(self, running: Running, reason: dict[str, Any]) -> None:
        """Record the end of a job whose child was killed or died."""
        token = running.job.token
        if running.fate == "drop" or reason["type"] == "LeaseLost":
            self._drop(running)
        elif running.fate == "cancel" or reason["type"] == "Cancelled":
            self.cancels.append((running.job.id, token))
        elif reason["type"] == "Released":
            self.releases.append((running.job.id, token))
        else:
            self._failed(running, reason)

    def _drop(self, running: Running) -> None:
        self.held.pop(running.job.id, None)
        self._emit("lost", running, "lease taken over by another worker")

    def _kill(self, slot: Slot, reason: dict[str, Any]) -> None:
        slot.kill_reason = reason
        if slot.process.is_alive():
            slot.process.kill()
        slot.process.join(2)
        self._child_died(slot)  # anything it sent after the kill decision is ignored

    def _enforce_limits(self, now: float) -> None:
        check_memory = now >= self._next_memcheck
        if check_memory:
            self._next_memcheck = now + MEMORY_CHECK_EVERY
        limit = self.settings.memory_limit_mb * 1024 * 1024
        for slot in self._live():
            if slot.current is None:
                continue
            running = self.held[slot.current]
            if running.deadline is not None and now > running.deadline:
                seconds = running.deadline - (running.started or running.deadline)
                self._kill(
                    slot,
                    {
                        "type": "Timeout",
                        "permanent": False,
                        "message": f"took longer than the {seconds:g}s limit; the child was killed",
                    },
                )
            elif check_memory:
                rss = _rss(slot.process.pid)
                if rss > limit:
                    self._kill(
                        slot,
                        {
                            "type": "MemoryLimit",
                            "permanent": True,
                            "message": f"used more than the {self.settings.memory_limit_mb} MB memory limit; "
                            "the child was killed",
                        },
                    )
                elif rss > limit * RECYCLE_AT_MEMORY and not slot.retiring:
                    # a parser that leaks: replace the child before a job pays for it
                    self._recycle(slot)

    def _started(self, job_id: uuid.UUID) -> None:
        """The job is now its child's current one: its wall-clock limit starts."""
        running = self.held[job_id]
        running.started = time.monotonic()
        running.deadline = running.started + _timeout_for(running.job, self.settings)

    def _ahead(self) -> int:
        """Jobs to hold per child beyond the one it runs: ~HOLD_AHEAD_SECONDS of work.

        Judged from the moving average of recent job durations, so seconds-long CAD
        jobs are claimed one per free child (an idle worker on another host can take the
        rest) and millisecond jobs don't wait for a round trip each. ``--prefetch``
        fixes the number instead, all of it in the child's pipe.
        """
        if self.options.prefetch is not None:
            return max(0, self.options.prefetch)
        return min(MAX_AHEAD, self._jobs_within(HOLD_AHEAD_SECONDS))

    def _pipe_ahead(self) -> int:
        """Jobs to queue in a child's pipe behind the one it runs.

        Only for jobs of a few milliseconds, where the pipe round trip between jobs
        counts; a job queued in a child waits for that child even when another is
        free, so anything longer is held in the supervisor for whichever frees first.
        """
        if self.options.prefetch is not None:
            return max(0, self.options.prefetch)
        return min(PIPE_AHEAD, self._ahead(), self._jobs_within(PIPE_AHEAD_SECONDS))

    def _jobs_within(self, seconds: float) -> int:
        """How many recent-average jobs fit in ``seconds`` (0 before the first one ends)."""
        if self._job_seconds is None:
            return 0
        return int(seconds / max(self._job_seconds, 1e-6))

    def _depth(self) -> int:
        """How many jobs a child may hold: the one it runs and those queued in its pipe."""
        return 1 + self._pipe_ahead()

    def _slot_room(self, slot: Slot | None) -> int:
        if slot is None:
            return 0 if self._stopping else min(self._depth(), self.settings.recycle_after)
        if slot.retiring:
            return 0
        quota = self.settings.recycle_after - slot.jobs_run - len(slot.jobs)
        return max(0, min(self._depth() - len(slot.jobs), quota))

    def _capacity(self) -> int:
        """How many more jobs to claim: room in the children, plus what to hold ahead
        here (adaptive mode), minus what is already waiting."""
        held_here = 0
        if self.options.prefetch is None:
            held_here = self.options.concurrency * max(0, self._ahead() - self._pipe_ahead())
        return sum(self._slot_room(s) for s in self.slots) + held_here - len(self.backlog)

    def _took(self, running: Running) -> None:
        """Fold a finished job's duration into the moving average."""
        if running.started is None:
            return
        seconds = time.monotonic() - running.started
        if self._job_seconds is None:
            self._job_seconds = seconds
        else:
            self._job_seconds += JOB_SECONDS_WEIGHT * (seconds - self._job_seconds)

    def _assign_work(self) -> None:
        for index in range(len(self.slots)):
            if not self.backlog:
                return
            slot = self.slots[index]
            room = self._slot_room(slot)
            # top a child's pipe up in chunks (one message for several tiny jobs), or
            # at once when it has nothing to do
            if room <= 0 or (slot is not None and slot.jobs and room < max(1, self._depth() // 2)):
                continue
            if slot is None:
                slot = self._spawn(index)
            batch = [self.backlog[i] for i in range(min(room, len(self.backlog)))]
            try:
                slot.conn.send([self._message(self.held[job_id].job) for job_id in batch])
            except OSError:
                continue  # the child is dying; its sentinel will tell us next turn
            for job_id in batch:
                self.backlog.popleft()
                slot.jobs.append(job_id)
                self.held[job_id].slot = slot
            if len(slot.jobs) == len(batch):
                self._started(slot.jobs[0])

    def _message(self, job: queue.Claimed) -> dict[str, Any]:
        """What a child needs to run a job."""
        return {
            "id": job.id,
            "path": job.path,
            "format": job.format,
            "sha256": job.sha256,
            "size": job.size,
            "options": job.options,
            "max_result_bytes": int(self.settings.max_result_mb * 1024 * 1024),
        }

    # -- decisions ----------------------------------------------------------------

    def _failed(self, running: Running, error: dict[str, Any]) -> None:
        job = running.job
        decision = backoff.decide(
            attempts=job.attempts,
            max_attempts=job.max_attempts,
            permanent=bool(error.get("permanent")),
            wait=self._policy_for(job),
        )
        entry = {
            "at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "attempt": job.attempts,
            "worker": self.worker_id,
            **error,
        }
        self.failures.append(queue.Failure(job.id, job.token, decision.status, decision.delay, entry))

    def _policy_for(self, job: queue.Claimed) -> Any:
        """The worker's backoff policy, or the job's own (options backoff_base / backoff_cap)."""
        base, cap = job.options.get("backoff_base"), job.options.get("backoff_cap")
        if base is None and cap is None:
            return self.wait_policy
        try:
            return backoff.policy(
                float(base if base is not None else self.settings.backoff_base),
                float(cap if cap is not None else self.settings.backoff_cap),
            )
        except (TypeError, ValueError):
            return self.wait_policy

    # -- database -------------------------------------------------------------------

    def _plan(self, now: float) -> dbstep.Plan | None:
        """Decide the next database step: the outcomes to write, the jobs to claim, and
        whether a heartbeat or rescue is due. None when there is nothing to do."""
        claim = min(self._capacity(), self.options.batch_limit) if self._claim_due(now) else 0
        heartbeat = now >= self._next_heartbeat
        rescue = now >= self._next_rescue
        if not (self._outcomes_waiting() or claim or heartbeat or rescue):
            return None
        plan = dataclasses.replace(
            self._take_outcomes(),
            claim=claim,
            worker_id=self.worker_id,
            formats=self.formats,
            lease_seconds=self.settings.lease_seconds,
            check_done=self.options.until_empty and not self.held,
            wait_for_retries=self.options.wait_for_retries,
            rescue=rescue,
        )
        if claim:
            self._wake = False
            self._next_poll = now + self.settings.poll_seconds
        if heartbeat:
            plan.leases = [queue.Lease(r.job.id, r.job.token, r.progress, r.note) for r in self.held.values()]
            self._next_heartbeat = now + self.settings.heartbeat_seconds
        if rescue:
            self._next_rescue = now + max(1.0, self.settings.lease_seconds / 2)
        return plan

    def _take_outcomes(self) -> dbstep.Plan:
        """A plan writing every outcome gathered so far; they now belong to it (a step
        that fails gives them back, see ``_apply``)."""
        plan = dbstep.Plan(self.completions, self.failures, self.cancels, self.releases)
        self.completions, self.failures, self.cancels, self.releases = [], [], [], []
        return plan

    def _apply(self, plan: dbstep.Plan, result: dbstep.StepResult, now: float) -> None:
        """Take in what a database step did, in the order it did it."""
        if result.written is None:
            # not committed: written again by the next step, ahead of newer outcomes
            self.completions[:0] = plan.completions
            self.failures[:0] = plan.failures
            self.cancels[:0] = plan.cancels
            self.releases[:0] = plan.releases
        else:
            self._written(plan, result.written, result.failure_status)
            if self.options.until_empty and not self.held and plan.has_writes():
                # the last job held is written: ask at once whether the queue is done
                # (not at the next poll, which would add up to a poll interval to every run)
                self._wake = True
        if result.claimed is not None:
            self._claimed(plan, result, now)
        if result.alive is not None and plan.leases:
            for lease in plan.leases:
                if lease.id not in result.alive:
                    self._lease_lost(lease.id)
                elif lease.id in result.cancel:
                    self._cancel_requested(lease.id)
        if result.rescued:
            log.info("rescued %d job(s) whose worker stopped renewing its lease", result.rescued)
            self._wake = True
        if result.error is not None:
            if schema_health.is_schema_error(result.error):
                self._schema_broken(result.error)
            else:
                self._lost_database(result.error)

    def _written(self, plan: dbstep.Plan, done: set[uuid.UUID], failure_status: dict[uuid.UUID, str]) -> None:
        """After commit: report each outcome, or that its lease was lost meanwhile."""
        lost = "not written: lease lost"
        for c in plan.completions:
            self._finish(c.id, "completed" if c.id in done else "lost", "" if c.id in done else lost)
        for f in plan.failures:
            if f.id not in done:
                self._finish(f.id, "lost", lost)
            elif failure_status.get(f.id) == "cancelled":
                self._finish(f.id, "cancelled", "cancel requested while it failed")
            elif f.status == JobStatus.FAILED:
                self._finish(f.id, "failed", f"{f.error['type']}: {f.error['message']}")
            else:
                self._finish(
                    f.id, "retrying", f"{f.error['type']}: {f.error['message']} (retry in {f.delay:.0f}s)"
                )
        for job_id, _ in plan.cancels:
            self._finish(job_id, "cancelled" if job_id in done else "lost", "")
        for job_id, _ in plan.releases:
            self._finish(job_id, "released" if job_id in done else "lost", "returned to the queue")

    def _finish(self, job_id: uuid.UUID, kind: str, detail: str) -> None:
        running = self.held.pop(job_id, None)
        if running is None:
            return
        counter = {
            "completed": "completed",
            "failed": "failed",
            "retrying": "retried",
            "cancelled": "cancelled",
            "released": "released",
        }.get(kind)
        if counter:
            setattr(self.stats, counter, getattr(self.stats, counter) + 1)
        self._emit(kind, running, detail)

    def _emit(self, kind: str, running: Running, detail: str) -> None:
        job = running.job
        self.on_event(Event(kind, job.id, job.path, job.format, detail))

    def _where(self, running: Running) -> Slot | None:
        return running.slot

    def _lease_lost(self, job_id: uuid.UUID) -> None:
        running = self.held.get(job_id)
        if running is None:
            return
        slot = self._where(running)
        if slot is not None and slot.current == job_id:
            self._kill(slot, {"type": "LeaseLost", "message": "lease lost", "permanent": False})
        elif slot is not None:
            running.fate = "drop"  # queued in a child: ignore whatever it reports
        else:
            if job_id in self.backlog:
                self.backlog.remove(job_id)
            self.completions = [c for c in self.completions if c.id != job_id]
            self.failures = [f for f in self.failures if f.id != job_id]
            self._drop(running)

    def _cancel_requested(self, job_id: uuid.UUID) -> None:
        running = self.held.get(job_id)
        if running is None:
            return
        if any(c.id == job_id for c in self.completions) or any(f.id == job_id for f in self.failures):
            return  # already finished; its outcome stands
        if self._step is not None and job_id in self._step[0].finishing():
            return  # finished, and being written right now
        slot = self._where(running)
        if slot is not None and slot.current == job_id:
            self._kill(slot, {"type": "Cancelled", "message": "cancelled", "permanent": True})
        elif slot is not None:
            running.fate = "cancel"
        elif job_id in self.backlog:
            self.backlog.remove(job_id)
            self.cancels.append((job_id, running.job.token))

    def _claim_due(self, now: float) -> bool:
        return not self._stopping and self._capacity() > 0 and (self._wake or now >= self._next_poll)

    def _claimed(self, plan: dbstep.Plan, result: dbstep.StepResult, now: float) -> None:
        claimed = result.claimed or []
        # a full batch means more may be waiting: claim again at once
        self._wake = self._wake or len(claimed) == plan.claim
        if not claimed:
            if result.queue_done and not self.held:
                self._idle_since = self._idle_since or now
            elif result.next_retry_in is not None:
                self._next_poll = min(self._next_poll, now + result.next_retry_in)
            return
        self._idle_since = None
        for job in claimed:
            running = Running(job)
            self.held[job.id] = running
            self.backlog.append(job.id)
            self.stats.claimed += 1
            self._emit("claimed", running, f"attempt {job.attempts}/{job.max_attempts}")

    # -- notifications and outages ----------------------------------------------------

    def _open_listener(self) -> None:
        try:
            # keywords, not a rendered URL: a password with a space broke that (and leaked)
            params = {"connect_timeout": 5, **dburl.libpq_params(self.engine.url)}
            self._listen = psycopg.connect(**params, autocommit=True)
            self._listen.execute(f"LISTEN {queue.CHANNEL}")
        except psycopg.Error as exc:
            log.debug(
                "LISTEN unavailable (%s); polling every %ss",
                dburl.redact(first_line(exc), self.engine.url),
                self.settings.poll_seconds,
            )
            self._listen = None

    def _drain_notifications(self) -> None:
        assert self._listen is not None
        try:
            for note in self._listen.notifies(timeout=0):
                if note.payload == "cancel":
                    self._next_heartbeat = 0.0  # learn which job right away
                else:
                    self._wake = True
        except psycopg.Error:
            self._close_listener()
            if self.connected:
                self._lost_database(None)

    def _close_listener(self) -> None:
        if self._listen is not None:
            with contextlib.suppress(psycopg.Error):
                self._listen.close()
        self._listen = None

    def _lost_database(self, exc: BaseException | None) -> None:
        if self.connected:
            reason = first_line(getattr(exc, "orig", None) or exc) if exc else "connection closed"
            log.warning("database unreachable (%s); children keep working, retrying with backoff", reason)
        self.connected = False
        self._close_listener()
        self._db_failures += 1
        self._next_reconnect = time.monotonic() + backoff.delay(self.reconnect_policy, self._db_failures)

    def _schema_broken(self, exc: BaseException) -> None:
        """A missing table or column is no outage: waiting cannot fix it, so stop now."""
        if self.fatal is None:
            self.fatal = f"the database schema is damaged: {first_line(getattr(exc, 'orig', None) or exc)}"
            log.error("%s; stopping (jobs held come back when their lease expires)", self.fatal)
        self.connected = False
        self._close_listener()
        self.request_stop(force=True)

    def _try_reconnect(self, now: float) -> None:
        if now < self._next_reconnect or self.fatal is not None:
            return
        try:
            if self._reconnect_engine is not None:
                self.engine = self._reconnect_engine()
            with self.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except (DBAPIError, psycopg.Error, RuntimeError) as exc:
            self._lost_database(exc)
            return
        log.warning(
            "database reachable again after %d attempt(s); writing %d finished job(s)",
            self._db_failures,
            len(self.completions) + len(self.failures),
        )
        self.connected = True
        self._db_failures = 0
        self._next_heartbeat = 0.0
        self._wake = True
        self._open_listener()

    # -- stopping -------------------------------------------------------------------

    def _finished(self) -> bool:
        if self._stopping:
            return not self.held or (not self.connected and self._gave_up_writing())
        return bool(self.options.until_empty and self._idle_since is not None and not self.held)

    def _gave_up_writing(self) -> bool:
        # stopping with the database down: once the grace period and 30 s more are over,
        # leave; leases expire and the rescuer returns the jobs (counting an attempt)
        if self._stop_deadline is None:
            return False
        return self._force or time.monotonic() > self._stop_deadline + 30

    def _release_backlog(self) -> None:
        while self.backlog:
            job_id = self.backlog.popleft()
            self.releases.append((job_id, self.held[job_id].job.token))

    def _stop_work(self, now: float) -> None:
        self._release_backlog()
        if self._force or (self._stop_deadline is not None and now > self._stop_deadline):
            for slot in self._live():
                if slot.jobs:
                    self._kill(slot, {"type": "Released", "message": "shutdown", "permanent": False})

    def _shutdown(self) -> None:
        for slot in self._live():
            if slot.jobs:
                self._kill(slot, {"type": "Released", "message": "shutdown", "permanent": False})
            else:
                # idle: nothing to lose, and a child that loaded OCP takes a second or
                # more to finalise; a cron run should not wait for that
                slot.process.kill()
                self._retire(slot)
        self._reap(timeout=5)
        # a claim still in flight adds to the backlog: wait for it before returning that
        self._collect_step(timeout=SHUTDOWN_STEP_WAIT)
        self._release_backlog()
        if self.connected and self._step is None and self._outcomes_waiting():
            plan = self._take_outcomes()
            result = dbstep.execute(self.engine, plan)
            self._apply(plan, result, time.monotonic())
            if result.error is not None:
                log.warning(
                    "could not return %d job(s) to the queue (%s); they come back when their lease expires",
                    len(self.held),
                    first_line(result.error),
                )
        self._close_listener()


def start_forkserver() -> multiprocessing.context.ForkServerContext:
    """Start the server children are forked from (idempotent); returns its context.

    The CLI calls it first thing in `work` and `run`, so that the server's start
    overlaps the command's own. Children start in milliseconds from this clean
    process, which never held a database connection (a fork of the supervisor could
    inherit one). It loads only what a child runs: each forked child also re-runs the
    main script (multiprocessing's "prepare"), which `cadextract.__main__` keeps light.
    """
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["cadextract.child"])
    _ensure_forkserver()
    return ctx


def _ensure_forkserver() -> None:
    """Start multiprocessing's forkserver with SIGTERM ignored.

    A service manager stopping the worker signals every process (systemd's default
    KillMode). The forkserver is the children's parent, and they die with it
    (PR_SET_PDEATHSIG), so it must outlive that SIGTERM: an ignored signal stays ignored
    across exec, and the forked children start with it ignored too.
    """
    if threading.current_thread() is not threading.main_thread():
        multiprocessing.forkserver.ensure_running()
        return
    previous = signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        multiprocessing.forkserver.ensure_running()
    finally:
        signal.signal(signal.SIGTERM, previous)


def _timeout_for(job: queue.Claimed, settings: Settings) -> float:
    raw = job.options.get("timeout")
    if raw is not None:
        try:
            return max(0.1, float(raw))
        except (TypeError, ValueError):
            log.warning("job %s: option timeout=%r is not a number; using the default", job.id, raw)
    if settings.timeout_seconds is not None:
        return settings.timeout_seconds
    try:
        return registry.get(job.format).default_timeout
    except (registry.UnknownFormat, ImportError):
        return 600.0


def _rss(pid: int | None) -> int:
    if pid is None:
        return 0
    try:
        return int(psutil.Process(pid).memory_info().rss)
    except psutil.Error:
        return 0


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "still running"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def install_signal_handlers(supervisor: Supervisor) -> Callable[[], None]:
    """SIGTERM / Ctrl-C stop gracefully; a second one stops at once.

    Returns the function to call once the supervisor has returned: from then on the
    process is only exiting (forkserver and idle children being torn down), and a
    further signal ends it at once, quietly, instead of raising KeyboardInterrupt
    into interpreter shutdown.
    """

    def handler(signum: int, frame: object) -> None:
        supervisor.request_stop()

    def exit_now(signum: int, frame: object) -> None:
        os._exit(128 + signum)

    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, handler)

    def exiting() -> None:
        for s in (signal.SIGINT, signal.SIGTERM):
            signal.signal(s, exit_now)

    return exiting
