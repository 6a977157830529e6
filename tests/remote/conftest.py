"""A real S3-compatible HTTP server on localhost (moto's server mode) for remote-input tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "cadextract-test",
    "AWS_SECRET_ACCESS_KEY": "cadextract-test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server on a free port, for the whole session."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    yield url
    proc.terminate()
    proc.wait(10)


@pytest.fixture
def s3_env(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The standard AWS environment pointing at the local server (also set in this process)."""
    env = {**CREDENTIALS, "AWS_ENDPOINT_URL": s3_endpoint}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    return env


@pytest.fixture
def s3(s3_env: dict[str, str]) -> Any:
    """A boto3 client to seed buckets and objects."""
    import boto3

    return boto3.client("s3", endpoint_url=s3_env["AWS_ENDPOINT_URL"])


@pytest.fixture
def bucket(s3: Any, request: pytest.FixtureRequest) -> str:
    """A fresh, empty bucket per test."""
    name = "cx-" + request.node.name.lower().replace("_", "-")[:40].strip("-") + f"-{os.getpid() % 1000}"
    name = "".join(c for c in name if c.isalnum() or c == "-")
    s3.create_bucket(Bucket=name)
    return name


@pytest.fixture
def db(clean_db: Engine) -> Engine:
    """The test database without the stat cache of earlier tests' objects."""
    with clean_db.begin() as conn:
        conn.execute(sa.text("TRUNCATE cadextract.source_files"))
    return clean_db
