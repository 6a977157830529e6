"""The search index in SQL: written with each completion, rebuilt in batches, searched.

Functions take a SQLAlchemy ``Connection``; the caller owns the transaction. The
completion path calls :func:`write` in the transaction that stores the results, so a
result and its index row commit together; the row goes with its job (foreign key,
``ON DELETE CASCADE``), so purge leaves no stale hits.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from cadextract.search import document
from cadextract.search.query import Filters, Query

INDEX = "cadextract.search_index"
JOBS = "cadextract.extraction_jobs"
RESULTS = "cadextract.extraction_results"
CONFIG = "cadextract.cx"
# ts_headline marks hits with these; document.normalise removes them from indexed text
START, STOP = "\x02", "\x03"
HEADLINE = (
    f'StartSel={START}, StopSel={STOP}, MaxWords=14, MinWords=5, MaxFragments=2, FragmentDelimiter=" … "'
)


def write(conn: sa.Connection, entries: Sequence[tuple[uuid.UUID, str]]) -> int:
    """Index completed jobs: (job id, ``IndexEntry`` JSON) pairs; returns rows written.

    The job's own row supplies path, format, batch and completion time, so only
    completed jobs are indexed; an existing row is replaced (a rebuild).
    """
    if not entries:
        return 0
    payload = "[" + ",".join(f'{{"job_id":"{job_id}","e":{text}}}' for job_id, text in entries) + "]"
    rows = conn.execute(
        sa.text(
            f"""
            WITH v AS (
                SELECT x.job_id, x.e
                FROM jsonb_to_recordset(CAST(:entries AS jsonb)) AS x(job_id uuid, e jsonb)
            ), ins AS (
                INSERT INTO {INDEX} (job_id, path, format, batch, completed_at, is_latest, fields, field_keys,
                                     labels, texts, extras, tsv, version)
                SELECT j.id, j.path, j.format, j.batch, j.completed_at,
                       -- newest of its path (in this batch and among rows already there)
                       row_number() OVER (PARTITION BY j.path ORDER BY j.completed_at DESC, j.id DESC) = 1
                       AND NOT EXISTS (SELECT 1 FROM {INDEX} o WHERE o.path = j.path
                                       AND o.completed_at > j.completed_at),
                       v.e -> 'fields',
                       ARRAY(SELECT jsonb_array_elements_text(v.e -> 'keys')),
                       ARRAY(SELECT jsonb_array_elements_text(v.e -> 'labels')),
                       ARRAY(SELECT jsonb_array_elements_text(v.e -> 'texts')),
                       ARRAY(SELECT jsonb_array_elements_text(v.e -> 'extras')),
                       cadextract.search_vector(v.e ->> 'weights',
                           ARRAY(SELECT jsonb_array_elements_text(v.e -> 'texts')),
                           ARRAY(SELECT jsonb_array_elements_text(v.e -> 'extras'))),
                       CAST(v.e ->> 'v' AS smallint)
                FROM v JOIN {JOBS} j ON j.id = v.job_id AND j.status = 'completed'
                ON CONFLICT (job_id) DO UPDATE SET
                    fields = EXCLUDED.fields, field_keys = EXCLUDED.field_keys, labels = EXCLUDED.labels,
                    texts = EXCLUDED.texts, extras = EXCLUDED.extras, tsv = EXCLUDED.tsv,
                    version = EXCLUDED.version, batch = EXCLUDED.batch
                RETURNING job_id, path, completed_at, is_latest
            ), older AS (
                -- the new row is the newest of its path: the others stop being "latest"
                UPDATE {INDEX} s SET is_latest = false
                FROM ins
                WHERE ins.is_latest AND s.path = ins.path AND s.job_id <> ins.job_id AND s.is_latest
                  AND s.completed_at <= ins.completed_at
                RETURNING s.job_id
            )
            SELECT job_id FROM ins
            """
        ),
        {"entries": payload},
    ).all()
    return len(rows)


def write_completions(conn: sa.Connection, completions: Iterable[Any], written: set[uuid.UUID]) -> int:
    """The completion hook: index the completions that were just written.

    Each completion carries the entry its child computed (``index``); one without it
    (the index switched off for a benchmark) is skipped.
    """
    entries = [(c.id, c.index) for c in completions if c.id in written and getattr(c, "index", None)]
    return write(conn, entries)


def index_batch(
    conn: sa.Connection, *, limit: int = 500, rebuild_after: uuid.UUID | None = None
) -> tuple[int, uuid.UUID | None]:
    """Index up to ``limit`` completed jobs; returns (how many, the last job id).

    By default the jobs that have no index row yet. With ``rebuild_after`` (a job id;
    the nil UUID to start) every completed job with a greater id is indexed again, in
    id order: call again with the last id until it returns 0.
    """
    if rebuild_after is None:
        where, params = f"NOT EXISTS (SELECT 1 FROM {INDEX} s WHERE s.job_id = j.id)", {}
    else:
        where, params = "j.id > :after", {"after": rebuild_after}
    rows = conn.execute(
        sa.text(
            f"""SELECT j.id, r.document FROM {JOBS} j JOIN {RESULTS} r ON r.job_id = j.id
                WHERE j.status = 'completed' AND j.format <> :unindexed AND {where}
                ORDER BY j.id LIMIT :limit"""
        ),
        {**params, "limit": limit, "unindexed": document.UNINDEXED_FORMAT},
    ).all()
    write(conn, [(r.id, document.index_entry(r.document).to_json()) for r in rows])
    return len(rows), (rows[-1].id if rows else None)


def fix_latest(conn: sa.Connection) -> int:
    """Set ``is_latest`` on exactly the newest completed job of every path; returns rows changed."""
    result = conn.execute(
        sa.text(
            f"""UPDATE {INDEX} s SET is_latest = (s.job_id = l.job_id)
                FROM (SELECT DISTINCT ON (path) path, job_id FROM {INDEX}
                      ORDER BY path, completed_at DESC, job_id DESC) l
                WHERE s.path = l.path AND s.is_latest IS DISTINCT FROM (s.job_id = l.job_id)"""
        )
    )
    return int(result.rowcount or 0)


@dataclass(frozen=True)
class Counts:
    completed: int
    indexed: int
    stale: int  # indexed by an older version of the index function


def counts(conn: sa.Connection) -> Counts:
    row = conn.execute(
        sa.text(
            f"""SELECT (SELECT count(*) FROM {JOBS} WHERE status = 'completed' AND format <> :unindexed)
                       AS completed,
                       count(*) AS indexed, count(*) FILTER (WHERE version < :v) AS stale
                FROM {INDEX}"""
        ),
        {"v": document.INDEX_VERSION, "unindexed": document.UNINDEXED_FORMAT},
    ).one()
    return Counts(int(row.completed), int(row.indexed), int(row.stale))


# -- search -----------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    """One file (or job, with all_jobs) that matched, best first."""

    job_id: uuid.UUID
    path: str
    format: str
    batch: str | None
    completed_at: datetime
    rank: float
    field: str | None  # the label of the first segment that matched
    snippet: str  # START/STOP mark the matched words
    total: int  # matches of the whole search, not only those returned

    def as_json(self) -> dict[str, Any]:
        plain, spans = split_marks(self.snippet)
        return {
            "job_id": str(self.job_id),
            "path": self.path,
            "format": self.format,
            "batch": self.batch,
            "completed_at": self.completed_at.isoformat(),
            "rank": round(self.rank, 6),
            "field": self.field,
            "snippet": plain,
            "highlights": spans,
        }


def split_marks(snippet: str) -> tuple[str, list[list[int]]]:
    """The snippet without marks, and [start, end) of each marked stretch (adjacent ones joined)."""
    plain: list[str] = []
    spans: list[list[int]] = []
    pos = 0
    start: int | None = None
    for ch in snippet:
        if ch == START:
            start = pos
        elif ch == STOP:
            if start is not None and spans and spans[-1][1] == start:
                spans[-1][1] = pos  # "CX" and "-1001" are two words to PostgreSQL: one stretch here
            elif start is not None:
                spans.append([start, pos])
            start = None
        else:
            plain.append(ch)
            pos += 1
    return "".join(plain), spans


def _filters_sql(f: Filters) -> tuple[str, dict[str, Any]]:
    from cadextract.store.parsing import glob_to_like

    clauses: list[str] = []
    params: dict[str, Any] = {}
    if f.formats:
        clauses.append("s.format = ANY(CAST(:formats AS text[]))")
        params["formats"] = list(f.formats)
    if f.batch is not None:
        clauses.append("s.batch = :batch")
        params["batch"] = f.batch
    if f.path_glob:
        clauses.append("s.path LIKE :path_like ESCAPE '\\'")
        params["path_like"] = glob_to_like(f.path_glob)
    if f.fields:
        clauses.append("s.field_keys @> CAST(:field_keys AS text[])")
        params["field_keys"] = f.field_keys()
    return " AND ".join(clauses) or "TRUE", params


def search(
    conn: sa.Connection, query: Query | None, f: Filters, *, limit: int = 20, all_jobs: bool = False
) -> list[Hit]:
    """Ranked hits; without a query (only --field filters), newest first."""
    where, params = _filters_sql(f)
    if query is not None:
        tsquery, qparams = query.sql(CONFIG)
        params.update(qparams)
        match, rank = "s.tsv @@ q.q", "ts_rank(s.tsv, q.q, 1)"
    else:
        tsquery, match, rank = "CAST('' AS tsquery)", "TRUE", "0"
    latest = "TRUE" if all_jobs else "s.is_latest"
    # two workers completing jobs of one path at the same moment can both leave their row
    # "latest"; DISTINCT ON keeps one hit per file whatever happened
    distinct = "" if all_jobs else "DISTINCT ON (s.path)"
    order_distinct = "" if all_jobs else "ORDER BY s.path, s.completed_at DESC"
    if query is not None:
        hit_sql = f"""
            LEFT JOIN LATERAL (
                SELECT seg.label, ts_headline('{CONFIG}', seg.text, q.q, :headline) AS snippet
                FROM {INDEX} s2,
                     unnest(s2.labels, s2.texts, s2.extras) WITH ORDINALITY AS seg(label, text, extra, n)
                WHERE s2.job_id = top.job_id
                  AND to_tsvector('{CONFIG}', seg.text || E'\\n' || seg.extra) @@ q.q
                ORDER BY seg.n LIMIT 1
            ) hit ON TRUE"""
        hit_cols = "hit.label, hit.snippet"
        params["headline"] = HEADLINE
    else:
        hit_sql, hit_cols = "", "NULL AS label, NULL AS snippet"
    rows = conn.execute(
        sa.text(
            f"""
            WITH q AS (SELECT {tsquery} AS q),
            m AS (
                SELECT {distinct} s.job_id, s.path, s.format, s.batch, s.completed_at, {rank} AS rank
                FROM {INDEX} s, q
                WHERE {match} AND {latest} AND {where}
                {order_distinct}
            ),
            top AS (
                SELECT m.*, count(*) OVER () AS total FROM m
                ORDER BY m.rank DESC, m.completed_at DESC, m.job_id LIMIT :limit
            )
            SELECT top.*, {hit_cols}
            FROM top CROSS JOIN q {hit_sql}
            ORDER BY top.rank DESC, top.completed_at DESC, top.job_id
            """
        ),
        {**params, "limit": limit},
    ).all()
    hits = []
    for r in rows:
        field, snippet = r.label, r.snippet or ""
        if query is None:
            field = "title_block"
        hits.append(
            Hit(
                r.job_id,
                r.path,
                r.format,
                r.batch,
                r.completed_at,
                float(r.rank),
                field,
                snippet,
                int(r.total),
            )
        )
    if query is None and hits:
        hits = _with_field_snippets(conn, hits, f)
    return hits


def _with_field_snippets(conn: sa.Connection, hits: list[Hit], f: Filters) -> list[Hit]:
    """Filter-only hits: the snippet shows the title-block fields asked for."""
    rows = conn.execute(
        sa.text(f"SELECT job_id, fields FROM {INDEX} WHERE job_id = ANY(CAST(:ids AS uuid[]))"),
        {"ids": [h.job_id for h in hits]},
    ).all()
    fields = {r.job_id: r.fields or {} for r in rows}
    out = []
    for h in hits:
        got = fields.get(h.job_id, {})
        text = " · ".join(f"{name}: {START}{got.get(name, '')}{STOP}" for name, _ in f.fields)
        label = "title_block." + ",".join(name for name, _ in f.fields)
        out.append(Hit(**{**h.__dict__, "field": label, "snippet": text}))
    return out


def size_stats(conn: sa.Connection) -> dict[str, float]:
    """Bytes the index takes per document (row data incl. TOAST), average and max."""
    row = conn.execute(
        sa.text(
            f"""SELECT count(*) AS n, avg(pg_column_size(s.*)) AS avg, max(pg_column_size(s.*)) AS max,
                       avg(pg_column_size(s.tsv)) AS tsv_avg,
                       pg_total_relation_size('{INDEX}') AS total,
                       pg_relation_size('cadextract.ix_search_tsv') AS gin
                FROM {INDEX} s"""
        )
    ).one()
    return {k: float(v or 0) for k, v in row._asdict().items()}


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))
