"""The supervisor: claims jobs, hands each to a child process, writes what happened.

One process, one loop, plus a thread that talks to the database (``dbstep``);
children only extract (``child``). Each turn of the loop it

1. reads messages and deaths from children, notifications, and the result of the
   last database step, if it has ended;
2. enforces timeouts, memory limits, cancel requests and lost leases by killing children;
3. if no database step is running, starts the next one (``dbstep.Plan``): write the
   outcomes waiting in the ledger's outbox, claim as many jobs as there is room for,
   renew leases every heartbeat, rescue jobs of dead workers every lease/2;
4. hands queued jobs to children.

Only the loop's thread touches this state; the collaborators each own one part of it
and make the decisions: ``pool`` (children), ``ledger`` (where each held job is; lease
loss, cancels, child deaths), ``outcomes`` (what happened, the retry decision),
``pacing`` (how many to hold), ``limits`` (deadlines, memory, recycling), ``schedule``
(when to claim, heartbeat, rescue), ``connection`` (LISTEN, outages), ``stopping``
(graceful and forced stop). This class reads, asks them, and acts.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import wait
from typing import Any

from sqlalchemy.engine import Engine

from cadextract import backoff
from cadextract.config import Settings
from cadextract.db import first_line
from cadextract.extractors import registry
from cadextract.previews import job as preview_job
from cadextract.runtime import dbstep, limits, outcomes, pacing, previewing
from cadextract.runtime.connection import Connection
from cadextract.runtime.ledger import CHILD_STOPPED, Act, HeldJob, Ledger, Place
from cadextract.runtime.messages import Done, Failed, PreviewMade, Progress
from cadextract.runtime.outcomes import Event, EventKind, Kill, Stats, Verdict
from cadextract.runtime.pool import Child, Pool
from cadextract.runtime.schedule import MAX_WAIT, Schedule
from cadextract.runtime.stopping import Stop

__all__ = ["Event", "HeldJob", "Options", "Stats", "Supervisor"]

log = logging.getLogger(__name__)

SHUTDOWN_STEP_WAIT = 30.0  # seconds a stopping worker waits for a database step in flight


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
        self.settings = settings
        self.options = options
        self.on_event = on_event or (lambda e: None)
        self.on_tick = on_tick or (lambda s: None)
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}"
        self.wait_policy = backoff.policy(settings.backoff_base, settings.backoff_cap)
        self.formats = list(options.formats) if options.formats else registry.names()
        self.db = Connection.of(engine, settings, reconnect)
        self.pool = Pool(options.concurrency)
        self.ledger = Ledger()
        self.previews = previewing.Previews(preview_job.seconds_allowed())
        self.pacing = pacing.Pacing(prefetch=options.prefetch)
        self.stop = Stop(settings.grace_seconds)
        self.schedule = Schedule.of(settings)
        self.stats = Stats()
        self.started_at = time.monotonic()
        self._runner = dbstep.Runner()  # the database thread, and the step in flight on it
        self._queue_done = False  # with until_empty: the last claim found the queue finished

    # -- public ---------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self.db.connected

    @property
    def fatal(self) -> str | None:
        """Why the worker had to stop (a damaged schema), if it had to."""
        return self.db.fatal

    def request_stop(self, force: bool = False) -> None:
        """Stop claiming; running jobs get the grace period (or none when ``force``)."""
        self.stop.request(time.monotonic(), force)

    def run(self) -> Stats:
        """The main loop; returns when stopped or (with until_empty) when the queue is done."""
        self.db.listen()
        try:
            # children first, like any prefork pool: a job is claimed only when a child
            # can start it, so its lease and started_at don't include the start-up
            for index, child in enumerate(self.pool.slots):
                if child is None and not self.stop.requested:
                    self._spawn(index)
            while not self._finished():
                self._turn()
                self.on_tick(self)
        finally:
            try:
                self._shutdown()
            finally:
                self._runner.close()
        return self.stats

    def snapshot(self) -> list[tuple[int, int | None, HeldJob | None]]:
        """(slot index, child pid, running job) for each slot, for live views."""
        return [
            (i, c.process.pid if c else None, self.ledger.get(c.current) if c and not c.drawing else None)
            for i, c in enumerate(self.pool.slots)
        ]

    def unfinished(self) -> int:
        """Jobs held that have not ended yet: queued here, piped or running in a child."""
        return self.ledger.count(Place.QUEUED, Place.PIPED, Place.RUNNING)

    # -- the loop -----------------------------------------------------------------

    def _turn(self) -> None:
        now = time.monotonic()
        self._read(self._wait_timeout(now))
        self._collect_step()
        now = time.monotonic()
        if self.pool.exiting:
            self.pool.reap()
        self._enforce_limits(now)
        if self.stop.requested:
            self._stop_work(now)
        if (
            not self.db.connected
            and not self._runner.busy
            and self.db.reconnect(now, len(self.ledger.outbox))
        ):
            self.schedule.heartbeat_now()
            self.schedule.wake = True
        if self.db.connected and not self._runner.busy:
            plan = self._plan(now)
            if plan is not None:
                self._runner.start(self.db.engine, plan)
        self._assign_work()

    def _room(self, child: Child | None, depth: int) -> int:
        return pacing.slot_room(depth, self.settings.recycle_after, child, stopping=self.stop.requested)

    def _capacity(self) -> int:
        depth = self.pacing.depth()
        rooms = [self._room(c, depth) for c in self.pool.slots]
        return pacing.capacity(
            rooms, self.pacing.held_here(self.options.concurrency), len(self.ledger.backlog)
        )

    def _wait_timeout(self, now: float) -> float:
        if self._runner.busy:
            return MAX_WAIT  # the step's end wakes the loop (Runner.fileno)
        can_claim = not self.stop.requested and self._capacity() > 0
        return self.schedule.sleep(
            now, can_claim=can_claim, connected=self.db.connected, writes=self._writes_waiting()
        )

    def _read(self, timeout: float) -> None:
        """Wait for children, notifications or the database step; take in what came."""
        live = self.pool.live()
        waitables: list[Any] = self.pool.waitables()
        listen = self.db.fileno()
        if listen is not None:
            waitables.append(listen)
        if self._runner.busy:
            waitables.append(self._runner.fileno())
        if not waitables:
            time.sleep(timeout)
            return
        ready_list = wait(waitables, timeout)
        ready = {id(r) for r in ready_list}
        if listen is not None and listen in ready_list:
            heard = self.db.heard()
            self.schedule.wake = self.schedule.wake or heard.new_jobs
            if heard.cancel:
                self.schedule.heartbeat_now()  # learn which job right away
        for child in live:
            if id(child.conn) in ready:
                self._take_messages(child)
            if self.pool.exited(child, id(child.process.sentinel) in ready):
                self._take_messages(child)
                self._child_gone(child)

    # -- children -----------------------------------------------------------------

    def _spawn(self, index: int) -> Child:
        self.stats.children_started += 1
        return self.pool.spawn(index)

    def _take_messages(self, child: Child) -> None:
        for message in self.pool.messages(child):
            if isinstance(message, PreviewMade):
                if self.previews.made(child, message):
                    self.ledger.resumed(child, time.monotonic())
                    self.pool.job_ended(child, recycle=False)
                continue
            if child.current != message.job_id:
                continue  # not what this child is running (we gave up on it)
            held = self.ledger[message.job_id]
            if isinstance(message, Progress):
                held.progress, held.note = message.percent, message.note
                continue
            if isinstance(message, Done) and message.preview_follows:
                self.previews.began(child, message.job_id, time.monotonic())
            self.ledger.moved_on(child, time.monotonic())
            self._took(held)
            self._conclude(held, outcomes.after_report(held.fate, message), message)
            recycle = limits.recycle_due(
                jobs_run=child.jobs_run, in_pipe=len(child.jobs), recycle_after=self.settings.recycle_after
            )
            self.pool.job_ended(child, recycle=recycle)

    def _child_gone(self, child: Child) -> None:
        """The child died or was killed: the ledger says what becomes of the jobs it held."""
        code = child.process.exitcode
        self.pool.gone(child)
        drawing = self.previews.lost(child, previewing.lost_warning(child.kill, code))
        if not child.jobs:
            return
        log.debug(
            "child %s ended (%s) holding %d job(s); kill reason %s",
            child.process.pid,
            limits.describe_exit(code),
            len(child.jobs),
            child.kill,
        )
        self._took(self.ledger[child.jobs[0]])
        # while drawing a preview, none of its jobs had begun: they all go back untouched
        stopping = self.stop.requested
        kill = CHILD_STOPPED if drawing else limits.death_reason(child.kill, code, stopping=stopping)
        for ending in self.ledger.child_gone(child, kill):
            self._conclude(ending.held, ending.verdict, ending.why)

    def _kill(self, child: Child, kill: Kill) -> None:
        self.pool.kill(child, kill)
        self._child_gone(child)  # anything it sent after the kill decision is ignored

    def _took(self, held: HeldJob) -> None:
        if held.started is not None:
            self.pacing.took(time.monotonic() - held.started)

    def _conclude(self, held: HeldJob, verdict: Verdict, why: Done | Failed | Kill) -> None:
        """Put the verdict's outcome in the outbox (or, dropped, tell the job was lost)."""
        outcome = outcomes.conclude(
            held.job, verdict, why, settings=self.settings, wait=self.wait_policy, worker_id=self.worker_id
        )
        if outcome is not None:
            self.ledger.record(held, outcome)
        else:
            self.ledger.forget(held.job.id)
            self._lost(held)

    def _lost(self, held: HeldJob) -> None:
        self._emit(EventKind.LOST, held, "lease taken over by another worker")

    def _enforce_limits(self, now: float) -> None:
        """Kill children past their job's deadline or memory limit; recycle the ones growing."""
        measure = self.schedule.measure_memory(now)
        for child in self.pool.live():
            held = self.ledger.get(child.current)
            clock = child.drawing or held  # a preview has its own deadline; its next job waits
            if clock is None or clock.started is None or clock.deadline is None:
                continue
            rss = self.pool.rss(child) if measure else None
            verdict = limits.check(
                clock.started, clock.deadline, now, rss=rss, limit_mb=self.settings.memory_limit_mb
            )
            if isinstance(verdict, Kill):
                self._kill(child, verdict)
            elif verdict is limits.Memory.RECYCLE:
                self.pool.recycle(child)

    def _assign_work(self) -> None:
        depth = self.pacing.depth()
        for index, child in enumerate(self.pool.slots):
            if not self.ledger.backlog:
                return
            room = self._room(child, depth)
            if not pacing.worth_sending(room, len(child.jobs) if child else 0, depth):
                continue
            if child is None:
                child = self._spawn(index)
            batch = self.ledger.next_queued(room)
            if self.pool.send(child, [h.spec(self.settings) for h in batch]):
                self.ledger.piped(batch, child, time.monotonic())

    # -- the database step ------------------------------------------------------------

    def _collect_step(self, timeout: float | None = 0.0) -> None:
        """Apply the database step's result once it has ended (wait up to ``timeout``)."""
        done = self._runner.collect(timeout)
        if done is not None:
            self._apply(*done, time.monotonic())

    def _plan(self, now: float) -> dbstep.Plan | None:
        """The next database step: the outcomes to write, and what ``schedule`` says is due
        (a claim as big as ``pacing`` allows, a heartbeat, a rescue). None: nothing to do."""
        claim_due = not self.stop.requested and self.schedule.claim_due(now)
        claim = max(0, min(self._capacity(), self.options.batch_limit)) if claim_due else 0
        due = self.schedule.step(now, claim=claim, writes=self._writes_waiting())
        if due is None:
            return None
        plan = dbstep.Plan.writing(self.ledger.take_outbox())
        plan.previews = self.previews.take(previewing.writable(self.ledger))
        plan.claim = due.claim
        plan.worker_id = self.worker_id
        plan.formats = self.formats
        plan.lease_seconds = self.settings.lease_seconds
        plan.check_done = self.options.until_empty and not self.ledger
        plan.wait_for_retries = self.options.wait_for_retries
        plan.rescue = due.rescue
        plan.leases = self.ledger.leases() if due.heartbeat else None
        return plan

    def _writes_waiting(self) -> bool:
        return bool(self.ledger.outbox) or self.previews.waiting(self.ledger.__contains__)

    def _apply(self, plan: dbstep.Plan, result: dbstep.StepResult, now: float) -> None:
        """Take in what a database step did, in the order it did it."""
        if result.written is None:
            self.ledger.give_back(plan.outcomes())
            self.previews.give_back(plan.previews)
        else:
            for outcome in plan.outcomes():
                self._report(outcomes.reported(outcome, result.written, result.failure_status))
            if self.options.until_empty and not self.ledger and plan.has_writes():
                # the last job held is written: ask at once whether the queue is done
                # (not at the next poll, which would add up to a poll interval to every run)
                self.schedule.wake = True
        if result.claimed is not None:
            self._claimed(plan, result, now)
        if result.alive is not None and plan.leases:
            for lease in plan.leases:
                held = self.ledger.get(lease.id)
                if held is None:
                    continue
                if lease.id not in result.alive:
                    self._act(held, self.ledger.lease_lost(lease.id), outcomes.LEASE_LOST)
                elif lease.id in result.cancel:
                    self._act(held, self.ledger.cancel_requested(lease.id), outcomes.CANCELLED)
        if result.rescued:
            log.info("rescued %d job(s) whose worker stopped renewing its lease", result.rescued)
            self.schedule.wake = True
        if result.error is not None and self.db.failed(result.error):
            self.request_stop(force=True)  # a damaged schema: waiting cannot fix it

    def _act(self, held: HeldJob, act: Act, kill: Kill) -> None:
        """Carry out what the ledger decided about a lease loss or a cancel."""
        if act is Act.KILL_CHILD:
            assert held.child is not None
            self._kill(held.child, kill)
        elif act is Act.DROPPED:
            self._lost(held)

    def _report(self, event: Event) -> None:
        """An outcome was written (or refused): the job is no longer held."""
        held = self.ledger.forget(event.job_id)
        if held is not None:
            self._emit(event.kind, held, event.detail)

    def _claimed(self, plan: dbstep.Plan, result: dbstep.StepResult, now: float) -> None:
        claimed = result.claimed or []
        self.schedule.claimed(len(claimed), plan.claim)
        if not claimed:
            if result.queue_done and not self.ledger:
                self._queue_done = True
            elif result.next_retry_in is not None:
                self.schedule.retry_due_in(now, result.next_retry_in)
            return
        self._queue_done = False
        for job in claimed:
            held = self.ledger.claimed(job, limits.timeout_for(job, self.settings))
            self._emit(EventKind.CLAIMED, held, f"attempt {job.attempts}/{job.max_attempts}")

    def _emit(self, kind: EventKind, held: HeldJob, detail: str) -> None:
        self.stats.count(kind)
        job = held.job
        self.on_event(Event(kind, job.id, job.path, job.format, detail))

    # -- stopping -------------------------------------------------------------------

    def _finished(self) -> bool:
        if self.stop.requested:
            return not self.ledger or (not self.db.connected and self.stop.gave_up_writing(time.monotonic()))
        drawing = any(c.drawing for c in self.pool.live()) or self.previews.pending
        return bool(self.options.until_empty and self._queue_done and not self.ledger and not drawing)

    def _stop_work(self, now: float) -> None:
        self.ledger.release_backlog()
        if self.stop.kill_running(now):
            for child in self.pool.holding():
                self._kill(child, outcomes.SHUTDOWN)

    def _shutdown(self) -> None:
        for child in self.pool.live():
            if child.jobs:
                self._kill(child, outcomes.SHUTDOWN)
            else:
                self.pool.kill_idle(child)
        self.pool.reap(timeout=5)
        # a claim still in flight adds to the backlog: wait for it before returning that
        self._collect_step(timeout=SHUTDOWN_STEP_WAIT)
        self.ledger.release_backlog()
        if self.db.connected and not self._runner.busy and (self.ledger.outbox or self.previews.pending):
            plan = dbstep.Plan.writing(self.ledger.take_outbox())
            plan.previews = self.previews.take(previewing.writable(self.ledger))
            result = dbstep.execute(self.db.engine, plan)
            self._apply(plan, result, time.monotonic())
            if result.error is not None:
                log.warning(
                    "could not return %d job(s) to the queue (%s); they come back when their lease expires",
                    len(self.ledger),
                    first_line(result.error),
                )
        self.db.close()
