"""The live views in a real terminal: tmux with a fixed size, read back with capture-pane.

`work`: one table, redrawn in place, never wider than the terminal, log lines above it.
`watch`: the newest batch, whether a worker is alive, progress of the batch, failures on
one line each.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from rich.cells import cell_len
from sqlalchemy.engine import Engine

from tests.conftest import REPO
from tests.helpers import enqueue_files, make_files

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

WIDTH, HEIGHT = 150, 40
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ (INFO|WARNING|DEBUG) ")


class Tmux:
    """One detached tmux session running one command."""

    def __init__(self, command: str, env: dict[str, str]) -> None:
        self.name = f"cx-{uuid.uuid4().hex[:8]}"
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        # a fresh tmux server may start the pane at 80 columns and resize it a moment later:
        # the command starts only once the pane has its final size
        wait = f'until [ "$(tput cols)" = {WIDTH} ]; do sleep 0.05; done'
        script = (
            f"{wait}; cd {shlex.quote(str(REPO))} && env {exports} {command}; echo __EXIT_$?__; sleep 600"
        )
        self._tmux(
            "new-session", "-d", "-s", self.name, "-x", str(WIDTH), "-y", str(HEIGHT), "bash", "-c", script
        )
        self._tmux("resize-window", "-t", self.name, "-x", str(WIDTH), "-y", str(HEIGHT))

    def _tmux(self, *args: str) -> str:
        import subprocess

        done = subprocess.run(["tmux", *args], capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def capture(self) -> str:
        """The screen, wrapped lines joined (-J): a line wider than the pane shows as such."""
        return self._tmux("capture-pane", "-p", "-J", "-t", self.name)

    def wait_for(self, predicate: Callable[[str], bool], timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.capture()
            if predicate(screen):
                return screen
            time.sleep(0.2)
        raise AssertionError(f"screen never matched; last screen:\n{screen}")

    def close(self) -> None:
        import subprocess

        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True, timeout=30)


@pytest.fixture
def tmux_env(clean_db: Engine) -> Iterator[dict[str, str]]:
    env = {
        "CADEXTRACT_DATABASE_URL": os.environ["CADEXTRACT_DATABASE_URL"],
        "CADEXTRACT_HOME": os.environ["CADEXTRACT_HOME"],
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
    }
    yield env


@pytest.fixture
def session() -> Iterator[list[Tmux]]:
    sessions: list[Tmux] = []
    yield sessions
    for s in sessions:
        s.close()


def _check_frame(screen: str) -> list[str]:
    """One live region: one counter line, one table header, at the bottom, within the width."""
    lines = screen.rstrip("\n").split("\n")
    heads = [i for i, line in enumerate(lines) if line.startswith("completed ") and "jobs/s" in line]
    headers = [i for i, line in enumerate(lines) if re.match(r"^\s+slot\s+pid\s+job\s+format", line)]
    assert len(heads) == 1 and len(headers) == 1, f"frames stacked up:\n{screen}"
    live = lines[heads[0] :]
    for line in live:
        assert cell_len(line) <= WIDTH, f"live line wider than the terminal ({cell_len(line)}):\n{line}"
    for i, line in enumerate(lines):
        if LOG_LINE.match(line):
            assert i < heads[0], f"log line inside the live region:\n{screen}"
    rule = lines[headers[0] + 1]
    assert set(rule.strip()) == {"─"}, f"broken rule: {rule!r}"
    assert "\ufffd" not in screen and "�" not in screen
    return live


def test_work_live_table_redraws_in_place_within_the_width(
    clean_db: Engine, tmux_env: dict[str, str], session: list[Tmux], tmp_path: Path
) -> None:
    deep = tmp_path.joinpath(*[f"folder-with-a-long-name-{i}" for i in range(5)])
    files = make_files(deep, 6, prefix="drawing-", suffix=".bin")
    enqueue_files(clean_db, files, fmt="test-sleep", options={"seconds": 1.5})
    broken = deep / "broken.dxf"
    broken.write_text("0\nSECTION\n2\nENTITIES\n0\nLINE\n")
    enqueue_files(clean_db, [broken], fmt="dxf")
    py = shlex.quote(sys.executable)
    t = Tmux(f"{py} -m cadextract work --until-empty --concurrency 2", tmux_env)
    session.append(t)
    # while it runs: a file being extracted is shown by its name, the path cut from the left
    screen = t.wait_for(lambda s: re.search(r"…\S*drawing-\d+\.bin", s) is not None)
    _check_frame(screen)
    # several frames later: still one table, log lines above it
    screen = t.wait_for(lambda s: "INFO completed" in s and "jobs/s" in s)
    _check_frame(screen)
    screen = t.wait_for(lambda s: "__EXIT_0__" in s)
    live = _check_frame(screen.split("completed 6, failed 1")[0])
    assert re.search(r"completed 6\s+failed 1", live[0]), "the last frame has the final counts"
    assert "WARNING failed" in screen and "TruncatedFile" in screen
    assert "completed 6, failed 1" in screen


def _jobs_sql(engine: Engine, sql: str, **params: object) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text(sql), params)


def test_watch_shows_the_newest_batch_and_whether_a_worker_is_alive(
    clean_db: Engine, tmux_env: dict[str, str], session: list[Tmux], tmp_path: Path
) -> None:
    old = enqueue_files(clean_db, make_files(tmp_path / "old", 5), batch="nightly-old")
    _jobs_sql(
        clean_db,
        "UPDATE cadextract.extraction_jobs SET status = 'completed', started_at = now() - interval '1 hour', "
        "completed_at = now() - interval '1 hour', updated_at = now() - interval '1 hour', "
        "created_at = now() - interval '1 hour' WHERE id = ANY(:ids)",
        ids=old,
    )
    new = enqueue_files(clean_db, make_files(tmp_path / "new", 6), batch="nightly-new")
    long_error = "the file ends in the middle of a section;\ncopy it again " + "or resubmit it " * 20
    _jobs_sql(
        clean_db,
        "UPDATE cadextract.extraction_jobs SET status = 'failed', attempts = 1, "
        "last_error_type = 'TruncatedFile', last_error_message = :msg, "
        "started_at = now() - interval '3 minutes', completed_at = now() - interval '2 minutes', "
        "updated_at = now() - interval '2 minutes' WHERE id = :id",
        msg=long_error,
        id=new[0],
    )
    py = shlex.quote(sys.executable)
    t = Tmux(f"{py} -m cadextract watch --interval 0.3", tmux_env)
    session.append(t)
    screen = t.wait_for(lambda s: "NO WORKER" in s)
    assert "batch nightly-new (newest" in screen
    assert "1 of 6 done (1 failed)" in screen and "elapsed" in screen
    assert "ETA - (no worker)" in screen
    # the old batch's 5 completed jobs are not mixed in: the totals row is this batch only
    all_row = next(line.split() for line in screen.splitlines() if line.strip().startswith("all "))
    assert all_row == ["all", "5", "0", "0", "1", "0", "6"], all_row
    # a failure two minutes old still shows, on one line
    failures = screen[screen.index("recent failures") :]
    [row] = [line for line in failures.splitlines() if "TruncatedFile" in line]
    assert "2m" in row and "…" in row
    for line in screen.splitlines():
        assert cell_len(line) <= WIDTH, line
    assert "UTC" in screen.splitlines()[0]
    # a worker holds a job (a live lease): the screen says so, redrawn in place
    _jobs_sql(
        clean_db,
        "UPDATE cadextract.extraction_jobs SET status = 'processing', worker_id = 'host-a:42', "
        "started_at = now(), lease_expires_at = now() + interval '1 minute', progress = 37 WHERE id = :id",
        id=new[1],
    )
    screen = t.wait_for(lambda s: "1 job(s) in workers" in s)
    assert "NO WORKER" not in screen and "host-a:42" in screen and "37%" in screen
    assert screen.count("cadextract watch") == 1
    # the worker died: its lease ran out
    _jobs_sql(
        clean_db,
        "UPDATE cadextract.extraction_jobs SET lease_expires_at = now() - interval '1 second' WHERE id = :id",
        id=new[1],
    )
    screen = t.wait_for(lambda s: "STALLED" in s)
    assert "ETA - (stalled)" in screen
    # --all shows every batch, and says so
    t2 = Tmux(f"{py} -m cadextract watch --all --once", tmux_env)
    session.append(t2)
    screen = t2.wait_for(lambda s: "__EXIT_0__" in s)
    assert "all batches" in screen and "6 of 11 done" in screen
