"""`search`, `index` and `serve`: the query checked, the index built in resumable batches,
the console's settings refused when unsafe."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

from cadextract.ops import inputs
from cadextract.ops.errors import BadInput

if TYPE_CHECKING:
    from cadextract.search.query import Filters, Query
    from cadextract.search.store import Hit
    from cadextract.web.security import WebConfig


@dataclass(frozen=True)
class SearchRequest:
    """A parsed query (None: only --field filters) and its filters."""

    query: Query | None
    filters: Filters


def search_request(
    query: str | None,
    fields: Sequence[str] | None,
    *,
    fmt: Sequence[str] | None,
    batch: str | None,
    path: str | None,
) -> SearchRequest:
    """Parse the query and the --field filters (BadInput says what is wrong with them)."""
    from cadextract.search import query as sq

    try:
        parsed_fields = tuple(sq.parse_field(f) for f in fields or [])
        parsed = None if query is None and parsed_fields else sq.parse(query or "")
    except sq.BadQuery as exc:
        raise BadInput(str(exc)) from None
    filters = sq.Filters(formats=tuple(inputs.split(fmt)), batch=batch, path_glob=path, fields=parsed_fields)
    return SearchRequest(parsed, filters)


def search(engine: Engine, req: SearchRequest, *, limit: int, all_jobs: bool) -> list[Hit]:
    from cadextract.search import store

    with engine.connect() as conn:
        return store.search(conn, req.query, req.filters, limit=limit, all_jobs=all_jobs)


@dataclass(frozen=True)
class Indexed:
    indexed: int
    rebuild: bool
    seconds: float


def index_todo(engine: Engine, *, rebuild: bool) -> int:
    """How many results an index run will go through (for its progress bar)."""
    from cadextract.search import store

    with engine.connect() as conn:
        c = store.counts(conn)
    return c.completed if rebuild else max(0, c.completed - c.indexed)


def index(
    engine: Engine, *, rebuild: bool, batch_size: int, on_progress: Callable[[int], None] | None = None
) -> Indexed:
    """Index results lacking it (or all again), one transaction per batch: short locks, resumable."""
    from cadextract.search import store

    started = time.monotonic()
    done = 0
    after = uuid.UUID(int=0) if rebuild else None
    while True:
        with engine.begin() as conn:
            n, last = store.index_batch(conn, limit=batch_size, rebuild_after=after)
        if not n:
            break
        done += n
        after = last if rebuild else None
        if on_progress is not None:
            on_progress(done)
    with engine.begin() as conn:
        store.fix_latest(conn)
    return Indexed(done, rebuild, time.monotonic() - started)


def console_config(host: str, port: int, token: str | None, *, read_only: bool) -> WebConfig:
    """The web console's settings, refused (BadInput) when unsafe: no token off loopback."""
    from cadextract.web import security

    config = security.WebConfig(host=host, port=port, token=token or None, read_only=read_only)
    try:
        security.check_config(config)
    except security.RefuseToStart as exc:
        raise BadInput(str(exc)) from None
    return config
