"""The benchmark and fault-test extractors (noop, test-*) are formats when asked for by
name, and nothing a user reads names them: doctor, --help, the unknown-format error."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from cadextract import cli
from cadextract.extractors import registry
from tests.conftest import run_cli
from tests.helpers import job_rows

INTERNAL = re.compile(r"\bnoop\b|\btest-[a-z]+")


def test_internal_formats_are_registered_but_not_public() -> None:
    internal = [n for n in registry.names() if registry.is_internal(n)]
    assert {"noop", "test-sleep", "test-crash", "test-allocate", "test-flaky"} <= set(internal)
    assert not set(internal) & set(registry.public_names())
    assert set(registry.public_names()) >= {"dxf", "pdf", "ifc", "step"}


def test_doctor_checks_only_the_real_extractors(clean_db: Engine) -> None:
    r = run_cli("doctor", env={"COLUMNS": "200"})
    assert r.returncode == 0, r.stderr
    checked = re.findall(r"extractor ([\w-]+)", r.stdout)  # the table's "extractor NAME" rows
    assert {"dxf", "pdf", "ifc", "step"} <= set(checked), r.stdout
    assert not [n for n in checked if INTERNAL.fullmatch(n)], checked


def test_help_never_names_them() -> None:
    runner = CliRunner()
    for command in ["submit", "work", "run", "jobs", "cancel", "retry", "purge", "export", "watch"]:
        r = runner.invoke(cli.app, [command, "--help"], terminal_width=200)
        assert r.exit_code == 0 and "Usage" in r.stdout, (command, r.output)
        assert not INTERNAL.search(r.stdout), (command, r.stdout)
    r = runner.invoke(cli.app, ["--help"], terminal_width=200)
    assert r.exit_code == 0 and not INTERNAL.search(r.stdout)


def test_unknown_format_lists_real_formats_only(clean_db: Engine, tmp_path: Path) -> None:
    f = tmp_path / "a.dxf"
    f.write_text("0\nEOF\n")
    r = run_cli("submit", str(f), "--format", "dwg")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    known = r.stderr.partition("known:")[2]  # the list of formats at the end of the one line
    assert "unknown format" in r.stderr and "dxf" in known and not INTERNAL.search(known), r.stderr
    assert job_rows(clean_db) == {}
    # named explicitly they are formats like any other (tests/faults and bench/ use them)
    r = run_cli("submit", str(f), "--format", "test-sleep", "--json")
    assert r.returncode == 0 and [row.format for row in job_rows(clean_db).values()] == ["test-sleep"]
