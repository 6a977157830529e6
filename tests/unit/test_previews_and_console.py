"""Pure parts of previews and the console: no database, no browser."""

from __future__ import annotations

import os
import signal
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cadextract import previews
from cadextract.previews import job as preview_job
from cadextract.previews import render, runner
from cadextract.runtime import limits, outcomes, previewing
from cadextract.runtime.messages import PreviewMade
from cadextract.runtime.pool import Child
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


def test_a_preview_has_its_own_time_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CADEXTRACT_PREVIEW_SECONDS", raising=False)
    assert preview_job.seconds_allowed() == previews.MAX_SECONDS
    monkeypatch.setenv("CADEXTRACT_PREVIEW_SECONDS", "2.5")
    assert preview_job.seconds_allowed() == 2.5
    for bad in ("soon", "0", "-1"):
        monkeypatch.setenv("CADEXTRACT_PREVIEW_SECONDS", bad)
        assert preview_job.seconds_allowed() == previews.MAX_SECONDS


def test_why_a_preview_was_lost() -> None:
    timeout = limits.timed_out(0.0, 10.0, 11.0)
    assert previewing.lost_warning(timeout, -9) == (
        "preview skipped: it took longer than the 10s limit; the child was killed"
    )
    crashed = previewing.lost_warning(None, -signal.SIGSEGV)
    assert crashed == "preview failed: the renderer was killed by SIGSEGV"
    assert previewing.lost_warning(None, 3) == "preview failed: the child exited (3) while drawing it"
    assert previewing.lost_warning(outcomes.SHUTDOWN, -9) is None  # stopping is not a fault


def test_a_preview_is_saved_with_its_completion_or_after_it() -> None:
    drawn, other = uuid.uuid4(), uuid.uuid4()
    child = Child(0, None, None)  # type: ignore[arg-type]
    book = previewing.Previews(seconds=10.0)
    book.began(child, drawn, now=100.0)
    assert child.drawing is not None and child.drawing.deadline == 110.0
    assert not book.made(child, PreviewMade(other, None, "stale"))  # not what it draws
    assert book.made(child, PreviewMade(drawn, None, "preview failed: x"))
    assert child.drawing is None
    held = {drawn}
    assert not book.waiting(held.__contains__)  # its completion is not written yet
    assert book.take(lambda job_id: job_id not in held) == []
    held.clear()
    assert book.waiting(held.__contains__)
    [saved] = book.take(lambda job_id: job_id not in held)
    assert (saved.job_id, saved.warning) == (drawn, "preview failed: x") and not book.pending
    book.give_back([saved])  # the step did not commit
    assert book.pending == [saved]


def test_a_child_lost_while_drawing_leaves_a_warning_only_for_a_fault() -> None:
    child = Child(0, None, None)  # type: ignore[arg-type]
    book = previewing.Previews(seconds=10.0)
    assert not book.lost(child, "preview failed: x")  # not drawing: nothing to say
    book.began(child, uuid.uuid4(), now=0.0)
    assert book.lost(child, None) and book.pending == []  # stopped: no warning
    book.began(child, uuid.uuid4(), now=0.0)
    assert book.lost(child, "preview failed: y")
    assert [p.warning for p in book.pending] == ["preview failed: y"]


def test_previews_are_a_job_option() -> None:
    assert preview_job.wanted({})
    assert not preview_job.wanted({"previews": False})
    assert not preview_job.wanted({"previews": "false"})


def _failing(path: Path, loaded: object) -> tuple[str, bytes]:
    raise ValueError("odd file")


def _huge(path: Path, loaded: object) -> tuple[str, bytes]:
    return render.PNG, os.urandom(300_000)


@pytest.mark.parametrize(
    ("renderer", "expected"), [(_failing, "ValueError: odd file"), (_huge, "over the 200 KB cap")]
)
def test_a_bad_preview_is_a_warning_not_a_failure(
    renderer: object, expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # hangs and crashes cost the child, not the job: tests/integration/test_previews.py
    monkeypatch.setitem(render.RENDERERS, "dxf", renderer)
    preview, warning = runner.make(tmp_path / "x.dxf", "dxf")
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
