"""Shared fixtures: one real (embedded) PostgreSQL per test session, clean tables per test."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cadextract import db

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"
#: REFERENCE.json's per-file figures, read once; empty when the corpus is absent
REFERENCE: dict[str, Any] = (
    json.loads((CORPUS / "REFERENCE.json").read_text())["files"]
    if (CORPUS / "REFERENCE.json").is_file()
    else {}
)


@pytest.fixture(scope="session")
def pg_home() -> Iterator[Path]:
    """A private CADEXTRACT_HOME whose embedded server all tests share.

    Not under pytest's tmp_path: that tree is mode 0700, and as root pgserver runs the
    server as its own 'pgserver' user, which must be able to reach the data directory.
    """
    home = Path(tempfile.mkdtemp(prefix="cadextract-test-"))
    home.chmod(0o755)
    yield home
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def database_url(pg_home: Path) -> Iterator[str]:
    url = db.embedded_url(pg_home)
    yield url
    db.stop_embedded(pg_home)


@pytest.fixture(scope="session")
def engine(database_url: str) -> Engine:
    return db.connect(database_url, Path("/nonexistent"))


@pytest.fixture
def clean_db(engine: Engine, database_url: str, pg_home: Path, monkeypatch: pytest.MonkeyPatch) -> Engine:
    """Empty tables, and the environment pointing every cadextract call at this database."""
    with engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE cadextract.extraction_jobs CASCADE"))
    monkeypatch.setenv("CADEXTRACT_DATABASE_URL", database_url)
    monkeypatch.setenv("CADEXTRACT_HOME", str(pg_home))
    return engine


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `python -m cadextract ...` as a user would, with the test's environment."""
    return subprocess.run(
        [sys.executable, "-m", "cadextract", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        input=input,
        cwd=REPO,
    )


def require_corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS}")
    return CORPUS
