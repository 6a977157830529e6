"""Small builders for the runtime's unit tests (no database, no processes)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any, cast

from cadextract.config import Settings
from cadextract.runtime.pool import Child
from cadextract.store.protocol import Claimed

SETTINGS = Settings(database_url=None, home=Path("/nonexistent"), backoff_base=1.0, backoff_cap=8.0)


def claimed(attempts: int = 1, max_attempts: int = 4, fmt: str = "noop", **options: Any) -> Claimed:
    return Claimed(
        id=uuid.uuid4(),
        token=uuid.uuid4(),
        path="/drawings/a.dxf",
        format=fmt,
        sha256="0" * 64,
        size=10,
        options=dict(options),
        attempts=attempts,
        max_attempts=max_attempts,
        priority=0,
    )


def child(index: int = 0) -> Child:
    """A child as the ledger sees it: the jobs it holds (no process behind it)."""
    return Child(index=index, process=cast(Any, None), conn=cast(Any, None))
