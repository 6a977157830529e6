"""Items 6, 7, 10, 11, 12 of issue 10 through real `python -m cadextract` runs.

Bad input is one `cadextract:` line (or click's usage message), exit 2, no traceback;
the database is never asked to store a value it cannot hold.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine, make_url

from tests.conftest import REPO, run_cli
from tests.helpers import enqueue_files, job_rows, make_files, status_counts
from tests.hostile.conftest import write_dxf


def _no_traceback(proc: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr


def _exit(proc: subprocess.CompletedProcess[str], code: int, *needles: str) -> None:
    _no_traceback(proc)
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    for needle in needles:
        assert needle in proc.stderr, proc.stderr


# -- item 6: credentials -------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://alice@127.0.0.1:1/db?password=SECRET-QUERY",
        "postgresql://alice:SECRET-INFO@127.0.0.1:1/db?sslpassword=SECRET-SSL",
        "postgresql://alice:SECRET@127.0.0.1:abc/db",
        "postgresql://alice:SECRET@[::1/db",
    ],
)
def test_no_password_in_any_error_line(url: str) -> None:
    proc = run_cli("--database-url", url, "status")
    _exit(proc, 3, "cadextract:")
    assert "SECRET" not in proc.stdout + proc.stderr, proc.stderr
    shown = run_cli("--database-url", url, "db", "url")  # no connection: a bad URL still fails
    _no_traceback(shown)
    assert "SECRET" not in shown.stdout + shown.stderr, shown.stdout


def test_a_password_with_spaces_and_percent_reaches_listen(
    clean_db: Engine, database_url: str, tmp_path: Path
) -> None:
    # the embedded server trusts its socket, so any password logs in: what is tested is
    # that the URL reaches psycopg intact (LISTEN works) and the password is never logged
    url = make_url(database_url).set(password="pa ss%20word").render_as_string(hide_password=False)
    assert "%2520" in url
    enqueue_files(clean_db, make_files(tmp_path / "in", 2), fmt="noop")
    proc = run_cli("--database-url", url, "work", "--until-empty", "-v", "-c", "1")
    _exit(proc, 0)
    assert "pa ss" not in proc.stderr and "%20word" not in proc.stderr, proc.stderr
    assert "LISTEN unavailable" not in proc.stderr, proc.stderr
    assert status_counts(clean_db) == {"completed": 2}


# -- item 7: data directory mode ---------------------------------------------------------


def test_the_data_directory_is_created_0700_under_umask_000(clean_db: Engine, tmp_path: Path) -> None:
    home = tmp_path / "new" / "cx-home"
    proc = subprocess.run(
        ["sh", "-c", f"umask 000 && exec {sys.executable} -m cadextract doctor --json"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "CADEXTRACT_HOME": str(home)},
        timeout=120,
    )
    _no_traceback(proc)
    assert stat.S_IMODE(home.stat().st_mode) == 0o700


# -- item 12: settings -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "value", "command"),
    [
        ("CADEXTRACT_MEMORY_LIMIT_MB", "-1", "work"),
        ("CADEXTRACT_MAX_RESULT_MB", "-1", "work"),
        ("CADEXTRACT_RECYCLE_AFTER", "0", "work"),
        ("CADEXTRACT_LEASE_SECONDS", "nan", "work"),
        ("CADEXTRACT_MAX_RETRIES", "nan", "status"),
        ("CADEXTRACT_MAX_RETRIES", "inf", "status"),
        ("CADEXTRACT_MEMORY_LIMIT_MB", "nan", "status"),
        ("CADEXTRACT_HOME", "/dev/null", "status"),
    ],
)
def test_bad_settings_stop_at_start_naming_the_range(env: str, value: str, command: str) -> None:
    args = (command, "--until-empty") if command == "work" else (command,)
    proc = run_cli(*args, env={env: value}, timeout=60)
    _exit(proc, 2, "cadextract:", env)
    if env != "CADEXTRACT_HOME":
        assert "give a" in proc.stderr  # the allowed range is named


# -- items 10 and 11: numbers and paths at the edge -------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("--priority", "2147483648"),
        ("--max-retries", "2147483647"),
        ("-o", "timeout=NaN"),
        ("-o", "timeout=Infinity"),
        ("-o", "timeout=1e400"),
        ("-o", "max_items=NaN"),
        ("-o", "timeout=99999999999"),
    ],
)
def test_out_of_range_submit_values_are_bad_input(
    clean_db: Engine, tmp_path: Path, args: tuple[str, ...]
) -> None:
    drawing = write_dxf(tmp_path / "a.dxf")
    proc = run_cli("submit", str(drawing), *args)
    _exit(proc, 2)
    assert "database error" not in proc.stderr
    assert job_rows(clean_db) == {}


@pytest.mark.parametrize(
    "args",
    [
        ("jobs", "--limit", "100000000000000000000"),
        ("jobs", "--since", "99999999999999d"),
        ("purge", "--older-than", "100000000w"),
        ("watch", "--interval", "-1"),
        ("watch", "--interval", "nan"),
        ("work", "-c", "100000000000000000000"),
        ("work", "-c", "1e20"),
    ],
)
def test_out_of_range_options_are_bad_input(clean_db: Engine, args: tuple[str, ...]) -> None:
    proc = run_cli(*args, timeout=60)
    _exit(proc, 2)
    assert "database error" not in proc.stderr


def test_export_to_places_it_cannot_write(clean_db: Engine, tmp_path: Path) -> None:
    drawing = write_dxf(tmp_path / "a.dxf")
    assert run_cli("run", str(drawing), "-q").returncode == 0
    for target in (str(tmp_path), str(tmp_path / "missing" / "x.jsonl"), "", "/dev/full"):
        proc = run_cli("export", "-o", target)
        _exit(proc, 2, "cadextract: cannot write")
    good = tmp_path / "out.jsonl"
    _exit(run_cli("export", "-o", str(good)), 0)
    assert json.loads(good.read_text().splitlines()[0])["job"]["format"] == "dxf"


def test_stdout_that_cannot_be_written(clean_db: Engine, tmp_path: Path) -> None:
    enqueue_files(clean_db, make_files(tmp_path / "in", 300), fmt="noop")
    for args in (("jobs", "-n", "0"), ("jobs", "--json", "-n", "0"), ("status",)):
        with open("/dev/full", "w") as full:
            proc = subprocess.run(
                [sys.executable, "-m", "cadextract", *args],
                stdout=full,
                stderr=subprocess.PIPE,
                text=True,
                cwd=REPO,
                env=os.environ.copy(),
                timeout=60,
            )
        assert "Traceback" not in proc.stderr, proc.stderr
        assert proc.returncode == 2, proc.stderr
        assert "cadextract: cannot write the output: No space left on device" in proc.stderr
