"""The allowed range of every numeric setting, and the checks against it. Pure.

Each setting is validated once, when a command starts, and a bad one stops it with one
line naming the variable and its range (exit 2). Without these checks a negative memory
limit failed every job, ``RECYCLE_AFTER=0`` never claimed, ``LEASE_SECONDS=nan`` looked
like a database outage and ``MAX_RETRIES=inf`` crashed. The same bounds guard the
matching command-line options.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

INT32_MAX = 2**31 - 1
DAY = 86400.0


@dataclass(frozen=True)
class Rule:
    """One setting: its field, variable, and the closed or half-open range it must lie in."""

    field: str
    env: str
    low: float
    high: float
    integer: bool = False
    low_exclusive: bool = False  # the value must be above ``low``, not equal to it
    unit: str = ""

    def describe(self) -> str:
        """The range in words, e.g. 'a whole number from 1 to 1000000'."""
        kind = "a whole number" if self.integer else "a number"
        low = _num(self.low)
        high = _num(self.high)
        unit = f" {self.unit}" if self.unit else ""
        if self.low_exclusive:
            return f"{kind} above {low} and at most {high}{unit}"
        return f"{kind} from {low} to {high}{unit}"


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


RULES: tuple[Rule, ...] = (
    Rule("lease_seconds", "CADEXTRACT_LEASE_SECONDS", 0, 7 * DAY, low_exclusive=True, unit="seconds"),
    Rule("heartbeat_seconds", "CADEXTRACT_HEARTBEAT_SECONDS", 0, 3600, low_exclusive=True, unit="seconds"),
    Rule("poll_seconds", "CADEXTRACT_POLL_SECONDS", 0, 3600, low_exclusive=True, unit="seconds"),
    Rule("backoff_base", "CADEXTRACT_BACKOFF_BASE", 0, DAY, unit="seconds"),
    Rule("backoff_cap", "CADEXTRACT_BACKOFF_CAP", 0, 30 * DAY, unit="seconds"),
    Rule("max_retries", "CADEXTRACT_MAX_RETRIES", 0, 1000, integer=True),
    Rule("memory_limit_mb", "CADEXTRACT_MEMORY_LIMIT_MB", 64, 1024 * 1024, integer=True, unit="MB"),
    Rule("recycle_after", "CADEXTRACT_RECYCLE_AFTER", 1, 1_000_000_000, integer=True, unit="jobs"),
    Rule("grace_seconds", "CADEXTRACT_GRACE_SECONDS", 0, DAY, unit="seconds"),
    Rule("timeout_seconds", "CADEXTRACT_TIMEOUT_SECONDS", 0, 30 * DAY, low_exclusive=True, unit="seconds"),
    Rule("max_result_mb", "CADEXTRACT_MAX_RESULT_MB", 0, 1024, low_exclusive=True, unit="MB"),
)
BY_FIELD = {r.field: r for r in RULES}
BY_ENV = {r.env: r for r in RULES}

#: ranges of command-line options that have no setting behind them
PRIORITY_RANGE = (-INT32_MAX - 1, INT32_MAX)  # the column is a 32-bit integer
CONCURRENCY_MAX = 1024
LIMIT_MAX = 1_000_000_000
MAX_AGE_SECONDS = 100 * 365 * DAY  # --older-than, --since
JOB_TIMEOUT_MAX = 30 * DAY  # --option timeout=…


def problem(rule: Rule, value: float | None) -> str | None:
    """Why ``value`` is not allowed for ``rule`` (None: it is)."""
    if value is None:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return f"{rule.env}={value} is not allowed: give {rule.describe()}"
    if rule.integer and not float(value).is_integer():
        return f"{rule.env}={value} is not allowed: give {rule.describe()}"
    too_low = value <= rule.low if rule.low_exclusive else value < rule.low
    if too_low or value > rule.high:
        return f"{rule.env}={_num(value)} is out of range: give {rule.describe()}"
    return None


def parse_env(name: str, raw: str) -> float:
    """The number in an environment variable, or ValueError naming the variable and its range."""
    rule = BY_ENV.get(name)
    hint = f": give {rule.describe()}" if rule else ""
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a number{hint}") from None
    if not math.isfinite(value) or (rule is not None and rule.integer and not value.is_integer()):
        raise ValueError(f"{name}={raw!r} is not allowed{hint}")
    return value


def finite_number_problem(name: str, value: object, *, high: float | None = None) -> str | None:
    """Why a JSON option value is not a usable number (None: it is, or it is no number at all)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return f"--option {name}={value}: not a finite number"
    if high is not None and value > high:
        return f"--option {name}={value}: at most {_num(high)}"
    if isinstance(value, int) and abs(value) > 2**63 - 1:
        return f"--option {name}={value}: too large"
    return None


def job_timeout_problem(value: object) -> str | None:
    """Why a job's ``timeout`` option is refused (None: it is usable). The one rule for it:
    `submit` refuses such a value, the worker runs such a job with the default limit."""
    problem = finite_number_problem("timeout", value, high=JOB_TIMEOUT_MAX)
    if problem:
        return problem
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        return f"--option timeout={value!r}: give a number of seconds above 0"
    return None
