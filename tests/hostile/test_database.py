"""Items 2 and 3 of issue 10: the CREATE DATABASE race, and a damaged or too-new schema.

Damage is done to a database of its own on the shared embedded server, never to the one
the other tests use.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from cadextract import db, schema_health
from tests.conftest import REPO, run_cli
from tests.helpers import enqueue_files, make_files, wait_until


def _admin(database_url: str) -> str:
    return (
        make_url(database_url)
        .set(drivername="postgresql", database="postgres")
        .render_as_string(hide_password=False)
    )


def _race(admin: str, name: str, n: int) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(n)

    def create() -> None:
        barrier.wait()
        try:
            db._create_database(admin, name)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=create) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return errors


def test_create_database_race_is_serialised(database_url: str) -> None:
    admin = _admin(database_url)
    for _ in range(3):
        name = f"cx_race_{uuid.uuid4().hex[:8]}"
        errors = _race(admin, name, 6)
        with psycopg.connect(admin, autocommit=True) as conn:
            found = conn.execute("SELECT count(*) FROM pg_database WHERE datname = %s", (name,)).fetchone()
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        assert errors == []
        assert found == (1,)


@pytest.mark.slow
def test_parallel_commands_on_a_fresh_data_directory() -> None:
    home = Path(tempfile.mkdtemp(prefix="cadextract-fresh-"))
    home.chmod(0o755)
    env = {"CADEXTRACT_HOME": str(home), "CADEXTRACT_DATABASE_URL": ""}
    try:
        import os

        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "cadextract", "status"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                cwd=REPO,
                env={**os.environ, **env},
            )
            for _ in range(4)
        ]
        results = [
            (p.wait(180), p.stdout.read() if p.stdout else "", p.stderr.read() if p.stderr else "")
            for p in procs
        ]
        for code, out, err in results:
            assert code == 0, err
            assert "Traceback" not in out + err
    finally:
        run_cli("db", "stop", env=env)
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def own_db(database_url: str, pg_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A freshly migrated database of its own, for the test to damage."""
    admin = _admin(database_url)
    name = f"cx_damaged_{uuid.uuid4().hex[:8]}"
    db._create_database(admin, name)
    url = make_url(database_url).set(database=name).render_as_string(hide_password=False)
    engine = db.connect(url, Path("/nonexistent"))
    engine.dispose()
    monkeypatch.setenv("CADEXTRACT_DATABASE_URL", url)
    monkeypatch.setenv("CADEXTRACT_HOME", str(pg_home))
    yield url
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _sql(url: str, statement: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(statement))
    engine.dispose()


def _one_line_exit_3(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode == 3, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith("cadextract:")]
    assert len(lines) == 1, proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_a_dropped_table_is_reported_not_waited_for(own_db: str) -> None:
    _sql(own_db, "DROP TABLE cadextract.job_counts CASCADE")
    _one_line_exit_3(run_cli("status"), "damaged", "cadextract.job_counts")
    _one_line_exit_3(run_cli("work", "--until-empty", "-q", timeout=60), "cadextract.job_counts")
    _one_line_exit_3(run_cli("db", "upgrade"), "cadextract.job_counts")
    doctor = run_cli("doctor", "--json")
    assert doctor.returncode == 3, doctor.stderr
    assert "cadextract.job_counts" in doctor.stdout


def test_a_newer_schema_revision_is_one_line(own_db: str) -> None:
    _sql(own_db, "UPDATE cadextract.alembic_version SET version_num = '9999'")
    for args in (("status",), ("jobs",), ("db", "upgrade"), ("work", "--until-empty")):
        _one_line_exit_3(run_cli(*args), "9999", "upgrade cadextract")
    doctor = run_cli("doctor")
    assert doctor.returncode == 3 and "Traceback" not in doctor.stderr + doctor.stdout
    assert "9999" in doctor.stdout


def test_a_table_dropped_under_a_running_worker_stops_it(own_db: str, tmp_path: Path) -> None:
    engine = sa.create_engine(own_db)
    enqueue_files(engine, make_files(tmp_path / "in", 6), fmt="test-sleep", options={"seconds": 0.5})
    import os

    proc = subprocess.Popen(
        [sys.executable, "-m", "cadextract", "work", "-c", "1", "--until-empty"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "CADEXTRACT_HEARTBEAT_SECONDS": "0.3", "CADEXTRACT_LEASE_SECONDS": "2"},
    )
    try:
        with engine.connect() as conn:
            wait_until(
                lambda: (
                    conn.execute(
                        sa.text("SELECT count(*) FROM cadextract.extraction_jobs WHERE status = 'processing'")
                    ).scalar_one()
                    > 0
                ),
                timeout=60,
            )
            conn.rollback()
        _sql(own_db, "DROP TABLE cadextract.extraction_results CASCADE")  # its SQL views go with it
        started = time.monotonic()
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        engine.dispose()
    assert proc.returncode == 3, err
    assert time.monotonic() - started < 30
    assert "Traceback" not in err
    assert "reachable again" not in err
    assert "cadextract: the database schema is damaged" in err


def test_schema_decisions() -> None:
    known = schema_health.known_revisions()
    assert db.SCHEMA_HEAD in known and "0001" in known
    assert schema_health.revision_problem(None, known, "0002") is None
    assert schema_health.revision_problem("0001", known, "0002") is None
    assert "9999" in (schema_health.revision_problem("9999", known, "0002") or "")
    assert set(schema_health.expected_tables()) >= {
        "cadextract.extraction_jobs",
        "cadextract.extraction_results",
        "cadextract.job_counts",
    }

    class Fake(Exception):
        sqlstate = "42P01"

    class Outage(Exception):
        sqlstate = "08006"

    assert schema_health.is_schema_error(Fake())
    assert not schema_health.is_schema_error(Outage())
    assert not schema_health.is_schema_error(RuntimeError("x"))
