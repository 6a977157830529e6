"""The console over a live queue: self-updating dashboard, filters, pagination, actions, token."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cadextract.store import commands
from tests.browser.conftest import shot
from tests.conftest import REPO
from tests.helpers import enqueue_files, job_rows, make_files

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").expect
TOKEN = "s3cret-console-token-for-tests"


def test_dashboard_updates_without_reload_when_a_worker_completes(
    clean_db: Engine, console_factory: Any, page: Any, tmp_path: Path, database_url: str, pg_home: Path
) -> None:
    ids = enqueue_files(clean_db, make_files(tmp_path / "f", 3), batch="live")
    console = console_factory()
    page.goto(console.url + "/")
    assert page.locator('[data-count="pending"]').inner_text() == "3"
    assert page.locator('[data-count="completed"]').inner_text() == "0"
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads
    shot(page, tmp_path, "dashboard-before")
    worker = subprocess.run(
        [sys.executable, "-m", "cadextract", "work", "--until-empty", "-q", "-c", "1"],
        env={
            "CADEXTRACT_DATABASE_URL": database_url,
            "CADEXTRACT_HOME": str(pg_home),
            "PATH": "/usr/bin:/bin",
        },
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert worker.returncode == 0, worker.stderr
    assert {r.status for r in job_rows(clean_db).values()} == {"completed"} and len(ids) == 3
    expect(page.locator('[data-count="completed"]')).to_have_text("3", timeout=15_000)
    assert page.locator('[data-count="pending"]').inner_text() == "0"
    assert page.evaluate("window.__sameDocument") is True
    shot(page, tmp_path, "dashboard-after")


def _seed_listing(engine: Engine, tmp_path: Path) -> dict[str, list[Any]]:
    """120 noop jobs in two batches; every third of batch b cancelled."""
    a = enqueue_files(engine, make_files(tmp_path / "a", 70, prefix="a", suffix=".dxf"), batch="batch-a")
    b = enqueue_files(engine, make_files(tmp_path / "b", 50, prefix="b", suffix=".pdf"), batch="batch-b")
    with engine.begin() as conn:
        commands.cancel(conn, b[::3])
    return {"a": a, "b": b}


def test_filters_and_keyset_pagination(
    clean_db: Engine, console_factory: Any, page: Any, tmp_path: Path
) -> None:
    seeded = _seed_listing(clean_db, tmp_path)
    console = console_factory()
    page.goto(console.url + "/jobs")
    seen: list[str] = []
    while True:
        seen += page.locator("tr[data-job]").evaluate_all("rows => rows.map(r => r.dataset.job)")
        nxt = page.locator("#next-page")
        if nxt.count() == 0:
            break
        nxt.click()
        page.wait_for_load_state()
    assert len(seen) == 120 and len(set(seen)) == 120  # every job once, over three pages
    # filters through the form: cancelled jobs of batch-b
    page.goto(console.url + "/jobs")
    page.check("input[name=status][value=cancelled]")
    page.fill("input[name=batch]", "batch-b")
    page.click("#apply")
    page.wait_for_load_state()
    rows = page.locator("tr[data-job]").evaluate_all("rows => rows.map(r => r.dataset.job)")
    assert sorted(rows) == sorted(str(i) for i in seeded["b"][::3])
    shot(page, tmp_path, "jobs-filtered")
    page.goto(console.url + "/jobs?path=a0000*")
    assert page.locator("tr[data-job]").count() == 10  # a00000 … a00009


def test_cancel_and_retry_buttons_change_the_database(
    clean_db: Engine, console_factory: Any, page: Any, tmp_path: Path
) -> None:
    [job_id] = enqueue_files(clean_db, make_files(tmp_path / "c", 1))
    console = console_factory()
    page.goto(f"{console.url}/jobs/{job_id}")
    page.click("button[data-action=cancel]")  # the confirmation is accepted by the fixture
    page.wait_for_selector("text=cancelled 1")
    assert job_rows(clean_db)[job_id].status == "cancelled"
    page.click("button[data-action=retry]")
    page.wait_for_selector("text=retrying 1 job(s)")
    assert job_rows(clean_db)[job_id].status == "pending"
    shot(page, tmp_path, "after-retry")
    # select-many on the jobs page
    more = enqueue_files(clean_db, make_files(tmp_path / "d", 3, prefix="d"))
    page.goto(console.url + "/jobs")
    for i in more[:2]:
        page.check(f"input[name=ids][value='{i}']")
    page.click("button[name=action][value=cancel]")
    page.wait_for_selector("text=cancelled 2")
    statuses = {i: r.status for i, r in job_rows(clean_db).items()}
    assert [statuses[i] for i in more] == ["cancelled", "cancelled", "pending"]


def test_retry_failed_of_a_batch_and_purge_with_dry_run(
    clean_db: Engine, console_factory: Any, page: Any, tmp_path: Path
) -> None:
    ids = enqueue_files(clean_db, make_files(tmp_path / "e", 4), batch="nightly")
    with clean_db.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE cadextract.extraction_jobs SET status = 'failed', last_error_type = 'CorruptFile', "
                "last_error_message = 'bad file', updated_at = now() - interval '40 days' "
                "WHERE id = ANY(CAST(:ids AS uuid[]))"
            ),
            {"ids": ids[:2]},
        )
    console = console_factory()
    page.goto(console.url + "/batches")
    assert "CorruptFile" in page.locator("table.batches").inner_text()
    page.click("button[data-action=retry-failed]")
    page.wait_for_selector("text=retrying 2 of 2")
    assert sorted(r.status for r in job_rows(clean_db).values()) == ["pending"] * 4
    with clean_db.begin() as conn:  # two old cancelled jobs to purge
        commands.cancel(conn, ids[:2])
        conn.execute(
            sa.text(
                "UPDATE cadextract.extraction_jobs SET updated_at = now() - interval '40 days' "
                "WHERE id = ANY(CAST(:ids AS uuid[]))"
            ),
            {"ids": ids[:2]},
        )
    page.goto(console.url + "/purge")
    page.click("#dry-run")
    page.wait_for_selector("#purge-outcome")
    assert "would delete 2 job(s)" in page.locator("#purge-outcome").inner_text()
    assert len(job_rows(clean_db)) == 4  # a dry run deletes nothing
    page.click("#purge-now")
    page.wait_for_selector("text=deleted 2 job(s)")
    assert len(job_rows(clean_db)) == 2
    shot(page, tmp_path, "purge")


def test_a_token_protects_every_page_and_the_api(
    clean_db: Engine, console_factory: Any, page: Any, tmp_path: Path
) -> None:
    enqueue_files(clean_db, make_files(tmp_path / "g", 2))
    console = console_factory(token=TOKEN)
    response = page.goto(console.url + "/jobs")
    assert response.status == 401
    assert page.locator("input[name=token]").count() == 1 and page.locator("tr[data-job]").count() == 0
    api = page.request.get(console.url + "/api/summary")
    assert api.status == 401
    page.fill("input[name=token]", "wrong-token-wrong-token")
    page.click("text=Sign in >> nth=-1")
    assert page.locator("#login-error").inner_text() == "wrong token"
    page.fill("input[name=token]", TOKEN)
    page.click("text=Sign in >> nth=-1")
    page.wait_for_selector("tr[data-job]")
    assert page.locator("tr[data-job]").count() == 2
    cookie = next(c for c in page.context.cookies() if c["name"] == "cx_auth")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and TOKEN not in cookie["value"]
    bearer = page.request.get(console.url + "/api/summary", headers={"Authorization": f"Bearer {TOKEN}"})
    assert bearer.status == 200 and bearer.json()["by_status"]["pending"] == 2
    shot(page, tmp_path, "signed-in")


def test_read_only_hides_and_refuses_actions(
    clean_db: Engine, console_factory: Any, page: Any, tmp_path: Path
) -> None:
    [job_id] = enqueue_files(clean_db, make_files(tmp_path / "h", 1))
    console = console_factory(read_only=True)
    page.goto(f"{console.url}/jobs/{job_id}")
    assert page.locator("button[data-action]").count() == 0
    csrf = page.locator("body").get_attribute("hx-headers") or ""
    token = csrf.split('"')[3]
    refused = page.request.post(f"{console.url}/jobs/{job_id}/cancel", form={"csrf": token})
    assert refused.status == 403
    api = page.request.post(f"{console.url}/api/jobs/cancel", data={"ids": [str(job_id)]})
    assert api.status == 403
    assert job_rows(clean_db)[job_id].status == "pending"


@pytest.mark.parametrize("with_csrf", [False, True])
def test_form_posts_need_the_csrf_token(
    clean_db: Engine, console_factory: Any, page: Any, tmp_path: Path, with_csrf: bool
) -> None:
    [job_id] = enqueue_files(clean_db, make_files(tmp_path / "k", 1))
    console = console_factory()
    page.goto(console.url + "/")
    token = (page.locator("body").get_attribute("hx-headers") or "").split('"')[3]
    form = {"csrf": token} if with_csrf else {}
    r = page.request.post(f"{console.url}/jobs/{job_id}/cancel", form=form, max_redirects=0)
    assert r.status == (303 if with_csrf else 403)
    assert job_rows(clean_db)[job_id].status == ("cancelled" if with_csrf else "pending")
