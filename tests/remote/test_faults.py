"""Read errors at work time through a real HTTP path: a proxy in front of the S3 server
answers 403, 503 or resets the connection for chosen keys (tests/remote/faultproxy.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.conftest import REPO, run_cli
from tests.remote.faultproxy import RESET, fault_proxy

DXF = (REPO / "samples" / "files" / "dxf" / "bracket.dxf").read_bytes()


def by_name(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT * FROM cadextract.extraction_jobs")).all()
    return {r.path.rsplit("/", 1)[-1]: r for r in rows}


def test_403_is_permanent_503_and_reset_are_retried_until_the_storage_heals(
    db: Engine, s3: Any, bucket: str, s3_env: dict[str, str]
) -> None:
    names = ["denied.dxf", "busy.dxf", "reset.dxf", "fine.dxf"]
    for name in names:
        s3.put_object(Bucket=bucket, Key=f"f/{name}", Body=DXF + f"\n999\n{name}\n".encode())
    r = run_cli("submit", "-r", "--max-retries", "8", f"s3://{bucket}/f/")
    assert r.returncode == 0, r.stderr
    rules: dict[str, int | str] = {"/f/denied.dxf": 403, "/f/busy.dxf": 503, "/f/reset.dxf": RESET}
    flaky = ("busy.dxf", "reset.dxf")
    with fault_proxy(s3_env["AWS_ENDPOINT_URL"], rules) as proxy:
        env = {
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{proxy.server_address[1]}",
            "CADEXTRACT_BACKOFF_BASE": "0.5",
        }
        # a worker that keeps going (`work --until-empty` would exit whenever both flaky jobs
        # happen to be backing off at once: nothing could be claimed at that moment)
        worker = subprocess.Popen(
            [sys.executable, "-m", "cadextract", "work", "-q"],
            env={**os.environ, **env},
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            # the storage stays broken until each flaky job has failed twice, transiently
            deadline = time.monotonic() + 400
            while time.monotonic() < deadline:
                jobs = by_name(db)
                failed_twice = all(len(jobs[n].errors) >= 2 for n in flaky)
                if failed_twice or any(jobs[n].status == "failed" for n in flaky):
                    break
                time.sleep(0.5)
            jobs = by_name(db)
            for name in flaky:
                row = jobs[name]
                assert len(row.errors) >= 2 and row.status in ("pending", "processing"), (name, row.status)
                assert row.last_error_type == "FileUnreadable", name  # transient: scheduled again
                assert f"s3://{bucket}/f/{name}" in row.last_error_message
            assert "503" in jobs["busy.dxf"].last_error_message
            rules.clear()  # the storage heals: the next attempts go through
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline and not all(
                by_name(db)[n].status in ("completed", "failed") for n in flaky
            ):
                time.sleep(0.5)
        finally:
            worker.send_signal(signal.SIGTERM)
            _, err = worker.communicate(timeout=60)
        assert worker.returncode == 0, err
        assert set(proxy.hits) == {"/f/denied.dxf", "/f/busy.dxf", "/f/reset.dxf"}  # faults were served
    jobs = by_name(db)
    assert jobs["fine.dxf"].status == "completed"
    denied = jobs["denied.dxf"]
    assert (denied.status, denied.attempts, denied.last_error_type) == ("failed", 1, "AccessDenied")
    assert "403" in denied.last_error_message and f"s3://{bucket}/f/denied.dxf" in denied.last_error_message
    for name in flaky:
        row = jobs[name]
        # every failed attempt was transient, and the one after the storage healed completed
        assert row.status == "completed" and row.attempts == len(row.errors) + 1 >= 3, (name, row.attempts)
        assert {e["type"] for e in row.errors} == {"FileUnreadable"} and all(
            not e["permanent"] for e in row.errors
        )
