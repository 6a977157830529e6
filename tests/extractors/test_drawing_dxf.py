"""DXF annotations: tolerances from dimension-style overrides, '<>' replaced, TOLERANCE frames,
ACAD_TABLE cells and parts lists, parts lists from block attributes, notes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cadextract.extractors.drawing.bom import bom_from_rows
from cadextract.extractors.dxf import EXTRACTOR
from cadextract.extractors.dxf_annotations import tolerance_frames
from samples.generators.drawing_dxf import make_drawing_dxf
from tests.conftest import CORPUS
from tests.extractors import common

TABLE_FILE = CORPUS / "dxf" / "ezdxf__acad_table_simple.dxf"


@pytest.fixture(scope="module")
def annotated(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, Any]]:
    path = tmp_path_factory.mktemp("dxf") / "annotated.dxf"
    truth = make_drawing_dxf(path)
    payload, _ = common.run_extractor(EXTRACTOR, path)
    common.validated(EXTRACTOR, path, payload)
    return truth, payload


def test_dimension_tolerances_from_style_overrides(annotated: Any) -> None:
    truth, p = annotated
    assert len(p["dimensions"]) == len(truth["dimensions"])
    for got, want in zip(p["dimensions"], truth["dimensions"], strict=True):
        for key in ("kind", "nominal", "upper", "lower", "tolerance", "range", "fit"):
            assert got[key] == want.get(key), (key, got)
    assert p["dimensions"][0]["readable"] == "100 +0.10/-0.05"
    assert p["dimensions"][1]["readable"] == "60 ±0.20"
    assert p["dimensions"][2]["readable"] == "25.02/25.00"


def test_override_brackets_replaced(annotated: Any) -> None:
    _, p = annotated
    dia = p["dimensions"][3]
    assert dia["text_override"] == "<> H7" and dia["readable"] == "Ø12 H7"
    rows = [r for r in EXTRACTOR.rows(p) if r["entity"] == "DIMENSION"] if EXTRACTOR.rows else []
    assert [r["text"] for r in rows][3] == "Ø12 H7"
    assert [r["block"] for r in rows] == ["linear", "linear", "linear", "diameter", "radius"]


def test_tolerance_entities_are_frames(annotated: Any) -> None:
    truth, p = annotated
    got = [
        (
            g["characteristic"],
            g["tolerance"],
            g["diameter"],
            g["modifier"],
            [(d["letter"], d["modifier"]) for d in g["datums"]],
        )
        for g in p["gdt"]
    ]
    want = [
        (g["characteristic"], g["tolerance"], g["diameter"], g["modifier"], [tuple(d) for d in g["datums"]])
        for g in truth["gdt"]
    ]
    assert got == want
    assert all(g["handle"] and g["layout"] == "Model" for g in p["gdt"])


def test_parts_list_from_block_attributes(annotated: Any) -> None:
    truth, p = annotated
    got = [
        {k: b[k] for k in ("position", "quantity", "part_number", "description", "material")}
        for b in p["bom"]
    ]
    assert got == truth["bom"]
    assert {b["source"] for b in p["bom"]} == {"block_attributes"}


def test_notes_and_surface_from_text(annotated: Any) -> None:
    truth, p = annotated
    assert [n["kind"] for n in p["notes"]] == truth["notes"]
    assert [(s["parameter"], s["value"]) for s in p["surface_finish"]] == truth["surface_finish"]


def test_composite_tolerance_rows() -> None:
    [first, second] = tolerance_frames(r"{\Fgdt;j}%%v{\Fgdt;n}0.5%%vA%%vB%%vC^J{\Fgdt;j}%%v{\Fgdt;n}0.1%%vA")
    assert (first.characteristic, first.tolerance, [d.letter for d in first.datums]) == (
        "position",
        0.5,
        ["A", "B", "C"],
    )
    assert (second.tolerance, [d.letter for d in second.datums]) == (0.1, ["A"])


def test_table_rows_need_a_parts_list_header() -> None:
    assert bom_from_rows([["Title", "", ""], ["1", "2", "3"]], "acad_table") == []
    [item] = bom_from_rows(
        [["ITEM", "QTY", "PART NUMBER", "DESCRIPTION"], ["1", "3", "A-1", "Bolt"]], "acad_table"
    )
    assert (item.position, item.quantity, item.part_number, item.description) == ("1", 3.0, "A-1", "Bolt")


@pytest.mark.skipif(not TABLE_FILE.is_file(), reason="corpus not present")
def test_corpus_acad_table_cells_kept() -> None:
    p, _ = common.run_extractor(EXTRACTOR, TABLE_FILE)
    [table] = p["tables"]
    assert table["rows"] == [["Title", "", ""], ["1", "2", "3"], ["4", "5", "6"]]
    assert p["bom"] == []  # a table without a parts-list header is no parts list


@pytest.mark.skipif(not TABLE_FILE.is_file(), reason="corpus not present")
def test_acad_table_parts_list(tmp_path: Path) -> None:
    """The corpus table with its cell texts changed into a parts list (written to a temp file)."""
    import ezdxf
    from ezdxf.lldxf.types import DXFTag

    doc = ezdxf.readfile(TABLE_FILE)
    [entity] = [e for e in doc.modelspace() if e.dxftype() == "ACAD_TABLE"]
    tags = entity.xtags.get_subclass("AcDbTable")
    values = iter(["POS", "QTY", "DESCRIPTION", "1", "2", "BOLT M6", "2", "4", "WASHER"])
    for i, tag in enumerate(tags):
        if tag.code == 302:
            v = next(values)
            tags[i] = DXFTag(302, v)
            if tags[i - 1].code == 1:
                tags[i - 1] = DXFTag(1, v)
    path = tmp_path / "bom.dxf"
    doc.saveas(path)
    p, _ = common.run_extractor(EXTRACTOR, path)
    common.validated(EXTRACTOR, path, p)
    assert [(b["position"], b["quantity"], b["description"], b["source"]) for b in p["bom"]] == [
        ("1", 2.0, "BOLT M6", "acad_table"),
        ("2", 4.0, "WASHER", "acad_table"),
    ]
    assert p["tables"][0]["rows"][0] == ["POS", "QTY", "DESCRIPTION"]
