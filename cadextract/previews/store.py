"""The SQL of previews: saved with a job's completion, read by `preview` and the console."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from cadextract.previews import Preview

PREVIEWS = "cadextract.job_previews"


@dataclass(frozen=True)
class Stored:
    """A preview to save for a job whose completion was written."""

    job_id: uuid.UUID
    preview: Preview


def save(conn: sa.Connection, items: Sequence[Stored]) -> int:
    """Insert previews in one statement (inside the completion's transaction)."""
    if not items:
        return 0
    result = conn.execute(
        sa.text(
            f"""INSERT INTO {PREVIEWS} (job_id, mime, data, seconds)
                SELECT * FROM unnest(CAST(:ids AS uuid[]), CAST(:mimes AS text[]),
                                     CAST(:data AS bytea[]), CAST(:seconds AS real[]))
                ON CONFLICT (job_id) DO UPDATE
                SET mime = EXCLUDED.mime, data = EXCLUDED.data, seconds = EXCLUDED.seconds,
                    created_at = now()"""
        ),
        {
            "ids": [i.job_id for i in items],
            "mimes": [i.preview.mime for i in items],
            "data": [i.preview.data for i in items],
            "seconds": [i.preview.seconds for i in items],
        },
    )
    return int(result.rowcount or 0)


def get(conn: sa.Connection, job_id: uuid.UUID) -> Preview | None:
    """The preview of one job, or None."""
    row = conn.execute(
        sa.text(f"SELECT mime, data, seconds FROM {PREVIEWS} WHERE job_id = :id"), {"id": job_id}
    ).first()
    return None if row is None else Preview(mime=row.mime, data=bytes(row.data), seconds=float(row.seconds))


def has(conn: sa.Connection, ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these jobs have a preview."""
    rows = conn.execute(
        sa.text(f"SELECT job_id FROM {PREVIEWS} WHERE job_id = ANY(CAST(:ids AS uuid[]))"), {"ids": list(ids)}
    ).all()
    return {r.job_id for r in rows}
