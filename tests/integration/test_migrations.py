"""The migrations build exactly the tables the models describe."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine

from cadextract import db, models


def test_migrated_schema_equals_models(engine: Engine) -> None:
    assert db.current_revision(engine) == db.head_revision()
    # connect() checks the schema against this constant without loading alembic
    assert db.head_revision() == db.SCHEMA_HEAD
    with engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn,
            opts={
                "include_schemas": True,
                "version_table_schema": models.SCHEMA,
                "include_name": lambda name, type_, parent: type_ != "schema" or name == models.SCHEMA,
                "compare_server_default": False,
            },
        )
        diff = compare_metadata(ctx, models.metadata)
    assert diff == []


def test_upgrade_is_idempotent_and_concurrent_safe(engine: Engine) -> None:
    import threading

    errors: list[BaseException] = []

    def go() -> None:
        try:
            db.upgrade(engine)
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=go) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with engine.connect() as conn:
        tables = set(sa.inspect(conn).get_table_names(schema=models.SCHEMA))
    assert {"extraction_jobs", "extraction_results", "alembic_version"} <= tables


def test_upgrade_from_0001_counts_the_jobs_already_there(clean_db: Engine, tmp_path: Path) -> None:
    """An existing database gets the job-count table filled from its jobs, then kept."""
    from alembic import command

    from cadextract.store import protocol, readmodels
    from tests.helpers import enqueue_files, make_files

    enqueue_files(clean_db, make_files(tmp_path / "a", 4))
    cfg = db._alembic_config(clean_db)
    try:
        with clean_db.connect() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0001")
            conn.commit()
        with clean_db.begin() as conn:
            assert sa.inspect(conn).has_table("job_counts", schema=models.SCHEMA) is False
        enqueue_files(clean_db, make_files(tmp_path / "b", 3), fmt="test-sleep")  # no triggers now
    finally:
        db.upgrade(clean_db)
    with clean_db.begin() as conn:
        protocol.claim(conn, worker_id="w:1", limit=2, lease_seconds=30)
    with clean_db.connect() as conn:
        s = readmodels.summary(conn)
    # the oldest two (noop) were claimed; the three added without triggers are counted
    assert s.by_format == {"noop": {"pending": 2, "processing": 2}, "test-sleep": {"pending": 3}}
    assert db.current_revision(clean_db) == db.SCHEMA_HEAD
