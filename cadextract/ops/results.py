"""Reading jobs and what they produced: `status`, `result`, `preview`, `export`.

Each returns data (a job, its document, rows, a preview image, a count of rows written);
opening output files and rendering stay with the CLI.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from sqlalchemy.engine import Engine

from cadextract.extractors import registry
from cadextract.models import JobStatus
from cadextract.ops import inputs
from cadextract.ops.errors import BadInput, NotFound
from cadextract.store import parsing, readmodels

if TYPE_CHECKING:
    from cadextract.previews import Preview

EXPORT_KINDS = ("jsonl", "csv")


@dataclass(frozen=True)
class JobDetail:
    """One job, its result document if any, and the extractor's summary of it."""

    job: readmodels.Job
    document: dict[str, Any] | None
    summary: dict[str, Any] | None

    def as_json(self) -> dict[str, Any]:
        return {**self.job.as_json(), "result_summary": self.summary}


def summary(engine: Engine, batch: str | None) -> readmodels.Summary:
    with engine.connect() as conn:
        return readmodels.summary(conn, batch=batch)


def summary_json(s: readmodels.Summary) -> dict[str, Any]:
    return {
        "by_status": s.by_status,
        "by_format": s.by_format,
        "oldest_pending": s.oldest_pending.isoformat() if s.oldest_pending else None,
        "scheduled_retries": s.scheduled_retries,
        "running": [j.as_json() for j in s.running],
    }


def detail(engine: Engine, prefix: str) -> JobDetail:
    """The job an id or unique prefix names (JobNotFound / AmbiguousPrefix otherwise)."""
    with engine.connect() as conn:
        job_id = readmodels.resolve(conn, prefix)
        job = readmodels.get(conn, job_id)
        document = readmodels.get_result(conn, job_id)
    return JobDetail(job, document, result_summary(document))


def with_result(engine: Engine, prefix: str) -> JobDetail:
    """Like :func:`detail`, for a job that must have a result."""
    d = detail(engine, prefix)
    if d.document is None:
        raise NotFound(f"job {str(d.job.id)[:8]} has no result (status {d.job.status})")
    return d


def result_summary(document: dict[str, Any] | None) -> dict[str, Any] | None:
    """The extractor's short summary of its payload (None if it has none or is not installed)."""
    if not document:
        return None
    try:
        extractor = registry.get(document["format"])
    except (registry.UnknownFormat, ImportError, KeyError):
        return None
    if extractor.summarize is None:
        return None
    return extractor.summarize(document.get("payload", {}))


def result_rows(document: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per entity / element / page / solid, as the extractor lists them."""
    extractor = registry.get(document["format"])
    return list(extractor.rows(document.get("payload", {}))) if extractor.rows is not None else []


def drawing_sections(document: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """What a person reads on the sheet: dimensions, frames, title block, parts list."""
    from cadextract.extractors.drawing import report as drawing_report  # only `result` needs it

    return list(drawing_report.sections(document["format"], document.get("payload", {})))


def preview(engine: Engine, prefix: str) -> Preview:
    """The preview image the extraction job made."""
    from cadextract.previews import store as preview_store

    with engine.connect() as conn:
        job_id = readmodels.resolve(conn, prefix)
        image = preview_store.get(conn, job_id)
    if image is None:
        raise NotFound(f"job {str(job_id)[:8]} has no preview")
    return image


def check_export_kind(to: str) -> None:
    if to not in EXPORT_KINDS:
        raise BadInput(f"--to {to!r}: use jsonl or csv")


def check_view(view: str, *, rows: bool, since: str | None) -> None:
    """A SQL view exports its own rows: it must exist, and --rows / --since do not apply."""
    from cadextract.search import export_view

    try:
        export_view.check(view)
    except export_view.UnknownView as exc:
        raise BadInput(str(exc)) from None
    if rows or since:
        raise BadInput("--view exports the view's own rows; --rows and --since do not apply")


def results_filter(
    status: Sequence[str] | None,
    fmt: Sequence[str] | None,
    batch: str | None,
    since: str | None,
    path: str | None,
) -> readmodels.JobFilter:
    """`export`'s selection: completed jobs only (the only ones with results)."""
    if status and inputs.split(status) != [JobStatus.COMPLETED]:
        raise BadInput("export writes results, which only completed jobs have (--status completed)")
    return inputs.job_filter(None, fmt, batch, since, path)


def write_view(
    engine: Engine,
    view: str,
    target: IO[str],
    *,
    to: str,
    formats: Sequence[str] | None,
    batch: str | None,
    path: str | None,
) -> int:
    """Stream a SQL view (docs/sql.md) as CSV or JSON Lines; returns rows written."""
    from cadextract.search import export_view

    with engine.connect() as conn:
        return export_view.write(
            conn,
            view,
            target,
            to=to,
            formats=inputs.split(formats),
            batch=batch,
            path_like=parsing.glob_to_like(path) if path else None,
        )


def write_results(
    engine: Engine, f: readmodels.JobFilter, target: IO[str], *, to: str, rows: bool, latest: bool
) -> int:
    """Stream result documents as JSON Lines or CSV; returns results (or rows) written."""
    from cadextract import export as exporter

    with engine.connect() as conn:
        if to == "jsonl":
            return exporter.write_jsonl(readmodels.iter_results(conn, f, latest=latest), target)
        # two streaming passes: the first finds every column, the second writes
        header, prefixed = exporter.csv_header(readmodels.iter_results(conn, f, latest=latest), rows=rows)
        items = readmodels.iter_results(conn, f, latest=latest)
        return exporter.write_csv(items, target, header, rows=rows, prefixed=prefixed)
