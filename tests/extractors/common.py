"""Helpers shared by the per-format extractor tests."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

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
