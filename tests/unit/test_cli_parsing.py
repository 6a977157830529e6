"""The command line through Typer's CliRunner: parsing, validation and exit codes, no PostgreSQL.

Every call names a database nobody listens on (port 1): a command that tried to connect
would end with exit 3, so exit 2 or 4 here proves the input was refused before any I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import typer
from click.testing import CliRunner, Result
from sqlalchemy.exc import OperationalError

from cadextract import __version__, db, files
from cadextract.cli import app
from cadextract.cli.base import Exit, exit_code, message
from cadextract.config import ConfigError
from cadextract.extractors.registry import UnknownFormat
from cadextract.models import JobStatus
from cadextract.ops.errors import BadInput, NotFound
from cadextract.sources.urls import StorageUnavailable
from cadextract.store.parsing import AmbiguousPrefix, JobNotFound

DEAD_DB = "postgresql+psycopg://nobody@127.0.0.1:1/none"
COMMANDS = [
    "submit",
    "work",
    "run",
    "status",
    "result",
    "preview",
    "serve",
    "jobs",
    "cancel",
    "retry",
    "purge",
    "watch",
    "export",
    "search",
    "index",
    "doctor",
    "db",
]

Invoke = Callable[..., Result]


@pytest.fixture(scope="module")
def click_app() -> typer.main.TyperGroup:
    # built once: Typer's own runner builds the click command again for every call
    group = typer.main.get_command(app)
    assert isinstance(group, typer.main.TyperGroup)
    return group


@pytest.fixture
def cli(tmp_path: Path, click_app: typer.main.TyperGroup) -> Invoke:
    runner = CliRunner()

    def invoke(*args: str, stdin: str | None = None) -> Result:
        env = {"CADEXTRACT_HOME": str(tmp_path), "CADEXTRACT_DATABASE_URL": DEAD_DB, "COLUMNS": "200"}
        return runner.invoke(click_app, list(args), env=env, input=stdin, prog_name="cadextract")

    return invoke


def refused(result: Result, code: int, text: str) -> None:
    """One line on stderr, starting with 'cadextract: ', the expected code, no traceback."""
    assert result.exit_code == code, (result.exit_code, result.stderr, result.exception)
    assert result.stderr.startswith("cadextract: "), result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert text in result.stderr
    assert "Traceback" not in result.stderr


def test_help_lists_every_command(cli: Invoke) -> None:
    result = cli("--help")
    assert result.exit_code == 0
    listed = [line.split()[0] for line in result.stdout.split("Commands:")[1].splitlines() if line.strip()]
    assert listed == list(COMMANDS)
    db_help = cli("db", "--help")
    assert [w for w in ("upgrade", "status", "url", "stop") if w in db_help.stdout] == [
        "upgrade",
        "status",
        "url",
        "stop",
    ]


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_has_help(cli: Invoke, command: str) -> None:
    result = cli(command, "--help")
    assert result.exit_code == 0 and f"Usage: cadextract {command}" in result.stdout


def test_version(cli: Invoke) -> None:
    result = cli("--version")
    assert (result.exit_code, result.stdout) == (0, f"cadextract {__version__}\n")


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("frobnicate",), "No such command"),
        (("jobs", "--frob"), "No such option"),
        (("submit",), "Missing argument"),
        (("jobs", "--database-url", DEAD_DB), "No such option: --database-url"),  # it goes first
        (("submit", "a.dxf", "--priority", "2147483648"), "--priority"),
        (("submit", "a.dxf", "--max-retries", "-1"), "--max-retries"),
        (("work", "--concurrency", "0"), "--concurrency"),
        (("jobs", "--limit", "100000000000000000000"), "--limit"),
        (("watch", "--interval", "nan"), "--interval"),
        (("serve", "--port", "70000"), "--port"),
        (("purge",), "Missing option '--older-than'"),
    ],
)
def test_parse_errors_are_usage_errors(cli: Invoke, args: tuple[str, ...], says: str) -> None:
    result = cli(*args)
    assert result.exit_code == Exit.USAGE, result.stderr
    assert says in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_status_lists_the_names_models_defines(cli: Invoke) -> None:
    names = ", ".join(s.value for s in JobStatus)
    refused(cli("jobs", "--status", "bogus"), 2, f"unknown status 'bogus'; use {names}")
    refused(cli("jobs", "-s", "pending,done"), 2, "unknown status 'done'")
    refused(cli("cancel", "--status", "bogus"), 2, "unknown status 'bogus'")


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("jobs", "--sort", "size"), "unknown sort 'size'; use created, updated, priority, path, status"),
        (("jobs", "--since", "yesterday"), "cannot read age 'yesterday'"),
        (("jobs", "--since", "36501d"), "at most 100 years"),
        (("purge", "--older-than", "soon"), "cannot read age 'soon'"),
        (("purge", "--older-than", "30d", "--status", "pending"), "'pending' is not a finished state"),
        (("purge", "--older-than", "30d", "--list"), "--list goes with --dry-run"),
        (("cancel",), "give job ids, --batch or --status"),
        (("retry",), "give job ids or --failed"),
        (("export", "--to", "xml"), "--to 'xml': use jsonl or csv"),
        (("export", "--status", "failed"), "only completed jobs have"),
        (("export", "--view", "nope"), "--view 'nope': there is no such view"),
        (("export", "--view", "texts", "--rows"), "--rows and --since do not apply"),
        (("search", ""), ""),
        (("search", "x", "--field", "colour=red"), "is not a title-block field"),
        (("serve", "--host", "0.0.0.0"), "without a token"),
        (("watch", "--all", "--batch", "b"), "give --batch or --all, not both"),
        (("submit", "a.dxf", "-o", "noequals"), "expected KEY=VALUE"),
        (
            ("submit", "a.dxf", "-o", "timeout=abc"),
            "--option timeout='abc': give a number of seconds above 0",
        ),
        (("submit", "a.dxf", "-o", "timeout=0"), "give a number of seconds above 0"),
        (("submit", "a.dxf", "-o", "timeout=NaN"), "not a finite number"),
        (("submit", "a.dxf", "-o", "timeout=99999999999"), "at most 2592000"),
        (("submit", "a.dxf", "-o", "max_items=Infinity"), "--option max_items=inf: not a finite number"),
        (("run", "a.dxf", "--report", "/nonexistent-cx/r.json"), "does not exist"),
    ],
)
def test_bad_values_are_refused_before_connecting(cli: Invoke, args: tuple[str, ...], says: str) -> None:
    refused(cli(*args), 2, says)


@pytest.mark.parametrize(
    "args",
    [
        ("status", "zz"),
        ("result", "xyz"),
        ("preview", "g1", "-o", "-"),
        ("cancel", "12", "nothex"),
        ("retry", "q"),
    ],
)
def test_an_id_that_cannot_be_one_is_not_found_before_connecting(cli: Invoke, args: tuple[str, ...]) -> None:
    refused(cli(*args), 4, "is not a job id (expected hex digits")


def test_ids_from_stdin_are_checked_too(cli: Invoke) -> None:
    refused(cli("cancel", "-", stdin="0a1b\nnope\n"), 4, "'nope' is not a job id")


def test_a_database_nobody_listens_on_is_exit_3(cli: Invoke) -> None:
    refused(cli("jobs"), 3, "cannot reach PostgreSQL at")
    refused(cli("status", "0a1b"), 3, "cannot reach PostgreSQL at")  # a good prefix gets that far


def test_a_bad_setting_is_a_usage_error(cli: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CADEXTRACT_LEASE_SECONDS", "nan")
    refused(cli("db", "url"), 2, "CADEXTRACT_LEASE_SECONDS")


def test_db_url_masks_the_password(cli: Invoke) -> None:
    result = cli("--database-url", "postgresql+psycopg://u:s3cret@h:5432/d", "db", "url")
    assert result.exit_code == 0
    assert "s3cret" not in result.stdout and "u:***@h:5432/d" in result.stdout


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (BadInput("x"), Exit.USAGE),
        (files.SubmitError("x"), Exit.USAGE),
        (ConfigError("x"), Exit.USAGE),
        (UnknownFormat("x"), Exit.USAGE),
        (NotFound("x"), Exit.NOT_FOUND),
        (JobNotFound("x"), Exit.NOT_FOUND),
        (AmbiguousPrefix("x"), Exit.NOT_FOUND),
        (db.DatabaseUnavailable("x"), Exit.DATABASE),
        (db.SchemaProblem("x"), Exit.DATABASE),
        (OperationalError("SELECT 1", {}, Exception("server closed the connection")), Exit.DATABASE),
        (StorageUnavailable("x"), Exit.STORAGE),
        (KeyboardInterrupt(), Exit.INTERRUPTED),
        (RuntimeError("a bug"), None),
        (KeyError("a bug"), None),
    ],
)
def test_one_place_maps_errors_to_exit_codes(error: BaseException, code: Exit | None) -> None:
    assert exit_code(error) == code


def test_exit_codes_are_the_documented_ones() -> None:
    assert sorted(int(c) for c in Exit) == [0, 1, 2, 3, 4, 5, 6, 130]
    docs = (Path(__file__).parents[2] / "docs" / "exit-codes.md").read_text()
    for c in Exit:
        assert f"| `{int(c)}` |" in docs


def test_messages_of_database_errors_and_interrupts() -> None:
    dbapi = OperationalError("SELECT 1", {}, Exception("server closed the connection\nmore"))
    assert message(dbapi) == "database error: server closed the connection"
    assert message(KeyboardInterrupt()) == "interrupted"
