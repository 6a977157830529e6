"""What a result document puts into the search index, and how a query is read (no database)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cadextract.search import document, query
from cadextract.search.query import BadQuery, Kind, Term


def _doc(fmt: str, payload: dict[str, Any], path: str = "/data/dwg/CX-1001_plate.dxf") -> dict[str, Any]:
    return {"format": fmt, "file": {"path": path}, "payload": payload, "warnings": []}


def _labels(entry: document.IndexEntry) -> dict[str, str]:
    return {s.label: s.text for s in entry.segments}


def test_dxf_title_block_attributes_texts_dimensions_layers() -> None:
    payload = {
        "title_block": {
            "fields": {"drawing_number": {"value": "CX-1001", "source": {}}, "revision": {"value": "B"}}
        },
        "inserts": [{"attribs": {"DWG_NO": "CX-1001", "MATERIAL": "S235JR", "EMPTY": " "}}],
        "texts": [{"text": "Ø12 THRU"}, {"text": "Ø12 THRU"}, {"text": "BREAK ALL EDGES"}],
        "dimensions": [{"text_override": "<> ±0.1", "display_text": "100"}, {"display_text": "R5"}],
        "layers": [{"name": "TITLE"}, {"name": "DIMS"}],
        "blocks": [{"name": "TB_A3", "anonymous": False}, {"name": "*D1", "anonymous": True}],
        "custom_properties": {"Project": "Hangar 7"},
    }
    entry = document.index_entry(_doc("dxf", payload))
    got = _labels(entry)
    assert got["title_block.drawing_number"] == "CX-1001" and got["title_block.revision"] == "B"
    assert got["dxf.attribute"] == "DWG_NO: CX-1001\nMATERIAL: S235JR"  # empty values left out
    assert got["dxf.text"] == "Ø12 THRU\nBREAK ALL EDGES"  # repeated texts indexed once
    assert got["dxf.dimension"] == "<> ±0.1\nR5"
    assert got["dxf.layer"] == "TITLE\nDIMS" and got["dxf.block"] == "TB_A3"
    assert got["dxf.property"] == "Project: Hangar 7"
    assert "CX-1001_plate.dxf" in got["file"] and "data dwg" in got["file"]
    assert entry.fields == {"drawing_number": "CX-1001", "revision": "B"}
    assert entry.field_keys() == ["drawing_number=cx-1001", "revision=b"]
    # weight A (file, title block) comes first: the first segment that matches names the field
    assert [s.weight for s in entry.segments] == sorted(s.weight for s in entry.segments)


def test_pdf_pages_tables_callouts_metadata() -> None:
    payload = {
        "metadata": {"Title": "Bracket", "Producer": "ignored"},
        "pages": [
            {
                "number": 1,
                "text": "NOTES page one",
                "tables": [{"rows": [["PART NO", None, "M6x20"], ["", "EN 10025"]]}],
            },
            {"number": 2, "error": "unreadable"},
        ],
        "callouts": [{"text": "Ø12 H7"}, {"text": "M6x1.0-6H"}],
        "title_block": {"fields": {"title": {"value": "BRACKET"}}},
    }
    got = _labels(document.index_entry(_doc("pdf", payload, "/x/a.pdf")))
    assert got["pdf.table"] == "PART NO\nM6x20\nEN 10025"
    assert got["pdf.text"] == "NOTES page one"
    assert got["pdf.callout"] == "Ø12 H7\nM6x1.0-6H"
    assert got["pdf.metadata"] == "Bracket"
    assert got["title_block.title"] == "BRACKET"


def test_ifc_names_tags_types_properties() -> None:
    payload = {
        "project": {"name": "Hangar", "long_name": None},
        "spatial_tree": [
            {
                "ifc_class": "IfcSite",
                "name": "Site",
                "children": [
                    {
                        "ifc_class": "IfcBuildingStorey",
                        "name": "Ground Floor",
                        "children": [{"ifc_class": "IfcSpace", "name": "Room 1.01", "long_name": "Kitchen"}],
                    }
                ],
            }
        ],
        "storeys": [{"name": "Ground Floor"}],
        "elements_by_class": {"IfcDoor": 3},
        "elements": [
            {
                "name": "Door D-12",
                "tag": "D12",
                "type_name": "Door 900x2100",
                "materials": ["Oak"],
                "property_sets": {"Pset_DoorCommon": {"FireRating": "EI30", "id": 7, "IsExternal": True}},
            }
        ],
        "header": {"author": ["J. Doe"], "originating_system": "Revit"},
    }
    got = _labels(document.index_entry(_doc("ifc", payload, "/m/h.ifc")))
    assert got["ifc.project"] == "Hangar" and got["ifc.site"] == "Site"
    assert got["ifc.storey"] == "Ground Floor" and got["ifc.space"] == "Room 1.01\nKitchen"
    assert got["ifc.tag"] == "D12" and got["ifc.element"] == "Door D-12"
    assert got["ifc.type"] == "IfcDoor\nDoor 900x2100" and got["ifc.material"] == "Oak"
    assert got["ifc.property"] == "FireRating: EI30"  # the set's id and booleans are no words to find
    assert got["ifc.header"] == "J. Doe\nRevit"


def test_step_products_parts_assembly_header() -> None:
    payload = {
        "assembly": [{"name": "GEARBOX", "children": [{"name": "SHAFT-01", "instance_name": "SHAFT-01:1"}]}],
        "parts": [{"name": "SHAFT-01"}, {"name": None}],
        "header": {"name": "gearbox.stp", "organization": ["ACME"]},
    }
    got = _labels(document.index_entry(_doc("step", payload, "/s/g.stp")))
    assert got["step.product"] == "GEARBOX" and got["step.part"] == "SHAFT-01"
    assert got["step.assembly"] == "GEARBOX\nSHAFT-01\nSHAFT-01:1"
    assert got["step.header"] == "gearbox.stp\nACME"


def test_unknown_format_and_empty_payload_index_the_file_name() -> None:
    entry = document.index_entry({"format": "noop", "file": {"path": "/q/a.bin"}, "payload": {}})
    assert [s.label for s in entry.segments] == ["file"] and entry.fields == {}
    assert document.index_entry({}).segments == []


def test_identifier_variants_and_symbols() -> None:
    assert document.variants("see CX-1001 and M6x20") == ["CX1001", "CX", "1001"]
    assert document.variants("(A4-70)") == ["A470", "A4", "70"]
    assert document.variants("foo-bar") == []  # no digit: PostgreSQL splits it already
    assert document.normalise("⌀12  THRU\n\n∅8\x00\x02") == "Ø12 THRU\nØ8"
    assert document.normalise_value("  J.  Smith ") == "j. smith"


def test_megabytes_of_text_are_capped_with_a_warning() -> None:
    payload = {
        "title_block": {"fields": {"drawing_number": {"value": "BIG-1"}}},
        "texts": [{"text": f"line {i} " + "x" * 200} for i in range(20_000)],
    }
    entry = document.index_entry(_doc("dxf", payload))
    total = sum(len(s.text) + len(s.extra) for s in entry.segments)
    assert total <= document.MAX_CHARS
    assert entry.warnings and "MB of text" in entry.warnings[0]
    assert _labels(entry)["title_block.drawing_number"] == "BIG-1"  # weight A kept first
    small = document.index_entry(_doc("dxf", {"texts": [{"text": "short"}]}))
    assert small.warnings == []


def test_entry_json_round_trips_and_can_be_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = _doc("dxf", {"texts": [{"text": "CX-1001"}]})
    text, warnings = document.entry_json(doc)
    assert text is not None and warnings == []
    data = json.loads(text)
    assert data["labels"] == ["file", "dxf.text"] and data["weights"] == "AC"
    assert len(data["texts"]) == len(data["extras"]) == 2 and "CX1001" in data["extras"][1]
    assert document.entry_json(doc, enabled=False) == (None, [])
    monkeypatch.setenv(document.ENV_SWITCH, "off")
    assert document.enabled() is False


# -- queries ----------------------------------------------------------------------


def test_web_search_syntax() -> None:
    q = query.parse('bracket "mounting plate" -steel M6x20 or M8x25 CX-10*')
    assert q.clauses == (
        (Term("bracket"),),
        (Term("mounting plate"),),
        (Term("steel", negated=True),),
        (Term("M6x20"), Term("M8x25")),
        (Term("CX-10", Kind.PREFIX),),
    )
    sql, params = q.sql()
    assert sql.count("&&") == 4 and sql.count("||") == 1 and "!!phraseto_tsquery" in sql
    assert params["q5"] == "'CX-10':*"


def test_punctuation_is_never_a_syntax_error() -> None:
    q = query.parse("Ø12 & (EN 10025) | 'x' : ! \"unterminated")
    assert [t.text for c in q.clauses for t in c] == ["Ø12", "(EN", "10025)", "'x'", "unterminated"]
    assert query._prefix_literal("it's\\") == "'it''s\\\\':*"  # quotes can't break out of the literal
    assert query.parse("or or x or").clauses == ((Term("x"),),)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("!!! --- ???", "no letters or digits"),
        ("-steel", "only exclude"),
        ("x" * 10_000, "10,000 characters"),
        (" ".join(f"w{i}" for i in range(100)), "terms"),
    ],
)
def test_bad_queries_say_why(raw: str, message: str) -> None:
    with pytest.raises(BadQuery, match=message):
        query.parse(raw)


def test_field_filters() -> None:
    assert query.parse_field("revision=B") == ("revision", "B")
    assert query.parse_field("Drawn-By=J. SMITH") == ("drawn_by", "J. SMITH")
    f = query.Filters(fields=(("drawn_by", " J.  Smith"),))
    assert f.field_keys() == ["drawn_by=j. smith"]
    for bad, message in [
        ("colour=red", "not a title-block field"),
        ("revision", "NAME=VALUE"),
        ("revision= ", "needs a value"),
    ]:
        with pytest.raises(BadQuery, match=message):
            query.parse_field(bad)


# -- rendering ----------------------------------------------------------------------


def test_snippets_highlight_without_markup_and_in_one_line() -> None:
    import uuid
    from datetime import UTC, datetime

    from rich.console import Console

    from cadextract.search import render, store

    snippet = "[bold red]CX[/] \x02CX-1001\x03\nREV \x02B\x03\x1b[31m"
    plain, spans = store.split_marks(snippet)
    assert plain == "[bold red]CX[/] CX-1001\nREV B\x1b[31m" and spans == [[16, 23], [28, 29]]
    text = render.snippet_text(snippet)
    assert text.plain == "[bold red]CX[/] CX-1001 · REV B?[31m"  # no markup, no escape sequence
    assert [text.plain[s.start : s.end] for s in text.spans] == ["CX-1001", "B"]
    assert store.split_marks("\x02CX\x03\x02-1001\x03 x") == ("CX-1001 x", [[0, 7]])
    hit = store.Hit(
        uuid.uuid4(), "/d/[b]x[/b].dxf", "dxf", None, datetime.now(UTC), 1.0, "dxf.text", snippet, 1
    )
    console = Console(width=200, record=True, color_system=None)
    console.print(render.hits_table([hit]))
    shown = console.export_text()
    assert "/d/[b]x[/b].dxf" in shown and "[bold red]CX[/] CX-1001 · REV B" in shown
    assert render.footer([hit], all_jobs=False) == "1 of 1 matching files"
    assert render.footer([], all_jobs=True) == "no matching jobs"


def test_the_noop_format_writes_no_index_row() -> None:
    # noop reads no drawing: no entry, so the no-op benchmark measures the queue alone
    assert document.entry_json({"format": "noop", "file": {"path": "/q/a.bin"}, "payload": {}}) == (None, [])
    for fmt in ("dxf", "test-sleep"):  # fault-test formats are indexed like real ones
        text, _ = document.entry_json({"format": fmt, "file": {"path": "/q/a.dxf"}, "payload": {}})
        assert text is not None and "a.dxf" in text
