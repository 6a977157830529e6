"""Reading a DXF file: sniff the bytes, load with ezdxf, fall back to its recover mode.

A file ``ezdxf.readfile`` refuses is retried through ``ezdxf.recover.readfile``; what the
recovery repaired becomes a warning. A file that ends mid-section is a TruncatedFile unless
the job allows a partial result.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from cadextract.extractors.base import (
    CorruptFile,
    EmptyFile,
    ExtractionError,
    TruncatedFile,
    UnsupportedVersion,
    WrongFormat,
)
from cadextract.extractors.shared import (
    DXF_BINARY_SENTINEL,
    captured_logs,
    is_spf,
    log_warnings,
    read_head,
    tail,
    translated,
    unreadable,
)

#: at most this many repair messages are copied into warnings (the count is always given)
MAX_REPAIR_WARNINGS = 50
_DWG_HEADS = {b"AC1012", b"AC1014", b"AC1015", b"AC1018", b"AC1021", b"AC1024", b"AC1027"}
#: what a wrong file often is instead (ISO-10303-21 is checked by ``shared.is_spf``)
_OTHER_FORMATS = (
    (b"%PDF", "a PDF"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
)


def sniff(path: Path) -> bool:
    """Check the file is plausibly DXF; return True when it is binary DXF."""
    size, head = read_head(path, 4096)
    if size == 0 or not head.strip():
        what = "is empty (0 bytes)" if size == 0 else f"holds only whitespace ({size} bytes)"
        raise EmptyFile(f"{path.name} {what}: nothing to extract")
    if head.startswith(DXF_BINARY_SENTINEL):
        return True
    if head[:6] in _DWG_HEADS or head[:4] in (b"AC10", b"AC20"):
        raise WrongFormat(f"{path.name} is a DWG file, not DXF: export it as DXF first")
    if is_spf(head):
        raise WrongFormat(f"{path.name} is a STEP/IFC file, not a DXF file")
    for magic, what in _OTHER_FORMATS:
        if head.lstrip().startswith(magic):
            raise WrongFormat(f"{path.name} is {what}, not a DXF file")
    text = head.removeprefix(b"\xef\xbb\xbf").decode("latin-1")
    if "\x00" in text[:1024]:
        raise WrongFormat(f"{path.name} is binary data but not binary DXF (no 'AutoCAD Binary DXF' sentinel)")
    # ASCII DXF: group-code / value line pairs, usually "0\nSECTION" near the start
    if not re.search(r"(?m)^\s*0\s*\r?\n\s*SECTION\s*$", text) and not re.match(r"\s*999\s*\r?\n", text):
        raise WrongFormat(f"{path.name} does not look like a DXF file (no '0 / SECTION' at the start)")
    return False


def ends_cleanly(path: Path, binary: bool) -> bool:
    """False when the file looks cut off: it neither ends with EOF nor with a closed section.

    Some writers omit the final ``0 / EOF`` but end with ``0 / ENDSEC``; ezdxf's recover mode
    reads those, so they do not count as truncated.
    """
    end = tail(path, 4096)
    if end is None:
        return True
    if binary:
        return b"EOF" in end
    lines = [line.strip() for line in end.splitlines() if line.strip()]
    return bool(lines) and lines[-1].upper() in {b"EOF", b"ENDSEC"}


def load(path: Path, binary: bool, warnings: list[str], allow_partial: bool) -> tuple[Any, str]:
    """(document, loader name); ezdxf's own log messages become warnings."""
    with captured_logs("ezdxf") as messages:  # skipped handles, replaced styles
        try:
            return _load(path, binary, warnings, allow_partial)
        finally:
            warnings.extend(log_warnings(messages, "ezdxf", MAX_REPAIR_WARNINGS))


def _load(path: Path, binary: bool, warnings: list[str], allow_partial: bool) -> tuple[Any, str]:
    from ezdxf import recover
    from ezdxf.filemanagement import readfile
    from ezdxf.lldxf.const import DXFError, DXFVersionError

    try:
        return readfile(str(path)), "ezdxf.readfile"
    except OSError as exc:
        raise unreadable(path, exc) from exc
    except DXFVersionError as exc:
        raise UnsupportedVersion(f"{path.name}: DXF version not supported by ezdxf: {exc}") from exc
    except (DXFError, ValueError, TypeError, KeyError, IndexError, AttributeError, UnicodeError) as first:
        first_error = f"{type(first).__name__}: {first}"
        if not allow_partial and not ends_cleanly(path, binary):
            raise TruncatedFile(
                f"{path.name} is truncated (it ends in the middle of a section; ezdxf: {first_error}); "
                f"copy the file again, or resubmit with option allow_partial=true to salvage what is there"
            ) from first

    with translated(lambda exc: _unrecoverable(path, binary, exc)):
        doc, auditor = recover.readfile(str(path))
    warnings.append(
        f"loaded with ezdxf.recover after ezdxf.readfile failed ({first_error}); "
        f"{len(auditor.fixes)} repair(s), {len(auditor.errors)} unrecoverable error(s)"
    )
    warnings.extend(_repair_warnings(auditor))
    if not ends_cleanly(path, binary):
        warnings.append(
            "file ends in the middle of a section (no EOF marker): "
            "it may be truncated, entities may be missing"
        )
    return doc, "ezdxf.recover.readfile"


def _unrecoverable(path: Path, binary: bool, exc: Exception) -> ExtractionError:
    from ezdxf.lldxf.const import DXFStructureError, DXFVersionError

    if isinstance(exc, OSError):
        return unreadable(path, exc)
    if isinstance(exc, DXFVersionError):
        return UnsupportedVersion(f"{path.name}: DXF version not supported by ezdxf: {exc}")
    if not ends_cleanly(path, binary):
        return TruncatedFile(
            f"{path.name} is truncated (it ends in the middle of a section) and could not be recovered: {exc}"
        )
    kind = "structure" if isinstance(exc, DXFStructureError) else type(exc).__name__
    return CorruptFile(
        f"{path.name} is a damaged DXF file that even ezdxf's recover mode cannot read "
        f"({kind}: {exc}); re-export it from the CAD program"
    )


def _repair_warnings(auditor: Any) -> list[str]:
    out = [f"repaired: {entry.message}" for entry in list(auditor.fixes)[:MAX_REPAIR_WARNINGS]]
    out += [f"recover error: {entry.message}" for entry in list(auditor.errors)[:MAX_REPAIR_WARNINGS]]
    extra = max(0, len(auditor.fixes) - MAX_REPAIR_WARNINGS) + max(
        0, len(auditor.errors) - MAX_REPAIR_WARNINGS
    )
    if extra:
        out.append(f"... and {extra} more repair message(s)")
    return out


def unexpected(path: Path, exc: Exception) -> ExtractionError:
    """Anything ezdxf raises after loading: the content is not what a DXF should hold."""
    if isinstance(exc, OSError):
        return unreadable(path, exc)
    return CorruptFile(f"{path.name}: unexpected content while reading the DXF ({type(exc).__name__}: {exc})")
