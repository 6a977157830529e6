"""Options and arguments several commands share, each declared once."""

from __future__ import annotations

from typing import Annotated

import typer

from cadextract import setting_rules as rules


def finite(value: float) -> float:
    """Click's ranges let NaN through (every comparison with it is false)."""
    if value != value:
        raise typer.BadParameter("not a number")
    return value


PathsArg = Annotated[
    list[str], typer.Argument(help="Files, folders, or URLs (s3://bucket/prefix/).", show_default=False)
]
RehashOpt = Annotated[
    bool, typer.Option("--rehash", help="Hash every file again, even those whose stat is unchanged.")
]
DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="Show what would be queued; queue and record nothing.")
]
RecursiveOpt = Annotated[bool, typer.Option("--recursive", "-r", help="Descend into folders.")]
FormatOpt = Annotated[str | None, typer.Option("--format", "-f", help="Force a format (skip detection).")]
ForceOpt = Annotated[
    bool, typer.Option("--force", help="Queue files already extracted or failed (same content).")
]
RetryFailedOpt = Annotated[
    bool,
    typer.Option(
        "--retry-failed",
        help="Queue files whose same content failed before (default: skip them as known failures).",
    ),
]
PriorityOpt = Annotated[
    int,
    typer.Option(
        "--priority",
        "-p",
        min=rules.PRIORITY_RANGE[0],
        max=rules.PRIORITY_RANGE[1],
        help="Higher runs first.",
    ),
]
RetriesOpt = Annotated[
    int | None,
    typer.Option(
        "--max-retries",
        min=0,
        max=int(rules.BY_FIELD["max_retries"].high),
        help="Retries after the first attempt [3].",
    ),
]
BatchOpt = Annotated[str | None, typer.Option("--batch", "-b", help="Batch label (default: a timestamp).")]
OptionOpt = Annotated[
    list[str] | None, typer.Option("--option", "-o", help="Job option KEY=VALUE (repeatable).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
FollowLinksOpt = Annotated[
    bool,
    typer.Option("--follow-links", help="Inside folders, also follow links that lead outside the folder."),
]
NoPreviewsOpt = Annotated[
    bool, typer.Option("--no-previews", help="Make no preview images (job option previews=false).")
]

ConcurrencyOpt = Annotated[
    int, typer.Option("--concurrency", "-c", min=1, max=rules.CONCURRENCY_MAX, help="Child processes.")
]
QuietOpt = Annotated[
    bool, typer.Option("--quiet", "-q", help="Warnings only (failed jobs, database trouble); no live table.")
]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Also debug lines (each claim).")]

StatusFilter = Annotated[
    list[str] | None, typer.Option("--status", "-s", help="pending, processing, ... (comma list).")
]
FormatFilter = Annotated[list[str] | None, typer.Option("--format", "-f", help="dxf, pdf, ifc, step.")]
BatchFilter = Annotated[str | None, typer.Option("--batch", "-b", help="Batch label.")]
SinceFilter = Annotated[
    str | None, typer.Option("--since", help="Created within (30m, 2d) or since ISO time.")
]
PathFilter = Annotated[
    str | None,
    typer.Option(
        "--path",
        help="Glob on the file path, case-insensitive: '*.pdf' also matches X.PDF (no '/': the file name).",
    ),
]
JobIdsArg = Annotated[list[str] | None, typer.Argument(help="Ids or prefixes ('-' reads stdin).")]
