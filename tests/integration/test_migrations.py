"""The migrations build exactly the tables the models describe."""

from __future__ import annotations

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
