"""The child processes: spawn, send jobs, read their messages, recycle, retire, reap, kill.

A slot is a place for one child; a recycled child leaves its slot at once (a successor
takes it) and drains the jobs it holds, then exits. The pool knows which jobs each
child holds and in what order it runs them; what those jobs are is the ledger's business.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.context
import multiprocessing.forkserver
import signal
import threading
import time
import uuid
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

import psutil

from cadextract.runtime import child as child_process
from cadextract.runtime.messages import ChildMessage, JobSpec
from cadextract.runtime.outcomes import Kill


@dataclass(frozen=True)
class Drawing:
    """A child drawing the preview of a job it has reported (``runtime.previewing``)."""

    job_id: uuid.UUID
    started: float  # monotonic
    deadline: float


@dataclass(eq=False)
class Child:
    """One child process and the jobs sent to it, in the order it runs them."""

    index: int
    process: BaseProcess
    conn: Connection
    jobs: deque[uuid.UUID] = field(default_factory=deque)
    jobs_run: int = 0
    retiring: bool = False
    kill: Kill | None = None  # why we killed it, if we did
    drawing: Drawing | None = None  # a reported job's preview; its next job waits

    @property
    def current(self) -> uuid.UUID | None:
        return self.jobs[0] if self.jobs else None


class Pool:
    """``size`` slots of children forked from the forkserver."""

    def __init__(self, size: int) -> None:
        self.ctx = start_forkserver()
        self.slots: list[Child | None] = [None] * size
        self.draining: list[Child] = []  # recycled children finishing the jobs they hold
        self.exiting: list[BaseProcess] = []  # retired children not yet reaped

    def spawn(self, index: int) -> Child:
        parent_conn, child_conn = self.ctx.Pipe(duplex=True)
        process = self.ctx.Process(
            target=child_process.main, args=(child_conn,), name=f"cadextract-child-{index}"
        )
        process.start()
        child_conn.close()
        child = Child(index=index, process=process, conn=parent_conn)
        self.slots[index] = child
        return child

    def live(self) -> list[Child]:
        """Every child with a pipe open: the slots' and the recycled ones still draining."""
        return [c for c in self.slots if c is not None] + self.draining

    def holding(self) -> list[Child]:
        """The live children that hold jobs (running or in their pipe)."""
        return [c for c in self.live() if c.jobs]

    def waitables(self) -> list[object]:
        """What to wait on for the live children: their pipes and their exit sentinels."""
        out: list[object] = []
        for child in self.live():
            out += [child.conn, child.process.sentinel]
        return out

    def send(self, child: Child, specs: Sequence[JobSpec]) -> bool:
        """Queue jobs in a child's pipe; False if it is dying (its sentinel tells us soon)."""
        try:
            child.conn.send(list(specs))
        except OSError:
            return False
        return True

    def messages(self, child: Child) -> list[ChildMessage]:
        """Everything the child has sent so far."""
        out: list[ChildMessage] = []
        try:
            while child.conn.poll():
                out.append(child.conn.recv())
        except (EOFError, OSError):
            pass
        return out

    def exited(self, child: Child, sentinel_ready: bool) -> bool:
        """Whether the child has exited and not yet been dealt with."""
        if not sentinel_ready and child.process.is_alive():
            return False
        child.process.join(0.05)
        return child.process.exitcode is not None and not child.conn.closed

    def rss(self, child: Child) -> int:
        if child.process.pid is None:
            return 0  # psutil would measure this process instead
        try:
            return int(psutil.Process(child.process.pid).memory_info().rss)
        except psutil.Error:
            return 0

    def recycle(self, child: Child) -> None:
        """The child gets no more jobs; a successor takes its slot at once, so the
        pipeline keeps flowing while this one finishes what it holds, then exits
        (``job_ended`` retires it). Recycling a retiring child changes nothing."""
        if child.retiring:
            return
        child.retiring = True
        if self.slots[child.index] is child:
            self.slots[child.index] = None
        if child not in self.draining:
            self.draining.append(child)

    def job_ended(self, child: Child, *, recycle: bool) -> None:
        """The child finished a job (or its preview): recycle it if that is due; retire it
        once a recycled child has nothing left to run or draw."""
        if recycle:
            self.recycle(child)
        if child.retiring and not child.jobs and child.drawing is None:
            self.retire(child)

    def retire(self, child: Child, *, wait: bool = False) -> None:
        """Ask an idle child to exit (a clean exit between jobs contains parser leaks)."""
        with contextlib.suppress(OSError):
            child.conn.send(None)
        child.conn.close()
        self._detach(child)
        # the slot gets a new child at once; the old one is reaped when it has exited
        self.exiting.append(child.process)
        if wait:
            self.reap(timeout=5)

    def kill(self, child: Child, kill: Kill) -> None:
        """SIGKILL the child (the caller then settles its jobs, see ``gone``)."""
        child.kill = kill
        if child.process.is_alive():
            child.process.kill()
        child.process.join(2)

    def gone(self, child: Child) -> None:
        """Forget a child that has exited or was killed."""
        child.conn.close()
        self._detach(child)

    def kill_idle(self, child: Child) -> None:
        """Idle at shutdown: nothing to lose, and a child that loaded OCP takes a second
        or more to finalise; a cron run should not wait for that."""
        child.process.kill()
        self.retire(child)

    def reap(self, timeout: float = 0.0) -> None:
        deadline = time.monotonic() + timeout
        for process in list(self.exiting):
            process.join(max(0.0, deadline - time.monotonic()))
            if process.exitcode is None and timeout:
                process.kill()
                process.join(1)
            if process.exitcode is not None:
                self.exiting.remove(process)

    def _detach(self, child: Child) -> None:
        if self.slots[child.index] is child:
            self.slots[child.index] = None
        if child in self.draining:
            self.draining.remove(child)


def start_forkserver() -> multiprocessing.context.ForkServerContext:
    """Start the server children are forked from (idempotent); returns its context.

    The CLI calls it first thing in `work` and `run`, so that the server's start
    overlaps the command's own. Children start in milliseconds from this clean
    process, which never held a database connection (a fork of the supervisor could
    inherit one). It loads only what a child runs: each forked child also re-runs the
    main script (multiprocessing's "prepare"), which `cadextract.__main__` keeps light.
    """
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["cadextract.runtime.child"])
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
