"""Fault tests: real `cadextract work` processes, really killed, on a real PostgreSQL."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.conftest import REPO

FAST_ENV = {
    "CADEXTRACT_LEASE_SECONDS": "2",
    "CADEXTRACT_HEARTBEAT_SECONDS": "0.3",
    "CADEXTRACT_POLL_SECONDS": "0.3",
    "CADEXTRACT_BACKOFF_BASE": "0.1",
    "CADEXTRACT_BACKOFF_CAP": "0.5",
}


class Workers:
    """Starts worker processes and makes sure none outlives the test."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        n = len(self.procs)
        log = open(self.tmp_path / f"worker{n}.log", "wb")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            [sys.executable, "-m", "cadextract", "work", *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO,
            env={**os.environ, **FAST_ENV, **(env or {})},
        )
        self.procs.append(proc)
        return proc

    def log(self, n: int = 0) -> str:
        return (self.tmp_path / f"worker{n}.log").read_text(errors="replace")

    def children(self, proc: subprocess.Popen[bytes]) -> list[psutil.Process]:
        """The job children: forked by multiprocessing's forkserver, a child of the worker."""
        out = []
        try:
            for helper in psutil.Process(proc.pid).children():
                with contextlib.suppress(psutil.Error):
                    if "forkserver" in " ".join(helper.cmdline()):
                        out += [c for c in helper.children() if c.status() != psutil.STATUS_ZOMBIE]
        except psutil.NoSuchProcess:
            pass
        return out

    def stop_all(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                with contextlib.suppress(psutil.Error):
                    for c in psutil.Process(p.pid).children(recursive=True):
                        c.kill()
                p.send_signal(signal.SIGKILL)
                p.wait(10)


@pytest.fixture
def workers(tmp_path: Path, clean_db: object) -> Iterator[Workers]:
    w = Workers(tmp_path)
    yield w
    w.stop_all()
