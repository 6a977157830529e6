"""The two tables: narrow jobs (read by the hot queries) and result documents beside them."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import (
    ARRAY,
    REAL,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR, UUID

SCHEMA = "cadextract"


class JobStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


ACTIVE = (JobStatus.PENDING, JobStatus.PROCESSING)
FINISHED = (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED)

metadata = MetaData(schema=SCHEMA)

jobs = Table(
    "extraction_jobs",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")),
    Column("path", Text, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", Text, nullable=False),
    Column("format", Text, nullable=False),
    Column("status", Text, nullable=False, server_default=text("'pending'")),
    Column("priority", Integer, nullable=False, server_default=text("0")),
    Column("progress", REAL, nullable=False, server_default=text("0")),
    Column("progress_note", Text),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("max_attempts", Integer, nullable=False, server_default=text("4")),
    Column("run_after", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("started_at", DateTime(timezone=True)),
    Column("completed_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("lease_expires_at", DateTime(timezone=True)),
    # fencing token: fresh at every claim; every later write for the job must match it
    Column("lease_token", UUID(as_uuid=True)),
    Column("worker_id", Text),
    Column("cancel_requested_at", DateTime(timezone=True)),
    Column("last_error_type", Text),
    Column("last_error_message", Text),
    Column("errors", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("options", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("submitted_by", Text),
    Column("batch", Text),
    CheckConstraint(
        "status IN ('pending', 'processing', 'completed', 'failed', 'cancelled')", name="ck_jobs_status"
    ),
    CheckConstraint("progress >= 0 AND progress <= 100", name="ck_jobs_progress"),
    CheckConstraint("max_attempts >= 1", name="ck_jobs_max_attempts"),
    # the claim query's ORDER BY, restricted to the rows it can return
    Index(
        "ix_jobs_claimable",
        text("priority DESC"),
        "run_after",
        "created_at",
        postgresql_where=text("status = 'pending'"),
    ),
    # the rescuer's scan of expired leases
    Index("ix_jobs_lease", "lease_expires_at", postgresql_where=text("status = 'processing'")),
    # dedupe: at most one active job per content + format; two overlapping submits
    # of the same file cannot both enqueue it
    Index(
        "ux_jobs_active_content",
        "sha256",
        "format",
        unique=True,
        postgresql_where=text("status IN ('pending', 'processing')"),
    ),
    Index("ix_jobs_content", "sha256", "format"),
    # status summary by index-only scan; listings filtered by state, newest first
    Index("ix_jobs_status_format", "status", "format"),
    Index("ix_jobs_status_updated", "status", "updated_at"),
    Index("ix_jobs_batch", "batch"),
    # the console's listing, newest first with keyset pagination (migration 0004)
    Index("ix_jobs_created", text("created_at DESC"), text("id DESC")),
    Index("ix_jobs_status_created", "status", text("created_at DESC"), text("id DESC")),
)

results = Table(
    "extraction_results",
    metadata,
    # primary key = at most one result per job, whatever a late worker tries
    Column(
        "job_id",
        UUID(as_uuid=True),
        ForeignKey(f"{SCHEMA}.extraction_jobs.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("document", JSONB, nullable=False),
    Column("size_bytes", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
)

# Jobs per (status, format), as rows of net changes appended by statement triggers on
# the jobs table (migration 0002): the summary adds up a few hundred rows instead of
# counting every job. store.protocol.compact_counts folds them back to one row per key.
job_counts = Table(
    "job_counts",
    metadata,
    Column("status", Text, nullable=False),
    Column("format", Text, nullable=False),
    Column("n", BigInteger, nullable=False),
)

# The search index (migration 0003; written by search/store.py in the completion's
# transaction): one row per completed job, gone with its job.
search_index = Table(
    "search_index",
    metadata,
    Column(
        "job_id",
        UUID(as_uuid=True),
        ForeignKey(f"{SCHEMA}.extraction_jobs.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("path", Text, nullable=False),
    Column("format", Text, nullable=False),
    Column("batch", Text),
    Column("completed_at", DateTime(timezone=True), nullable=False),
    Column("is_latest", Boolean, nullable=False, server_default=text("true")),
    Column("fields", JSONB, nullable=False, server_default=text("'{}'")),
    Column("field_keys", ARRAY(Text), nullable=False, server_default=text("'{}'")),
    Column("labels", ARRAY(Text), nullable=False),
    Column("texts", ARRAY(Text), nullable=False),
    Column("extras", ARRAY(Text), nullable=False),
    Column("tsv", TSVECTOR, nullable=False),
    Column("version", SmallInteger, nullable=False),
    Index("ix_search_tsv", "tsv", postgresql_using="gin"),
    Index("ix_search_field_keys", "field_keys", postgresql_using="gin"),
    Index("ix_search_path", "path", text("completed_at DESC")),
    Index("ix_search_latest_batch", "batch", "path", postgresql_where=text("is_latest")),
    Index("ix_search_latest_completed", text("completed_at DESC"), postgresql_where=text("is_latest")),
)

# One preview image per extracted file (migration 0004), written in the transaction that
# completes the job; deleted with the job.
job_previews = Table(
    "job_previews",
    metadata,
    Column(
        "job_id",
        UUID(as_uuid=True),
        ForeignKey(f"{SCHEMA}.extraction_jobs.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("mime", Text, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("seconds", REAL, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
)

# What each submit saw per path or object URL (migration 0005): the stat (local) or the
# change key (remote) and the hash last seen, so a nightly run hashes only what moved.
source_files = Table(
    "source_files",
    metadata,
    Column("path", Text, primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("mtime_ns", BigInteger),
    Column("ctime_ns", BigInteger),
    Column("inode", BigInteger),
    Column("device", BigInteger),
    Column("etag", Text),
    Column("version", Text),
    Column("sha256", Text),
    Column("format", Text),
    Column("checked_ns", BigInteger),
    Column("seen_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("missing_since", DateTime(timezone=True)),
    Index("ix_source_files_content", "sha256", "format"),
    # LIKE '/root/%' by index whatever the collation (operator class in postgresql_ops,
    # where alembic's comparison understands it)
    Index("ix_source_files_prefix", "path", postgresql_ops={"path": "text_pattern_ops"}),
)


def _path_rev_index(name: str, table: Table) -> Index:
    """A path glob naming a file finds its rows by the reversed path (migration 0006)."""
    expr = func.reverse(func.lower(table.c.path)).label("path_rev")
    return Index(name, expr, postgresql_ops={"path_rev": "text_pattern_ops"})


_path_rev_index("ix_jobs_path_rev", jobs)
_path_rev_index("ix_source_files_path_rev", source_files)
