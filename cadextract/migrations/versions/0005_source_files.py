"""source_files: what each submit saw per path (stat or object change key, hash), for incremental runs

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

SCHEMA = "cadextract"


def upgrade() -> None:
    # One row per path or object URL ever submitted. Local files keep their stat
    # (size, mtime/ctime in ns, inode, device); objects their ETag/version and size.
    # sha256 is the content hash last seen (local) or the object's change key (remote).
    op.create_table(
        "source_files",
        sa.Column("path", sa.Text(), primary_key=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("mtime_ns", sa.BigInteger()),
        sa.Column("ctime_ns", sa.BigInteger()),
        sa.Column("inode", sa.BigInteger()),
        sa.Column("device", sa.BigInteger()),
        sa.Column("etag", sa.Text()),
        sa.Column("version", sa.Text()),
        sa.Column("sha256", sa.Text()),
        sa.Column("format", sa.Text()),
        # when the hash was taken (ns since the epoch): a file changed in the same
        # timestamp tick as its hashing is "racily clean" and is hashed again
        sa.Column("checked_ns", sa.BigInteger()),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
        sa.Column("missing_since", sa.DateTime(timezone=True)),
        schema=SCHEMA,
    )
    # `jobs --path` and export find a job through any path that had its content
    op.create_index("ix_source_files_content", "source_files", ["sha256", "format"], schema=SCHEMA)
    # the walk of one folder reads its rows by prefix
    # (the same index as the raw CREATE INDEX ... (path text_pattern_ops) this revision first
    # ran: databases already at 0005 match; the operator class is given as postgresql_ops,
    # which alembic's comparison understands)
    op.create_index(
        "ix_source_files_prefix",
        "source_files",
        ["path"],
        schema=SCHEMA,
        postgresql_ops={"path": "text_pattern_ops"},
    )


def downgrade() -> None:
    op.drop_table("source_files", schema=SCHEMA)
