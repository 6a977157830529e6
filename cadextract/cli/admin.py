"""The installation: db upgrade / status / url / stop, and doctor."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from cadextract import db, views
from cadextract.cli.base import Exit as Code
from cadextract.cli.base import err, finish, out, state, user_errors
from cadextract.cli.options import JsonOpt
from cadextract.display import printable
from cadextract.ops import dbinfo
from cadextract.ops import doctor as ops_doctor


def db_upgrade(ctx: typer.Context) -> None:
    """Apply schema migrations (also done automatically on first use)."""
    st = state(ctx)
    with user_errors():
        revision = dbinfo.upgrade(st.engine(migrate=False))
        err.print(f"schema at revision {revision}", highlight=False)


def db_status(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Where the database is, whether it answers, and its schema revision."""
    st = state(ctx)
    with user_errors():
        info = dbinfo.status(st.engine(migrate=False), st.settings).as_json()
    if as_json:
        print(json.dumps(info, indent=2))
    else:
        out.print(views.summary_table(info, title="database"))


def db_url(
    ctx: typer.Context,
    show_password: Annotated[
        bool,
        typer.Option(
            "--show-password", help="Print the real URL (for pg_dump/psql); it contains the password."
        ),
    ] = False,
) -> None:
    """The database URL in use, password masked.

    With --show-password: a plain postgresql:// URL that pg_dump and psql accept, e.g.
    pg_dump "$(cadextract db url --show-password)" > backup.sql
    """
    st = state(ctx)
    with user_errors():
        url = dbinfo.url(st.settings, show_password=show_password)
        if show_password:
            err.print("warning: this URL contains the database password", highlight=False, markup=False)
        print(url)


def db_stop(ctx: typer.Context) -> None:
    """Stop the embedded PostgreSQL server (it starts again on next use)."""
    st = state(ctx)
    with user_errors():
        stopped = db.stop_embedded(st.settings.home)
    err.print("embedded server stopped" if stopped else "embedded server was not running", highlight=False)


def doctor(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Check the database, extractors and free disk."""
    st = state(ctx)
    with user_errors():
        checks = ops_doctor.run(st.settings, st.engine)
    if as_json:
        print(json.dumps([c.as_json() for c in checks], indent=2))
    else:
        out.print(doctor_table(checks))
    verdict = ops_doctor.verdict(checks)
    finish(
        {
            ops_doctor.Verdict.OK: Code.OK,
            ops_doctor.Verdict.DATABASE_FAILED: Code.DATABASE,
            ops_doctor.Verdict.OTHER_FAILED: Code.JOBS_FAILED,
        }[verdict]
    )


def doctor_table(checks: list[ops_doctor.Check]) -> Table:
    table = Table(show_header=True)
    table.add_column("check")
    table.add_column("ok")
    table.add_column("detail", overflow="fold")
    for c in checks:
        table.add_row(c.check, "[green]ok[/]" if c.ok else "[red]FAIL[/]", Text(printable(c.detail_text())))
    return table
