"""Remote inputs from a real S3-compatible server (moto) and a real PostgreSQL.

Workers get their own CADEXTRACT_HOME each and share nothing but the database URL and
the bucket: what a second host with no shared disk has.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.conftest import REPO, run_cli
from tests.remote.conftest import CREDENTIALS, free_port

DXF = (REPO / "samples" / "files" / "dxf" / "bracket.dxf").read_bytes()
PDF = (REPO / "samples" / "files" / "pdf" / "bracket-drawing.pdf").read_bytes()


def jobs(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                sa.text(
                    "SELECT j.*, r.document FROM cadextract.extraction_jobs j "
                    "LEFT JOIN cadextract.extraction_results r ON r.job_id = j.id ORDER BY j.path"
                )
            ).all()
        )


def home() -> Path:
    path = Path(tempfile.mkdtemp(prefix="cx-s3-host-"))
    path.chmod(0o755)
    return path


def test_two_hosts_without_shared_disk_process_a_prefix_once(
    db: Engine, s3: Any, bucket: str, database_url: str
) -> None:
    bodies = {
        f"drawings/part {i:02d}.dxf": DXF.replace(b"bracket", f"part{i:02d}".encode()) for i in range(12)
    }
    bodies["drawings/sub/sheet é.pdf"] = PDF
    for key, body in bodies.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    r = run_cli("submit", "--json", "-r", f"s3://{bucket}/drawings/")
    assert r.returncode == 0, r.stderr
    assert sum(row["queued"] for row in json.loads(r.stdout)) == 13
    hosts = [home(), home()]
    for h in hosts:  # what a child killed mid-download left behind: cleaned when children start
        (h / "fetch" / "999999999-1" / "job").mkdir(parents=True)
        (h / "fetch" / "999999999-1" / "job" / "half.dxf").write_bytes(DXF[:100])
    env = {**os.environ, "CADEXTRACT_DATABASE_URL": database_url}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "cadextract", "work", "--until-empty", "-q", "-c", "1", "--prefetch", "0"],
            env={**env, "CADEXTRACT_HOME": str(h)},
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for h in hosts
    ]
    for p in procs:
        _, stderr = p.communicate(timeout=300)
        assert p.returncode == 0, stderr
    rows = jobs(db)
    assert len(rows) == 13 and {r.status for r in rows} == {"completed"}
    assert all(r.attempts == 1 for r in rows)  # each completed once, by one worker
    assert len({r.worker_id for r in rows}) == 2  # both hosts took part
    for r in rows:
        key = r.path.removeprefix(f"s3://{bucket}/")
        assert r.document["file"]["path"] == r.path  # the result names the object's URL
        assert (
            r.document["file"]["sha256"] == hashlib.sha256(bodies[key]).hexdigest()
        )  # hashed while streamed
    for h in hosts:  # nothing left in either host's download space, the crash leftover included
        assert [p for p in (h / "fetch").rglob("*") if p.is_file()] == []
        assert not (h / "fetch" / "999999999-1").exists()


def test_bad_objects_fail_with_reasons_and_the_worker_goes_on(
    db: Engine, s3: Any, bucket: str, s3_env: dict[str, str]
) -> None:
    s3.put_object(Bucket=bucket, Key="in/good one ü.dxf", Body=DXF)
    s3.put_object(Bucket=bucket, Key="in/deleted.dxf", Body=DXF + b"\n999\ndel\n")
    s3.put_object(Bucket=bucket, Key="in/changed.dxf", Body=DXF + b"\n999\nchg\n")
    s3.put_object(Bucket=bucket, Key="in/big.dxf", Body=DXF * 4)
    s3.put_object(Bucket=bucket, Key="in/empty.pdf", Body=b"")
    r = run_cli("submit", "--json", "-r", f"s3://{bucket}/in/")
    assert r.returncode == 0, r.stderr
    out = {row["path"].rsplit("/", 1)[-1]: row for row in json.loads(r.stdout)}
    assert out["empty.pdf"]["reason"] == "empty file (0 bytes)" and not out["empty.pdf"]["queued"]
    s3.delete_object(Bucket=bucket, Key="in/deleted.dxf")
    s3.put_object(Bucket=bucket, Key="in/changed.dxf", Body=DXF + b"\n999\nnew content\n")
    cap_mb = len(DXF) * 2 / 1024 / 1024
    r = run_cli("work", "--until-empty", "-q", env={"CADEXTRACT_FETCH_MAX_MB": f"{cap_mb:.6f}"})
    assert r.returncode == 0, r.stderr
    by_name = {row.path.rsplit("/", 1)[-1]: row for row in jobs(db)}
    assert by_name["good one ü.dxf"].status == "completed"
    assert by_name["good one ü.dxf"].document["file"]["path"] == f"s3://{bucket}/in/good one ü.dxf"
    expected = {
        "deleted.dxf": ("ObjectNotFound", "404"),
        "changed.dxf": ("ChangedSinceSubmit", "changed since submit"),
        "big.dxf": ("ObjectTooLarge", "temp-space cap"),
    }
    for name, (error_type, text) in expected.items():
        row = by_name[name]
        assert row.status == "failed" and row.attempts == 1, name  # permanent: no retries
        assert row.last_error_type == error_type and text in row.last_error_message
        assert f"s3://{bucket}/in/{name}" in row.last_error_message
    # resubmitting picks up the new content of the changed object
    r = run_cli("submit", "--json", f"s3://{bucket}/in/changed.dxf")
    assert r.returncode == 0 and json.loads(r.stdout)[0]["queued"], r.stderr


def test_storage_errors_at_submit_are_one_line_with_an_exit_code(
    db: Engine, s3: Any, bucket: str, s3_env: dict[str, str]
) -> None:
    s3.put_object(Bucket=bucket, Key="p/a.dxf", Body=DXF)
    cases = [
        (["s3://no-such-bucket-cx/p/", "-r"], {}, 2, "no such bucket"),
        ([f"s3://{bucket}/p/"], {}, 2, "add --recursive"),
        ([f"s3://{bucket}/nothing-here/", "-r"], {}, 2, "no objects"),
        ([f"s3://{bucket}/p/missing.dxf"], {}, 2, "no such bucket, object or prefix"),
        (
            [f"s3://{bucket}/p/", "-r"],
            {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}"},
            6,
            "cannot list",
        ),
        ([f"s3://AKIAEXAMPLE:sup3rsecret@{bucket}/p/", "-r"], {}, 2, "carries a credential"),
        ([f"gs://{bucket}/p/", "-r"], {}, 2, "gs://"),
    ]
    for args, env, code, text in cases:
        r = run_cli("submit", *args, env=env)
        assert r.returncode == code, (args, r.stderr)
        assert text in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert "Traceback" not in r.stderr and "sup3rsecret" not in r.stderr + r.stdout
    assert jobs(db) == []


def test_wrong_credentials_are_refused_with_exit_6(db: Engine) -> None:
    port = free_port()
    # a server that checks every request's signature: our keys are unknown to it
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env={**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "0"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        env = {**CREDENTIALS, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}"}
        import time

        time.sleep(2)
        r = run_cli("submit", "-r", "s3://any-bucket/p/", env=env)
    finally:
        server.terminate()
        server.wait(10)
    assert r.returncode == 6, r.stderr
    assert (
        "403" in r.stderr
        and "credentials" in r.stderr
        and CREDENTIALS["AWS_SECRET_ACCESS_KEY"] not in r.stderr
    )


def test_many_keys_dry_run_lists_every_page_and_queues_nothing(
    db: Engine, s3: Any, bucket: str, s3_env: dict[str, str]
) -> None:
    n = 2500  # three ListObjectsV2 pages
    for i in range(n):
        s3.put_object(Bucket=bucket, Key=f"many/{i // 100:02d}/k{i:05d}.dxf", Body=b"x")
    r = run_cli("submit", "--json", "--dry-run", "-r", f"s3://{bucket}/many/", timeout=300)
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert len(rows) == n and all(row["queued"] for row in rows)
    assert jobs(db) == []


def test_unreachable_storage_at_work_is_transient_and_retried(
    db: Engine, s3: Any, bucket: str, s3_env: dict[str, str]
) -> None:
    s3.put_object(Bucket=bucket, Key="t/a.dxf", Body=DXF)
    r = run_cli("submit", "-r", f"s3://{bucket}/t/")
    assert r.returncode == 0, r.stderr
    down = {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}", "CADEXTRACT_BACKOFF_BASE": "0.5"}
    r = run_cli("work", "--until-empty", "-q", env=down)
    assert r.returncode == 0, r.stderr
    [row] = jobs(db)
    assert row.status == "pending" and row.attempts == 1  # scheduled for a retry, not failed
    assert row.last_error_type == "FileUnreadable" and f"s3://{bucket}/t/a.dxf" in row.last_error_message
    r = run_cli("work", "--until-empty", "-q")  # the storage is back
    assert r.returncode == 0, r.stderr
    [row] = jobs(db)
    assert row.status == "completed" and row.attempts == 2
