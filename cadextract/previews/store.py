"""The SQL of previews: saved after a job's completion, read by `preview` and the console."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from cadextract.previews import Preview
from cadextract.store.sql import JOBS, RESULTS

PREVIEWS = "cadextract.job_previews"


@dataclass(frozen=True)
class Stored:
    """A completed job's preview, or the warning saying why it has none."""

    job_id: uuid.UUID
    preview: Preview | None
    warning: str | None = None


def save(conn: sa.Connection, items: Sequence[Stored]) -> int:
    """Insert previews and add the warnings to their results; returns the previews saved.

    Only for jobs that are completed: a preview is drawn after its job's completion was
    sent, and a completion refused (lease lost) leaves nothing to show it with.
    """
    made = [i for i in items if i.preview is not None]
    saved = 0
    if made:
        result = conn.execute(
            sa.text(
                f"""INSERT INTO {PREVIEWS} (job_id, mime, data, seconds)
                    SELECT v.* FROM unnest(CAST(:ids AS uuid[]), CAST(:mimes AS text[]),
                                           CAST(:data AS bytea[]), CAST(:seconds AS real[]))
                                    AS v(job_id, mime, data, seconds)
                    JOIN {JOBS} j ON j.id = v.job_id AND j.status = 'completed'
                    ON CONFLICT (job_id) DO UPDATE
                    SET mime = EXCLUDED.mime, data = EXCLUDED.data, seconds = EXCLUDED.seconds,
                        created_at = now()"""
            ),
            {
                "ids": [i.job_id for i in made],
                "mimes": [i.preview.mime for i in made if i.preview],
                "data": [i.preview.data for i in made if i.preview],
                "seconds": [i.preview.seconds for i in made if i.preview],
            },
        )
        saved = int(result.rowcount or 0)
    warned = [i for i in items if i.warning]
    if warned:
        # rare (a renderer failed): the result is rewritten once to carry the warning
        conn.execute(
            sa.text(
                f"""UPDATE {RESULTS} r
                    SET document = jsonb_set(
                        r.document, '{{warnings}}',
                        coalesce(r.document -> 'warnings', '[]'::jsonb) || to_jsonb(v.warning))
                    FROM unnest(CAST(:ids AS uuid[]), CAST(:warnings AS text[])) AS v(job_id, warning)
                    WHERE r.job_id = v.job_id"""
            ),
            {"ids": [i.job_id for i in warned], "warnings": [i.warning for i in warned]},
        )
    return saved


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
