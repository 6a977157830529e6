"""Helpers every extractor uses, written once: the error policy, numbers, library log
capture, file heads and tails and ISO-10303-21 (STEP / IFC-SPF) sniffing."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from cadextract.extractors.base import (
    EmptyFile,
    ExtractionError,
    FileUnreadable,
    TruncatedFile,
    WrongFormat,
    describe_head,
)

T = TypeVar("T")

#: ISO-10303-21 ("STEP physical file"): how STEP and IFC-SPF files start and end
SPF_MAGIC = b"ISO-10303-21;"
SPF_END = b"END-ISO-10303-21;"
_FILE_SCHEMA = re.compile(rb"FILE_SCHEMA\s*\(\s*\(\s*'([^']*)'", re.IGNORECASE)
_LEADING = b"\xef\xbb\xbf \t\r\n"  # a UTF-8 byte-order mark and whitespace
#: how a binary DXF file starts (ASCII DXF has no magic: ``0 / SECTION`` lines)
DXF_BINARY_SENTINEL = b"AutoCAD Binary DXF\r\n\x1a\x00"


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


@contextlib.contextmanager
def tolerated(on_error: Callable[[Exception], None] | None = None) -> Iterator[None]:
    """An optional step: a failure leaves the block (``on_error`` hears of it) and the
    extraction goes on; ``MemoryError`` still passes (the memory-limit path)."""
    try:
        yield
    except MemoryError:
        raise
    except Exception as exc:
        if on_error is not None:
            on_error(exc)


def attempt(fn: Callable[[], T], default: T) -> T:
    """``fn()``, or ``default`` when it fails with anything but ``MemoryError``."""
    with tolerated():
        return fn()
    return default


def unreadable(path: Path, exc: OSError) -> FileUnreadable:
    """The one wording for an ``OSError`` while reading the input (transient)."""
    return FileUnreadable(f"cannot read {path}: {exc.strerror or exc}")


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


def read_head(path: Path, size: int) -> tuple[int, bytes]:
    """(file size, its first ``size`` bytes); FileUnreadable when it is missing or unreadable."""
    try:
        total = path.stat().st_size
        with path.open("rb") as fh:
            return total, fh.read(size)
    except FileNotFoundError as exc:
        raise FileUnreadable(f"file not found: {path}") from exc
    except OSError as exc:
        raise unreadable(path, exc) from exc


def read_ends(path: Path, head_size: int, tail_size: int) -> tuple[bytes, bytes]:
    """The first ``head_size`` and last ``tail_size`` bytes; EmptyFile for 0 bytes."""
    try:
        size = path.stat().st_size
        if size == 0:
            raise EmptyFile(f"{path.name} is empty (0 bytes)")
        with path.open("rb") as fh:
            head = fh.read(head_size)
            fh.seek(max(0, size - tail_size))
            return head, fh.read()
    except OSError as exc:
        raise unreadable(path, exc) from exc


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


def skip_leading(head: bytes) -> bytes:
    """The head of a file without a UTF-8 byte-order mark or leading whitespace."""
    return head.lstrip(_LEADING)


def is_spf(head: bytes) -> bool:
    """Whether the file starts like an ISO-10303-21 text (STEP or IFC-SPF)."""
    return skip_leading(head).upper().startswith(b"ISO-10303-21")


def spf_schema(head: bytes) -> str | None:
    """The first FILE_SCHEMA identifier in the header (None if the head holds none)."""
    match = _FILE_SCHEMA.search(head)
    return match.group(1).decode("ascii", "replace").strip() if match else None


def is_ifc_schema(schema: str) -> bool:
    return schema.upper().startswith("IFC")


@dataclasses.dataclass(frozen=True)
class SpfKind:
    """What one ISO-10303-21 extractor accepts: its name, and what to say about the rest."""

    called: str  # "a STEP", "an IFC": as the messages name the format
    #: a message for a head that is not ISO-10303-21 but recognisably something else
    other: Callable[[bytes, str], str | None]
    #: a message for a FILE_SCHEMA this extractor does not read (None: accepted)
    wrong_schema: Callable[[str, str], str | None]


def check_spf(head: bytes, tail: bytes | None, what: str, kind: SpfKind, schema: str | None) -> None:
    """The checks before the parser runs, in one order: blank, not ISO-10303-21, another
    format's schema, no end marker. ``schema`` is the FILE_SCHEMA the caller read."""
    body = skip_leading(head)
    if not body:
        raise EmptyFile(f"{what} holds only whitespace: nothing to extract")
    if not body.startswith(SPF_MAGIC):
        raise WrongFormat(
            kind.other(body, what)
            or f"{what} is not {kind.called} file: it does not start with 'ISO-10303-21;' "
            f"(it looks like {describe_head(body)})"
        )
    wrong = kind.wrong_schema(schema, what) if schema else None
    if wrong:
        raise WrongFormat(wrong)
    if tail is not None and SPF_END not in tail:
        raise TruncatedFile(
            f"{what} is truncated: it does not end with 'END-ISO-10303-21;' (incomplete copy or download?)"
        )
