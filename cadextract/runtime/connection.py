"""The supervisor's side of PostgreSQL: LISTEN for new jobs, notice outages, reconnect.

If PostgreSQL goes away, the children keep working; outcomes wait in the ledger and
are written when the connection is back (reconnects follow the tenacity backoff policy).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from tenacity.wait import wait_base

from cadextract import backoff, dburl, schema_health
from cadextract.config import Settings
from cadextract.db import first_line
from cadextract.store import sql

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Heard:
    """What the LISTEN connection brought."""

    new_jobs: bool = False  # claim now
    cancel: bool = False  # heartbeat now, to learn which job


class Connection:
    """The engine the database steps use, the LISTEN connection, and whether both are up."""

    def __init__(
        self,
        engine: Engine,
        *,
        reconnect_policy: wait_base,
        poll_seconds: float,
        reconnect: Callable[[], Engine] | None = None,
    ) -> None:
        self.engine = engine
        self.connected = True
        self.failures = 0  # reconnect attempts since the outage began
        self._reconnect_policy = reconnect_policy
        self._reconnect_engine = reconnect
        self._poll_seconds = poll_seconds
        self._next_reconnect = 0.0
        self._listen: psycopg.Connection[Any] | None = None
        #: set when the schema turned out damaged: the worker stops; the CLI exits 3 with it
        self.fatal: str | None = None

    @classmethod
    def of(cls, engine: Engine, settings: Settings, reconnect: Callable[[], Engine] | None) -> Connection:
        # reconnecting uses the retry policy's shape, capped so a restarted server is seen soon
        policy = backoff.policy(min(settings.backoff_base, 0.5), min(settings.backoff_cap, 10.0))
        return cls(engine, reconnect_policy=policy, poll_seconds=settings.poll_seconds, reconnect=reconnect)

    def listen(self) -> None:
        try:
            # keywords, not a rendered URL: a password with a space broke that (and leaked)
            params = {"connect_timeout": 5, **dburl.libpq_params(self.engine.url)}
            self._listen = psycopg.connect(**params, autocommit=True)
            self._listen.execute(f"LISTEN {sql.CHANNEL}")
        except psycopg.Error as exc:
            log.debug(
                "LISTEN unavailable (%s); polling every %ss",
                dburl.redact(first_line(exc), self.engine.url),
                self._poll_seconds,
            )
            self._listen = None

    def fileno(self) -> int | None:
        """What to wait on for notifications (None without LISTEN)."""
        return self._listen.fileno() if self._listen is not None else None

    def heard(self) -> Heard:
        """Read the notifications that arrived (call when ``fileno()`` is readable)."""
        assert self._listen is not None
        new_jobs = cancel = False
        try:
            for note in self._listen.notifies(timeout=0):
                if note.payload == "cancel":
                    cancel = True
                else:
                    new_jobs = True
        except psycopg.Error:
            self.close()
            if self.connected:
                self.lost(None)
        return Heard(new_jobs, cancel)

    def lost(self, exc: BaseException | None) -> None:
        """The database is unreachable: children keep working; reconnect after a backoff."""
        if self.connected:
            reason = first_line(getattr(exc, "orig", None) or exc) if exc else "connection closed"
            log.warning("database unreachable (%s); children keep working, retrying with backoff", reason)
        self.connected = False
        self.close()
        self.failures += 1
        self._next_reconnect = time.monotonic() + backoff.delay(self._reconnect_policy, self.failures)

    def failed(self, exc: BaseException) -> bool:
        """A database step failed: True when the schema is damaged (the worker must stop),
        otherwise it is an outage (children keep working; reconnect later)."""
        if schema_health.is_schema_error(exc):
            self.broken(exc)
            return True
        self.lost(exc)
        return False

    def broken(self, exc: BaseException) -> None:
        """A missing table or column is no outage: waiting cannot fix it (the caller stops)."""
        if self.fatal is None:
            self.fatal = f"the database schema is damaged: {first_line(getattr(exc, 'orig', None) or exc)}"
            log.error("%s; stopping (jobs held come back when their lease expires)", self.fatal)
        self.connected = False
        self.close()

    def reconnect(self, now: float, waiting: int) -> bool:
        """Try again if the backoff has passed; True once the database answers."""
        if now < self._next_reconnect or self.fatal is not None:
            return False
        try:
            if self._reconnect_engine is not None:
                self.engine = self._reconnect_engine()
            with self.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except (DBAPIError, psycopg.Error, RuntimeError) as exc:
            self.lost(exc)
            return False
        log.warning(
            "database reachable again after %d attempt(s); writing %d finished job(s)", self.failures, waiting
        )
        self.connected = True
        self.failures = 0
        self.listen()
        return True

    def close(self) -> None:
        if self._listen is not None:
            with contextlib.suppress(psycopg.Error):
                self._listen.close()
        self._listen = None
