"""Item 1 of issue 10: nothing a SIGKILLed supervisor started outlives it by more than seconds.

Real `cadextract work` processes, really killed: the forkserver, the resource tracker
and the job children (one sleeping in an extractor, one hashing /dev/zero at full
CPU through a link that replaced its file) must all be gone within a few seconds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
from sqlalchemy.engine import Engine

from tests.conftest import REPO
from tests.helpers import enqueue_files, make_files, status_counts, wait_until

GONE_WITHIN = 5.0  # seconds after the supervisor's death


def _alive(procs: list[psutil.Process]) -> list[psutil.Process]:
    out = []
    for p in procs:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                out.append(p)
        except psutil.NoSuchProcess:
            pass
    return out


def _ps_group(pgid: int) -> list[str]:
    """`ps` rows of the live (non-zombie) processes in a process group."""
    rows = subprocess.run(
        ["ps", "-o", "pid=,stat=,args=", "-g", str(pgid)], capture_output=True, text=True
    ).stdout.splitlines()
    return [r for r in rows if r.split()[1:2] and not r.split()[1].startswith("Z")]


def test_sigkill_of_the_supervisor_leaves_no_process_behind(clean_db: Engine, tmp_path: Path) -> None:
    sleeper = enqueue_files(
        clean_db, make_files(tmp_path / "s", 1), fmt="test-sleep", options={"seconds": 120}
    )
    spinner_file = make_files(tmp_path / "z", 1, suffix=".dxf")[0]
    enqueue_files(clean_db, [spinner_file], fmt="dxf", options={"timeout": 120})
    # the file becomes a link to an endless stream: its child hashes it forever
    spinner_file.unlink()
    spinner_file.symlink_to("/dev/zero")
    log = (tmp_path / "worker.log").open("wb")
    sup = subprocess.Popen(
        [sys.executable, "-m", "cadextract", "work", "-c", "2", "--prefetch", "0"],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=REPO,
        env=os.environ.copy(),
        start_new_session=True,  # its own process group, to look it up with ps -g
    )
    started: list[psutil.Process] = []
    try:
        wait_until(lambda: status_counts(clean_db).get("processing", 0) == 2, timeout=60)
        time.sleep(1.0)  # both children are inside their jobs
        started += psutil.Process(sup.pid).children(recursive=True)
        names = " ".join(" ".join(p.cmdline()) for p in started)
        assert "forkserver" in names and "resource_tracker" in names, names
        children = [p for p in started if p.ppid() != sup.pid]  # forked by the forkserver
        assert len(children) == 2
        busy = max(children, key=lambda p: p.cpu_percent(interval=0.5))
        assert busy.cpu_percent(interval=0.5) > 5  # the /dev/zero child really works (2 shared cores)
        groups = {os.getpgid(p.pid) for p in started} | {sup.pid}

        sup.send_signal(signal.SIGKILL)
        sup.wait(10)
        killed_at = time.monotonic()
        while _alive(started) and time.monotonic() - killed_at < GONE_WITHIN:
            time.sleep(0.1)
        left = _alive(started)
        assert left == [], [(p.pid, p.cmdline()) for p in left]
        for pgid in groups:
            assert _ps_group(pgid) == [], (pgid, _ps_group(pgid))
        assert sleeper  # the jobs stay in the queue for the next worker (lease expiry)
        assert status_counts(clean_db).get("processing", 0) == 2
    finally:
        for p in _alive(started):  # a failed run must not leave them to the next test
            p.kill()
        if sup.poll() is None:
            sup.kill()
            sup.wait(10)
        log.close()
    output = (tmp_path / "worker.log").read_text(errors="replace")
    assert "Traceback" not in output, output
