"""`python -m cadextract` and the `cadextract` command.

This module stays light on purpose: multiprocessing re-runs the main script in every
child it starts, and a child needs none of the CLI (SQLAlchemy, psycopg, alembic: most
of a second to import).
"""

from __future__ import annotations

import atexit
import contextlib
import errno
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
    except OSError as exc:
        if exc.errno not in _OUTPUT_ERRNOS:
            raise
        code = _output_failed(exc)
    # A finished command has ~700 modules loaded (SQLAlchemy, alembic, pydantic via
    # pgserver); the interpreter's teardown of them took 0.3 s after every `run`.
    # Exit handlers still run (logging's flush, multiprocessing's temporary
    # directory); open database connections close with the process, outside any
    # transaction.
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
    except (OSError, ValueError) as exc:  # `jobs > /dev/full`: say so instead of exiting 0
        if isinstance(exc, OSError) and exc.errno in _OUTPUT_ERRNOS:
            code = _output_failed(exc) if code == 0 else code
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.flush()
    os._exit(code)


#: errors writing the output: no space, file too big, quota, the reader went away
_OUTPUT_ERRNOS = frozenset({errno.ENOSPC, errno.EFBIG, errno.EDQUOT, errno.EPIPE})
OUTPUT_FAILED = 2  # docs/exit-codes.md: an output that cannot be written


def _output_failed(exc: OSError) -> int:
    if exc.errno == errno.EPIPE:
        return 0  # the reader stopped reading (`| head`): nothing left to tell anyone
    with contextlib.suppress(OSError, ValueError):
        print(f"cadextract: cannot write the output: {exc.strerror}", file=sys.stderr, flush=True)
    return OUTPUT_FAILED


def _exit_code(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)  # what the interpreter does with sys.exit("message")
    return 1


if __name__ == "__main__":
    main()
