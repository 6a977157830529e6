"""The IFC file before ifcopenshell parses it: the cheap checks (empty, not ISO-10303-21, a
STEP file of another schema, cut off, a zip without an .ifc inside), then the parse itself
with its errors in words."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from cadextract.extractors.base import CorruptFile, EmptyFile, UnsupportedVersion, WrongFormat
from cadextract.extractors.shared import SpfKind, check_spf, is_ifc_schema, read_ends, spf_schema, unreadable

#: schemas ifcopenshell 0.9 reads (by prefix of the FILE_SCHEMA identifier)
SUPPORTED_SCHEMAS = ("IFC2X3", "IFC4", "IFC4X3")
#: how many bytes of the head / tail are read to sniff the header and the terminator
HEAD_BYTES = 64 * 1024
TAIL_BYTES = 4 * 1024
ZIP_MAGIC = b"PK\x03\x04"


def _not_spf(body: bytes, what: str) -> str | None:
    if body.startswith(b"<"):
        return f"{what} looks like XML (ifcXML?), not an IFC-SPF (ISO-10303-21) text file"
    return None


def _other_schema(schema: str, what: str) -> str | None:
    if not is_ifc_schema(schema):
        return f"{what} is a STEP file with schema {schema!r}, not IFC: submit it with --format step"
    return None


IFC = SpfKind("an IFC", _not_spf, _other_schema)


def check_file(path: Path) -> str | None:
    """Cheap checks before the parser runs; returns the declared schema when readable."""
    head, tail = read_ends(path, HEAD_BYTES, TAIL_BYTES)
    if head.startswith(ZIP_MAGIC) or path.suffix.lower() == ".ifczip":
        return _check_zip(path, head)
    schema = spf_schema(head)
    check_spf(head, tail, path.name, IFC, schema)
    return schema


def _check_zip(path: Path, head: bytes) -> str | None:
    if not head.startswith(ZIP_MAGIC):
        raise WrongFormat(f"{path.name} has the .ifczip extension but is not a zip archive")
    try:
        with zipfile.ZipFile(path) as zf:
            members = [i for i in zf.infolist() if i.filename.lower().endswith(".ifc")]
            if not members:
                raise WrongFormat(f"{path.name} is a zip archive without an .ifc file inside")
            with zf.open(members[0]) as fh:
                inner_head = fh.read(HEAD_BYTES)
    except zipfile.BadZipFile as exc:
        raise CorruptFile(f"{path.name} is a damaged zip archive: {exc}") from exc
    except OSError as exc:
        raise unreadable(path, exc) from exc
    if not inner_head.strip():
        raise EmptyFile(f"{path.name}: the IFC file inside the archive is empty")
    schema = spf_schema(inner_head)
    check_spf(inner_head, None, f"{path.name}:{members[0].filename}", IFC, schema)
    return schema


def open_model(path: Path, declared: str | None) -> Any:
    """The parsed model (an ``ifcopenshell.file``)."""
    import ifcopenshell

    try:
        return ifcopenshell.open(str(path))
    except ifcopenshell.SchemaError as exc:
        raise UnsupportedVersion(
            f"unsupported schema {declared or '?'} in {path.name}: ifcopenshell {ifcopenshell.version} "
            f"reads {', '.join(SUPPORTED_SCHEMAS)} ({exc})"
        ) from exc
    except ifcopenshell.Error as exc:
        message = str(exc)
        if "header" in message.lower():
            raise CorruptFile(f"{path.name} has an invalid IFC header: {message}") from exc
        raise CorruptFile(f"{path.name} cannot be parsed as IFC: {message}") from exc
    except OSError as exc:
        raise unreadable(path, exc) from exc
    except (RuntimeError, ValueError, zipfile.BadZipFile) as exc:
        raise CorruptFile(f"{path.name} cannot be parsed as IFC: {exc}") from exc
