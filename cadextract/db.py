"""Engine, the embedded server, and schema upgrades.

With no URL configured, cadextract runs a private PostgreSQL from the ``pgserver``
package in ``$CADEXTRACT_HOME/pgdata``. pgserver serialises start-up with an
inter-process file lock and reuses a running postmaster, so any number of cadextract
processes can call :func:`embedded_url` at once; the server is left running when they
exit (``cadextract db stop`` stops it) so cron runs do not pay start-up each time and
a worker killed with SIGKILL cannot take the server down with it.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from cadextract import dburl, models, schema_health
from cadextract.config import create_home

log = logging.getLogger(__name__)

EMBEDDED_DB = "cadextract"
# any 64-bit number unique to this app: serialises concurrent migrations
MIGRATION_LOCK_KEY = 0x0CADE0CADE
CREATE_DB_LOCK_KEY = 0x0CADE0CADF  # serialises CREATE DATABASE on a fresh embedded server
# the newest migration (a test checks it against alembic's head): every command
# compares it with the database, and imports alembic (0.1 s) only to migrate
SCHEMA_HEAD = "0006"


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached or used; the message never contains a password."""


class SchemaProblem(DatabaseUnavailable):
    """The database answers but its schema is damaged or newer than this code: waiting won't help."""


def mask_url(url: str) -> str:
    """The URL with every credential (user-info and query passwords) replaced by ***."""
    return dburl.mask(url)


def normalise_url(url: str) -> str:
    """Accept postgres:// and postgresql:// URLs and pin the psycopg 3 driver."""
    try:
        parsed = dburl.parse(url)
    except dburl.BadURL as exc:
        raise DatabaseUnavailable(str(exc)) from None
    backend = parsed.get_backend_name()
    if backend not in ("postgresql", "postgres"):
        raise DatabaseUnavailable(f"only PostgreSQL is supported, got a {backend!r} URL ({mask_url(url)})")
    return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def pgdata_dir(home: Path) -> Path:
    return home / "pgdata"


def _pgserver() -> Any:
    # pgserver warns about XDG_RUNTIME_DIR on import under cron; not the user's concern
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver

    return pgserver


def embedded_url(home: Path) -> str:
    """Start (or reuse) the embedded server and return a URL for its cadextract database."""
    create_home(home)
    pgserver = _pgserver()
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    try:
        server = pgserver.get_server(pgdata_dir(home), cleanup_mode=None)
        # get_server caches its handle per process; a server stopped since then
        # (crash, `db stop`, a restart test) must be started again, under pgserver's
        # inter-process lock so two cadextract processes never both run pg_ctl start
        with type(server)._lock:
            server.ensure_postgres_running()
    except Exception as exc:
        raise DatabaseUnavailable(
            f"could not start the embedded PostgreSQL in {pgdata_dir(home)}: {exc}"
        ) from None
    admin_uri = server.get_uri()
    _create_database(admin_uri, EMBEDDED_DB)
    return normalise_url(server.get_uri(EMBEDDED_DB))


def embedded_status(home: Path) -> dict[str, Any]:
    """Whether the embedded server exists and runs, without starting it."""
    pgdata = pgdata_dir(home)
    info: dict[str, Any] = {"pgdata": str(pgdata), "initialised": (pgdata / "PG_VERSION").exists()}
    pid_file = pgdata / "postmaster.pid"
    info["running"] = False
    if pid_file.exists():
        import psutil

        with contextlib.suppress(ValueError, IndexError, OSError):
            pid = int(pid_file.read_text().splitlines()[0])
            info["pid"] = pid
            info["running"] = psutil.pid_exists(pid)
    return info


def stop_embedded(home: Path) -> bool:
    """Stop the embedded server; False when it was not running."""
    if not embedded_status(home)["running"]:
        return False
    _pgserver()  # imports the package with its platformdirs warning silenced
    from pgserver._commands import pg_ctl  # type: ignore[attr-defined]  # made at import time

    server_user = "pgserver" if _running_as_root() else None
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata_dir(home), user=server_user)
    return True


def _running_as_root() -> bool:
    import os

    return hasattr(os, "geteuid") and os.geteuid() == 0


def _create_database(admin_uri: str, name: str) -> None:
    """Create the database unless it exists; safe when many processes start at once.

    Two commands started together on a fresh data directory both saw no database and
    both ran CREATE DATABASE; the loser failed with a unique violation on
    pg_database's name index (not DuplicateDatabase). An advisory lock serialises the
    check and the create, and every form of "already exists" counts as success.
    """
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (CREATE_DB_LOCK_KEY,))
        try:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if not exists:
                with contextlib.suppress(psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation):
                    conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (CREATE_DB_LOCK_KEY,))


