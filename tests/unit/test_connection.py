"""A failed database step: an outage is waited out with backoff, a damaged schema stops the worker."""

from __future__ import annotations

import time
from typing import Any, cast

import psycopg
from sqlalchemy.engine import Engine

from cadextract.runtime.connection import Connection
from tests.unit.runtime_helpers import SETTINGS


def _unreachable() -> Engine:
    raise RuntimeError("server still down")


def _connection() -> Connection:
    # never connects: the engine is not used before a reconnect, which goes through _unreachable
    return Connection.of(cast(Any, None), SETTINGS, _unreachable)


def test_an_outage_is_waited_out_with_backoff() -> None:
    db = _connection()
    assert db.failed(psycopg.OperationalError("connection refused")) is False
    assert (db.connected, db.failures, db.fatal) == (False, 1, None)
    # not before the backoff has passed (reconnects are capped at 0.5 s base, 10 s cap)
    assert not db.reconnect(time.monotonic() - 1.0, waiting=3) and db.failures == 1
    assert not db.reconnect(time.monotonic() + 11.0, waiting=3)  # tried: still down
    assert (db.connected, db.failures, db.fatal) == (False, 2, None)


def test_a_damaged_schema_is_fatal_and_never_reconnected() -> None:
    db = _connection()
    assert db.failed(psycopg.errors.UndefinedTable("relation cadextract.extraction_jobs does not exist"))
    assert not db.connected and db.fatal is not None and "schema is damaged" in db.fatal
    assert not db.reconnect(time.monotonic() + 3600.0, waiting=0) and db.failures == 0
