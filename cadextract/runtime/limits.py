"""How long a job may run, how much memory its child may use, when a child is replaced.

Pure decisions: the pool measures (clock, RSS) and the supervisor kills or recycles.
"""

from __future__ import annotations

import enum
import logging
import signal

from cadextract import setting_rules
from cadextract.config import Settings
from cadextract.extractors import registry
from cadextract.runtime.outcomes import SHUTDOWN, Kill, KillReason
from cadextract.store.protocol import Claimed

log = logging.getLogger(__name__)

RECYCLE_AT_MEMORY = 0.5  # a child above this share of the memory limit is replaced after its jobs
FALLBACK_TIMEOUT = 600.0  # for a job whose format is no longer installed


def timeout_for(job: Claimed, settings: Settings) -> float:
    """Seconds a job may run: its own option, else the worker's setting, else its format's default."""
    raw = job.options.get("timeout")
    if raw is not None:
        problem = setting_rules.job_timeout_problem(raw)  # the rule `submit` refuses by
        if problem is None and isinstance(raw, (int, float)):
            return float(raw)
        # a job enqueued some other way (SQL, an older version) still runs, with the default
        log.warning("job %s: %s; using the default", job.id, problem)
    if settings.timeout_seconds is not None:
        return settings.timeout_seconds
    try:
        return registry.get(job.format).default_timeout
    except (registry.UnknownFormat, ImportError):
        return FALLBACK_TIMEOUT


def timed_out(started: float, deadline: float, now: float) -> Kill | None:
    """The kill for a job past its wall-clock deadline, or None."""
    if now <= deadline:
        return None
    return Kill(
        KillReason.TIMEOUT, f"took longer than the {deadline - started:g}s limit; the child was killed"
    )


class Memory(enum.Enum):
    OK = "ok"
    RECYCLE = "recycle"  # a parser that leaks: replace the child before a job pays for it
    KILL = "kill"


def memory_verdict(rss: int, limit_mb: int) -> Memory:
    """Over the limit: kill; over half of it: recycle after the jobs it holds."""
    limit = limit_mb * 1024 * 1024
    if rss > limit:
        return Memory.KILL
    if rss > limit * RECYCLE_AT_MEMORY:
        return Memory.RECYCLE
    return Memory.OK


def memory_kill(limit_mb: int) -> Kill:
    return Kill(
        KillReason.MEMORY_LIMIT, f"used more than the {limit_mb} MB memory limit; the child was killed"
    )


def check(started: float, deadline: float, now: float, *, rss: int | None, limit_mb: int) -> Kill | Memory:
    """What to do about a child running a job: kill it (past its deadline, over the memory
    limit), recycle it after its jobs (over half the limit), or nothing. ``rss`` None: not
    measured this turn."""
    kill = timed_out(started, deadline, now)
    if kill is not None:
        return kill
    if rss is None:
        return Memory.OK
    memory = memory_verdict(rss, limit_mb)
    return memory_kill(limit_mb) if memory is Memory.KILL else memory


def recycle_due(*, jobs_run: int, in_pipe: int, recycle_after: int) -> bool:
    """A child is replaced once it has been given ``recycle_after`` jobs (those in its pipe
    count: it gets no more), so parser leaks never build up; memory can recycle it sooner."""
    return jobs_run + in_pipe >= recycle_after


def describe_exit(code: int | None) -> str:
    if code is None:
        return "still running"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def death_reason(kill: Kill | None, exitcode: int | None, *, stopping: bool) -> Kill:
    """Why the job a child was running ended: the supervisor's own kill, or how the child died."""
    if kill is not None:
        return kill
    if stopping and exitcode in (-signal.SIGTERM, -signal.SIGINT):
        # a stop signal sent to every process reached a child still starting up
        # (before it could ignore it): the job goes back, its attempt not counted
        return SHUTDOWN
    return Kill(KillReason.WORKER_DIED, f"worker process died ({describe_exit(exitcode)})")
