"""The operations layer's pure decisions: command-line values, selections, doctor's verdict,
the one timeout rule shared by submit and the worker. No database."""

from __future__ import annotations

import dataclasses
import logging
from datetime import UTC, datetime, timedelta

import pytest

from cadextract import setting_rules
from cadextract.models import ACTIVE, FINISHED, JobStatus
from cadextract.ops import doctor, inputs, results, search, work
from cadextract.ops import queue as ops_queue
from cadextract.ops import submit as ops_submit
from cadextract.ops.errors import BadInput
from cadextract.runtime import limits
from cadextract.runtime.outcomes import EventKind
from cadextract.store.parsing import JobNotFound
from tests.unit.runtime_helpers import SETTINGS, claimed


def test_lists_are_split_on_commas_and_repeats() -> None:
    assert inputs.split(["pdf, dxf", "ifc", " ", ""]) == ["pdf", "dxf", "ifc"]
    assert inputs.split(None) == []


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("45s", 45), ("90m", 5400), ("12h", 43200), ("30d", 2592000), ("2w", 1209600), ("1.5H", 5400)],
)
def test_ages(text: str, seconds: float) -> None:
    assert inputs.parse_age(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("text", "says"), [("soon", "cannot read age"), ("30", "cannot read age"), ("36501d", "100 years")]
)
def test_bad_ages(text: str, says: str) -> None:
    with pytest.raises(BadInput, match=says):
        inputs.parse_age(text)


def test_since_is_an_iso_time_or_an_age_back_from_now() -> None:
    now = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
    assert inputs.parse_since("2d", now) == now - timedelta(days=2)
    assert inputs.parse_since("2026-01-01T00:00:00+00:00") == datetime(2026, 1, 1, tzinfo=UTC)
    naive = inputs.parse_since("2026-01-01T00:00:00")
    assert naive is not None and naive.tzinfo is not None  # the local zone, not a naive time
    assert inputs.parse_since(None) is None
    with pytest.raises(BadInput):
        inputs.parse_since("last tuesday")


def test_statuses_come_from_models() -> None:
    every = [s.value for s in JobStatus]
    assert inputs.statuses([",".join(every)]) == every
    with pytest.raises(BadInput, match=f"use {', '.join(every)}$"):
        inputs.statuses(["done"])


def test_purge_takes_finished_statuses_only_all_by_default() -> None:
    assert inputs.finished_statuses(None) == [s.value for s in FINISHED]
    assert inputs.finished_statuses(["failed"]) == ["failed"]
    for active in ACTIVE:
        with pytest.raises(BadInput, match="not a finished state"):
            inputs.finished_statuses([active.value])


def test_sorts() -> None:
    assert inputs.sort("path") == "path"
    with pytest.raises(BadInput, match="unknown sort 'size'"):
        inputs.sort("size")


def test_job_ids_are_checked_before_any_query() -> None:
    assert inputs.job_ids(["0a1B", "0a1b2c3d-0000"]) == ["0a1B", "0a1b2c3d-0000"]
    with pytest.raises(JobNotFound, match="'zz' is not a job id"):
        inputs.job_ids(["0a", "zz"])


def test_job_options_read_json_values_else_text() -> None:
    got = inputs.job_options(["max_items=5", "detail=full", 'password="x y"', "ocr=false", "empty="])
    assert got == {"max_items": 5, "detail": "full", "password": "x y", "ocr": False, "empty": ""}
    assert inputs.with_previews(got, True)["previews"] is False
    assert "previews" not in inputs.with_previews(got, False)
    for bad in ("noequals", "=5"):
        with pytest.raises(BadInput, match="expected KEY=VALUE"):
            inputs.job_options([bad])
    with pytest.raises(BadInput, match="max_items=inf: not a finite number"):
        inputs.job_options(["max_items=Infinity"])


TIMEOUTS: list[object] = [5, 0.5, 2592000, 0, -1, "abc", "5", True, None, float("nan"), 1e400, 2592001, [1]]


@pytest.mark.parametrize("value", TIMEOUTS)
def test_one_timeout_rule_for_submit_and_the_worker(value: object) -> None:
    """What submit refuses the worker replaces with the default; what it accepts runs as given."""
    problem = setting_rules.job_timeout_problem(value)
    with_default = dataclasses.replace(SETTINGS, timeout_seconds=42.0)
    if value is None:
        return  # no option given: nothing to check
    used = limits.timeout_for(claimed(timeout=value), with_default)
    if problem is None:
        assert isinstance(value, (int, float)) and used == float(value)
    else:
        assert used == 42.0
        assert problem.startswith("--option timeout=")


def test_timeout_option_messages() -> None:
    assert setting_rules.job_timeout_problem(0) == "--option timeout=0: give a number of seconds above 0"
    assert (
        setting_rules.job_timeout_problem("abc") == "--option timeout='abc': give a number of seconds above 0"
    )
    assert setting_rules.job_timeout_problem(float("nan")) == "--option timeout=nan: not a finite number"
    assert setting_rules.job_timeout_problem(2592001) == "--option timeout=2592001: at most 2592000"


