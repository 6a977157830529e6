"""The console's JSON API and error handling, in-process (no browser)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from cadextract.web.app import create_app
from cadextract.web.security import WebConfig
from tests.helpers import enqueue_files, job_rows, make_files

TOKEN = "api-token-for-the-tests-0123456789"


def client(engine: Engine, **kw: object) -> TestClient:
    return TestClient(create_app(engine, WebConfig(**kw)), base_url="http://127.0.0.1:8765")  # type: ignore[arg-type]


def test_api_reads_and_acts_with_a_bearer_token(clean_db: Engine, tmp_path: Path) -> None:
    ids = enqueue_files(clean_db, make_files(tmp_path / "a", 3), batch="api")
    c = client(clean_db, token=TOKEN)
    assert c.get("/api/summary").status_code == 401
    auth = {"Authorization": f"Bearer {TOKEN}"}
    summary = c.get("/api/summary", headers=auth).json()
    assert summary["by_status"]["pending"] == 3 and len(summary["throughput"]) == 60
    page = c.get("/api/jobs", params={"limit": 2}, headers=auth).json()
    assert len(page["jobs"]) == 2 and page["next_cursor"]
    rest = c.get("/api/jobs", params={"limit": 2, "cursor": page["next_cursor"]}, headers=auth).json()
    assert len(rest["jobs"]) == 1 and rest["next_cursor"] is None
    # an action from a form-encoded body is refused: only JSON (no cross-site form can send it)
    form = c.post("/api/jobs/cancel", data={"ids": str(ids[0])}, headers=auth)
    assert form.status_code == 415
    done = c.post("/api/jobs/cancel", json={"ids": [str(ids[0])[:8]]}, headers=auth).json()
    assert done["cancelled"] == 1 and job_rows(clean_db)[ids[0]].status == "cancelled"
    back = c.post("/api/jobs/retry", json={"ids": [str(ids[0])]}, headers=auth).json()
    assert back["retried"] == 1
    dry = c.post("/api/purge", json={"older_than": "0s"}, headers=auth).json()
    assert dry["dry_run"] and dry["would_delete"] == 0
    assert c.get("/api/batches", headers=auth).json()[0]["batch"] == "api"
    by_id = c.get("/api/search", params={"q": str(ids[2])[:6]}, headers=auth).json()
    assert str(ids[2]) in [j["id"] for j in by_id["jobs"]]
    # pending jobs have no index row yet: their paths are found on the jobs page
    assert c.get("/api/search", params={"q": "f00001"}, headers=auth).json() == {"jobs": [], "hits": []}
    bad = c.get("/api/search", params={"q": "?!"}, headers=auth)
    assert bad.status_code == 400 and "no letters or digits" in bad.json()["error"]
    spec = c.get("/api/openapi.json", headers=auth).json()
    assert "/api/jobs/cancel" in spec["paths"] and "/jobs" not in spec["paths"]


def test_errors_are_one_line_without_secrets(clean_db: Engine) -> None:
    c = client(clean_db)
    r = c.get("/jobs/ffffffff")
    assert r.status_code == 404 and "Traceback" not in r.text and r.text.count("<p>") == 1
    assert c.get("/api/jobs/zzz").json() == {
        "error": "'zzz' is not a job id (expected hex digits, as shown by `cadextract jobs`)"
    }
    down = sa.create_engine("postgresql+psycopg://someone:SECRETPW@127.0.0.1:1/nowhere")
    r = client(down).get("/")
    assert r.status_code == 503 and "SECRETPW" not in r.text and "SECRETPW" not in str(r.headers)
    assert "unavailable" in r.text


def test_host_header_is_checked_without_a_token(clean_db: Engine) -> None:
    c = client(clean_db)
    assert c.get("/", headers={"Host": "attacker.example"}).status_code == 400
    assert c.get("/", headers={"Host": "localhost:8765"}).status_code == 200
