"""search index written with each result, and the public SQL views

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30

One row per completed job in ``search_index`` (deleted with its job by the foreign
key's cascade): labelled text segments, the title-block fields, and a ``tsvector`` in
the ``cadextract.cx`` text search configuration (a copy of ``simple``: no stemming, no
stop words, so identifiers stay as written). Results completed before this revision are
indexed here, in batches. pg_trgm is used when the server has it (an index for
``--path`` globs), never required.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SCHEMA = "cadextract"
INDEX = f"{SCHEMA}.search_index"
JOBS = f"{SCHEMA}.extraction_jobs"


# one to_tsvector per weight, concatenated
WEIGHTED = "\n                || ".join(
    f"setweight(to_tsvector('{SCHEMA}.cx', "
    f"coalesce(string_agg(t, E'\\n') FILTER (WHERE w = '{w}'), '')), '{w}')"
    for w in "ABCD"
)


def upgrade() -> None:
    op.execute(f"CREATE TEXT SEARCH CONFIGURATION {SCHEMA}.cx (COPY = pg_catalog.simple)")
    # the segments grouped by weight, each group one to_tsvector (positions run on
    # across the segments of a group, so a phrase never spans two weights)
    op.execute(f"""
        CREATE FUNCTION {SCHEMA}.search_vector(weights text, texts text[], extras text[])
        RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
            SELECT {WEIGHTED}
            FROM (SELECT w, s.t || CASE WHEN s.e <> '' THEN E'\\n' || s.e ELSE '' END AS t
                  FROM unnest(string_to_array(weights, NULL), texts, extras) AS s(w, t, e)) x
        $$""")
    op.create_table(
        "search_index",
        sa.Column(
            "job_id",
            postgresql.UUID(as_uuid=True),
            sa.ForeignKey(f"{JOBS}.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("format", sa.Text(), nullable=False),
        sa.Column("batch", sa.Text()),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=False),
        # the newest completed job of its path: what search and the views show by default
        sa.Column("is_latest", sa.Boolean(), nullable=False, server_default=sa.text("true")),
        sa.Column("fields", postgresql.JSONB(), nullable=False, server_default=sa.text("'{}'")),
        sa.Column("field_keys", sa.ARRAY(sa.Text()), nullable=False, server_default=sa.text("'{}'")),
        sa.Column("labels", sa.ARRAY(sa.Text()), nullable=False),
        sa.Column("texts", sa.ARRAY(sa.Text()), nullable=False),
        sa.Column("extras", sa.ARRAY(sa.Text()), nullable=False),
        sa.Column("tsv", postgresql.TSVECTOR(), nullable=False),
        sa.Column("version", sa.SmallInteger(), nullable=False),
        schema=SCHEMA,
    )
    op.execute(f"CREATE INDEX ix_search_tsv ON {INDEX} USING gin (tsv)")
    op.execute(f"CREATE INDEX ix_search_field_keys ON {INDEX} USING gin (field_keys)")
    op.execute(f"CREATE INDEX ix_search_path ON {INDEX} (path, completed_at DESC)")
    op.execute(f"CREATE INDEX ix_search_latest_batch ON {INDEX} (batch, path) WHERE is_latest")
    op.execute(f"CREATE INDEX ix_search_latest_completed ON {INDEX} (completed_at DESC) WHERE is_latest")
    # a deleted latest row (purge) hands "latest" to the newest remaining job of its path
    op.execute(f"""
        CREATE FUNCTION {SCHEMA}.search_index_promote() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE {INDEX} SET is_latest = true
            WHERE job_id = (SELECT job_id FROM {INDEX} WHERE path = OLD.path
                            ORDER BY completed_at DESC LIMIT 1);
            RETURN NULL;
        END $$""")
    op.execute(f"""
        CREATE TRIGGER search_index_deleted AFTER DELETE ON {INDEX}
        FOR EACH ROW WHEN (OLD.is_latest) EXECUTE FUNCTION {SCHEMA}.search_index_promote()""")
    # no code path takes a completed job elsewhere today; if one ever does, its hits go
    op.execute(f"""
        CREATE FUNCTION {SCHEMA}.search_index_unindex() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM {INDEX} WHERE job_id = OLD.id;
            RETURN NULL;
        END $$""")
    op.execute(f"""
        CREATE TRIGGER search_unindex AFTER UPDATE OF status ON {JOBS}
        FOR EACH ROW WHEN (OLD.status = 'completed' AND NEW.status <> 'completed')
        EXECUTE FUNCTION {SCHEMA}.search_index_unindex()""")
    _trigram_index()

    from cadextract.search import sqlviews, store

    conn = op.get_bind()
    sqlviews.create_all(conn)
    while store.index_batch(conn, limit=500)[0]:
        pass
    store.fix_latest(conn)


def _trigram_index() -> None:
    conn = op.get_bind()
    available = conn.execute(sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")).scalar()
    if not available:
        return  # the embedded server has no pg_trgm: globs scan the (narrow) paths instead
    # CREATE EXTENSION needs rights the role may lack: try it in a savepoint
    with conn.begin_nested() as sp:
        try:
            conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
            conn.execute(
                sa.text(f"CREATE INDEX ix_search_path_trgm ON {INDEX} USING gin (path gin_trgm_ops)")
            )
        except sa.exc.DBAPIError:
            sp.rollback()


def downgrade() -> None:
    from cadextract.search import sqlviews

    sqlviews.drop_all(op.get_bind())
    op.execute(f"DROP TRIGGER search_unindex ON {JOBS}")
    op.execute(f"DROP FUNCTION {SCHEMA}.search_index_unindex()")
    op.drop_table("search_index", schema=SCHEMA)
    op.execute(f"DROP FUNCTION {SCHEMA}.search_index_promote()")
    op.execute(f"DROP FUNCTION {SCHEMA}.search_vector(text, text[], text[])")
    op.execute(f"DROP TEXT SEARCH CONFIGURATION {SCHEMA}.cx")