def test_submit_request_counts_attempts_from_retries() -> None:
    with_three = dataclasses.replace(SETTINGS, max_retries=3)
    req = ops_submit.request(with_three, ["a.dxf"], batch="b", options={"x": 1})
    assert (req.max_attempts, req.batch, req.options, list(req.paths)) == (4, "b", {"x": 1}, ["a.dxf"])
    assert ops_submit.request(with_three, ["a.dxf"], max_retries=0).max_attempts == 1
    with pytest.raises(BadInput, match="--max-retries cannot be negative"):
        ops_submit.request(with_three, ["a.dxf"], max_retries=-1)


def test_default_batch_is_the_utc_time() -> None:
    assert inputs.default_batch(datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)) == "20260304-050607"


def test_cancel_selects_ids_and_or_a_filter() -> None:
    with pytest.raises(BadInput, match="give job ids, --batch or --status"):
        ops_queue.cancel_filter([], batch=None, status=None)
    assert ops_queue.cancel_filter(["0a"], batch=None, status=None) is None
    by_batch = ops_queue.cancel_filter([], batch="nightly", status=None)
    assert by_batch is not None and by_batch.batch == "nightly"
    assert list(by_batch.statuses) == [s.value for s in ACTIVE]  # only what can still be cancelled
    by_status = ops_queue.cancel_filter([], batch=None, status=["pending"])
    assert by_status is not None and list(by_status.statuses) == ["pending"] and by_status.batch is None


def test_retry_needs_ids_or_failed() -> None:
    with pytest.raises(BadInput, match="give job ids or --failed"):
        ops_queue.retry_selection_problem([], failed=False)
    ops_queue.retry_selection_problem([], failed=True)
    ops_queue.retry_selection_problem(["-"], failed=False)
    assert ops_queue.Retried([], 3).not_retried == 3


def test_purge_plan() -> None:
    plan = ops_queue.purge_plan("30d", None, dry_run=True, list_jobs=True, limit=0)
    assert plan.older_than == timedelta(days=30) and plan.limit is None
    assert plan.statuses == [s.value for s in FINISHED]
    with pytest.raises(BadInput, match="--list goes with --dry-run"):
        ops_queue.purge_plan("30d", None, dry_run=False, list_jobs=True, limit=5)


def test_doctor_verdict() -> None:
    ok = doctor.Check("free disk", True, "9 GiB")
    assert doctor.verdict([ok]) is doctor.Verdict.OK
    other = doctor.Check("extractor pdf", False, "ImportError: x")
    assert doctor.verdict([ok, other]) is doctor.Verdict.OTHER_FAILED
    database = doctor.Check("database", False, "cannot reach PostgreSQL")
    assert doctor.verdict([other, database]) is doctor.Verdict.DATABASE_FAILED
    detail = doctor.Check("embedded server", True, {"running": True, "port": 5})
    assert detail.detail_text() == "running True, port 5"
    assert detail.as_json() == {
        "check": "embedded server",
        "ok": True,
        "detail": {"running": True, "port": 5},
    }


def test_worker_log_levels() -> None:
    assert work.event_level(EventKind.FAILED) == logging.WARNING
    assert work.event_level(EventKind.LOST) == logging.WARNING
    assert work.event_level(EventKind.CLAIMED) == logging.DEBUG
    assert work.event_level(EventKind.COMPLETED) == logging.INFO


def test_export_choices() -> None:
    results.check_export_kind("csv")
    with pytest.raises(BadInput, match="use jsonl or csv"):
        results.check_export_kind("xlsx")
    assert results.results_filter(["completed"], ["pdf"], "b", None, "*.pdf").formats == ["pdf"]
    with pytest.raises(BadInput, match="only completed jobs have"):
        results.results_filter(["completed,failed"], None, None, None, None)
    with pytest.raises(BadInput, match="no such view"):
        results.check_view("nope", rows=False, since=None)
    with pytest.raises(BadInput, match="do not apply"):
        results.check_view("texts", rows=False, since="2d")


def test_search_and_console_inputs() -> None:
    with pytest.raises(BadInput):
        search.search_request("", None, fmt=None, batch=None, path=None)
    only_fields = search.search_request(None, ["revision=B"], fmt=["pdf,dxf"], batch=None, path=None)
    assert only_fields.query is None and only_fields.filters.formats == ("pdf", "dxf")
    assert search.search_request("flange", None, fmt=None, batch=None, path=None).query is not None
    with pytest.raises(BadInput, match="without a token"):
        search.console_config("0.0.0.0", 8765, None, read_only=False)
    assert search.console_config("127.0.0.1", 8765, "", read_only=True).token is None
