"""Settings from flags, environment and defaults (in that order of precedence).

Environment variables (all optional):

    CADEXTRACT_DATABASE_URL     PostgreSQL URL; unset = embedded server in CADEXTRACT_HOME
    CADEXTRACT_HOME             data directory (embedded server, logs); default: the
                                user data dir, e.g. ~/.local/share/cadextract
    CADEXTRACT_LEASE_SECONDS    lease a worker holds on a running job (default 30)
    CADEXTRACT_HEARTBEAT_SECONDS  how often leases, progress and cancel requests are
                                synced (default 1)
    CADEXTRACT_POLL_SECONDS     fallback polling interval when LISTEN/NOTIFY is quiet (default 2)
    CADEXTRACT_BACKOFF_BASE     first retry delay in seconds (default 5)
    CADEXTRACT_BACKOFF_CAP      longest retry delay in seconds (default 600)
    CADEXTRACT_MAX_RETRIES      retries after the first attempt (default 3)
    CADEXTRACT_MEMORY_LIMIT_MB  RSS ceiling per child process (default 4096)
    CADEXTRACT_RECYCLE_AFTER    jobs a child runs before it is replaced (default 1000)
    CADEXTRACT_GRACE_SECONDS    shutdown grace period for running jobs (default 30)
    CADEXTRACT_TIMEOUT_SECONDS  wall-clock limit per job; default per format
    CADEXTRACT_MAX_RESULT_MB    largest result document accepted (default 64)
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

from cadextract import setting_rules


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return setting_rules.parse_env(name, raw)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def _env_int(name: str, default: int) -> int:
    return int(_env_float(name, default))  # whole and finite: parse_env checked


def create_home(home: Path) -> None:
    """Create the data directory readable by its owner only (0700, whatever the umask)."""
    home.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        home.mkdir(mode=0o700)  # mkdir's mode is masked by the umask, which only removes bits


class ConfigError(ValueError):
    """A setting has a value that cannot be used."""


def default_home() -> Path:
    """Where the embedded server and logs live when CADEXTRACT_HOME is unset."""
    raw = os.environ.get("CADEXTRACT_HOME")
    if raw:
        return Path(raw).expanduser().resolve()
    return Path(platformdirs.user_data_dir("cadextract", appauthor=False))


@dataclass(frozen=True)
class Settings:
    """Everything a command needs to know about its environment."""

    database_url: str | None = None
    home: Path = field(default_factory=default_home)
    lease_seconds: float = 30.0
    heartbeat_seconds: float = 1.0
    poll_seconds: float = 2.0
    backoff_base: float = 5.0
    backoff_cap: float = 600.0
    max_retries: int = 3
    memory_limit_mb: int = 4096
    recycle_after: int = 1000
    grace_seconds: float = 30.0
    timeout_seconds: float | None = None
    max_result_mb: float = 64.0

    @classmethod
    def from_env(cls, database_url: str | None = None) -> Settings:
        """Read the environment; an explicit ``database_url`` beats CADEXTRACT_DATABASE_URL."""
        timeout = _env_float("CADEXTRACT_TIMEOUT_SECONDS", 0.0)
        settings = cls(
            database_url=database_url or os.environ.get("CADEXTRACT_DATABASE_URL") or None,
            home=default_home(),
            lease_seconds=_env_float("CADEXTRACT_LEASE_SECONDS", 30.0),
            heartbeat_seconds=_env_float("CADEXTRACT_HEARTBEAT_SECONDS", 1.0),
            poll_seconds=_env_float("CADEXTRACT_POLL_SECONDS", 2.0),
            backoff_base=_env_float("CADEXTRACT_BACKOFF_BASE", 5.0),
            backoff_cap=_env_float("CADEXTRACT_BACKOFF_CAP", 600.0),
            max_retries=_env_int("CADEXTRACT_MAX_RETRIES", 3),
            memory_limit_mb=_env_int("CADEXTRACT_MEMORY_LIMIT_MB", 4096),
            recycle_after=_env_int("CADEXTRACT_RECYCLE_AFTER", 1000),
            grace_seconds=_env_float("CADEXTRACT_GRACE_SECONDS", 30.0),
            timeout_seconds=timeout if timeout > 0 else None,
            max_result_mb=_env_float("CADEXTRACT_MAX_RESULT_MB", 64.0),
        )
        settings.check()
        return settings

    def check(self) -> None:
        """Reject values out of their range (named in the message) and unsafe combinations."""
        for rule in setting_rules.RULES:
            problem = setting_rules.problem(rule, getattr(self, rule.field))
            if problem:
                raise ConfigError(problem)
        if self.home.exists() and not self.home.is_dir():
            raise ConfigError(f"CADEXTRACT_HOME={self.home} is not a directory")
        if self.heartbeat_seconds <= 0 or self.lease_seconds <= 0:
            raise ConfigError("lease and heartbeat must be positive")
        # a lease must survive a few missed heartbeats, or live jobs get rescued
        if self.lease_seconds < 3 * self.heartbeat_seconds:
            raise ConfigError(
                f"lease ({self.lease_seconds}s) must be at least 3x the heartbeat ({self.heartbeat_seconds}s)"
            )
        if self.max_retries < 0:
            raise ConfigError("max retries cannot be negative")
