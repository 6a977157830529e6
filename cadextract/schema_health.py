"""Telling a damaged or too-new schema from an outage. Pure decisions plus one query.

An outage (connection refused, server restarting) is worth waiting out; a missing table,
a missing column or a schema revision this version of cadextract has never heard of is
not: waiting cannot fix it, and a worker that treats it as an outage loops forever. Such
problems end the command with one line and exit code 3.
"""

from __future__ import annotations

import re
from pathlib import Path

import sqlalchemy as sa

from cadextract import models

VERSIONS = Path(__file__).parent / "migrations" / "versions"
_REVISION = re.compile(r"""^revision\s*(?::\s*str\s*)?=\s*["']([^"']+)["']""", re.MULTILINE)

# SQLSTATEs that mean "the schema is not what the code expects": undefined table,
# column, function, object; invalid schema name. Connection errors (08xxx, 57Pxx) are outages.
SCHEMA_SQLSTATES = frozenset({"42P01", "42703", "42883", "42704", "3F000"})


def known_revisions() -> set[str]:
    """The revision ids of the migrations shipped with this version (read from the files)."""
    out = set()
    for path in VERSIONS.glob("*.py"):
        match = _REVISION.search(path.read_text(encoding="utf-8"))
        if match:
            out.add(match.group(1))
    return out


def revision_problem(current: str | None, known: set[str], head: str) -> str | None:
    """What is wrong with the database's revision for this code (None: nothing, or just old)."""
    if current is None or current in known:
        return None
    return (
        f"the database schema is at revision {current}, which this version of cadextract "
        f"does not know (it knows up to {head}): the database was migrated by a newer "
        "cadextract; upgrade cadextract on this host"
    )


def expected_tables() -> list[str]:
    """Every table the code uses, from the models' metadata (new tables count automatically)."""
    return [f"{t.schema}.{t.name}" for t in models.metadata.sorted_tables]


def missing_tables(conn: sa.Connection) -> list[str]:
    """The expected tables that do not exist in the database."""
    names = expected_tables()
    rows = conn.execute(
        sa.text("SELECT t FROM unnest(CAST(:names AS text[])) AS t WHERE to_regclass(t) IS NULL"),
        {"names": names},
    ).scalars()
    return sorted(rows)


def damaged_message(missing: list[str], revision: str | None) -> str:
    """One line for a schema whose tables are gone although its revision says otherwise."""
    return (
        f"the database schema is damaged: {', '.join(missing)} missing although it is at revision "
        f"{revision}; restore the database from a backup (or drop the {models.SCHEMA} schema to "
        "start empty)"
    )


def sqlstate_of(exc: BaseException | None) -> str | None:
    """The SQLSTATE of a psycopg error, also when wrapped by SQLAlchemy."""
    inner = getattr(exc, "orig", None) or exc
    state = getattr(inner, "sqlstate", None)
    return state if isinstance(state, str) else None


def is_schema_error(exc: BaseException | None) -> bool:
    """True when a database error means the schema is wrong, not that the server is away."""
    return sqlstate_of(exc) in SCHEMA_SQLSTATES
