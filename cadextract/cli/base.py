"""The Typer app, the per-invocation state, and the one place errors become exit codes.

Exit codes (docs/exit-codes.md):
    0 ok · 1 some jobs failed or did not finish · 2 usage error or bad input ·
    3 database unreachable or unusable · 4 job not found or id prefix ambiguous ·
    5 run: nothing new failed, only known failures ·
    6 object storage unreachable or credentials refused · 130 interrupted
"""

from __future__ import annotations

import contextlib
import enum
import os
from collections.abc import Iterator
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from cadextract import __version__, db, files
from cadextract.config import ConfigError, Settings
from cadextract.display import printable
from cadextract.extractors import registry
from cadextract.ops.errors import BadInput, NotFound
from cadextract.ops.report import KNOWN_FAILURES_ONLY
from cadextract.sources.urls import StorageUnavailable
from cadextract.store import parsing


class Exit(enum.IntEnum):
    """Every exit code cadextract uses (docs/exit-codes.md)."""

    OK = 0
    JOBS_FAILED = 1
    USAGE = 2
    DATABASE = 3
    NOT_FOUND = 4
    KNOWN_FAILURES = KNOWN_FAILURES_ONLY
    STORAGE = 6
    INTERRUPTED = 130


app = typer.Typer(
    name="cadextract",
    help="Extract data from PDF, DXF, IFC and STEP files into PostgreSQL, in bulk.",
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database: upgrade, status, url, stop (embedded server).", no_args_is_help=True)

out = Console(soft_wrap=False)
if not out.is_terminal and "COLUMNS" not in os.environ:
    # piped or in cron: nobody's window to fit; wrap less so lines stay greppable
    out.width = 200
err = Console(stderr=True, soft_wrap=True)


class State:
    """Per-invocation state: settings now, the engine on first use."""

    def __init__(self, database_url: str | None) -> None:
        self.database_url = database_url
        self._settings: Settings | None = None
        self._engine: Engine | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = Settings.from_env(self.database_url)
        return self._settings

    def engine(self, *, migrate: bool = True, pool_size: int = 2) -> Engine:
        if self._engine is None:
            s = self.settings
            self._engine = db.connect(s.database_url, s.home, migrate=migrate, pool_size=pool_size)
        return self._engine


def state(ctx: typer.Context) -> State:
    return ctx.ensure_object(State) if ctx.obj is None else ctx.obj  # type: ignore[no-any-return]


class Failed(Exception):
    """Stop the command with a one-line message and an exit code."""

    def __init__(self, message: str, code: Exit) -> None:
        super().__init__(message)
        self.code = code


#: errors a user can cause, by the exit code they end with (checked in this order)
_CODES: tuple[tuple[tuple[type[BaseException], ...], Exit], ...] = (
    ((BadInput, files.SubmitError, ConfigError, registry.UnknownFormat), Exit.USAGE),
    ((NotFound, parsing.JobNotFound, parsing.AmbiguousPrefix), Exit.NOT_FOUND),
    ((db.DatabaseUnavailable,), Exit.DATABASE),
    ((StorageUnavailable,), Exit.STORAGE),
)


def exit_code(exc: BaseException) -> Exit | None:
    """The exit code of an error a user can cause; None for anything else (a bug)."""
    if isinstance(exc, Failed):
        return exc.code
    if isinstance(exc, DBAPIError):
        return Exit.DATABASE
    if isinstance(exc, KeyboardInterrupt):
        return Exit.INTERRUPTED
    for kinds, code in _CODES:
        if isinstance(exc, kinds):
            return code
    return None


def message(exc: BaseException) -> str:
    if isinstance(exc, DBAPIError):
        return f"database error: {db.first_line(exc.orig)}"
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
    return str(exc)


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Turn the errors a user can cause into one readable line and an exit code."""
    try:
        yield
    except (Exception, KeyboardInterrupt) as exc:
        code = exit_code(exc)
        if code is None:
            raise  # a bug: the traceback helps more than a line
        die(message(exc), code)


def die(text: str, code: Exit) -> NoReturn:
    err.print(f"cadextract: {printable(text)}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def finish(code: int) -> None:
    """End a command that worked with a non-zero verdict (run: 1 or 5; doctor: 1 or 3)."""
    if code:
        raise typer.Exit(code)


def _version(value: bool) -> None:
    if value:
        print(f"cadextract {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            envvar="CADEXTRACT_DATABASE_URL",
            show_envvar=True,
            help="PostgreSQL URL; default: the embedded server in CADEXTRACT_HOME.",
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """cadextract: a durable job queue for CAD data extraction."""
    ctx.obj = State(database_url)
