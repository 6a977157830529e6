"""Helpers every extractor uses, written once: the error policy, numbers, library log
capture, file tails and ISO-10303-21 (STEP / IFC-SPF) sniffing."""

from __future__ import annotations

import contextlib
import logging
import math
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from cadextract.extractors.base import ExtractionError

#: ISO-10303-21 ("STEP physical file"): how STEP and IFC-SPF files start and end
SPF_MAGIC = b"ISO-10303-21;"
SPF_END = b"END-ISO-10303-21;"
_FILE_SCHEMA = re.compile(rb"FILE_SCHEMA\s*\(\s*\(\s*'([^']*)'", re.IGNORECASE)
_LEADING = b"\xef\xbb\xbf \t\r\n"  # a UTF-8 byte-order mark and whitespace


@contextlib.contextmanager
def translated(translate: Callable[[Exception], ExtractionError]) -> Iterator[None]:
    """The one error policy: an ``ExtractionError`` stands, ``MemoryError`` always passes
    through (the child reports it as the memory limit), anything else is ``translate(exc)``."""
    try:
        yield
    except (ExtractionError, MemoryError):
        raise
    except Exception as exc:
        raise translate(exc) from exc


def number(value: Any, digits: int | None = None, *, parse_text: bool = True) -> float | None:
    """A finite float, rounded to ``digits`` when given; None for anything else.

    ``parse_text=False`` takes only int and float values (not bool, not "1.5").
    """
    if not parse_text and (isinstance(value, bool) or not isinstance(value, int | float)):
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(f):
        return None
    return f if digits is None else round(f, digits)


def tail(path: Path, size: int) -> bytes | None:
    """The last ``size`` bytes of a file (None when it cannot be read)."""
    try:
        with path.open("rb") as fh:
            fh.seek(0, 2)
            fh.seek(max(0, fh.tell() - size))
            return fh.read()
    except OSError:
        return None


@contextlib.contextmanager
def captured_logs(logger_name: str) -> Iterator[list[str]]:
    """Collect a library's log warnings while the block runs, instead of printing them
    (the child's stderr stays clean; the messages become result warnings)."""
    logger = logging.getLogger(logger_name)
    collector = _Collector()
    propagate = logger.propagate
    logger.addHandler(collector)
    logger.propagate = False
    try:
        yield collector.messages
    finally:
        logger.removeHandler(collector)
        logger.propagate = propagate


def log_warnings(messages: list[str], source: str, limit: int) -> list[str]:
    """Captured messages as result warnings: each once, at most ``limit`` and a count of the rest."""
    unique = list(dict.fromkeys(messages))
    out = [f"{source}: {m}" for m in unique[:limit]]
    if len(unique) > limit:
        out.append(f"... and {len(unique) - limit} more {source} message(s)")
    return out


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(Exception):  # a bad format string must not sink the job
            self.messages.append(record.getMessage())


def spf_body(head: bytes) -> bytes:
    """The head of a file without a byte-order mark or leading whitespace."""
    return head.lstrip(_LEADING)


def is_spf(head: bytes) -> bool:
    """Whether the file starts like an ISO-10303-21 text (STEP or IFC-SPF)."""
    return spf_body(head).upper().startswith(b"ISO-10303-21")


def spf_schema(head: bytes) -> str | None:
    """The first FILE_SCHEMA identifier in the header (None if the head holds none)."""
    match = _FILE_SCHEMA.search(head)
    return match.group(1).decode("ascii", "replace").strip() if match else None


def is_ifc_schema(schema: str) -> bool:
    return schema.upper().startswith("IFC")
