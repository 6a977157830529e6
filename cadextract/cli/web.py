"""Search and the web console: search, index, serve. Parse → ops.search → render."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from cadextract.cli.base import err, out, state, user_errors
from cadextract.cli.options import BatchFilter, FormatFilter, JsonOpt, PathFilter
from cadextract.ops import search as ops_search


def search(
    ctx: typer.Context,
    query: Annotated[
        str | None,
        typer.Argument(help='Words, "a phrase", -exclude, a or b, prefix*. Optional with --field.'),
    ] = None,
    fmt: FormatFilter = None,
    batch: BatchFilter = None,
    path: PathFilter = None,
    field: Annotated[
        list[str] | None,
        typer.Option(
            "--field", help="Title-block field NAME=VALUE, e.g. revision=B (repeatable, all must match)."
        ),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=10000, help="Hits to show.")] = 20,
    all_jobs: Annotated[
        bool, typer.Option("--all-jobs", help="Every completed job, not only the latest per file.")
    ] = False,
    as_json: JsonOpt = False,
    ids: Annotated[bool, typer.Option("--ids", help="Only job ids, one per line.")] = False,
) -> None:
    """Find files by what they say.

    Title blocks, texts, table cells, names and properties, in the search index.
    """
    from cadextract.search import render

    st = state(ctx)
    with user_errors():
        req = ops_search.search_request(query, field, fmt=fmt, batch=batch, path=path)
        hits = ops_search.search(st.engine(), req, limit=limit, all_jobs=all_jobs)
    if ids:
        for hit in hits:
            print(hit.job_id)
    elif as_json:
        print(json.dumps([h.as_json() for h in hits], indent=2, ensure_ascii=False))
    else:
        if hits:
            out.print(render.hits_table(hits))
        err.print(render.footer(hits, all_jobs=all_jobs), highlight=False, markup=False)


def index(
    ctx: typer.Context,
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="Index every completed result again, not only missing ones.")
    ] = False,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, max=10000, help="Results per transaction.")
    ] = 200,
    as_json: JsonOpt = False,
) -> None:
    """Build the search index.

    For results that lack it, or all of them again with --rebuild.
    """
    st = state(ctx)
    with user_errors():
        engine = st.engine()
        total = ops_search.index_todo(engine, rebuild=rebuild)
        with Progress(
            TextColumn("indexing"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=err,
            disable=not err.is_terminal or as_json,
        ) as bar:
            task = bar.add_task("index", total=total)
            done = ops_search.index(
                engine,
                rebuild=rebuild,
                batch_size=batch_size,
                on_progress=lambda n: bar.update(task, completed=n),
            )
    if as_json:
        print(json.dumps({"indexed": done.indexed, "rebuild": rebuild, "seconds": round(done.seconds, 3)}))
    else:
        err.print(f"indexed {done.indexed} result(s) in {done.seconds:.1f}s", highlight=False)


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on; other than loopback needs a token.")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 8765,
    token: Annotated[
        str | None,
        typer.Option(envvar="CADEXTRACT_WEB_TOKEN", show_envvar=True, help="Access token for pages and API."),
    ] = None,
    read_only: Annotated[bool, typer.Option("--read-only", help="Show everything, allow no action.")] = False,
) -> None:
    """Run the web console.

    Dashboard, jobs, results with previews, actions, and a JSON API under /api/.
    """
    st = state(ctx)
    with user_errors():
        config = ops_search.console_config(host, port, token, read_only=read_only)
        from cadextract.web.serve import serve as run_console  # the web stack, once the settings pass

        engine = st.engine(pool_size=5)
        err.print(
            f"console on http://{host}:{port}/{' (read-only)' if read_only else ''}"
            f"{'' if token else ' (no token: local access only)'}; Ctrl-C stops it",
            highlight=False,
        )
        run_console(engine, config)
