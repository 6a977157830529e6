"""Search hits for the terminal: a rich table whose snippets show the matched words.

File-derived text (paths, snippets) goes into ``rich.text.Text`` objects, never through
markup, so a drawing that says ``[bold]`` or ``[/]`` prints as written.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rich.table import Table
from rich.text import Text

from cadextract.search.store import Hit, split_marks

_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """One line: newlines and tabs become ' · ', other control characters '?'."""
    text = re.sub(r"\s*[\n\r\t]+\s*", " · ", text)
    return _UNPRINTABLE.sub("?", text)


def snippet_text(snippet: str) -> Text:
    """The snippet with its marked stretches highlighted."""
    plain, spans = split_marks(snippet)
    out = Text()
    pos = 0
    for start, end in spans:
        out.append(printable(plain[pos:start]))
        out.append(printable(plain[start:end]), style="bold black on yellow")
        pos = end
    out.append(printable(plain[pos:]))
    return out


def hits_table(hits: Sequence[Hit]) -> Table:
    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column("#", justify="right", style="dim")
    table.add_column("file", overflow="fold", max_width=48)
    table.add_column("format")
    table.add_column("job", style="cyan")
    table.add_column("field", style="magenta")
    table.add_column("snippet", overflow="fold")
    for n, hit in enumerate(hits, 1):
        table.add_row(
            str(n),
            Text(printable(hit.path)),
            Text(hit.format),
            Text(str(hit.job_id)[:8]),
            Text(printable(hit.field or "")),
            snippet_text(hit.snippet),
        )
    return table


def footer(hits: Sequence[Hit], *, all_jobs: bool) -> str:
    unit = "jobs" if all_jobs else "files"
    if not hits:
        return f"no matching {unit}"
    total = hits[0].total
    return f"{len(hits)} of {total} matching {unit}" + (
        "" if len(hits) == total else " (use --limit for more)"
    )
