"""Helpers shared by the per-format extractor tests."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from cadextract.extractors import registry
from cadextract.extractors.base import Extractor
from cadextract.result import build_document, validate


class Recorder:
    """A progress callback that remembers every percentage it was given."""

    def __init__(self) -> None:
        self.values: list[float] = []

    def __call__(self, percent: float, note: str | None = None) -> None:
        self.values.append(percent)


def run_extractor(
    extractor: Extractor, path: Path, options: dict[str, Any] | None = None
) -> tuple[dict[str, Any], Recorder]:
    rec = Recorder()
    payload = extractor.extract(path, options or {}, rec)
    json.dumps(payload, allow_nan=False)  # JSON-serialisable, no NaN/inf
    return payload, rec


def validated(extractor: Extractor, path: Path, payload: dict[str, Any]) -> dict[str, Any]:
    """The result envelope around a payload, checked against the published schemas."""
    doc = build_document(
        format=extractor.name,
        extractor_name=extractor.name,
        extractor_version=extractor.version,
        libraries=extractor.versions(),
        path=str(path),
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
        size=path.stat().st_size,
        payload=payload,
        extract_seconds=0.1,
    )
    validate(doc)
    return doc


def check_progress(rec: Recorder) -> None:
    assert rec.values, "progress never called"
    assert rec.values == sorted(rec.values), rec.values
    assert rec.values[-1] >= 99.0
    assert all(0.0 <= v <= 100.0 for v in rec.values)


def flat_views(extractor: Extractor, payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The extractor's summary and rows, each checked to hold only scalars; returns the rows."""
    assert extractor.summarize is not None and extractor.rows is not None
    summary = extractor.summarize(payload)
    assert all(v is None or isinstance(v, str | int | float | bool) for v in summary.values()), summary
    table = list(extractor.rows(payload))
    for row in table:
        assert all(v is None or isinstance(v, str | int | float | bool) for v in row.values()), row
    return table


def check_contract(extractor: Extractor, extensions: tuple[str, ...], timeout: float, library: str) -> None:
    """The registry hands out this extractor under its name, with these settings."""
    assert registry.get(extractor.name) is extractor
    assert extractor.extensions == extensions
    assert extractor.default_timeout == timeout
    assert extractor.summarize is not None and extractor.rows is not None
    assert library in extractor.versions()


def imports_lightly(module: str, heavy: tuple[str, ...], *, versions: bool = False) -> bool:
    """Importing ``module`` (and asking its versions, if ``versions``) in a fresh interpreter
    loads none of ``heavy``."""
    ask = "m.EXTRACTOR.versions(); " if versions else ""
    code = (
        f"import sys, importlib; m = importlib.import_module({module!r}); {ask}"
        f"sys.exit(any(k in sys.modules for k in {heavy!r}))"
    )
    return subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
