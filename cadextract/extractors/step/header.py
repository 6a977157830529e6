"""The STEP file before OpenCASCADE reads it: the cheap checks (empty, not ISO-10303-21, an
IFC file, cut off), the header (FILE_DESCRIPTION, FILE_NAME, FILE_SCHEMA) and the application
protocol."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from cadextract.extractors.shared import SpfKind, check_spf, is_ifc_schema, read_ends

HEAD_BYTES = 64 * 1024
TAIL_BYTES = 4 * 1024

#: ISO 10303 part number in the schema's object identifier -> application protocol
_AP_BY_PART = {"203": "AP203", "403": "AP203", "214": "AP214", "242": "AP242", "442": "AP242", "209": "AP209"}
_AP_BY_NAME = (
    ("CONFIG_CONTROL_DESIGN", "AP203"),
    ("AP203", "AP203"),
    ("AUTOMOTIVE_DESIGN", "AP214"),
    ("AP214", "AP214"),
    ("AP242", "AP242"),
    ("STRUCTURAL_ANALYSIS_DESIGN", "AP209"),
)
#: protocols OpenCASCADE's STEP translator reads
READABLE = ("AP203", "AP214", "AP242")
_OID_RE = re.compile(r"\{\s*1\s+\d+\s+10303\s+(\d+)")
_HEADER_ENTITY_RE = re.compile(r"\b(FILE_DESCRIPTION|FILE_NAME|FILE_SCHEMA)\s*\(", re.IGNORECASE)
_X2_RE = re.compile(r"\\X2\\((?:[0-9A-Fa-f]{4})+)\\X0\\")
_X_RE = re.compile(r"\\X\\([0-9A-Fa-f]{2})")


def _decode_step_string(s: str) -> str:
    s = _X2_RE.sub(lambda m: bytes.fromhex(m.group(1)).decode("utf-16-be", "replace"), s)
    s = _X_RE.sub(lambda m: bytes.fromhex(m.group(1)).decode("latin-1"), s)
    return s.replace("''", "'")


def _parse_args(text: str, start: int) -> list[Any]:
    """Parse a parenthesised STEP argument list starting after '(' at ``start``."""
    out: list[Any] = []
    stack: list[list[Any]] = [out]
    i, n = start, len(text)
    while i < n:
        c = text[i]
        if c == "'":
            j = i + 1
            while j < n:
                if text[j] == "'":
                    if j + 1 < n and text[j + 1] == "'":
                        j += 2
                        continue
                    break
                j += 1
            stack[-1].append(_decode_step_string(text[i + 1 : j]))
            i = j + 1
            continue
        if c == "(":
            new: list[Any] = []
            stack[-1].append(new)
            stack.append(new)
        elif c == ")":
            stack.pop()
            if not stack:
                return out
        elif c == "$":
            stack[-1].append(None)
        i += 1
    return out


def parse_header(head: bytes) -> dict[str, Any]:
    text = head.decode("latin-1")
    end = text.find("ENDSEC")
    text = text[: end if end > 0 else len(text)]
    entities: dict[str, list[Any]] = {}
    for m in _HEADER_ENTITY_RE.finditer(text):
        try:
            entities[m.group(1).upper()] = _parse_args(text, m.end())
        except (IndexError, ValueError):
            continue

    def arg(name: str, i: int) -> Any:
        args = entities.get(name) or []
        return args[i] if i < len(args) else None

    def strings(value: Any) -> list[str]:
        if isinstance(value, list):
            return [str(v) for v in value if isinstance(v, str) and v]
        return [value] if isinstance(value, str) and value else []

    def string(value: Any) -> str | None:
        return value if isinstance(value, str) and value else None

    schemas = strings(arg("FILE_SCHEMA", 0))
    return {
        "file_schema": schemas[0] if schemas else None,
        "description": strings(arg("FILE_DESCRIPTION", 0)),
        "implementation_level": string(arg("FILE_DESCRIPTION", 1)),
        "name": string(arg("FILE_NAME", 0)),
        "time_stamp": string(arg("FILE_NAME", 1)),
        "author": strings(arg("FILE_NAME", 2)),
        "organization": strings(arg("FILE_NAME", 3)),
        "preprocessor_version": string(arg("FILE_NAME", 4)),
        "originating_system": string(arg("FILE_NAME", 5)),
        "authorization": string(arg("FILE_NAME", 6)),
    }


def protocol_of(schema: str | None) -> str | None:
    """AP203 / AP214 / AP242 (or another AP) from a FILE_SCHEMA identifier; None if unknown."""
    if not schema:
        return None
    m = _OID_RE.search(schema)
    if m and m.group(1) in _AP_BY_PART:
        return _AP_BY_PART[m.group(1)]
    upper = schema.upper()
    for prefix, ap in _AP_BY_NAME:
        if upper.startswith(prefix):
            return ap
    return None


def _not_spf(body: bytes, what: str) -> str | None:
    if body.startswith(b"PK\x03\x04"):
        return f"{what} is a zip archive, not a STEP text file (compressed STEP?)"
    return None


def _ifc_schema(schema: str, what: str) -> str | None:
    if is_ifc_schema(schema):
        return f"{what} is an IFC file (schema {schema}), not STEP: submit it with --format ifc"
    return None


STEP = SpfKind("a STEP", _not_spf, _ifc_schema)


def check_file(path: Path) -> dict[str, Any]:
    """The cheap checks before OpenCASCADE runs; returns the parsed header."""
    head, tail = read_ends(path, HEAD_BYTES, TAIL_BYTES)
    header = parse_header(head)
    check_spf(head, tail, path.name, STEP, header["file_schema"])
    return header
