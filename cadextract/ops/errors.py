"""The two errors an operation raises for the user to fix; the CLI maps them to exit codes."""

from __future__ import annotations


class BadInput(Exception):
    """A value on the command line that cannot be used (exit 2, this one line)."""


class NotFound(Exception):
    """A job, or the result or preview asked for, is not there (exit 4, this one line)."""
