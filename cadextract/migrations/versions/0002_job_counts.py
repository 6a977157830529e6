"""job counts kept by triggers, so the summary does not count a million rows

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SCHEMA = "cadextract"
JOBS = f"{SCHEMA}.extraction_jobs"
COUNTS = f"{SCHEMA}.job_counts"


def upgrade() -> None:
    op.create_table(
        "job_counts",
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("format", sa.Text(), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        schema=SCHEMA,
    )
    op.execute(f"INSERT INTO {COUNTS} (status, format, n) SELECT status, format, count(*) FROM {JOBS} GROUP BY 1, 2")
    # One trigger per event: PostgreSQL allows transition tables only on single-event
    # triggers. Each statement appends its net change per (status, format) as rows;
    # appending never waits on another transaction, unlike updating one counter row.
    op.execute(f"""
        CREATE FUNCTION {SCHEMA}.count_inserted_jobs() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO {COUNTS} (status, format, n)
            SELECT status, format, count(*) FROM new_rows GROUP BY status, format;
            RETURN NULL;
        END $$""")
    op.execute(f"""
        CREATE FUNCTION {SCHEMA}.count_updated_jobs() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO {COUNTS} (status, format, n)
            SELECT status, format, sum(d) FROM (
                SELECT status, format, 1 AS d FROM new_rows
                UNION ALL
                SELECT status, format, -1 AS d FROM old_rows
            ) changes
            GROUP BY status, format HAVING sum(d) <> 0;
            RETURN NULL;
        END $$""")
    op.execute(f"""
        CREATE FUNCTION {SCHEMA}.count_deleted_jobs() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO {COUNTS} (status, format, n)
            SELECT status, format, -count(*) FROM old_rows GROUP BY status, format;
            RETURN NULL;
        END $$""")
    op.execute(f"""
        CREATE FUNCTION {SCHEMA}.count_truncated_jobs() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM {COUNTS};
            RETURN NULL;
        END $$""")
    op.execute(f"""
        CREATE TRIGGER count_inserted AFTER INSERT ON {JOBS}
        REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION {SCHEMA}.count_inserted_jobs()""")
    # fires for every UPDATE (PostgreSQL refuses column lists with transition tables);
    # a heartbeat changes no status, so its net change is empty and appends nothing
    op.execute(f"""
        CREATE TRIGGER count_updated AFTER UPDATE ON {JOBS}
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION {SCHEMA}.count_updated_jobs()""")
    op.execute(f"""
        CREATE TRIGGER count_deleted AFTER DELETE ON {JOBS}
        REFERENCING OLD TABLE AS old_rows
        FOR EACH STATEMENT EXECUTE FUNCTION {SCHEMA}.count_deleted_jobs()""")
    op.execute(f"""
        CREATE TRIGGER count_truncated AFTER TRUNCATE ON {JOBS}
        FOR EACH STATEMENT EXECUTE FUNCTION {SCHEMA}.count_truncated_jobs()""")


def downgrade() -> None:
    for trigger in ("count_inserted", "count_updated", "count_deleted", "count_truncated"):
        op.execute(f"DROP TRIGGER {trigger} ON {JOBS}")
    for function in ("count_inserted_jobs", "count_updated_jobs", "count_deleted_jobs", "count_truncated_jobs"):
        op.execute(f"DROP FUNCTION {SCHEMA}.{function}()")
    op.drop_table("job_counts", schema=SCHEMA)
