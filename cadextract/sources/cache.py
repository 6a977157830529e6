"""SQL for the stat cache (table ``source_files``): read by root, record, mark missing."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from cadextract.sources.decide import Cached, LatestJob, Stat
from cadextract.store.sql import JOBS

TABLE = "cadextract.source_files"


@dataclass(frozen=True)
class Seen:
    """One path as this submit saw it (the row written back)."""

    path: str
    size: int
    stat: Stat | None = None
    etag: str | None = None
    version: str | None = None
    sha256: str | None = None
    format: str | None = None
    checked_ns: int | None = None


def like_prefix(root: str) -> str:
    """LIKE pattern for everything under a folder or prefix (the root itself excluded)."""
    escaped = root.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped if escaped.endswith("/") else escaped + "/"


def load(conn: sa.Connection, *, folders: Sequence[str] = (), files: Sequence[str] = ()) -> dict[str, Cached]:
    """The recorded rows under the given folders/prefixes and for the given single paths.

    Each comes with the newest job of its content and format, so an unchanged file's
    outcome is known without enqueueing it. A plain join (the newest picked here) lets
    the planner hash-join a whole tree: 3-4x faster than a per-row LATERAL ... LIMIT 1
    on 100,000 rows, and still an index look-up per row when only a few are asked for.
    """
    if not folders and not files:
        return {}
    rows = conn.execute(
        sa.text(
            f"""
            SELECT s.path, s.size, s.mtime_ns, s.ctime_ns, s.inode, s.device, s.etag, s.sha256,
                   s.format, s.checked_ns, s.missing_since IS NOT NULL AS missing,
                   j.id, j.status, j.last_error_type, j.last_error_message, j.attempts, j.created_at
            FROM {TABLE} s
            LEFT JOIN {JOBS} j ON j.sha256 = s.sha256 AND j.format = s.format
            WHERE s.path LIKE ANY(CAST(:likes AS text[])) OR s.path = ANY(CAST(:files AS text[]))
            """
        ),
        {"likes": [like_prefix(f) + "%" for f in folders], "files": list(files)},
    ).all()  # one fetch: iterating the result fetches row by row, 3x slower on 100,000 rows
    out: dict[str, Cached] = {}
    newest: dict[str, tuple[datetime, uuid.UUID]] = {}  # (created_at, id) of the job kept per path
    for path, size, mtime, ctime, inode, dev, etag, sha, fmt, checked, missing, jid, *job, created in rows:
        latest = None
        if jid is not None:
            if path in newest and newest[path] > (created, jid):
                continue  # the content has several jobs: the newest one decides
            newest[path] = (created, jid)
            latest = LatestJob(jid, *job)
        stat = Stat(size, mtime, ctime, inode, dev) if mtime is not None else None
        out[path] = Cached(stat, sha, fmt, checked, etag, missing, latest)
    return out


def record(conn: sa.Connection, seen: Sequence[Seen]) -> None:
    """Insert or update the rows (one statement); a path found again is no longer missing."""
    if not seen:
        return
    rows = json.dumps(
        [
            {
                "path": s.path,
                "size": s.size,
                "mtime_ns": s.stat.mtime_ns if s.stat else None,
                "ctime_ns": s.stat.ctime_ns if s.stat else None,
                "inode": s.stat.inode if s.stat else None,
                "device": s.stat.device if s.stat else None,
                "etag": s.etag,
                "version": s.version,
                "sha256": s.sha256,
                "format": s.format,
                "checked_ns": s.checked_ns,
            }
            for s in seen
        ]
    )
    conn.execute(
        sa.text(
            f"""
            INSERT INTO {TABLE} AS t (path, size, mtime_ns, ctime_ns, inode, device, etag, version,
                                      sha256, format, checked_ns)
            SELECT * FROM json_to_recordset(CAST(:rows AS json)) AS v(
                path text, size bigint, mtime_ns bigint, ctime_ns bigint, inode bigint, device bigint,
                etag text, version text, sha256 text, format text, checked_ns bigint)
            ON CONFLICT (path) DO UPDATE SET
                size = EXCLUDED.size, mtime_ns = EXCLUDED.mtime_ns, ctime_ns = EXCLUDED.ctime_ns,
                inode = EXCLUDED.inode, device = EXCLUDED.device, etag = EXCLUDED.etag,
                version = EXCLUDED.version, sha256 = EXCLUDED.sha256, format = EXCLUDED.format,
                checked_ns = EXCLUDED.checked_ns, seen_at = now(), missing_since = NULL
            """
        ),
        {"rows": rows},
    )


def mark_missing(conn: sa.Connection, paths: Sequence[str]) -> None:
    """Note when each path was first found gone (rows and jobs are kept)."""
    if paths:
        conn.execute(
            sa.text(
                f"UPDATE {TABLE} SET missing_since = now() "
                "WHERE path = ANY(CAST(:paths AS text[])) AND missing_since IS NULL"
            ),
            {"paths": list(paths)},
        )
