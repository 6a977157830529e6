"""What was extracted: result, preview, export. Parse → ops.results → render or write."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import IO, Annotated

import typer

from cadextract import views
from cadextract.cli.base import Exit as Code
from cadextract.cli.base import Failed, err, out, state, user_errors
from cadextract.cli.options import BatchFilter, FormatFilter, PathFilter, SinceFilter
from cadextract.display import printable
from cadextract.ops import inputs, results


def result(
    ctx: typer.Context,
    job: Annotated[str, typer.Argument(help="Job id or unique prefix.")],
    as_json: Annotated[bool, typer.Option("--json", help="The whole result document.")] = False,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="Rows per list.")] = 40,
    show_all: Annotated[bool, typer.Option("--all", help="Every row of every list.")] = False,
) -> None:
    """Show what was extracted from one file."""
    from cadextract import resultview

    st = state(ctx)
    with user_errors():
        job_id = inputs.job_id(job)  # a bad prefix fails before connecting
        d = results.with_result(st.engine(), job_id)
    assert d.document is not None  # with_result refuses a job without one
    if as_json:
        print(json.dumps(d.document, indent=2))
        return
    out.print(
        resultview.result_view(
            path=d.job.path,
            job_id=str(d.job.id),
            document=d.document,
            summary=d.summary,
            rows=results.result_rows(d.document),
            limit=None if show_all else limit,
        )
    )
    for title, section in results.drawing_sections(d.document):
        out.print(views.rows_table(section, title=title, limit=len(section) if show_all else limit))


def preview(
    ctx: typer.Context,
    job: Annotated[str, typer.Argument(help="Job id or unique prefix.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write ('-': stdout).")],
) -> None:
    """Write one job's preview image.

    SVG, PNG or JPEG, as the extraction job made it.
    """
    st = state(ctx)
    with user_errors():
        job_id = inputs.job_id(job)
        image = results.preview(st.engine(), job_id)
        data = image.plain()
        if str(output) == "-":
            sys.stdout.buffer.write(data)
            return
        try:
            output.write_bytes(data)
        except OSError as exc:
            raise Failed(f"cannot write {output}: {exc.strerror}", Code.USAGE) from None
    err.print(f"wrote the {image.mime} preview ({len(data)} bytes) to {output}", highlight=False)


def export(
    ctx: typer.Context,
    status: Annotated[
        list[str] | None,
        typer.Option(
            "--status", "-s", help="Only 'completed' is accepted: only completed jobs have results."
        ),
    ] = None,
    fmt: FormatFilter = None,
    batch: BatchFilter = None,
    since: SinceFilter = None,
    path: PathFilter = None,
    to: Annotated[str, typer.Option("--to", help="jsonl or csv.")] = "jsonl",
    rows: Annotated[bool, typer.Option("--rows", help="CSV: one row per entity/element/page/solid.")] = False,
    latest: Annotated[
        bool, typer.Option("--latest", help="Only the newest completed job of each file path.")
    ] = False,
    bom: Annotated[
        bool,
        typer.Option("--bom/--no-bom", help="CSV to a file: start with a UTF-8 BOM so Excel reads it right."),
    ] = True,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default stdout).")
    ] = None,
    view: Annotated[
        str | None, typer.Option("--view", help="A SQL view instead (texts, documents, ...; docs/sql.md).")
    ] = None,
) -> None:
    """Write results of completed jobs as JSON Lines or CSV.

    Streams from the database. CSV columns are the union of every field in the
    selection (a first pass finds them): nothing is dropped. See docs/results.md.
    """
    st = state(ctx)
    with user_errors():
        results.check_export_kind(to)
        if view is not None:
            results.check_view(view, rows=rows, since=since)
            engine = st.engine()
            target = output.open("w", newline="") if output else sys.stdout
            try:
                n = results.write_view(engine, view, target, to=to, formats=fmt, batch=batch, path=path)
            finally:
                if output:
                    target.close()
            if output:
                err.print(f"wrote {n} rows of {view} to {output}", highlight=False)
            return
        f = results.results_filter(status, fmt, batch, since, path)
        engine = st.engine()
        target_file: IO[str]
        if output:
            encoding = "utf-8-sig" if to == "csv" and bom else "utf-8"
            try:
                target_file = output.open("w", newline="", encoding=encoding)
            except OSError as exc:  # a folder, a missing folder, '' (the current folder)
                raise Failed(f"cannot write {printable(str(output))}: {exc.strerror}", Code.USAGE) from None
        else:
            target_file = sys.stdout
        try:
            n = results.write_results(engine, f, target_file, to=to, rows=rows, latest=latest)
            if output:
                target_file.close()  # /dev/full fails here, on the last buffer
        except OSError as exc:
            raise Failed(
                f"cannot write {printable(str(output or 'the output'))}: {exc.strerror}", Code.USAGE
            ) from None
        finally:
            if output:
                with contextlib.suppress(OSError):
                    target_file.close()
    if output:
        what = "rows" if to == "csv" else "results"
        err.print(f"wrote {n} {what} to {printable(str(output))}", highlight=False, markup=False)
