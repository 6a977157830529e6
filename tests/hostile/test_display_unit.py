"""Items 5 and 9 of issue 10 as pure functions: what reaches the terminal from a file."""

from __future__ import annotations

import io
import os
import uuid
from datetime import UTC, datetime

import pytest
from rich.console import Console

from cadextract import display, views
from cadextract.store.readmodels import Job

HOSTILE = [
    "clear\x1b[2Jscreen",
    "\x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\",
    "\x1b]0;pwned\x07title",
    "bell\x07 and \x9b31m 8-bit CSI",
    "[link=http://evil.example]click[/link]",
    "[/bold] unbalanced",
    "[red]red[/red]",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_printable_leaves_no_control_character(text: str) -> None:
    out = display.printable(text)
    assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in out), repr(out)
    assert "evil" not in out or text.startswith("[")  # an OSC 8 target is dropped with its escape


def test_printable_keeps_the_words_and_layout_when_asked() -> None:
    assert display.printable("clear\x1b[2Jscreen") == "clearscreen"
    assert display.printable("\x1b]0;pwned\x07title") == "title"
    assert display.printable("a\tb\nc") == "a b c"
    assert display.printable("a\tb\nc", keep_newlines=True) == "a\tb\nc"
    assert display.printable("Ø 12 ±0.1 × 2") == "Ø 12 ±0.1 × 2"


def test_undecodable_bytes_are_shown_escaped() -> None:
    name = os.fsdecode(b"caf\xe9.dxf")
    assert display.has_undecodable(name)
    assert display.printable(name) == "caf\\xe9.dxf"
    assert display.printable(name).encode("utf-8")  # encodable: no UnicodeEncodeError


def _render(renderable: object, *, terminal: bool) -> str:
    buf = io.StringIO()
    Console(file=buf, force_terminal=terminal, width=200, color_system="truecolor").print(renderable)
    return buf.getvalue()


def _job(path: str, message: str) -> Job:
    now = datetime.now(UTC)
    return Job(
        id=uuid.uuid4(),
        path=path,
        size=1,
        sha256="0" * 64,
        format="dxf",
        status="failed",
        priority=0,
        progress=0.0,
        progress_note=None,
        attempts=1,
        max_attempts=4,
        run_after=now,
        created_at=now,
        started_at=now,
        completed_at=None,
        updated_at=now,
        lease_expires_at=None,
        lease_token=None,
        worker_id=None,
        cancel_requested_at=None,
        last_error_type="CorruptFile",
        last_error_message=message,
        errors=[{"type": "CorruptFile", "message": message, "attempt": 1}],
        options={},
        submitted_by=None,
        batch="[b]",
    )


@pytest.mark.parametrize("terminal", [True, False])
def test_views_render_hostile_text_literally(terminal: bool) -> None:
    for text in HOSTILE:
        job = _job(f"/drop/{text}.dxf", text)
        for renderable in (
            views.jobs_table([job]),
            views.job_view(job, {"warnings": [text]}, {"title": text}),
            views.rows_table([{"text": text, text: 1}], title="details"),
            views.submit_table([], [(job.path, "skipped")]),
        ):
            out = _render(renderable, terminal=terminal)
            assert "\x1b]" not in out and "\x07" not in out and "\x1b[2J" not in out, repr(out)
            assert "\x1b]8;" not in out  # no hyperlink, markup or escape
        if text.startswith("["):
            assert text.split("]")[0] in _render(views.jobs_table([job]), terminal=False)
