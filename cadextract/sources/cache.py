"""SQL for the stat cache (table ``source_files``): read by root, record, mark missing."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from cadextract.sources.decide import Cached, Stat

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
    """The recorded rows under the given folders/prefixes and for the given single paths."""
    if not folders and not files:
        return {}
    rows = conn.execute(
        sa.text(
            f"""
            SELECT path, size, mtime_ns, ctime_ns, inode, device, etag, sha256, format, checked_ns,
                   missing_since IS NOT NULL AS missing
            FROM {TABLE}
            WHERE path LIKE ANY(CAST(:likes AS text[])) OR path = ANY(CAST(:files AS text[]))
            """
        ),
        {"likes": [like_prefix(f) + "%" for f in folders], "files": list(files)},
    ).all()
    out: dict[str, Cached] = {}
    for r in rows:
        stat = None
        if r.mtime_ns is not None:
            stat = Stat(r.size, r.mtime_ns, r.ctime_ns, r.inode, r.device)
        out[r.path] = Cached(stat, r.sha256, r.format, r.checked_ns, r.etag, bool(r.missing))
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
