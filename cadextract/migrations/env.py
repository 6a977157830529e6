"""Alembic environment: always run online against the engine/connection cadextract passes in."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from cadextract import models

config = context.config


def _run(connection: sa.Connection) -> None:
    connection.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {models.SCHEMA}"))
    context.configure(
        connection=connection,
        target_metadata=models.metadata,
        version_table_schema=models.SCHEMA,
        include_schemas=True,
        include_name=lambda name, type_, parent: type_ != "schema" or name == models.SCHEMA,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = config.attributes.get("engine")
    if engine is None:
        raise RuntimeError("cadextract migrations run through `cadextract db upgrade`")
    with engine.connect() as conn:
        _run(conn)
        conn.commit()