def resolve_url(database_url: str | None, home: Path) -> str:
    """The SQLAlchemy URL to use: the configured one, or the embedded server's."""
    if database_url:
        return normalise_url(database_url)
    return embedded_url(home)


def make_engine(url: str, *, pool_size: int = 2) -> Engine:
    """An engine on psycopg 3 with short connect timeouts (cron must not hang)."""
    return sa.create_engine(
        url,
        pool_size=pool_size,
        max_overflow=2,
        pool_pre_ping=True,
        # every time cadextract shows comes back in UTC, whatever the server's zone (docs/guide.md)
        connect_args={"connect_timeout": 5, "application_name": "cadextract", "options": "-c TimeZone=UTC"},
    )


def check_connection(engine: Engine) -> None:
    """Raise DatabaseUnavailable with a one-line reason unless a query succeeds."""
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except OperationalError as exc:
        reason = dburl.redact(first_line(exc.orig), engine.url)
        raise DatabaseUnavailable(f"cannot reach PostgreSQL at {dburl.mask(engine.url)}: {reason}") from None


def first_line(exc: BaseException | None) -> str:
    """The first line of an exception message (psycopg errors run to several)."""
    text = str(exc or "").strip()
    return text.splitlines()[0] if text else type(exc).__name__


# -- migrations ------------------------------------------------------------------


def _alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    cfg.attributes["engine"] = engine
    return cfg


def current_revision(engine: Engine) -> str | None:
    """The schema revision the database is at (None = never migrated)."""
    with engine.connect() as conn:
        return _revision_on(conn)


def head_revision() -> str:
    """The newest revision this version of cadextract knows."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(Path(__file__).parent / "migrations"))
    head = script.get_current_head()
    assert head is not None
    return head


def upgrade(engine: Engine) -> None:
    """Apply pending migrations; concurrent callers wait on an advisory lock."""
    from alembic import command

    with engine.connect() as conn:
        conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
        try:
            check_revision(_revision_on(conn))
            if _revision_on(conn) != head_revision():
                cfg = _alembic_config(engine)
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
                conn.commit()
        except BaseException:
            conn.rollback()  # so the unlock below can run, and the real error shows
            raise
        finally:
            conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK_KEY})
            conn.commit()


def _revision_on(conn: sa.Connection) -> str | None:
    # plain SQL, not alembic's MigrationContext: every command checks the revision,
    # and importing alembic costs 0.1 s
    table = f"{models.SCHEMA}.alembic_version"
    if conn.execute(sa.text("SELECT to_regclass(:t)"), {"t": table}).scalar() is None:
        return None  # never migrated
    revision = conn.execute(sa.text(f"SELECT version_num FROM {table}")).scalar()
    return None if revision is None else str(revision)


def connect(database_url: str | None, home: Path, *, migrate: bool = True, pool_size: int = 2) -> Engine:
    """Resolve the URL, check the server answers, and bring the schema to head."""
    engine = make_engine(resolve_url(database_url, home), pool_size=pool_size)
    check_connection(engine)
    if migrate:
        try:
            revision = current_revision(engine)
            check_revision(revision)
            if revision != SCHEMA_HEAD:
                upgrade(engine)
            check_tables(engine)
        except OperationalError as exc:
            raise DatabaseUnavailable(f"database error while migrating: {first_line(exc.orig)}") from None
        except sa.exc.DBAPIError as exc:
            if schema_health.is_schema_error(exc):
                raise SchemaProblem(f"the database schema is damaged: {first_line(exc.orig)}") from None
            raise
    return engine


def check_revision(revision: str | None) -> None:
    """Raise SchemaProblem when the database is at a revision this code does not know."""
    if revision is None or revision == SCHEMA_HEAD:
        return  # the common case costs no file reads
    problem = schema_health.revision_problem(revision, schema_health.known_revisions(), SCHEMA_HEAD)
    if problem:
        raise SchemaProblem(problem)


def check_tables(engine: Engine) -> None:
    """Raise SchemaProblem when a table the code uses is missing (dropped by hand, say)."""
    with engine.connect() as conn:
        missing = schema_health.missing_tables(conn)
        if missing:
            raise SchemaProblem(schema_health.damaged_message(missing, _revision_on(conn)))
