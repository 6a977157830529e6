"""Streaming export of results to JSON Lines or CSV (no whole result set in memory).

JSON Lines: one object per completed job, ``{"job": {...}, "result": <document>}``; the
document is byte-for-byte what `cadextract result --json` shows (secret job options masked).

CSV: one row per file (the job's fields and the extractor's ``summarize()`` fields), or,
with ``rows=True``, one row per entity / element / page / solid from ``rows()``. Every
row has a ``kind`` column (``file``, ``dxf-text``, ``pdf-page``, ``ifc-element`` ...).
The header is the union of every field of every row in the selection, found in a first
streaming pass, so no field is ever dropped. Per-item fields of different formats mean
different things (a DXF text height is not a PDF page height): when a ``rows`` export
spans more than one format they are named ``<format>.<field>``.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from cadextract.display import printable
from cadextract.extractors import registry
from cadextract.fmt import unit_name
from cadextract.store import readmodels

JOB_COLUMNS = ["job_id", "path", "format", "sha256", "size", "batch", "completed_at", "kind"]
FILE_COLUMNS = ["warnings", "warning_text"]
#: summary fields holding a unit name; spelled one way (lower case) whatever the library said
UNIT_FIELDS = {"units", "length_unit", "values_unit"}

Items = Callable[[], Iterable[tuple[readmodels.Job, dict[str, Any]]]]


def _job_fields(job: readmodels.Job) -> dict[str, Any]:
    return {
        "job_id": str(job.id),
        "path": job.path,
        "format": job.format,
        "sha256": job.sha256,
        "size": job.size,
        "batch": job.batch,
        "completed_at": job.completed_at.isoformat() if job.completed_at else None,
    }


def row_kind(fmt: str, row: dict[str, Any]) -> str:
    """What one ``rows()`` row describes, as ``<format>-<item>``."""
    if fmt == "dxf":
        entity = str(row.get("entity") or "entity").lower()
        return "dxf-dimension" if entity.startswith("dimension") else f"dxf-{entity}"
    if fmt == "ifc":
        return "ifc-element" if "global_id" in row else "ifc-class"
    return {"pdf": "pdf-page", "step": "step-solid"}.get(fmt, f"{fmt}-item")


def _fields(
    job: readmodels.Job, document: dict[str, Any], rows: bool
) -> Iterator[tuple[str, dict[str, Any]]]:
    """(kind, extractor fields) per CSV row of one result."""
    try:
        extractor = registry.get(job.format)
    except (registry.UnknownFormat, ImportError):
        extractor = None
    payload = document.get("payload", {})
    if rows:
        if extractor is not None and extractor.rows is not None:
            for row in extractor.rows(payload):
                yield row_kind(job.format, row), dict(row)
        return
    summary = extractor.summarize(payload) if extractor is not None and extractor.summarize else {}
    warnings = [str(w) for w in document.get("warnings", [])]
    yield "file", {"warnings": len(warnings), "warning_text": " | ".join(warnings), **summary}


def _name(key: str, fmt: str, prefixed: bool) -> str:
    if prefixed:
        return f"{fmt}.{key}"
    return f"item_{key}" if key in JOB_COLUMNS else key  # a STEP solid's own "path", say


def _flat(
    job: readmodels.Job, document: dict[str, Any], rows: bool, prefixed: bool
) -> Iterator[dict[str, Any]]:
    base = _job_fields(job)
    for kind, fields in _fields(job, document, rows):
        named = {_name(k, job.format, prefixed and rows): v for k, v in fields.items()}
        yield {**base, "kind": kind, **named}


def write_jsonl(items: Iterable[tuple[readmodels.Job, dict[str, Any]]], out: IO[str]) -> int:
    """One line per job; returns the number written."""
    n = 0
    for job, document in items:
        out.write(json.dumps({"job": job.as_json(), "result": document}, separators=(",", ":")) + "\n")
        n += 1
    return n


def csv_header(
    items: Iterable[tuple[readmodels.Job, dict[str, Any]]], *, rows: bool
) -> tuple[list[str], bool]:
    """Every column of the export (first pass), and whether per-item fields are prefixed."""
    keys: dict[str, list[str]] = {}
    for job, document in items:
        seen = keys.setdefault(job.format, [])
        for _kind, fields in _fields(job, document, rows):
            for key in fields:
                if key not in seen:
                    seen.append(key)
    prefixed = rows and len(keys) > 1
    header = list(JOB_COLUMNS)
    for fmt in sorted(keys):
        for key in keys[fmt]:
            name = _name(key, fmt, prefixed)
            if name not in header:
                header.append(name)
    return header, prefixed


def write_csv(
    items: Iterable[tuple[readmodels.Job, dict[str, Any]]],
    out: IO[str],
    header: list[str],
    *,
    rows: bool,
    prefixed: bool,
) -> int:
    """Rows under the header from ``csv_header``; a key outside it is an error, never dropped."""
    writer = csv.DictWriter(out, fieldnames=header, extrasaction="raise")
    writer.writeheader()
    n = 0
    for job, document in items:
        for row in _flat(job, document, rows, prefixed):
            writer.writerow({k: _cell(k, v) for k, v in row.items()})
            n += 1
    return n


def _cell(key: str, value: Any) -> Any:
    """A spreadsheet cell: empty for nothing (never 'None'), JSON for nested values."""
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, str) and key.rsplit(".", 1)[-1] in UNIT_FIELDS:
        return unit_name(value)
    if isinstance(value, str):
        return printable(value, keep_newlines=True)  # a spreadsheet cell, not a terminal escape
    return value
