"""DXF extractor: generated sample (exact values), the shared corpus (vs REFERENCE.json), errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cadextract.extractors import base, registry
from cadextract.extractors.dxf import EXTRACTOR, extract
from samples.generators.dxf_pdf import make_dxf
from tests.conftest import CORPUS, REFERENCE
from tests.extractors import common
from tests.extractors.common import Recorder, check_progress

CORPUS_FILES = sorted(
    f"{folder}/{p.name}"
    for folder in ("dxf", "bad")
    if (CORPUS / folder).is_dir()
    for p in (CORPUS / folder).iterdir()
    if p.suffix.lower() == ".dxf"
)


def run(path: Path, options: dict[str, Any] | None = None) -> tuple[dict[str, Any], Recorder]:
    return common.run_extractor(EXTRACTOR, path, options)


def validated(path: Path, payload: dict[str, Any]) -> dict[str, Any]:
    return common.validated(EXTRACTOR, path, payload)


# ----------------------------------------------------------------------------- generated sample


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], dict[str, Any], Recorder]:
    path = tmp_path_factory.mktemp("dxf") / "plate.dxf"
    expected = make_dxf(path)
    payload, rec = run(path)
    return path, expected, payload, rec


def test_registry_lookup() -> None:
    assert registry.get("dxf") is EXTRACTOR
    assert EXTRACTOR.summarize is not None and EXTRACTOR.rows is not None
    assert EXTRACTOR.versions()["ezdxf"].startswith("1.")


def test_sample_header(sample: Any) -> None:
    _, exp, p, _ = sample
    assert p["dxf_version"] == exp["dxf_version"]
    assert p["release"] == exp["release"]
    assert p["insunits"] == exp["insunits"]
    assert p["units"] == exp["units"]
    assert p["loader"] == "ezdxf.readfile"
    assert p["binary"] is False
    assert p["extents"] is not None


def test_sample_layers(sample: Any) -> None:
    _, exp, p, _ = sample
    layers = {layer["name"]: layer for layer in p["layers"]}
    assert sorted(layers) == exp["layers"]
    for name, flags in exp["layer_flags"].items():
        assert {k: layers[name][k] for k in flags} == flags, name
    for name, color in exp["layer_colors"].items():
        assert layers[name]["color"] == color
    assert layers["CENTER"]["linetype"] == "CENTER"
    assert layers["OUTLINE"]["entity_count"] == 6
    assert layers["DIMS"]["entity_count"] == 3


def test_sample_entities_and_texts(sample: Any) -> None:
    _, exp, p, _ = sample
    assert p["modelspace"]["entities_by_type"] == exp["modelspace_entities_by_type"]
    msp_texts = [
        {
            "type": t["type"],
            "text": t["text"],
            "layer": t["layer"],
            "position": t["position"][:2],
            "height": t["height"],
        }
        for t in p["texts"]
        if t["layout"] == "Model"
    ]
    assert msp_texts == exp["modelspace_texts"]
    paper = [
        {"type": t["type"], "text": t["text"], "layout": t["layout"]}
        for t in p["texts"]
        if t["layout"] != "Model"
    ]
    assert paper == exp["paperspace_texts"]
    assert p["counts"]["texts"] == len(exp["modelspace_texts"]) + len(exp["paperspace_texts"])


def test_sample_dimensions(sample: Any) -> None:
    _, exp, p, _ = sample
    got = [
        {k: d[k] for k in ("type", "measurement", "text_override", "display_text", "layer")}
        for d in p["dimensions"]
    ]
    assert got == exp["dimensions"]


def test_sample_title_block(sample: Any) -> None:
    _, exp, p, _ = sample
    tb = p["title_block"]
    assert tb["block"] == exp["title_block_block"]
    assert {k: v["value"] for k, v in tb["fields"].items()} == exp["title_block"]
    for name, field in tb["fields"].items():
        src = field["source"]
        assert src["kind"] == "attrib"
        assert src["tag"] == exp["title_block_tags"][name]
        assert src["block"] == exp["title_block_block"]
        assert src["layout"] == exp["title_block_layout"]
    inserts = [i for i in p["inserts"] if i["block"] == "TITLEBLOCK"]
    assert len(inserts) == 1 and inserts[0]["attribs"] == exp["attribs"]
    block = next(b for b in p["blocks"] if b["name"] == "TITLEBLOCK")
    assert block["insert_count"] == 1
    assert block["attdef_tags"] == list(exp["attribs"])


def test_sample_validates_and_summarizes(sample: Any) -> None:
    path, exp, p, rec = sample
    doc = validated(path, p)
    assert doc["warnings"] == []
    assert EXTRACTOR.summarize is not None
    summary = EXTRACTOR.summarize(doc["payload"])
    assert summary["dxf_version"] == exp["dxf_version"]
    assert summary["tb_drawing_number"] == exp["title_block"]["drawing_number"]
    assert summary["dimension_count"] == 3
    rows = common.flat_views(EXTRACTOR, doc["payload"])
    assert len(rows) == p["counts"]["texts"] + p["counts"]["dimensions"] + p["counts"]["inserts"]
    assert {r["entity"] for r in rows} == {"TEXT", "MTEXT", "DIMENSION", "INSERT"}
    check_progress(rec)


def test_caps_truncate_with_warning(sample: Any) -> None:
    path, _, _, _ = sample
    p, _ = run(path, {"max_texts": 1})
    assert len(p["texts"]) == 1
    assert p["counts"]["texts"] == 4
    assert any("truncated" in w for w in p["warnings"])


def test_binary_dxf(tmp_path: Path) -> None:
    from ezdxf.filemanagement import readfile

    path = tmp_path / "bin.dxf"
    make_dxf(path)
    readfile(path).saveas(tmp_path / "b.dxf", fmt="bin")
    p, _ = run(tmp_path / "b.dxf")
    assert p["binary"] is True
    assert p["title_block"]["fields"]["drawing_number"]["value"] == "CX-1001"


# ----------------------------------------------------------------------------- errors


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "e.dxf").write_bytes(b"")
    with pytest.raises(base.EmptyFile):
        extract(tmp_path / "e.dxf", {}, base.no_progress)


def test_wrong_format(tmp_path: Path) -> None:
    (tmp_path / "x.dxf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    with pytest.raises(base.WrongFormat):
        extract(tmp_path / "x.dxf", {}, base.no_progress)
    (tmp_path / "y.dxf").write_text("hello, this is not a drawing\n")
    with pytest.raises(base.WrongFormat):
        extract(tmp_path / "y.dxf", {}, base.no_progress)


def test_truncated_file(tmp_path: Path) -> None:
    src = tmp_path / "full.dxf"
    make_dxf(src)
    data = src.read_bytes()
    (tmp_path / "t.dxf").write_bytes(data[: len(data) // 3])
    with pytest.raises(base.TruncatedFile) as info:
        extract(tmp_path / "t.dxf", {}, base.no_progress)
    assert info.value.permanent and "allow_partial" in str(info.value)
    # on request, recover mode salvages what is there and says so
    p = extract(tmp_path / "t.dxf", {"allow_partial": True}, base.no_progress)
    assert p["loader"] == "ezdxf.recover.readfile"
    assert any("EOF" in w for w in p["warnings"])


def test_missing_file_is_transient(tmp_path: Path) -> None:
    with pytest.raises(base.FileUnreadable) as info:
        extract(tmp_path / "nope.dxf", {}, base.no_progress)
    assert info.value.permanent is False


def test_permission_denied_is_transient(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "locked.dxf"
    make_dxf(path)

    def denied(self: Path, *args: Any, **kwargs: Any) -> Any:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "open", denied)
    with pytest.raises(base.FileUnreadable) as info:
        extract(path, {}, base.no_progress)
    assert info.value.permanent is False
    assert "Permission denied" in str(info.value)


# ----------------------------------------------------------------------------- corpus


@pytest.mark.corpus
@pytest.mark.parametrize("rel", CORPUS_FILES or ["<corpus missing>"])
def test_corpus_file(rel: str) -> None:
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus not found")
    ref = REFERENCE[rel]
    path = CORPUS / rel
    if not ref.get("ok", True) and "loader" not in ref:
        with pytest.raises(base.ExtractionError) as info:
            extract(path, {}, base.no_progress)
        assert info.value.permanent
        return
    p, rec = run(path)
    assert p["loader"] == ref["loader"]
    if ref["loader"] == "ezdxf.recover.readfile":
        assert any("ezdxf.recover" in w for w in p["warnings"])
    assert p["dxf_version"] == ref["dxfversion"]
    assert p["loaded_dxf_version"] == ref["loaded_dxfversion"]
    assert p["release"] == ref["acad_release"]
    assert p["insunits"] == ref["INSUNITS"]
    assert p["modelspace"]["entity_count"] == ref["modelspace_entity_count"]
    assert p["modelspace"]["entities_by_type"] == ref["modelspace_entities_by_type"]
    assert sorted(layer["name"] for layer in p["layers"]) == ref["layers"]
    assert sorted(b["name"] for b in p["blocks"]) == ref["blocks"]
    msp = [t for t in p["texts"] if t["layout"] == "Model"]
    assert sum(t["type"] == "TEXT" for t in msp) == ref["msp_TEXT"]
    assert sum(t["type"] == "MTEXT" for t in msp) == ref["msp_MTEXT"]
    msp_dims = [d for d in p["dimensions"] if d["layout"] == "Model"]
    assert sum(d["entity"] == "DIMENSION" for d in msp_dims) == ref["msp_DIMENSION"]
    assert sum(d["entity"] != "DIMENSION" for d in msp_dims) == ref["msp_ARC_DIMENSION_LARGE_RADIAL"]
    assert sum(i["layout"] == "Model" for i in p["inserts"]) == ref["msp_INSERT"]
    validated(path, p)
    check_progress(rec)


def test_corpus_dimension_values() -> None:
    """LM2 carries 22 real DIMENSIONs: every one gets a finite measurement."""
    path = CORPUS / "dxf" / "trimesh__LM2.dxf"
    if not path.is_file():
        pytest.skip("../shared/corpus not found")
    p, _ = run(path)
    dims = [d for d in p["dimensions"] if d["layout"] == "Model"]
    assert len(dims) == 22
    assert all(isinstance(d["measurement"], float) and d["measurement"] > 0 for d in dims)


def test_corpus_recover_title_block() -> None:
    """recover01 holds a title block made of plain TEXT labels with values beside/below them."""
    path = CORPUS / "bad" / "ezdxf__recover01.dxf"
    if not path.is_file():
        pytest.skip("../shared/corpus not found")
    p, _ = run(path)
    fields = {k: v["value"] for k, v in p["title_block"]["fields"].items()}
    assert fields["drawing_number"] == "1"
    assert fields["title"] == "East Elevation"
    assert fields["scale"] == "1:75"
    assert fields["date"] == "21st September 2010"
    assert p["title_block"]["fields"]["title"]["source"]["kind"] == "text_near_label"


def test_unknown_version_warns(tmp_path: Path) -> None:
    src = tmp_path / "plate.dxf"
    make_dxf(src)
    odd = tmp_path / "odd.dxf"
    odd.write_text(src.read_text().replace("AC1024", "AC1040", 1))
    p, _ = run(odd)
    assert any("AC1040" in w for w in p["warnings"])
