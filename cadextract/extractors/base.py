"""The extractor contract: a pure function of (path, options, progress) -> payload dict.

Extractors never touch the database. A payload may carry a top-level ``warnings`` list
of strings (repairs, scans without text); the worker moves it into the result envelope.
They raise an ``ExtractionError`` subclass for anything the user should see as a failure
reason; ``permanent`` says whether retrying could ever help.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: progress(percent 0..100, note) — cheap to call often; the worker throttles it.
Progress = Callable[[float, str | None], None]
ExtractFn = Callable[[Path, Mapping[str, Any], Progress], dict[str, Any]]
#: one cell of a summary or a row
Scalar = str | int | float | bool | None
#: payload -> flat {field: scalar} for `result` tables and CSV export (one row per file)
SummarizeFn = Callable[[Mapping[str, Any]], dict[str, Scalar]]
#: payload -> flat rows, one per element / entity, for `export --rows`
RowsFn = Callable[[Mapping[str, Any]], Iterable[dict[str, Scalar]]]


def no_progress(percent: float, note: str | None = None) -> None:
    """A progress callback that ignores everything (for direct calls and tests)."""


class ExtractionError(Exception):
    """A failure the user should read; ``error_type`` is stored on the job."""

    error_type = "ExtractionError"
    permanent = True

    def __init__(self, message: str, *, error_type: str | None = None) -> None:
        super().__init__(message)
        if error_type is not None:
            self.error_type = error_type


class PermanentError(ExtractionError):
    """Retrying cannot help (corrupt file, unsupported content, policy)."""

    error_type = "PermanentError"
    permanent = True


class TransientError(ExtractionError):
    """Retrying may help (file briefly unreadable, resource busy)."""

    error_type = "TransientError"
    permanent = False


class EmptyFile(PermanentError):
    error_type = "EmptyFile"


class TruncatedFile(PermanentError):
    error_type = "TruncatedFile"


class WrongFormat(PermanentError):
    """The bytes are not actually this format."""

    error_type = "WrongFormat"


class CorruptFile(PermanentError):
    """The format is right but the content cannot be parsed."""

    error_type = "CorruptFile"


class EncryptedFile(PermanentError):
    error_type = "EncryptedFile"


class UnsupportedVersion(PermanentError):
    """A DXF release / IFC schema / STEP protocol the library cannot read."""

    error_type = "UnsupportedVersion"


class NoSolids(PermanentError):
    error_type = "NoSolids"


class BadOption(PermanentError):
    """A job option has a value the extractor cannot use."""

    error_type = "BadOption"


def json_safe(obj: Any, fallback: Callable[[Any], Any] = str, *, drop_keys: Collection[str] = ()) -> Any:
    """A value made JSON- and PostgreSQL-safe: finite floats, valid UTF-8 without NULs.

    Dicts, lists and tuples are cleaned recursively, leaving out ``drop_keys`` at every
    level; any other object goes through ``fallback`` (``str`` unless the caller knows its
    library's scalar types better).
    """
    if isinstance(obj, str):
        if "\x00" in obj:
            obj = obj.replace("\x00", "")
        try:
            obj.encode("utf-8")
        except UnicodeEncodeError:
            obj = obj.encode("utf-8", "replace").decode("utf-8")
        return obj
    if isinstance(obj, bool) or obj is None or isinstance(obj, int):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, bytes):
        return json_safe(obj.decode("latin-1"))
    if isinstance(obj, dict):
        return {
            str(json_safe(k, fallback)): json_safe(v, fallback, drop_keys=drop_keys)
            for k, v in obj.items()
            if k not in drop_keys
        }
    if isinstance(obj, list | tuple):
        return [json_safe(v, fallback, drop_keys=drop_keys) for v in obj]
    return json_safe(fallback(obj))


def int_option(options: Mapping[str, Any], name: str, default: int) -> int:
    """A non-negative integer job option, or BadOption naming it."""
    raw = options.get(name, default)
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise BadOption(f"option {name}={raw!r} is not a whole number") from None
    if value < 0:
        raise BadOption(f"option {name}={raw!r} cannot be negative")
    return value


class FileUnreadable(TransientError):
    """Permission denied, share unmounted, file vanished: may come back."""

    error_type = "FileUnreadable"


@dataclass(frozen=True)
class Extractor:
    """One registered format: its name (the job's ``format``) and how to run it."""

    name: str
    extract: ExtractFn
    #: library name -> version string, computed lazily in the child (imports are heavy)
    versions: Callable[[], dict[str, str]]
    version: str = "1"
    #: default wall-clock limit per job, seconds
    default_timeout: float = 600.0
    description: str = ""
    extensions: tuple[str, ...] = field(default_factory=tuple)
    summarize: SummarizeFn | None = None
    rows: RowsFn | None = None


#: leading bytes of formats a wrong file often turns out to be
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a zip archive"),
    (b"\x1f\x8b", "gzip data"),
    (b"AC10", "a DWG drawing"),
    (b"AC1", "a DWG drawing"),
    (b"\x7fELF", "an executable"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"<", "XML or HTML"),
    (b"{", "JSON or other text"),
)


def describe_head(head: bytes) -> str:
    """What a file's first bytes look like, in words, never the bytes themselves.

    Error messages are stored and shown to operators; quoting a file's bytes would
    copy whatever it holds (a password hash behind a link, say) into the job.
    """
    for magic, name in _SIGNATURES:
        if head.startswith(magic):
            return name
    sample = head[:512]
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError:
        return f"binary data ({len(head):#x} bytes read)"
    if all(ch.isprintable() or ch in "\r\n\t" for ch in text):
        return f"text ({len(head):#x} bytes read)"
    return f"binary data ({len(head):#x} bytes read)"
