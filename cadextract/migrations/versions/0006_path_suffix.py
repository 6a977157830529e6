"""reversed-path indexes (a path glob that names a file finds its jobs without a table walk),
and the documents view probes jobs by primary key instead of hashing the whole table

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

SCHEMA = "cadextract"


def upgrade() -> None:
    # `jobs --path part-0500000.pdf` is LIKE '%/part-0500000.pdf': no B-tree serves a leading
    # wildcard, but the reversed path starts with the reversed file name (store/parsing.py)
    for name, table in (("ix_jobs_path_rev", "extraction_jobs"), ("ix_source_files_path_rev", "source_files")):
        op.execute(f"CREATE INDEX {name} ON {SCHEMA}.{table} (reverse(lower(path)) text_pattern_ops)")
    _views()


def _views() -> None:
    from cadextract.search import sqlviews

    sqlviews.create_all(op.get_bind())


def downgrade() -> None:
    op.execute(f"DROP INDEX {SCHEMA}.ix_source_files_path_rev")
    op.execute(f"DROP INDEX {SCHEMA}.ix_jobs_path_rev")
    _views()
