"""job previews: one small image per extracted file, written with its result

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SCHEMA = "cadextract"


def upgrade() -> None:
    op.create_table(
        "job_previews",
        sa.Column(
            "job_id",
            UUID(as_uuid=True),
            sa.ForeignKey(f"{SCHEMA}.extraction_jobs.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("mime", sa.Text(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("seconds", sa.REAL(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
        sa.CheckConstraint("octet_length(data) <= 262144", name="ck_previews_size"),
        schema=SCHEMA,
    )
    # the bytes are already compressed (PNG, JPEG, gzip): don't let TOAST try again
    op.execute(f"ALTER TABLE {SCHEMA}.job_previews ALTER COLUMN data SET STORAGE EXTERNAL")
    # the console's job listing: newest first, keyset-paginated, with or without a state filter
    op.create_index(
        "ix_jobs_created", "extraction_jobs", [sa.text("created_at DESC"), sa.text("id DESC")], schema=SCHEMA
    )
    op.create_index(
        "ix_jobs_status_created",
        "extraction_jobs",
        ["status", sa.text("created_at DESC"), sa.text("id DESC")],
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_index("ix_jobs_status_created", "extraction_jobs", schema=SCHEMA)
    op.drop_index("ix_jobs_created", "extraction_jobs", schema=SCHEMA)
    op.drop_table("job_previews", schema=SCHEMA)
