"""Where a worker's log lines go: stderr (UTC times), an optional file, above a live table."""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rich.live import Live
from rich.text import Text

from cadextract.ops.errors import BadInput

#: libraries whose INFO lines nobody running a worker wants
NOISY = ("pgserver", "alembic", "sqlalchemy", "ezdxf", "pdfminer")


def level_for(*, quiet: bool, verbose: bool) -> int:
    return logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO


def configure(quiet: bool, verbose: bool, log_file: Path | None) -> None:
    """Log to stderr at the chosen level, and to ``log_file`` too (BadInput if it can't open)."""
    level = level_for(quiet=quiet, verbose=verbose)
    root_logger = logging.getLogger()
    root_logger.setLevel(level)
    for h in list(root_logger.handlers):
        root_logger.removeHandler(h)
    handler: logging.Handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(utc_formatter("%(asctime)s %(levelname)s %(message)s"))
    root_logger.addHandler(handler)
    if log_file is not None:
        try:
            fh = logging.FileHandler(log_file)
        except OSError as exc:
            raise BadInput(f"cannot open log file {log_file}: {exc.strerror}") from None
        fh.setFormatter(utc_formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        root_logger.addHandler(fh)
    for noisy in NOISY:
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


def utc_formatter(fmt: str) -> logging.Formatter:
    """Log times in UTC with the zone shown (Z), like every time cadextract prints."""
    formatter = logging.Formatter(fmt, "%Y-%m-%dT%H:%M:%SZ")
    formatter.converter = time.gmtime
    return formatter


@contextlib.contextmanager
def above(display: Live) -> Iterator[None]:
    """Send log lines through the live display's console, so they print above its table.

    A handler writing to the real stderr would print into the live region, and the table
    would be drawn again below each line instead of in place.
    """
    root_logger = logging.getLogger()
    moved: list[tuple[logging.StreamHandler[Any], Any]] = []
    for h in root_logger.handlers:
        if isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler):
            moved.append((h, h.setStream(LiveStream(display))))
    try:
        yield
    finally:
        for h, stream in moved:
            h.setStream(stream)


class LiveStream:
    """A file-like object printing whole lines above a rich Live display."""

    def __init__(self, display: Live) -> None:
        self.display = display
        self.buffer = ""

    def write(self, text: str) -> int:
        self.buffer += text
        while "\n" in self.buffer:
            line, self.buffer = self.buffer.split("\n", 1)
            self.display.console.print(Text(line), soft_wrap=True)
        return len(text)

    def flush(self) -> None:
        return None
