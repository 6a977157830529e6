"""The drawing parser on a generated sheet with known truth, and on neutral (OCR-like) input.

Each rule is pinned: rotated text read in its reading order, stacked deviations / fits /
limits grouped by position, three feature control frames (drawn and Unicode symbols), datum
labels, a German title block (people table, overflowing value, empty fields absent), a parts list.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cadextract.extractors.drawing import Segment, Sheet, TextItem, parse_sheet
from cadextract.extractors.pdf import EXTRACTOR
from samples.generators.drawing_pdf import make_drawing_pdf
from tests.extractors import common
from tests.extractors.drawing_labels import dim_key, frame_key


@pytest.fixture(scope="module")
def drawn(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, Any]]:
    path = tmp_path_factory.mktemp("drawing") / "annotated.pdf"
    truth = make_drawing_pdf(path)
    payload, _ = common.run_extractor(EXTRACTOR, path)
    common.validated(EXTRACTOR, path, payload)
    return truth, payload


def test_every_dimension_read_with_its_tolerance(drawn: Any) -> None:
    truth, p = drawn
    assert sorted(map(str, map(dim_key, p["dimensions"]))) == sorted(
        map(str, map(dim_key, truth["dimensions"]))
    )
    assert p["annotation_counts"]["dimensions"] == len(truth["dimensions"])
    assert p["pages"][0]["dimension_count"] == len(truth["dimensions"])


def test_rotated_text_in_reading_order(drawn: Any) -> None:
    _, p = drawn
    vertical = next(d for d in p["dimensions"] if d["nominal"] == 35.0)
    assert vertical["text"] == "35.00" and vertical["angle"] == 90.0
    inclined = next(d for d in p["dimensions"] if d["kind"] == "radius")
    assert inclined["text"] == "R8.05" and inclined["angle"] == 30.0
    stacked_vertical = next(d for d in p["dimensions"] if d["nominal"] == 18.48)
    assert (stacked_vertical["upper"], stacked_vertical["lower"]) == (0.1, -0.03)


def test_stacks_grouped_by_position(drawn: Any) -> None:
    _, p = drawn
    by_nominal = {d["nominal"]: d for d in p["dimensions"]}
    assert (by_nominal[12.5]["upper"], by_nominal[12.5]["lower"]) == (0.1, -0.05)
    assert by_nominal[20.0]["fit"] == "H7/g6"
    assert by_nominal[15.5]["range"] == [15.5, 16.0]
    # the stacked parts are never dimensions of their own
    assert not {0.1, 0.05, 0.03, 16.0} & set(by_nominal)


def test_three_feature_control_frames(drawn: Any) -> None:
    truth, p = drawn
    got = sorted(map(str, map(frame_key, p["gdt"])))
    want = sorted(str(frame_key({**g, "datums": [d for d, _ in g["datums"]]})) for g in truth["gdt"])
    assert got == want
    position = next(g for g in p["gdt"] if g["characteristic"] == "position")
    assert position["modifier"] == "MMC" and position["diameter"] is True
    assert [(d["letter"], d["modifier"]) for d in position["datums"]] == [("C", None), ("E", "MMC")]
    # frame values are not dimensions
    assert not {0.14, 0.3, 0.25} & {d["nominal"] for d in p["dimensions"]}


def test_datums_surface_notes(drawn: Any) -> None:
    truth, p = drawn
    assert sorted(d["letter"] for d in p["datums"]) == truth["datums"]
    assert [(s["parameter"], s["value"]) for s in p["surface_finish"]] == [("Ra", 3.2)]
    kinds = {n["kind"]: n["value"] for n in p["notes"]}
    assert kinds["general_tolerance"] == "mK" and "edges" in kinds


def test_german_title_block(drawn: Any) -> None:
    truth, p = drawn
    fields = p["title_block"]["fields"]
    assert {k: fields[k]["value"] for k in truth["title_block"]} == truth["title_block"]
    for absent in truth["title_block_absent"]:
        assert absent not in fields, f"{absent} borrowed: {fields.get(absent)}"
    assert fields["drawing_number"]["source"]["method"] == "same_cell"  # overflowing, not clipped
    assert fields["drawn_by"]["source"]["method"] == "row_column"


def test_parts_list(drawn: Any) -> None:
    truth, p = drawn
    got = [
        {k: b[k] for k in ("position", "quantity", "description", "part_number", "material")}
        for b in p["bom"]
    ]
    assert got == truth["bom"]
    assert all(b["source"] == "pdf_table" and b["page"] == 1 for b in p["bom"])
    assert p["bom"][1]["cells"]["BENENNUNG"] == "Zylinderschraube"


# ----------------------------------------------------------------------------- neutral input


def _word(text: str, x: float, y: float, size: float = 10.0, angle: float = 0.0) -> TextItem:
    """An OCR-like word: its box, no per-glyph data."""
    w = 0.6 * size * len(text)
    if angle == 90.0:
        return TextItem(text, x, y - w, x + size, y, angle=90.0, size=size, confidence=0.9)
    return TextItem(text, x, y, x + w, y + size, size=size, confidence=0.9)


def test_parser_reads_ocr_words() -> None:
    """Words with boxes (what OCR gives) go through the same parser as PDF glyphs."""
    items = [
        _word("2x", 100, 100),
        _word("Ø3.40", 115, 100),
        _word("±0.10", 150, 100),
        _word("60.00", 300, 400, angle=90.0),  # reads bottom to top
        _word("4.00", 100, 200),
        _word("+0.10", 126, 194, size=7),
        _word("-0.20", 126, 203, size=7),
        _word("0,6", 131, 302),
        _word("A", 156, 302),
    ]
    # a feature control frame: three cells with a drawn parallelism symbol in the first
    segs = [Segment(100, 298, 170, 298), Segment(100, 316, 170, 316)]
    segs += [Segment(x, 298, x, 316) for x in (100, 118, 150, 170)]
    segs += [Segment(103, 313, 109, 301), Segment(108, 313, 114, 301)]
    notes = parse_sheet(Sheet(items, 600, 800, 1, segs))
    dims = {d.nominal: d for d in notes.dimensions}
    assert set(dims) == {3.4, 60.0, 4.0}
    assert (dims[3.4].count, dims[3.4].upper, dims[3.4].lower, dims[3.4].kind) == (2, 0.1, -0.1, "diameter")
    assert dims[60.0].text == "60.00"
    assert (dims[4.0].upper, dims[4.0].lower) == (0.1, -0.2)
    [frame] = notes.gdt
    assert (frame.characteristic, frame.tolerance, [d.letter for d in frame.datums]) == (
        "parallelism",
        0.6,
        ["A"],
    )


def test_empty_sheet() -> None:
    notes = parse_sheet(Sheet([], 100, 100))
    assert notes.to_dict()["dimensions"] == [] and notes.title_block == {}


def test_parser_failure_keeps_the_page(drawn: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug in the annotation parser costs the annotations of that page, never the page itself."""
    import cadextract.extractors.pdf as pdf

    def broken(sheet: Sheet) -> None:
        raise ValueError("boom")

    path = tmp_path / "annotated.pdf"
    make_drawing_pdf(path)
    monkeypatch.setattr(pdf, "parse_sheet", broken)
    p, _ = common.run_extractor(EXTRACTOR, path)
    assert p["pages"][0]["text_chars"] > 0 and "error" not in p["pages"][0]
    assert p["dimensions"] == [] and any(
        "annotations could not be read (ValueError: boom)" in w for w in p["warnings"]
    )
