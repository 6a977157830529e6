"""`cadextract export --view NAME`: a public SQL view streamed to CSV or JSON Lines."""

from __future__ import annotations

import csv
import json
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any
from uuid import UUID

import sqlalchemy as sa

from cadextract.search.sqlviews import VIEWS


class UnknownView(ValueError):
    """No such view; the message lists the ones there are."""


def check(name: str) -> str:
    if name not in VIEWS:
        raise UnknownView(f"--view {name!r}: there is no such view; use one of {', '.join(VIEWS)}")
    return name


def _select(
    name: str, formats: list[str], batch: str | None, path_like: str | None
) -> tuple[str, dict[str, Any]]:
    clauses: list[str] = []
    params: dict[str, Any] = {}
    # every view has job_id and path; filter through the index row, which has the rest
    if formats:
        clauses.append("s.format = ANY(CAST(:formats AS text[]))")
        params["formats"] = formats
    if batch is not None:
        clauses.append("s.batch = :batch")
        params["batch"] = batch
    if path_like is not None:
        clauses.append("s.path LIKE :path_like ESCAPE '\\'")
        params["path_like"] = path_like
    where = ""
    if clauses:
        where = (
            "WHERE v.job_id IN (SELECT s.job_id FROM cadextract.search_index s WHERE "
            + " AND ".join(clauses)
            + ")"
        )
    return f"SELECT v.* FROM cadextract.{check(name)} v {where}", params


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID | Decimal):
        return str(value)
    return value


def write(
    conn: sa.Connection,
    name: str,
    out: IO[str],
    *,
    to: str,
    formats: list[str],
    batch: str | None,
    path_like: str | None,
    chunk: int = 2000,
) -> int:
    """Stream the view's rows (server-side cursor) as CSV or JSON Lines; returns rows written."""
    sql, params = _select(name, formats, batch, path_like)
    result = conn.execution_options(stream_results=True, yield_per=chunk).execute(sa.text(sql), params)
    columns = list(result.keys())
    n = 0
    if to == "csv":
        writer = csv.writer(out)
        writer.writerow(columns)
        for row in result:
            writer.writerow([json.dumps(v) if isinstance(v, dict | list) else _plain(v) for v in row])
            n += 1
    else:
        for row in result:
            out.write(json.dumps({c: _plain(v) for c, v in zip(columns, row, strict=True)}) + "\n")
            n += 1
    return n
