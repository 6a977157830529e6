"""STEP extractor: generated assembly (exact values), the shared corpus (vs REFERENCE.json), errors.

Surface-only STEP files are a success with zero solids and a warning (see the module docstring
of :mod:`cadextract.extractors.step`); only a file without any geometry raises ``NoSolids``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from cadextract.extractors import base
from cadextract.extractors.step import EXTRACTOR, protocol_of, rows, summarize
from samples.generators.ifc_step import make_step
from tests.conftest import CORPUS, REFERENCE
from tests.extractors import common
from tests.extractors.common import Recorder, check_progress

#: files whose bare library work took more than this many seconds are marked slow
SLOW_SECONDS = 2.0
REL = 1e-6


def _param(name: str) -> Any:
    slow = REFERENCE[name].get("timings_s", {}).get("library_work_excl_import", 0.0) > SLOW_SECONDS
    return pytest.param(name, marks=[pytest.mark.slow] if slow else [], id=name)


CORPUS_FILES = [_param(k) for k, v in sorted(REFERENCE.items()) if v.get("format") == "step"] or [
    pytest.param("<corpus absent>", id="corpus-absent")
]
EXPECTED_ERRORS = {"bad/occdemos__as1-oc-214_truncated.stp": base.TruncatedFile}
SURFACE_ONLY = {"step/occdemos__splinecage.stp", "step/nodeocc__plane.STEP"}


def run(path: Path, options: dict[str, Any] | None = None) -> tuple[dict[str, Any], Recorder]:
    return common.run_extractor(EXTRACTOR, path, options)


def validated(path: Path, payload: dict[str, Any]) -> dict[str, Any]:
    return common.validated(EXTRACTOR, path, payload)


def check_views(payload: dict[str, Any]) -> None:
    assert len(common.flat_views(EXTRACTOR, payload)) == len(payload["solids"])


def close(a: float, b: float, rel: float = REL) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-9)


# ----------------------------------------------------------------------------- generated sample


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    path = tmp_path_factory.mktemp("step") / "bracket.step"
    return path, make_step(path)


def test_registry_and_contract() -> None:
    common.check_contract(EXTRACTOR, (".stp", ".step"), 1800, "cadquery-ocp")
    assert EXTRACTOR.summarize is summarize and EXTRACTOR.rows is rows


def test_module_import_is_light() -> None:
    assert common.imports_lightly("cadextract.extractors.step", ("OCP", "cadquery"), versions=True)


def test_protocols() -> None:
    assert protocol_of("AUTOMOTIVE_DESIGN { 1 0 10303 214 1 1 1 1 }") == "AP214"
    assert protocol_of("CONFIG_CONTROL_DESIGN") == "AP203"
    assert (
        protocol_of("AP203_CONFIGURATION_CONTROLLED_3D_DESIGN_OF_MECHANICAL_PARTS_AND_ASSEMBLIES_MIM_LF")
        == "AP203"
    )
    assert protocol_of("AP242_MANAGED_MODEL_BASED_3D_ENGINEERING_MIM_LF { 1 0 10303 442 1 1 4 }") == "AP242"
    assert protocol_of("AP214IS") == "AP214"
    assert protocol_of("SOMETHING_ELSE") is None


def test_sample_assembly(sample: tuple[Path, dict[str, Any]]) -> None:
    path, known = sample
    payload, rec = run(path)
    validated(path, payload)
    check_progress(rec)
    check_views(payload)
    assert payload["length_unit"] == known["length_unit"]
    assert payload["values_unit"] == "mm"
    assert payload["warnings"] == []
    assert payload["counts"]["solids"] == known["solid_count"]
    (root,) = payload["assembly"]
    assert root["name"] == known["assembly_name"]
    assert root["kind"] == "assembly"
    assert sorted(c["name"] for c in root["children"]) == sorted(known["parts"])
    by_name = {s["name"]: s for s in payload["solids"]}
    assert set(by_name) == set(known["parts"])
    for name, part in known["parts"].items():
        solid = by_name[name]
        assert close(solid["volume"], part["volume"]), (name, solid["volume"])
        assert close(solid["surface_area"], part["surface_area"]), (name, solid["surface_area"])
        bbox = solid["bbox"]
        assert all(close(bbox[k], v) for k, v in zip(("dx", "dy", "dz"), part["bbox_size"], strict=True))
        assert all(
            abs(a - b) < 1e-9 for a, b in zip(solid["center_of_mass"], part["center_of_mass"], strict=True)
        )
        assert solid["faces"] == part["faces"]
        assert solid["path"] == f"{known['assembly_name']}/{name}"
    assert close(payload["totals"]["volume"], known["total_volume"])
    assert all(abs(payload["totals"]["bbox"][k] - v) < 1e-6 for k, v in known["bbox"].items())
    parts = {p["name"]: p for p in payload["parts"]}
    assert parts.keys() == known["parts"].keys()
    assert all(p["instance_count"] == 1 and p["solid_count"] == 1 for p in parts.values())
    summary = summarize(payload)
    assert summary["solid_count"] == 2
    assert summary["part_count"] == 2
    assert summary["root_names"] == known["assembly_name"]
    assert close(float(summary["total_volume"] or 0), known["total_volume"])
    assert {r["name"] for r in rows(payload)} == set(known["parts"])


# ----------------------------------------------------------------------------- errors


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(base.EmptyFile):
        run(_write(tmp_path, "empty.step", b""))


def test_wrong_format(tmp_path: Path) -> None:
    with pytest.raises(base.WrongFormat, match="ISO-10303-21"):
        run(_write(tmp_path, "model.step", b"0\nSECTION\n2\nHEADER\n0\nENDSEC\n0\nEOF\n"))


def test_ifc_file_is_wrong_format(tmp_path: Path) -> None:
    text = (
        b"ISO-10303-21;\nHEADER;\nFILE_DESCRIPTION((''),'2;1');\nFILE_NAME('','',(''),(''),'','','');\n"
        b"FILE_SCHEMA(('IFC4'));\nENDSEC;\nDATA;\nENDSEC;\nEND-ISO-10303-21;\n"
    )
    with pytest.raises(base.WrongFormat, match="--format ifc"):
        run(_write(tmp_path, "building.stp", text))


def test_truncated(sample: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    data = sample[0].read_bytes()
    with pytest.raises(base.TruncatedFile, match="END-ISO-10303-21"):
        run(_write(tmp_path, "cut.step", data[: len(data) // 2]))


def test_corrupt_data_section(sample: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    data = sample[0].read_bytes()
    start = data.index(b"DATA;") + len(b"DATA;")
    end = data.rindex(b"ENDSEC;")
    broken = data[:start] + b"\n#1 = ((( this is not STEP ;\n#2 = @@@;\n" + data[end:]
    with pytest.raises((base.CorruptFile, base.NoSolids)) as info:
        run(_write(tmp_path, "broken.step", broken))
    assert info.value.permanent


def test_no_geometry_is_nosolids(tmp_path: Path) -> None:
    text = (
        b"ISO-10303-21;\nHEADER;\nFILE_DESCRIPTION((''),'2;1');\nFILE_NAME('','',(''),(''),'','','');\n"
        b"FILE_SCHEMA(('AUTOMOTIVE_DESIGN { 1 0 10303 214 1 1 1 1 }'));\nENDSEC;\nDATA;\n"
        b"#1=CARTESIAN_POINT('',(0.,0.,0.));\nENDSEC;\nEND-ISO-10303-21;\n"
    )
    with pytest.raises(base.NoSolids):
        run(_write(tmp_path, "nothing.step", text))


def test_unreadable_is_transient(
    sample: tuple[Path, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    def denied(*args: Any, **kwargs: Any) -> Any:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "open", denied)
    with pytest.raises(base.FileUnreadable) as info:
        run(sample[0])
    assert info.value.permanent is False


# ----------------------------------------------------------------------------- corpus


@pytest.mark.corpus
@pytest.mark.parametrize("name", CORPUS_FILES)
def test_corpus_file(name: str) -> None:
    if not CORPUS.is_dir() or not REFERENCE:
        pytest.skip("../shared/corpus not found")
    ref = REFERENCE[name]
    path = CORPUS / name
    if not ref["ok"]:
        with pytest.raises(EXPECTED_ERRORS.get(name, base.PermanentError)) as info:
            run(path)
        assert info.value.permanent
        return
    payload, rec = run(path)
    validated(path, payload)
    check_progress(rec)
    check_views(payload)
    counts, totals = payload["counts"], payload["totals"]
    assert payload["file_schema"] == ref["file_schema"]
    assert counts["solids"] == ref["num_solids"] == len(payload["solids"])
    assert counts["shells"] == ref["num_shells"]
    assert counts["faces"] == ref["num_faces"]
    assert counts["top_level_shapes"] == ref["top_level_objects"]
    assert close(totals["volume"], ref["total_volume"])
    assert close(totals["surface_area"], ref["total_surface_area_solids"])
    assert close(totals["surface_area_all_faces"], ref["total_surface_area_all_faces"])
    assert close(sum(s["volume"] for s in payload["solids"]), ref["total_volume"])
    rb = ref["bbox"]
    diag = math.dist((rb["xmin"], rb["ymin"], rb["zmin"]), (rb["xmax"], rb["ymax"], rb["zmax"]))
    assert all(abs(totals["bbox"][k] - v) <= REL * max(diag, 1.0) for k, v in rb.items()), totals["bbox"]
    assert payload["protocol"] in ("AP203", "AP214", "AP242")
    if name in SURFACE_ONLY:
        assert counts["solids"] == 0 and totals["volume"] == 0
        assert counts["faces"] > 0
        assert any("no solids" in w for w in payload["warnings"])
    else:
        assert all(s["name"] for s in payload["solids"]), "every solid gets a name from the product structure"


@pytest.mark.corpus
def test_corpus_assembly_names() -> None:
    path = CORPUS / "step" / "trimesh__box_sides.STEP"
    if not path.is_file():
        pytest.skip("../shared/corpus not found")
    payload, _ = run(path)
    assert payload["length_unit"] == "inch"
    (root,) = payload["assembly"]
    assert root["name"] == "box_sides" and root["solid_count"] == 10
    names = [s["name"] for s in payload["solids"]]
    assert names.count("gusset") == 4 and names.count("side_long") == 2
    parts = {p["name"]: p for p in payload["parts"]}
    assert parts["gusset"]["instance_count"] == 4
    assert close(
        parts["gusset"]["volume"] * 4, sum(s["volume"] for s in payload["solids"] if s["name"] == "gusset")
    )
