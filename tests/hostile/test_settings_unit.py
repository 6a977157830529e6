"""Items 6, 7 and 12 of issue 10 as pure decisions: settings ranges, URL masking, home mode."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from cadextract import dburl, setting_rules
from cadextract.config import ConfigError, Settings, create_home


@pytest.mark.parametrize(
    ("env", "value"),
    [
        ("CADEXTRACT_MEMORY_LIMIT_MB", "-1"),
        ("CADEXTRACT_MEMORY_LIMIT_MB", "nan"),
        ("CADEXTRACT_MAX_RESULT_MB", "-1"),
        ("CADEXTRACT_RECYCLE_AFTER", "0"),
        ("CADEXTRACT_LEASE_SECONDS", "nan"),
        ("CADEXTRACT_MAX_RETRIES", "nan"),
        ("CADEXTRACT_MAX_RETRIES", "inf"),
        ("CADEXTRACT_MAX_RETRIES", "2.5"),
        ("CADEXTRACT_MAX_RETRIES", "2147483647"),
        ("CADEXTRACT_POLL_SECONDS", "0"),
        ("CADEXTRACT_TIMEOUT_SECONDS", "1e400"),
        ("CADEXTRACT_BACKOFF_CAP", "-5"),
        ("CADEXTRACT_GRACE_SECONDS", "infinity"),
    ],
)
def test_every_bad_setting_is_refused_with_its_range(
    env: str, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(ConfigError) as info:
        Settings.from_env()
    message = str(info.value)
    assert env in message
    rule = setting_rules.BY_ENV[env]
    assert rule.describe() in message


def test_good_settings_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    for env, value in {
        "CADEXTRACT_MEMORY_LIMIT_MB": "300",
        "CADEXTRACT_RECYCLE_AFTER": "1",
        "CADEXTRACT_MAX_RETRIES": "0",
        "CADEXTRACT_TIMEOUT_SECONDS": "0",  # documented: counts as unset
        "CADEXTRACT_BACKOFF_BASE": "0",
    }.items():
        monkeypatch.setenv(env, value)
    s = Settings.from_env()
    assert (s.memory_limit_mb, s.recycle_after, s.max_retries, s.timeout_seconds) == (300, 1, 0, None)


def test_a_home_that_is_a_file_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CADEXTRACT_HOME", "/dev/null")
    with pytest.raises(ConfigError, match="is not a directory"):
        Settings.from_env()


def test_home_is_created_private_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        home = tmp_path / "deep" / "cadextract"
        create_home(home)
        create_home(home)  # idempotent
    finally:
        os.umask(old)
    assert stat.S_IMODE(home.stat().st_mode) == 0o700


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://alice:SECRET@db.example/x",
        "postgresql://alice@db.example/x?password=SECRET",
        "postgresql://alice@db.example/x?sslmode=require&sslpassword=SECRET",
        "postgres://alice:SE%20CRET@db.example:5433/x?password=SECRET",
        "postgresql://alice:SECRET@db.example:abc/x",
        "postgresql://alice:SECRET@[::1/x",
    ],
)
def test_mask_hides_every_credential(url: str) -> None:
    shown = dburl.mask(url)
    assert "SECRET" not in shown and "SE%20CRET" not in shown and "SE CRET" not in shown


def test_bad_ports_and_hosts_are_a_readable_error() -> None:
    for url in ("postgresql://u:SECRET@h:abc/db", "postgresql://u:SECRET@[::1/db"):
        with pytest.raises(dburl.BadURL) as info:
            dburl.parse(url)
        assert "SECRET" not in str(info.value)


def test_psycopg_gets_the_password_intact() -> None:
    url = make_url("postgresql+psycopg://alice:a%20b%2520c@db.example:5433/x?sslmode=require&password=q")
    params = dburl.libpq_params(make_url(url.render_as_string(hide_password=False)))
    assert params["user"] == "alice" and params["port"] == 5433 and params["dbname"] == "x"
    assert params["sslmode"] == "require"
    params = dburl.libpq_params(url)
    assert params["password"] == "q"  # given twice, the query wins, as in libpq
    plain = dburl.libpq_params(make_url("postgresql://alice:a%20b%2520c@h/x"))
    assert plain["password"] == "a b%20c"
    assert (
        dburl.redact("failed for a b%20c", make_url("postgresql://alice:a%20b%2520c@h/x")) == "failed for ***"
    )
