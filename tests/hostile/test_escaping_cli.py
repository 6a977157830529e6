"""Items 5 and 9 of issue 10: text and names from files reach no terminal raw.

Real runs: a DXF whose name and TEXT entities carry terminal escapes (screen clear,
window title, OSC 8 hyperlink) and rich markup, piped and in a real terminal (tmux).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from tests.conftest import REPO, run_cli
from tests.helpers import job_rows
from tests.hostile.conftest import write_dxf

TEXTS = [
    "clear\x1b[2Jscreen",
    "\x1b]2;pwned-by-text\x07title",
    "\x1b]0;pwned-by-osc0\x07zero",
    "\x1b]8;;http://evil.example/\x1b\\osc8click\x1b]8;;\x1b\\",
    "[link=http://evil.example]click[/link]",
    "[/bold] unbalanced",
]
NAME = "[bold] [red]x \x1b]2;pwned-by-name\x07.dxf"


def _hostile_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "[drop]"
    folder.mkdir()
    write_dxf(folder / NAME, *TEXTS)
    return folder


def _assert_clean(proc: subprocess.CompletedProcess[str]) -> None:
    both = proc.stdout + proc.stderr
    assert "Traceback" not in both and "MarkupError" not in both, both
    assert "\x1b" not in both and "\x07" not in both, repr(both)


def test_piped_output_carries_no_escapes_and_no_markup(clean_db: Engine, tmp_path: Path) -> None:
    folder = _hostile_folder(tmp_path)
    ran = run_cli("run", str(folder), "-r", "-v")
    assert ran.returncode == 0, ran.stderr
    _assert_clean(ran)  # -v log lines name the file
    (job_id,) = job_rows(clean_db)
    for args in (
        ("jobs",),
        ("status",),
        ("status", str(job_id)),
        ("result", str(job_id)),
        ("submit", str(folder), "-r"),
        ("watch", "--once"),
        ("export", "--to", "csv"),
        ("export", "--to", "csv", "--rows"),
    ):
        proc = run_cli(*args)
        assert proc.returncode == 0, (args, proc.stderr)
        _assert_clean(proc)
    shown = run_cli("result", str(job_id)).stdout
    assert "[link=http://evil.example]click[/link]" in shown  # shown as text, not made a link
    assert "clearscreen" in shown
    # the JSON keeps the raw values
    document = json.loads(run_cli("result", str(job_id), "--json").stdout)
    texts = [t["text"] for t in document["payload"]["texts"]]
    assert texts == TEXTS
    listed = json.loads(run_cli("jobs", "--json").stdout)
    assert listed[0]["path"].endswith(NAME)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux not installed")
def test_a_real_terminal_keeps_its_title_and_screen(clean_db: Engine, tmp_path: Path) -> None:
    folder = _hostile_folder(tmp_path)
    py = shlex.quote(sys.executable)
    commands = [
        f"{py} -m cadextract run {shlex.quote(str(folder))} -r",  # the live work view
        f"{py} -m cadextract submit {shlex.quote(str(folder))} -r",
        f"{py} -m cadextract jobs",
        f"{py} -m cadextract status",
        f"{py} -m cadextract watch --once",
    ]
    script = tmp_path / "session.sh"
    env_lines = [
        f"export {k}={shlex.quote(os.environ[k])}" for k in ("CADEXTRACT_DATABASE_URL", "CADEXTRACT_HOME")
    ]
    script.write_text(
        "\n".join(
            [
                *env_lines,
                f"cd {shlex.quote(str(REPO))}",
                *commands,
                f"{py} -m cadextract result $({py} -m cadextract jobs --ids | head -1)",
                "echo SESSION-DONE",
                "sleep 120",
            ]
        )
        + "\n"
    )
    sock = f"cx10-{uuid.uuid4().hex[:8]}"
    tmux = ["tmux", "-L", sock, "-f", "/dev/null"]
    subprocess.run(
        [*tmux, "new-session", "-d", "-s", "t", "-x", "220", "-y", "60", f"bash --norc {script}"], check=True
    )
    try:
        subprocess.run([*tmux, "set-option", "-g", "history-limit", "20000"], check=True)
        deadline = time.monotonic() + 180
        screen = ""
        while time.monotonic() < deadline:
            screen = subprocess.run(
                [*tmux, "capture-pane", "-p", "-J", "-S", "-", "-t", "t"], capture_output=True, text=True
            ).stdout
            if "SESSION-DONE" in screen:
                break
            time.sleep(0.5)
        assert "SESSION-DONE" in screen, screen
        title = subprocess.run(
            [*tmux, "display-message", "-p", "-t", "t", "#{pane_title}"], capture_output=True, text=True
        ).stdout
        assert "pwned" not in title, title
        assert "Traceback" not in screen and "MarkupError" not in screen, screen
        assert "[link=http://evil.example]click[/link]" in screen
        assert "clearscreen" in screen
        # nothing cleared the screen: the first command's output is still there
        assert "completed" in screen.split("SESSION-DONE")[0]
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)
