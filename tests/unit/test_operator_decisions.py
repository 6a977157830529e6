"""Pure operator decisions (issue 11): what a nightly run queues, its report and exit code,
where a report may go, watch's liveness and ETA, masking, number formatting, CSV kinds."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cadextract import export, fmt, masking, ops, resultview


@pytest.mark.parametrize(
    ("latest", "force", "retry_failed", "expected"),
    [
        (None, False, False, ops.Admission.QUEUE),
        ("pending", False, False, ops.Admission.ALREADY_QUEUED),
        ("processing", True, True, ops.Admission.ALREADY_QUEUED),
        ("completed", False, False, ops.Admission.ALREADY_COMPLETED),
        ("completed", True, False, ops.Admission.QUEUE),
        ("failed", False, False, ops.Admission.KNOWN_FAILURE),
        ("failed", False, True, ops.Admission.QUEUE),
        ("failed", True, False, ops.Admission.QUEUE),
        ("cancelled", False, False, ops.Admission.QUEUE),
    ],
)
def test_admission(latest: str | None, force: bool, retry_failed: bool, expected: ops.Admission) -> None:
    assert ops.admit(latest, force=force, retry_failed=retry_failed) is expected


def _report(*files: tuple[str, str | None]) -> ops.RunReport:
    """files: (final status, skip reason) per file."""
    submitted = [ops.Submitted(f"/d/{i}", f"id{i}", reason) for i, (_, reason) in enumerate(files)]
    final = {
        f"id{i}": {"status": st, "last_error_type": "CorruptFile", "last_error_message": "bad header"}
        for i, (st, _) in enumerate(files)
    }
    return ops.run_report("b", submitted, [], final, 1.0)


def test_run_report_tells_known_failures_from_new_ones() -> None:
    ok = _report(("completed", None), ("completed", "already completed (same content)"))
    assert ops.run_exit_code(ok) == 0
    known = _report(("completed", None), ("failed", ops.KNOWN_FAILURE_REASON))
    assert ops.run_exit_code(known) == ops.KNOWN_FAILURES_ONLY == 5
    assert known.known_failures == 1 and known.new_failures == 0
    data = known.as_json()
    assert data["known_failures"] == 1 and data["failed"] == 1 and data["new_failures"] == 0
    assert "1 known failures" in known.line() and "0 failed" in known.line()
    new = _report(("failed", None), ("failed", ops.KNOWN_FAILURE_REASON))
    assert ops.run_exit_code(new) == 1
    assert new.as_json()["files"][0]["error"] == {"type": "CorruptFile", "message": "bad header"}
    assert ops.run_exit_code(_report(("pending", None))) == 1  # unfinished
    assert ops.run_exit_code(_report(("cancelled", None))) == 1
    assert "error" not in ok.as_json()["files"][0]


def test_report_path_is_checked(tmp_path: Path) -> None:
    assert ops.report_path_problem(tmp_path / "r.json") is None
    missing = ops.report_path_problem(tmp_path / "nope" / "r.json")
    assert missing and "does not exist" in missing and "mkdir -p" in missing
    assert "is a folder" in (ops.report_path_problem(tmp_path) or "")
    if os.geteuid() != 0:  # root may write anywhere
        ro = tmp_path / "ro"
        ro.mkdir(mode=0o500)
        assert "cannot create" in (ops.report_path_problem(ro / "r.json") or "")


def test_liveness_and_eta() -> None:
    L = ops.Liveness
    assert ops.liveness(runnable=5, live_leases=0, expired_leases=0, finished_recently=0) is L.NO_WORKER
    assert ops.liveness(runnable=5, live_leases=2, expired_leases=0, finished_recently=0) is L.WORKING
    assert ops.liveness(runnable=0, live_leases=0, expired_leases=1, finished_recently=0) is L.STALLED
    assert ops.liveness(runnable=0, live_leases=0, expired_leases=0, finished_recently=3) is L.IDLE
    # no ETA without a worker, however fast the last minute was
    assert (
        ops.eta_seconds(remaining=10, finished_in_window=60, window=60, active_for=600, state=L.NO_WORKER)
        is None
    )
    # a batch 20 s old that finished 10 jobs runs at 0.5/s, not 10/60
    assert (
        ops.eta_seconds(remaining=10, finished_in_window=10, window=60, active_for=20, state=L.WORKING) == 20
    )
    assert ops.eta_window(None) == 60 and ops.eta_window(2.0) == 60 and ops.eta_window(30) == 600
    assert ops.eta_window(3600) == 900


def test_secret_options_are_masked() -> None:
    masked = masking.mask_options(
        {"password": "test", "pdf_password": "x", "api_token": "t", "detail": "full"}
    )
    assert masked == {"password": "***", "pdf_password": "***", "api_token": "***", "detail": "full"}


def test_numbers_read_like_an_engineer_writes_them() -> None:
    assert fmt.number(1.31411e8) == "131,411,000"
    assert fmt.number(-2.06918e-13) == "0"
    assert fmt.number(6.66e-17, scale=15.0) == "0"
    assert fmt.number(841.889764) == "841.89"
    assert fmt.number(0.00421) == "0.00421"
    assert fmt.unit_name("MILLIMETRE") == fmt.unit_name("Millimeters") == fmt.unit_name("millimetre")
    assert resultview.value_text("total_volume", 9141.59, unit="millimetre") == "9,141.6 mm³"
    assert fmt.left_ellipsis("/data/site-a/very/long/plan.pdf", 12) == "…ng/plan.pdf"


def test_warnings_are_grouped_and_counted() -> None:
    warnings = [f"repaired entity #{h:X}: bad layer" for h in range(100, 168)] + ["no text layer"]
    groups = resultview.grouped_warnings(warnings)
    assert groups[0] == ("repaired entity #64: bad layer", 68)
    assert groups[1] == ("no text layer", 1)


def test_row_kinds() -> None:
    assert export.row_kind("dxf", {"entity": "TEXT"}) == "dxf-text"
    assert export.row_kind("dxf", {"entity": "DIMENSION"}) == "dxf-dimension"
    assert export.row_kind("ifc", {"global_id": "x"}) == "ifc-element"
    assert export.row_kind("ifc", {"ifc_class": "IfcWall", "count": 2}) == "ifc-class"
    assert export.row_kind("step", {}) == "step-solid"


def test_libpq_url() -> None:
    url = ops.libpq_url("postgresql+psycopg://u:p%40ss@h:5432/db")
    assert url == "postgresql://u:p%40ss@h:5432/db"
