"""Running out of memory reaches the child's memory-limit path from every extractor.

STEP turned MemoryError into CorruptFile (its ``except Exception`` blocks), so a file
that ran out of memory was reported as corrupt; all extractors now share one policy.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from cadextract.extractors import dxf, pdf, step
from cadextract.runtime import child
from cadextract.runtime.messages import Failed, JobSpec

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "files"


def _out_of_memory(*args: Any, **kwargs: Any) -> Any:
    raise MemoryError


@pytest.mark.parametrize(
    ("module", "inner", "sample"),
    [
        (step, "_extract_doc", SAMPLES / "step" / "pin-and-plate.step"),
        (dxf, "_extract", SAMPLES / "dxf" / "bracket.dxf"),
        (pdf, "_extract_inner", SAMPLES / "pdf" / "bracket-drawing.pdf"),
    ],
)
def test_memory_error_is_not_a_corrupt_file(
    monkeypatch: pytest.MonkeyPatch, module: Any, inner: str, sample: Path
) -> None:
    monkeypatch.setattr(module, inner, _out_of_memory)
    with pytest.raises(MemoryError):
        module.extract(sample, {}, lambda percent, note=None: None)


def test_step_reader_running_out_of_memory_is_reported_as_the_memory_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from OCP.STEPCAFControl import STEPCAFControl_Reader

    sample = SAMPLES / "step" / "pin-and-plate.step"

    class Reader(STEPCAFControl_Reader):  # type: ignore[misc]
        def ReadFile(self, name: str) -> Any:
            raise MemoryError

    monkeypatch.setattr("OCP.STEPCAFControl.STEPCAFControl_Reader", Reader)
    spec = JobSpec(uuid.uuid4(), str(sample), "step", child._sha256(sample), sample.stat().st_size, {}, 10**8)
    report = child.run(spec, None)
    assert isinstance(report, Failed)
    assert (report.error.type, report.error.permanent) == ("MemoryLimit", True)
