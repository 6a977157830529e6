"""The operations layer: what each command does, between the CLI (parse, render) and the store.

Operations take plain values and an engine, return dataclasses, and never print. The pure
decisions sit in their own modules (``report``, ``watch``, ``inputs``) and are importable
from here; the use cases are imported by module: ``ops.submit``, ``ops.queue``,
``ops.results``, ``ops.doctor``, ``ops.dbinfo``, ``ops.search``, ``ops.work``.
"""

from __future__ import annotations

from cadextract.ops.dbinfo import libpq_url
from cadextract.ops.errors import BadInput, NotFound
from cadextract.ops.report import (
    KNOWN_FAILURE_REASON,
    KNOWN_FAILURES_ONLY,
    Admission,
    FileOutcome,
    RunReport,
    ScanCounts,
    Submitted,
    admit,
    report_path_problem,
    run_exit_code,
    run_report,
)
from cadextract.ops.watch import Liveness, eta_seconds, eta_window, liveness, throughput_span

__all__ = [
    "KNOWN_FAILURES_ONLY",
    "KNOWN_FAILURE_REASON",
    "Admission",
    "BadInput",
    "FileOutcome",
    "Liveness",
    "NotFound",
    "RunReport",
    "ScanCounts",
    "Submitted",
    "admit",
    "eta_seconds",
    "eta_window",
    "libpq_url",
    "liveness",
    "report_path_problem",
    "run_exit_code",
    "run_report",
    "throughput_span",
]
