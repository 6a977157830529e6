"""Small builders shared by integration and fault tests."""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cadextract.store import commands


def make_files(folder: Path, n: int, *, prefix: str = "f", suffix: str = ".bin") -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        p = folder / f"{prefix}{i:05d}{suffix}"
        p.write_bytes(f"{prefix} {i} {uuid.uuid4()}".encode())
        paths.append(p)
    return paths


def enqueue_files(engine: Engine, paths: list[Path], fmt: str = "noop", **kw: Any) -> list[uuid.UUID]:
    jobs = [
        commands.NewJob(
            path=str(p.resolve()),
            size=p.stat().st_size,
            sha256=hashlib.sha256(p.read_bytes()).hexdigest(),
            format=fmt,
            **kw,
        )
        for p in paths
    ]
    with engine.begin() as conn:
        out = commands.enqueue(conn, jobs)
    return [o.job_id for o in out if o.job_id and not o.skipped_reason]


def job_rows(engine: Engine) -> dict[uuid.UUID, Any]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT * FROM cadextract.extraction_jobs")).all()
    return {r.id: r for r in rows}


def result_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM cadextract.extraction_results")).scalar_one())


def wait_until(predicate: Callable[[], bool], timeout: float = 30.0, interval: float = 0.05) -> None:
    """Poll until the predicate holds; fail the test with a clear message otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


def status_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT status, count(*) AS n FROM cadextract.extraction_jobs GROUP BY status")
        ).all()
    return {r.status: r.n for r in rows}
