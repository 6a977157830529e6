"""Streaming export of results to JSON Lines or CSV (no whole result set in memory).

JSON Lines: one object per completed job, ``{"job": {...}, "result": <document>}``; the
document is byte-for-byte what `cadextract result --json` shows.
CSV: one row per file with the job's fields and the extractor's ``summarize()`` fields,
or (``rows=True``) one row per entity / element / page / solid from ``rows()``. The
header is the union of the keys seen in the first result of each format in the
selection; an extractor's summary has the same keys for every file of its format.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from typing import IO, Any

import sqlalchemy as sa

from cadextract.display import printable
from cadextract.extractors import registry
from cadextract.store import reads

JOB_COLUMNS = ["job_id", "path", "format", "sha256", "size", "batch", "completed_at"]


def _job_fields(job: reads.Job) -> dict[str, Any]:
    return {
        "job_id": str(job.id),
        "path": job.path,
        "format": job.format,
        "sha256": job.sha256,
        "size": job.size,
        "batch": job.batch,
        "completed_at": job.completed_at.isoformat() if job.completed_at else None,
    }


def _flat(job: reads.Job, document: dict[str, Any], rows: bool) -> Iterator[dict[str, Any]]:
    try:
        extractor = registry.get(job.format)
    except (registry.UnknownFormat, ImportError):
        extractor = None
    payload = document.get("payload", {})
    base = _job_fields(job)
    if rows:
        if extractor is not None and extractor.rows is not None:
            for row in extractor.rows(payload):
                # a row's own "path" (an assembly path, say) must not replace the file's
                yield {**base, **{(f"item_{k}" if k in base else k): v for k, v in row.items()}}
        return
    summary = extractor.summarize(payload) if extractor is not None and extractor.summarize else {}
    yield {**base, "warnings": len(document.get("warnings", [])), **summary}


def write_jsonl(items: Iterable[tuple[reads.Job, dict[str, Any]]], out: IO[str]) -> int:
    """One line per job; returns the number written."""
    n = 0
    for job, document in items:
        out.write(json.dumps({"job": job.as_json(), "result": document}, separators=(",", ":")) + "\n")
        n += 1
    return n


def csv_header(conn: sa.Connection, f: reads.JobFilter, *, rows: bool) -> list[str]:
    """Columns for a CSV export: job fields, then the union of the extractor fields."""
    header = list(JOB_COLUMNS) + ([] if rows else ["warnings"])
    for fmt in reads.result_formats(conn, f):
        sample = reads.first_result(conn, f, fmt)
        if sample is None:
            continue
        job, document = sample
        for row in _flat(job, document, rows):
            for key in row:
                if key not in header:
                    header.append(key)
    return header


def write_csv(
    items: Iterable[tuple[reads.Job, dict[str, Any]]], out: IO[str], header: list[str], *, rows: bool
) -> int:
    """Rows under the given header (unknown keys dropped); returns the number written."""
    writer = csv.DictWriter(out, fieldnames=header, extrasaction="ignore")
    writer.writeheader()
    n = 0
    for job, document in items:
        for row in _flat(job, document, rows):
            writer.writerow({k: _cell(v) for k, v in row.items()})
            n += 1
    return n


def _cell(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    if isinstance(value, str):
        return printable(value, keep_newlines=True)  # a spreadsheet cell, not a terminal escape
    return value
