"""Every real-world corpus file through the real worker path, checked against REFERENCE.json.

The files are submitted as a user would (format detected from content), extracted by
the supervisor's child processes, and the result documents read back from PostgreSQL.
Files the libraries refuse must fail permanently, at the first attempt, with the
specific error type.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from cadextract import files, result
from cadextract.config import Settings
from cadextract.runtime import supervisor
from cadextract.store import commands, readmodels
from tests.conftest import CORPUS, REFERENCE

REL = 1e-6

EXPECTED_ERRORS = {
    "ifc/xbim__ifc2x3_final_wall.ifc": "UnsupportedVersion",
    "bad/xbim__FormallyIllegalFile.ifc": "CorruptFile",
    "bad/xbim__InvalidHeaderFileName.ifc": "CorruptFile",
    "bad/pdfplumber__password-example.pdf": "EncryptedFile",
    "bad/pdfminer__aes-256.pdf": "EncryptedFile",
    "bad/ocrmypdf__invalid.pdf": "CorruptFile",
    "bad/occdemos__as1-oc-214_truncated.stp": "TruncatedFile",
}


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=REL, abs_tol=1e-9)


@pytest.fixture(scope="module")
def corpus_run(engine: Engine) -> dict[str, tuple[readmodels.Job, dict[str, Any] | None]]:
    if not CORPUS.is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS}")
    import sqlalchemy as sa

    with engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE cadextract.extraction_jobs CASCADE"))
    candidates = files.collect([CORPUS / rel for rel in REFERENCE], recursive=False)
    digests = files.hash_all(candidates)
    new = [
        commands.NewJob(
            path=str(c.path), size=c.size, sha256=digests[c.path], format=c.format or "", max_attempts=1
        )
        for c in candidates
    ]
    with engine.begin() as conn:
        outcomes = commands.enqueue(conn, new)
    assert all(o.skipped_reason is None for o in outcomes)
    settings = Settings(database_url=None, home=Path("/nonexistent"), heartbeat_seconds=0.5, poll_seconds=0.5)
    sup = supervisor.Supervisor(engine, settings, supervisor.Options(concurrency=2, until_empty=True))
    sup.run()
    out: dict[str, tuple[readmodels.Job, dict[str, Any] | None]] = {}
    with engine.connect() as conn:
        for o in outcomes:
            assert o.job_id is not None
            rel = str(Path(o.job.path).relative_to(CORPUS.resolve()))
            out[rel] = (readmodels.get(conn, o.job_id), readmodels.get_result(conn, o.job_id))
    return out


def reference_files() -> list[str]:
    return sorted(REFERENCE) or ["<corpus absent>"]


@pytest.mark.corpus
@pytest.mark.parametrize("rel", reference_files())
def test_corpus_file_through_worker(rel: str, corpus_run: dict[str, Any]) -> None:
    ref = REFERENCE[rel]
    job, doc = corpus_run[rel]
    assert job.format == ref["format"], "format detected from content"
    if rel in EXPECTED_ERRORS:
        assert job.status == "failed", job.errors
        assert job.attempts == 1 and job.errors[0]["permanent"] is True
        assert job.last_error_type == EXPECTED_ERRORS[rel], job.last_error_message
        assert doc is None
        return
    assert job.status == "completed", job.errors
    assert doc is not None
    result.validate(doc)
    assert doc["file"]["sha256"] == job.sha256 and doc["file"]["size"] == ref["size_bytes"]
    p = doc["payload"]
    if job.format == "dxf":
        assert p["dxf_version"] == ref["dxfversion"] and p["release"] == ref["acad_release"]
        assert p["loader"] == ref["loader"]
        assert p["insunits"] == ref["INSUNITS"]
        assert p["modelspace"]["entity_count"] == ref["modelspace_entity_count"]
        assert p["modelspace"]["entities_by_type"] == ref["modelspace_entities_by_type"]
        assert sorted(layer["name"] for layer in p["layers"]) == ref["layers"]
        assert sorted(b["name"] for b in p["blocks"]) == ref["blocks"]
        msp_texts = [t for t in p["texts"] if t["layout"] == "Model"]
        assert sum(t["type"] == "TEXT" for t in msp_texts) == ref["msp_TEXT"]
        assert sum(t["type"] == "MTEXT" for t in msp_texts) == ref["msp_MTEXT"]
        assert sum(i["layout"] == "Model" for i in p["inserts"]) == ref["msp_INSERT"]
        if ref["loader"] == "ezdxf.recover.readfile":
            assert doc["warnings"], "repairs are reported as warnings"
    elif job.format == "pdf":
        assert p["page_count"] == ref["page_count"]
        for got, want in zip(p["pages"], ref["pages"], strict=True):
            assert abs(got["width"] - want["width"]) < 0.01 and abs(got["height"] - want["height"]) < 0.01
            if got.get("text_source") == "ocr":  # a scanned page: its text now comes from OCR
                assert want["text_chars"] == 0 and got["has_text_layer"] is False and got["ocr"]["engine"]
            else:
                assert got["text_chars"] == want["text_chars"]
            assert got["table_count"] == want["tables"]
        if p["pages_without_text"]:
            assert any("text layer" in w or "read by OCR" in w for w in doc["warnings"])
    elif job.format == "ifc":
        assert p["schema"] == ref["schema"]
        assert p["project"]["name"] == ref["project_name"]
        assert p["counts"]["products"] == ref["IfcProduct_count"]
        assert p["products_by_class"] == ref.get("IfcProduct_by_class", {})
        assert p["counts"]["storeys"] == ref["IfcBuildingStorey_count"]
    elif job.format == "step":
        assert p["counts"]["solids"] == ref["num_solids"]
        assert p["counts"]["faces"] == ref["num_faces"]
        assert close(p["totals"]["volume"], ref["total_volume"])
        assert close(p["totals"]["surface_area"], ref["total_surface_area_solids"])
        for key, value in ref["bbox"].items():
            assert abs(p["totals"]["bbox"][key] - value) <= REL * max(1.0, abs(value)) * 10
    else:
        pytest.fail(f"unexpected format {job.format}")
