"""IFC extractor: generated sample (exact values), the shared corpus (vs REFERENCE.json), errors."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cadextract.extractors import base
from cadextract.extractors.ifc import EXTRACTOR, rows, summarize
from samples.generators.ifc_step import make_ifc
from tests.conftest import CORPUS, REFERENCE
from tests.extractors import common
from tests.extractors.common import Recorder, check_progress

CORPUS_FILES = sorted(k for k, v in REFERENCE.items() if v.get("format") == "ifc") or ["<corpus absent>"]
#: error type expected for the files the library refuses (REFERENCE ok: false)
EXPECTED_ERRORS = {
    "ifc/xbim__ifc2x3_final_wall.ifc": base.UnsupportedVersion,
    "bad/xbim__FormallyIllegalFile.ifc": base.CorruptFile,
    "bad/xbim__InvalidHeaderFileName.ifc": base.CorruptFile,
}


def run(path: Path, options: dict[str, Any] | None = None) -> tuple[dict[str, Any], Recorder]:
    return common.run_extractor(EXTRACTOR, path, options)


def validated(path: Path, payload: dict[str, Any]) -> dict[str, Any]:
    return common.validated(EXTRACTOR, path, payload)


def check_views(payload: dict[str, Any]) -> None:
    common.flat_views(EXTRACTOR, payload)


def walk(nodes: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for n in nodes:
        yield n
        yield from walk(n["children"])


# ----------------------------------------------------------------------------- generated sample


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    path = tmp_path_factory.mktemp("ifc") / "sample.ifc"
    return path, make_ifc(path)


def test_registry_and_contract() -> None:
    common.check_contract(EXTRACTOR, (".ifc", ".ifczip"), 1800, "ifcopenshell")
    assert EXTRACTOR.summarize is summarize and EXTRACTOR.rows is rows


def test_module_import_is_light() -> None:
    assert common.imports_lightly("cadextract.extractors.ifc", ("ifcopenshell",))


def test_sample_summary(sample: tuple[Path, dict[str, Any]]) -> None:
    path, known = sample
    payload, rec = run(path)
    validated(path, payload)
    check_progress(rec)
    check_views(payload)
    assert payload["detail"] == "summary"
    assert "elements" not in payload
    assert payload["schema"] == known["schema"]
    assert payload["project"]["name"] == known["project_name"]
    assert payload["length_unit"] == known["length_unit"]
    assert payload["counts"]["products"] == known["product_count"]
    assert payload["counts"]["elements"] == known["element_count"]
    assert payload["counts"]["storeys"] == known["storey_count"]
    assert payload["counts"]["uncontained_elements"] == 0
    assert payload["elements_by_class"] == known["elements_by_class"]
    assert [(s["name"], s["elevation"]) for s in payload["storeys"]] == list(known["storeys"].items())
    walls = {s["name"]: s["elements_by_class"].get("IfcWall", 0) for s in payload["storeys"]}
    assert walls == known["walls_per_storey"]
    # site -> building -> storeys
    (site,) = payload["spatial_tree"]
    assert (site["ifc_class"], site["name"]) == ("IfcSite", known["site_name"])
    (building,) = site["children"]
    assert (building["ifc_class"], building["name"]) == ("IfcBuilding", known["building_name"])
    assert [c["name"] for c in building["children"]] == list(known["storeys"])
    assert site["element_count_total"] == known["element_count"]
    summary = summarize(payload)
    assert summary["project_name"] == known["project_name"]
    assert summary["storey_count"] == 2
    assert summary["element_count"] == known["element_count"]
    assert str(summary["top_classes"]).startswith("IfcWall:5")
    assert list(rows(payload)) == [
        {"ifc_class": c, "count": n} for c, n in known["elements_by_class"].items()
    ]


def test_sample_full(sample: tuple[Path, dict[str, Any]]) -> None:
    path, known = sample
    payload, rec = run(path, {"detail": "full"})
    validated(path, payload)
    check_progress(rec)
    check_views(payload)
    elements = payload["elements"]
    assert len(elements) == known["element_count"]
    walls = [e for e in elements if e["ifc_class"] == "IfcWall"]
    assert {w["name"]: w["storey"] for w in walls} == known["wall_storey"]
    for wall in walls:
        assert wall["type_name"] == known["wall_type"]
        assert wall["materials"] == [known["material"]]
        assert wall["property_sets"]["Pset_WallCommon"]["FireRating"] == known["fire_rating"]
        assert wall["property_sets"]["Pset_WallCommon"]["IsExternal"] is True
        assert wall["quantity_sets"]["Qto_WallBaseQuantities"]["Length"] == known["wall_length"]
        assert wall["global_id"] and len(wall["global_id"]) == 22
    table = list(rows(payload))
    assert len(table) == known["element_count"]
    assert {r["name"] for r in table} >= set(known["wall_storey"])


def test_ifczip_of_sample(sample: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    path, known = sample
    zipped = tmp_path / "sample.ifczip"
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(path, "sample.ifc")
    payload, _ = run(zipped)
    validated(zipped, payload)
    assert payload["counts"]["elements"] == known["element_count"]


# ----------------------------------------------------------------------------- errors


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.ifc"
    path.write_bytes(b"")
    with pytest.raises(base.EmptyFile):
        run(path)


def test_wrong_format(tmp_path: Path) -> None:
    path = tmp_path / "drawing.ifc"
    path.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")
    with pytest.raises(base.WrongFormat, match="ISO-10303-21"):
        run(path)


def test_step_file_is_wrong_format(tmp_path: Path) -> None:
    path = tmp_path / "part.ifc"
    path.write_text(
        "ISO-10303-21;\nHEADER;\nFILE_DESCRIPTION((''),'2;1');\nFILE_NAME('','',(''),(''),'','','');\n"
        "FILE_SCHEMA(('AUTOMOTIVE_DESIGN { 1 0 10303 214 1 1 1 1 }'));\nENDSEC;\nDATA;\nENDSEC;\n"
        "END-ISO-10303-21;\n"
    )
    with pytest.raises(base.WrongFormat, match="--format step"):
        run(path)


def test_truncated(sample: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    path, _ = sample
    data = path.read_bytes()
    cut = tmp_path / "cut.ifc"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(base.TruncatedFile, match="END-ISO-10303-21"):
        run(cut)


def test_bad_zip(tmp_path: Path) -> None:
    path = tmp_path / "broken.ifczip"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    with pytest.raises(base.CorruptFile):
        run(path)


def test_unreadable_is_transient(
    sample: tuple[Path, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, _ = sample

    def denied(*args: Any, **kwargs: Any) -> Any:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "open", denied)
    with pytest.raises(base.FileUnreadable) as info:
        run(path)
    assert info.value.permanent is False


def test_unknown_detail(sample: tuple[Path, dict[str, Any]]) -> None:
    with pytest.raises(base.PermanentError, match="detail"):
        run(sample[0], {"detail": "everything"})


# ----------------------------------------------------------------------------- corpus


@pytest.mark.corpus
@pytest.mark.parametrize("name", CORPUS_FILES)
def test_corpus_file(name: str) -> None:
    if not CORPUS.is_dir() or not REFERENCE:
        pytest.skip("../shared/corpus not found")
    ref = REFERENCE[name]
    path = CORPUS / name
    if not ref["ok"]:
        expected = EXPECTED_ERRORS.get(name, base.PermanentError)
        with pytest.raises(expected) as info:
            run(path)
        assert info.value.permanent
        assert isinstance(info.value.__cause__, Exception)  # the library error is kept
        if expected is base.UnsupportedVersion:
            assert "unsupported schema" in str(info.value)
        return
    for detail in ("summary", "full"):
        payload, rec = run(path, {"detail": detail})
        validated(path, payload)
        check_progress(rec)
        check_views(payload)
        assert payload["schema"] == ref["schema"]
        assert payload["schema_identifier"] == ref["schema_identifier"]
        assert payload["project"]["name"] == ref["project_name"]
        assert payload["counts"]["products"] == ref["IfcProduct_count"]
        assert payload["products_by_class"] == ref.get("IfcProduct_by_class", {})
        assert payload["counts"]["storeys"] == ref["IfcBuildingStorey_count"]
        assert payload["counts"]["entity_instances"] == ref["entity_instance_count"]
        tree_storeys = [n for n in walk(payload["spatial_tree"]) if n["ifc_class"] == "IfcBuildingStorey"]
        assert len(tree_storeys) == len(payload["storeys"])
        placed = sum(n["element_count"] for n in walk(payload["spatial_tree"]))
        assert placed + payload["counts"]["uncontained_elements"] == payload["counts"]["elements"]
        if detail == "full":
            assert len(payload["elements"]) == payload["counts"]["elements"]


@pytest.mark.corpus
def test_corpus_house_storeys() -> None:
    path = CORPUS / "ifc" / "xbim__House.ifc"
    if not path.is_file():
        pytest.skip("../shared/corpus not found")
    payload, _ = run(path)
    assert payload["length_unit"] == "MILLIMETRE"
    assert [s["elevation"] for s in payload["storeys"]] == [-600.0, 2850.0, 3350.0]
    assert sum(s["element_count"] for s in payload["storeys"]) == payload["counts"]["elements"]
