"""`python -m cadextract` and the `cadextract` command.

This module stays light on purpose: multiprocessing re-runs the main script in every
child it starts, and a child needs none of the CLI (SQLAlchemy, psycopg, alembic: most
of a second to import).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys


def main() -> None:
    """Run the CLI, then exit without tearing down every imported module."""
    from cadextract.cli import app

    try:
        app()
        code = 0
    except SystemExit as exc:
        code = _exit_code(exc.code)
    # A finished command has ~700 modules loaded (SQLAlchemy, alembic, pydantic via
    # pgserver); the interpreter's teardown of them took 0.3 s after every `run`.
    # Exit handlers still run (logging's flush, multiprocessing's temporary
    # directory); open database connections close with the process, outside any
    # transaction.
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # reader gone (`| head`), or closed
            stream.flush()
    os._exit(code)


def _exit_code(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)  # what the interpreter does with sys.exit("message")
    return 1


if __name__ == "__main__":
    main()
