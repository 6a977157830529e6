"""The supervisor: claims jobs, hands each to a child process, writes what happened.

One process, one thread, one loop. It owns the database connection; children only
extract (see ``child.py``). Each turn of the loop it

1. reads messages and deaths from children (``multiprocessing.connection.wait``),
2. enforces timeouts, memory limits, cancel requests and lost leases by killing children,
3. writes finished jobs in one transaction (results + status, fenced by lease token),
4. claims as many jobs as it has free slots, several per round trip,
5. every heartbeat: renews leases, stores progress, learns of cancel requests;
   every lease/2: rescues jobs whose worker died.

If PostgreSQL goes away, the children keep working; outcomes wait in memory and are
written when the connection is back (reconnects follow the tenacity backoff policy).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any

import psutil
import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from cadextract import backoff, child, queue
from cadextract.config import Settings
from cadextract.db import first_line
from cadextract.extractors import registry
from cadextract.models import JobStatus

log = logging.getLogger(__name__)

MEMORY_CHECK_EVERY = 0.2  # seconds
MAX_WAIT = 0.25  # longest the loop sleeps, so signals and deadlines are seen promptly


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
    slot: int | None = None
    started: float | None = None  # monotonic, when handed to a child
    deadline: float | None = None
    progress: float = 0.0
    note: str | None = None


@dataclass
class Slot:
    """One child process and the job it is running."""

    index: int
    process: BaseProcess
    conn: Connection
    job_id: uuid.UUID | None = None
    jobs_run: int = 0
    kill_reason: dict[str, Any] | None = None  # why we killed it, if we did


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
    #: jobs claimed beyond free slots, to save round trips on many tiny files
    prefetch: int = 0
    formats: Sequence[str] | None = None
    batch_limit: int = 100
    extra: dict[str, Any] = field(default_factory=dict)


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
        self.formats = list(options.formats) if options.formats else registry.names()
        self.ctx = multiprocessing.get_context("spawn")
        self.slots: list[Slot | None] = [None] * options.concurrency
        self.held: dict[uuid.UUID, Running] = {}
        self.backlog: deque[uuid.UUID] = deque()
        self.completions: list[queue.Completion] = []
        self.failures: list[queue.Failure] = []
        self.cancels: list[tuple[uuid.UUID, uuid.UUID]] = []
        self.releases: list[tuple[uuid.UUID, uuid.UUID]] = []
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

    # -- public ---------------------------------------------------------------------

    def request_stop(self, force: bool = False) -> None:
        """Stop claiming; running jobs get the grace period (or none when ``force``)."""
        if self._stopping and not force:
            force = True  # a second request means now
        if not self._stopping:
            log.info("stopping: no new jobs; waiting up to %.0fs for running ones", self.settings.grace_seconds)
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
            while not self._finished():
                self._turn()
                self.on_tick(self)
        finally:
            self._shutdown()
        return self.stats

    def snapshot(self) -> list[tuple[int, int | None, Running | None]]:
        """(slot index, child pid, running job) for each slot, for live views."""
        out = []
        for i, slot in enumerate(self.slots):
            running = self.held.get(slot.job_id) if slot and slot.job_id else None
            out.append((i, slot.process.pid if slot else None, running))
        return out

    # -- the loop -----------------------------------------------------------------

    def _turn(self) -> None:
        now = time.monotonic()
        self._read_children(self._wait_timeout(now))
        now = time.monotonic()
        self._enforce_limits(now)
        if self._stopping:
            self._stop_work(now)
        if not self.connected:
            self._try_reconnect(now)
        if self.connected:
            self._db_step(now)
        self._assign_work(now)

    def _wait_timeout(self, now: float) -> float:
        if self._wake and self.connected and not self._stopping and self._free_slots():
            return 0.0
        due = [self._next_heartbeat, self._next_poll]
        if self.completions or self.failures or self.cancels or self.releases:
            due.append(now)
        return max(0.0, min(MAX_WAIT, min(due) - now))

    def _db_step(self, now: float) -> None:
        try:
            self._flush()
            if now >= self._next_heartbeat:
                self._heartbeat()
                self._next_heartbeat = now + self.settings.heartbeat_seconds
            if now >= self._next_rescue:
                self._rescue()
                self._next_rescue = now + max(1.0, self.settings.lease_seconds / 2)
            if not self._stopping:
                self._claim(now)
        except (DBAPIError, psycopg.Error) as exc:
            self._lost_database(exc)

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
        for slot in self.slots:
            if slot is not None:
                waitables += [slot.conn, slot.process.sentinel]
        if self._listen is not None:
            waitables.append(self._listen.fileno())
        if not waitables:
            time.sleep(timeout)
            return
        ready_list = wait(waitables, timeout)
        ready = {id(r) for r in ready_list}
        if self._listen is not None and self._listen.fileno() in ready_list:
            self._drain_notifications()
        for slot in list(self.slots):
            if slot is None:
                continue
            if id(slot.conn) in ready:
                self._drain(slot)
            if not slot.process.is_alive() or id(slot.process.sentinel) in ready:
                slot.process.join(0.05)
                if slot.process.exitcode is not None:
                    self._drain(slot)
                    self._child_died(slot)

    def _drain(self, slot: Slot) -> None:
        try:
            while slot.conn.poll():
                self._handle(slot, slot.conn.recv())
        except (EOFError, OSError):
            pass

    def _handle(self, slot: Slot, msg: tuple[Any, ...]) -> None:
        kind, job_id = msg[0], msg[1]
        running = self.held.get(job_id)
        if running is None or slot.job_id != job_id:
            return  # a job we already gave up (lost lease, cancelled)
        if kind == "started":
            return
        if kind == "progress":
            running.progress, running.note = msg[2], msg[3]
            return
        slot.job_id = None
        slot.jobs_run += 1
        running.slot = None
        if kind == "done":
            self.completions.append(queue.Completion(job_id, running.job.token, msg[2], msg[3]))
        else:
            self._failed(running, msg[2])
        if slot.jobs_run >= self.settings.recycle_after:
            self._retire(slot)

    def _retire(self, slot: Slot) -> None:
        # a clean exit between jobs contains leaks in native parsers
        try:
            slot.conn.send(None)
        except OSError:
            pass
        slot.process.join(5)
        if slot.process.is_alive():
            slot.process.kill()
            slot.process.join()
        slot.conn.close()
        self.slots[slot.index] = None

    def _child_died(self, slot: Slot) -> None:
        code = slot.process.exitcode
        slot.conn.close()
        self.slots[slot.index] = None
        if slot.job_id is None:
            return
        running = self.held.get(slot.job_id)
        slot_job, slot.job_id = slot.job_id, None
        if running is None:
            return
        running.slot = None
        reason = slot.kill_reason
        if reason is None and self._stopping and code in (-signal.SIGTERM, -signal.SIGINT):
            # a stop signal sent to every process reached a child still starting up
            # (before it could ignore it): the job goes back, its attempt not counted
            reason = {"type": "Released", "message": "shutdown", "permanent": False}
        if reason is None:
            how = _describe_exit(code)
            reason = {"type": "WorkerDied", "message": f"worker process died ({how})", "permanent": False}
        if reason["type"] == "Cancelled":
            self.cancels.append((slot_job, running.job.token))
        elif reason["type"] == "Released":
            self.releases.append((slot_job, running.job.token))
        elif reason["type"] == "LeaseLost":
            del self.held[slot_job]
            self._emit("lost", running, "lease taken over by another worker")
        else:
            self._failed(running, reason)

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
        for slot in list(self.slots):
            if slot is None or slot.job_id is None:
                continue
            running = self.held[slot.job_id]
            if running.deadline is not None and now > running.deadline:
                seconds = running.deadline - (running.started or running.deadline)
                self._kill(slot, {"type": "Timeout", "permanent": False,
                                  "message": f"took longer than the {seconds:g}s limit; the child was killed"})
            elif check_memory and _rss(slot.process.pid) > limit:
                self._kill(slot, {"type": "MemoryLimit", "permanent": True,
                                  "message": f"used more than the {self.settings.memory_limit_mb} MB memory limit; "
                                             "the child was killed"})

    def _assign_work(self, now: float) -> None:
        for index in range(len(self.slots)):
            if not self.backlog:
                return
            slot = self.slots[index]
            if slot is not None and slot.job_id is not None:
                continue
            if slot is None:
                if self._stopping:
                    continue
                slot = self._spawn(index)
            job_id = self.backlog.popleft()
            running = self.held[job_id]
            job = running.job
            timeout = _timeout_for(job, self.settings)
            try:
                slot.conn.send(
                    {
                        "id": job.id,
                        "path": job.path,
                        "format": job.format,
                        "sha256": job.sha256,
                        "size": job.size,
                        "options": job.options,
                        "max_result_bytes": int(self.settings.max_result_mb * 1024 * 1024),
                    }
                )
            except OSError:
                self.backlog.appendleft(job_id)
                continue  # the child is dying; its sentinel will tell us next turn
            slot.job_id = job_id
            slot.kill_reason = None
            running.slot = index
            running.started = now
            running.deadline = now + timeout

    def _free_slots(self) -> int:
        busy = sum(1 for s in self.slots if s is not None and s.job_id is not None)
        return len(self.slots) - busy

    # -- decisions ----------------------------------------------------------------

    def _failed(self, running: Running, error: dict[str, Any]) -> None:
        job = running.job
        decision = backoff.decide(
            attempts=job.attempts,
            max_attempts=job.max_attempts,
            permanent=bool(error.get("permanent")),
            wait=self.wait_policy,
        )
        entry = {
            "at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "attempt": job.attempts,
            "worker": self.worker_id,
            **error,
        }
        self.failures.append(queue.Failure(job.id, job.token, decision.status, decision.delay, entry))

    # -- database -------------------------------------------------------------------

    def _flush(self) -> None:
        if not (self.completions or self.failures or self.cancels or self.releases):
            return
        completions, failures = list(self.completions), list(self.failures)
        cancels, releases = list(self.cancels), list(self.releases)
        with self.engine.begin() as conn:
            written = queue.complete(conn, completions)
            recorded = queue.record_failures(conn, failures)
            cancelled = queue.mark_cancelled(conn, cancels)
            released = queue.release(conn, releases)
        # only now, after commit, forget them (a failed commit keeps them for the retry)
        self.completions.clear()
        self.failures.clear()
        self.cancels.clear()
        self.releases.clear()
        for c in completions:
            self._finish(c.id, "completed" if c.id in written else "lost", "" if c.id in written else "not written: lease lost")
        for f in failures:
            if f.id not in recorded:
                self._finish(f.id, "lost", "not written: lease lost")
            elif f.status == JobStatus.FAILED:
                self._finish(f.id, "failed", f"{f.error['type']}: {f.error['message']}")
            else:
                self._finish(f.id, "retrying", f"{f.error['type']}: {f.error['message']} (retry in {f.delay:.0f}s)")
        for job_id, _ in cancels:
            self._finish(job_id, "cancelled" if job_id in cancelled else "lost", "")
        for job_id, _ in releases:
            self._finish(job_id, "released" if job_id in released else "lost", "returned to the queue")

    def _finish(self, job_id: uuid.UUID, kind: str, detail: str) -> None:
        running = self.held.pop(job_id, None)
        if running is None:
            return
        counter = {"completed": "completed", "failed": "failed", "retrying": "retried",
                   "cancelled": "cancelled", "released": "released"}.get(kind)
        if counter:
            setattr(self.stats, counter, getattr(self.stats, counter) + 1)
        self._emit(kind, running, detail)

    def _emit(self, kind: str, running: Running, detail: str) -> None:
        job = running.job
        self.on_event(Event(kind, job.id, job.path, job.format, detail))

    def _heartbeat(self) -> None:
        if not self.held:
            return
        leases = [queue.Lease(r.job.id, r.job.token, r.progress, r.note) for r in self.held.values()]
        with self.engine.begin() as conn:
            alive, cancel = queue.heartbeat(conn, leases, lease_seconds=self.settings.lease_seconds)
        for lease in leases:
            if lease.id not in alive:
                self._lease_lost(lease.id)
            elif lease.id in cancel:
                self._cancel_requested(lease.id)

    def _lease_lost(self, job_id: uuid.UUID) -> None:
        running = self.held.get(job_id)
        if running is None:
            return
        slot = self.slots[running.slot] if running.slot is not None else None
        if slot is not None and slot.job_id == job_id:
            self._kill(slot, {"type": "LeaseLost", "message": "lease lost", "permanent": False})
            return
        # not running: in the backlog or awaiting its write — drop both
        if job_id in self.backlog:
            self.backlog.remove(job_id)
        self.completions = [c for c in self.completions if c.id != job_id]
        self.failures = [f for f in self.failures if f.id != job_id]
        del self.held[job_id]
        self._emit("lost", running, "lease taken over by another worker")

    def _cancel_requested(self, job_id: uuid.UUID) -> None:
        running = self.held[job_id]
        if any(c.id == job_id for c in self.completions) or any(f.id == job_id for f in self.failures):
            return  # already finished; its outcome stands
        slot = self.slots[running.slot] if running.slot is not None else None
        if slot is not None and slot.job_id == job_id:
            self._kill(slot, {"type": "Cancelled", "message": "cancelled", "permanent": True})
        elif job_id in self.backlog:
            self.backlog.remove(job_id)
            self.cancels.append((job_id, running.job.token))

    def _rescue(self) -> None:
        with self.engine.begin() as conn:
            rescued = queue.rescue(conn)
        if rescued:
            log.info("rescued %d job(s) whose worker stopped renewing its lease", len(rescued))
            self._wake = True

    def _claim(self, now: float) -> None:
        want = self._free_slots() + self.options.prefetch - len(self.backlog)
        if want <= 0:
            return
        if not self._wake and now < self._next_poll:
            return
        want = min(want, self.options.batch_limit)
        with self.engine.begin() as conn:
            claimed = queue.claim(
                conn,
                worker_id=self.worker_id,
                limit=want,
                lease_seconds=self.settings.lease_seconds,
                formats=self.formats,
            )
            idle_check = None
            if not claimed and self.options.until_empty and not self.held:
                idle_check = self._queue_done(conn)
        for job in claimed:
            self.held[job.id] = Running(job)
            self.backlog.append(job.id)
            self.stats.claimed += 1
            self._emit("claimed", self.held[job.id], f"attempt {job.attempts}/{job.max_attempts}")
        # a full batch means more may be waiting: claim again at once
        self._wake = len(claimed) == want
        self._next_poll = now + self.settings.poll_seconds
        if idle_check:
            self._idle_since = self._idle_since or now
        elif claimed or self.held:
            self._idle_since = None

    def _queue_done(self, conn: sa.Connection) -> bool:
        if queue.has_runnable(conn, self.formats):
            return False
        if self.options.wait_for_retries:
            # jobs of a dead worker come back when their lease expires: wait for them too
            if queue.has_processing(conn, self.formats):
                return False
            due = queue.next_run_after(conn, self.formats)
            if due is not None:
                self._next_poll = min(self._next_poll, time.monotonic() + due)
                return False
        return True

    # -- notifications and outages ----------------------------------------------------

    def _open_listener(self) -> None:
        try:
            url = self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
            self._listen = psycopg.connect(url, autocommit=True, connect_timeout=5)
            self._listen.execute(f"LISTEN {queue.CHANNEL}")
        except psycopg.Error as exc:
            log.debug("LISTEN unavailable (%s); polling every %ss", first_line(exc), self.settings.poll_seconds)
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
            try:
                self._listen.close()
            except psycopg.Error:
                pass
        self._listen = None

    def _lost_database(self, exc: BaseException | None) -> None:
        if self.connected:
            reason = first_line(getattr(exc, "orig", None) or exc) if exc else "connection closed"
            log.warning("database unreachable (%s); children keep working, retrying with backoff", reason)
        self.connected = False
        self._close_listener()
        self._db_failures += 1
        self._next_reconnect = time.monotonic() + backoff.delay(self.wait_policy_reconnect, self._db_failures)

    @property
    def wait_policy_reconnect(self) -> Any:
        # the same policy object, capped so a restarted database is noticed quickly
        return backoff.policy(min(self.settings.backoff_base, 0.5), min(self.settings.backoff_cap, 10.0))

    def _try_reconnect(self, now: float) -> None:
        if now < self._next_reconnect:
            return
        try:
            if self._reconnect_engine is not None:
                self.engine = self._reconnect_engine()
            with self.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except (DBAPIError, psycopg.Error, RuntimeError) as exc:
            self._lost_database(exc)
            return
        log.warning("database reachable again after %d attempt(s); writing %d finished job(s)",
                    self._db_failures, len(self.completions) + len(self.failures))
        self.connected = True
        self._db_failures = 0
        self._next_heartbeat = 0.0
        self._wake = True
        self._open_listener()

    # -- stopping -------------------------------------------------------------------

    def _finished(self) -> bool:
        if self._stopping:
            return not self.held or (not self.connected and self._gave_up_writing())
        if self.options.until_empty and self._idle_since is not None and not self.held:
            return True
        return False

    def _gave_up_writing(self) -> bool:
        # stopping with the database down: once the grace period and 30 s more are over,
        # leave; leases expire and the rescuer returns the jobs (counting an attempt)
        if self._stop_deadline is None:
            return False
        return self._force or time.monotonic() > self._stop_deadline + 30

    def _stop_work(self, now: float) -> None:
        while self.backlog:
            job_id = self.backlog.popleft()
            self.releases.append((job_id, self.held[job_id].job.token))
        if self._force or (self._stop_deadline is not None and now > self._stop_deadline):
            for slot in list(self.slots):
                if slot is not None and slot.job_id is not None:
                    self._kill(slot, {"type": "Released", "message": "shutdown", "permanent": False})

    def _shutdown(self) -> None:
        for slot in list(self.slots):
            if slot is None:
                continue
            if slot.job_id is not None:
                self._kill(slot, {"type": "Released", "message": "shutdown", "permanent": False})
            else:
                self._retire(slot)
        while self.backlog:
            job_id = self.backlog.popleft()
            self.releases.append((job_id, self.held[job_id].job.token))
        if self.connected:
            try:
                self._flush()
            except (DBAPIError, psycopg.Error) as exc:
                log.warning("could not return %d job(s) to the queue (%s); they come back when their "
                            "lease expires", len(self.held), first_line(exc))
        self._close_listener()


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
    """SIGTERM / Ctrl-C stop gracefully; a second one stops at once. Returns an undo function."""

    def handler(signum: int, frame: object) -> None:
        supervisor.request_stop()

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}

    def restore() -> None:
        for s, h in previous.items():
            signal.signal(s, h)

    return restore
