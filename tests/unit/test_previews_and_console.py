"""Pure parts of previews and the console: no database, no browser."""

from __future__ import annotations

import os
import signal
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cadextract import previews
from cadextract.previews import job as preview_job
from cadextract.previews import render, runner
from cadextract.store import readmodels
from cadextract.web import reads, security
from cadextract.web.security import WebConfig


def test_convex_hull_of_a_wall_footprint() -> None:
    pts = [(0, 0), (5, 0), (5, 0.2), (0, 0.2), (2, 0.1), (0, 0), (5, 0.2)]
    assert sorted(render.convex_hull(pts)) == [(0, 0), (0, 0.2), (5, 0), (5, 0.2)]


def test_svg_text_from_a_file_is_escaped() -> None:
    name = '"><script>alert(1)</script>'
    for svg in (
        render.placeholder_svg("no plan", [name]),
        render.plan_svg([(name, [[(0, 0), (1, 0), (1, 1)]])]),
    ):
        assert "<script>" not in svg and "&lt;script&gt;" in svg


def test_preview_budget_never_outlasts_the_job() -> None:
    assert preview_job.budget(None, 3.0) == previews.MAX_SECONDS
    assert preview_job.budget(600, 3.0) == previews.MAX_SECONDS
    assert preview_job.budget(10, 4.0) == pytest.approx(2.5)  # half of what is left, less a second
    assert preview_job.budget(5, 6.0) == 0.0


def test_previews_are_a_job_option() -> None:
    assert preview_job.wanted({})
    assert not preview_job.wanted({"previews": False})
    assert not preview_job.wanted({"previews": "false"})


def _slow(path: Path, loaded: object) -> tuple[str, bytes]:
    time.sleep(30)
    return render.SVG, b"<svg/>"


def _crash(path: Path, loaded: object) -> tuple[str, bytes]:
    os.kill(os.getpid(), signal.SIGSEGV)
    return render.SVG, b""


def _huge(path: Path, loaded: object) -> tuple[str, bytes]:
    return render.PNG, os.urandom(300_000)


@pytest.mark.parametrize(
    ("renderer", "expected"),
    [(_slow, "took longer than 1s"), (_crash, "killed by SIGSEGV"), (_huge, "over the 200 KB cap")],
)
def test_a_bad_preview_is_a_warning_not_a_failure(
    renderer: object, expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(render.RENDERERS, "dxf", renderer)
    preview, warning = runner.make(tmp_path / "x.dxf", "dxf", budget=1.0)
    assert preview is None and warning is not None and expected in warning


def test_a_format_without_renderer_has_no_preview_and_no_warning(tmp_path: Path) -> None:
    assert runner.make(tmp_path / "x.bin", "noop") == (None, None)


def test_keyset_cursor_round_trip_and_garbage() -> None:
    now = datetime(2026, 11, 30, 1, 2, 3, 456789, tzinfo=UTC)
    job = readmodels.Job(
        **{f: None for f in readmodels.Job.__dataclass_fields__} | {"created_at": now, "id": uuid.UUID(int=7)}
    )  # type: ignore[arg-type]
    assert reads.decode_cursor(reads.encode_cursor(job)) == (now, uuid.UUID(int=7))
    assert reads.decode_cursor("not-a-cursor!") is None


def test_eta_from_the_last_minutes() -> None:
    minutes = [reads.Minute(datetime.now(UTC), 60, 0) for _ in range(10)]
    assert reads.eta_seconds(600, minutes) == pytest.approx(600.0)
    assert reads.eta_seconds(0, minutes) == 0.0
    assert reads.eta_seconds(5, [reads.Minute(datetime.now(UTC), 0, 0)] * 10) is None


def test_binding_rules() -> None:
    security.check_config(WebConfig(host="127.0.0.1"))
    security.check_config(WebConfig(host="::1"))
    with pytest.raises(security.RefuseToStart, match="without a token"):
        security.check_config(WebConfig(host="0.0.0.0"))
    with pytest.raises(security.RefuseToStart, match="too short"):
        security.check_config(WebConfig(host="0.0.0.0", token="short"))
    security.check_config(WebConfig(host="0.0.0.0", token="x" * 32))


def test_host_header_and_auth_decisions() -> None:
    local = WebConfig()
    assert security.host_allowed(local, "127.0.0.1:8765") and security.host_allowed(local, "localhost")
    assert security.host_allowed(local, "[::1]:8765")
    assert not security.host_allowed(local, "attacker.example:8765")
    token = "t" * 24
    guarded = WebConfig(token=token)
    assert security.host_allowed(guarded, "cadextract.example.com")
    assert not security.authenticated(guarded, cookie=None, authorization=None)
    assert not security.authenticated(
        guarded, cookie=token, authorization=None
    )  # the cookie is not the token
    assert security.authenticated(guarded, cookie=security.cookie_value(token), authorization=None)
    assert security.authenticated(guarded, cookie=None, authorization=f"Bearer {token}")
    assert not security.authenticated(guarded, cookie=None, authorization="Bearer wrong")


def test_csrf_is_bound_to_the_session() -> None:
    config = WebConfig()
    token = security.csrf_token(config, "session-a")
    assert security.csrf_ok(config, "session-a", token)
    assert not security.csrf_ok(config, "session-b", token)
    assert not security.csrf_ok(config, None, token)
    assert not security.csrf_ok(WebConfig(), "session-a", token)  # another console process
