"""SQL shared by every part of the store: table names, the NOTIFY channel, and the
predicates written once (the lease fence, the format and batch filters)."""

from __future__ import annotations

import sqlalchemy as sa

from cadextract.models import FINISHED

JOBS = "cadextract.extraction_jobs"

RESULTS = "cadextract.extraction_results"

COUNTS = "cadextract.job_counts"

# any 64-bit number unique to this use: one compaction of the counts at a time
COMPACT_LOCK_KEY = 0x0CADE0C0DE

FINISHED_STATES: tuple[str, ...] = tuple(str(status) for status in FINISHED)

#: NOTIFY channel: new runnable jobs (payload empty) and cancel requests (payload "cancel")
CHANNEL = "cadextract_jobs"


#: the lease fence: a write about a held job (``j``) matches the token it was claimed with (``v``)
FENCED = "j.id = v.id AND j.lease_token = v.token AND j.status = 'processing'"
#: optional format filter (``:formats`` NULL: every format)
FORMATS = "(CAST(:formats AS text[]) IS NULL OR format = ANY(CAST(:formats AS text[])))"
#: optional batch filter (``:batch`` NULL: every batch)
BATCH = "(CAST(:batch AS text) IS NULL OR batch = :batch)"


def notify(conn: sa.Connection, payload: str = "") -> None:
    """Wake listening workers when this transaction commits."""
    conn.execute(sa.text("SELECT pg_notify(:channel, :payload)"), {"channel": CHANNEL, "payload": payload})
