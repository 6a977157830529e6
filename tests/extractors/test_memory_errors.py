"""Running out of memory reaches the child's memory-limit path from every extractor.

STEP turned MemoryError into CorruptFile (its ``except Exception`` blocks), so a file
that ran out of memory was reported as corrupt; all extractors now share one policy, and
the optional steps that tolerate a library's failure (``shared.tolerated``) let it pass too.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from cadextract.extractors import dxf, ifc, pdf, step
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
        (ifc, "_extract_model", SAMPLES / "ifc" / "two-storey-house.ifc"),
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


def _only_property_sets(error: BaseException) -> Any:
    """get_psets failing with ``error`` for property sets; quantity sets (summed per storey,
    where any failure is fatal) still read."""
    import ifcopenshell.util.element

    real = ifcopenshell.util.element.get_psets

    def get_psets(element: Any, **kwargs: Any) -> Any:
        if kwargs.get("psets_only"):
            raise error
        return real(element, **kwargs)

    return get_psets


def test_dxf_optional_text_step_lets_memory_errors_through(monkeypatch: pytest.MonkeyPatch) -> None:
    """Plain text falls back to the raw text when ezdxf fails, but not when memory runs out."""
    from ezdxf.entities import MText, Text

    monkeypatch.setattr(Text, "plain_text", _out_of_memory)
    monkeypatch.setattr(MText, "plain_text", _out_of_memory)
    with pytest.raises(MemoryError):
        dxf.extract(SAMPLES / "dxf" / "bracket.dxf", {}, lambda percent, note=None: None)


def test_ifc_optional_property_sets_let_memory_errors_through(monkeypatch: pytest.MonkeyPatch) -> None:
    """An element's odd property sets are left empty, but running out of memory is not odd."""
    import ifcopenshell.util.element

    sample = SAMPLES / "ifc" / "two-storey-house.ifc"
    full = ifc.extract(sample, {"detail": "full"}, lambda percent, note=None: None)
    assert any(e["property_sets"] for e in full["elements"]), "the sample has property sets to read"
    monkeypatch.setattr(ifcopenshell.util.element, "get_psets", _only_property_sets(MemoryError()))
    with pytest.raises(MemoryError):
        ifc.extract(sample, {"detail": "full"}, lambda percent, note=None: None)


def test_ifc_property_set_failures_other_than_memory_stay_tolerated(monkeypatch: pytest.MonkeyPatch) -> None:
    import ifcopenshell.util.element

    monkeypatch.setattr(ifcopenshell.util.element, "get_psets", _only_property_sets(RuntimeError("odd")))
    full = ifc.extract(
        SAMPLES / "ifc" / "two-storey-house.ifc", {"detail": "full"}, lambda percent, note=None: None
    )
    assert full["elements"] and all(e["property_sets"] == {} for e in full["elements"])
