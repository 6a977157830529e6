"""Search and the SQL views on the real corpus, run through the real worker.

Every corpus file (IFC ones with ``detail=full`` so the element views have rows) and the
bundled samples are extracted by the supervisor's children; the index rows are written
by the completion path, then searched as a user would (`cadextract search`), and every
view is checked against the result documents it is built from.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cadextract import files
from cadextract.config import Settings
from cadextract.runtime import supervisor
from cadextract.search import query, sqlviews, store
from cadextract.store import commands, readmodels
from tests.conftest import CORPUS, REPO, run_cli

pytestmark = pytest.mark.corpus


@pytest.fixture(scope="module")
def corpus(engine: Engine, database_url: str) -> dict[str, Any]:
    """{path: (job, document)} of every completed corpus/sample file."""
    if not CORPUS.is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS}")
    with engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE cadextract.extraction_jobs CASCADE"))
    candidates = [
        c
        for c in files.collect([CORPUS, REPO / "samples" / "files"], recursive=True)
        if c.skip_reason is None
    ]
    digests = files.hash_all(candidates)
    new = [
        commands.NewJob(
            path=str(c.path),
            size=c.size,
            sha256=digests[c.path],
            format=c.format or "",
            max_attempts=1,
            options={"detail": "full"} if c.format == "ifc" else {},
        )
        for c in candidates
    ]
    with engine.begin() as conn:
        commands.enqueue(conn, new)
    settings = Settings(database_url=None, home=Path("/nonexistent"), heartbeat_seconds=0.5, poll_seconds=0.5)
    supervisor.Supervisor(engine, settings, supervisor.Options(concurrency=2, until_empty=True)).run()
    out: dict[str, Any] = {}
    with engine.connect() as conn:
        for job, doc in readmodels.iter_results(conn, readmodels.JobFilter()):
            out[job.path] = (job, doc)
    assert len(out) > 50
    return out


@pytest.fixture(scope="module")
def cli_env(database_url: str, pg_home: Path) -> dict[str, str]:
    """The CLI pointed at the test database (this module uses no per-test clean_db)."""
    return {"CADEXTRACT_DATABASE_URL": database_url, "CADEXTRACT_HOME": str(pg_home)}


def _search(engine: Engine, text: str | None, **kw: Any) -> list[store.Hit]:
    fields = tuple(query.parse_field(f) for f in kw.pop("fields", ()))
    with engine.connect() as conn:
        return store.search(
            conn,
            query.parse(text) if text is not None else None,
            query.Filters(fields=fields, **kw),
            limit=50,
        )


def _names(hits: list[store.Hit]) -> dict[str, str | None]:
    return {Path(h.path).name: h.field for h in hits}


@pytest.mark.parametrize(
    ("text", "file", "field"),
    [
        # title-block drawing numbers (PDF table cell, DXF attribute), with punctuation inside
        ("Keyence_Lift-12.19", "edocr2__Elevator_bottom.PDF", "title_block.drawing_number"),
        ("UR10_29.20", "edocr__Gripper.PDF", "title_block.drawing_number"),
        ("CX-1001", "bracket.dxf", "title_block.drawing_number"),
        # a DXF attribute value that is no title-block field
        ("VALUE-rotated", "ezdxf__text.dxf", "dxf.attribute"),
        # a PDF table cell
        ("PAYEENAME", "pdfplumber__senate-expenditures.pdf", "pdf.table"),
        # IFC storey names, one of them in Cyrillic
        ('"Piano Terra"', "xbim__CPM.ifc", "ifc.storey"),
        ("Кровля", "xbim__House.ifc", "ifc.storey"),
        # STEP part names (an identifier with dashes, underscores and a decimal point)
        ("WF8_LCF10-9090-150.0", "nodeocc__7.STEP", "step.part"),
        ("thur3BEC007t-none_1H", "nodeocc__kuka.stp", "step.part"),
        # a callout with a diameter sign typed as U+2300, indexed as Ø
        ("⌀12", "bracket-drawing.pdf", "pdf.callout"),
    ],
)
def test_search_finds(corpus: dict[str, Any], engine: Engine, text: str, file: str, field: str) -> None:
    hits = _names(_search(engine, text))
    assert file in hits, (text, hits)
    assert hits[file] == field or (hits[file] or "").startswith(field.split(".")[0]), hits


def test_identifier_parts_and_prefixes(corpus: dict[str, Any], engine: Engine) -> None:
    assert "bracket.dxf" in _names(_search(engine, "CX1001"))  # joined form
    assert "bracket.dxf" in _names(_search(engine, "1001"))  # the number alone
    assert {"bracket.dxf", "bracket-drawing.pdf"} <= set(_names(_search(engine, "CX-*")))
    assert "bracket.dxf" not in _names(_search(engine, "CX-1002"))


def test_no_stemming(corpus: dict[str, Any], engine: Engine) -> None:
    # English stemming would find "Ground Floor" for "floors", "East Elevation" for "elevations"
    assert "ifcopenshell__basic.ifc" in _names(_search(engine, "floor"))
    floors = _names(_search(engine, "floors"))  # SampleHouse4 has the word itself ("Category: Floors")
    assert "ifcopenshell__basic.ifc" not in floors and "two-storey-house.ifc" not in floors
    assert "ezdxf__recover01.dxf" in _names(_search(engine, "elevation"))
    assert "ezdxf__recover01.dxf" not in _names(_search(engine, "elevations"))


def test_phrases_exclusion_or_and_filters(corpus: dict[str, Any], engine: Engine) -> None:
    ground = set(_names(_search(engine, '"ground floor"')))
    assert {"ifcopenshell__basic.ifc", "xbim__SampleHouse4.ifc", "two-storey-house.ifc"} <= ground
    assert "xbim__CPM.ifc" not in ground
    assert "two-storey-house.ifc" not in _names(_search(engine, '"ground floor" -"first floor"'))
    assert set(_names(_search(engine, "Keyence_Lift-12.19 or UR10_29.20"))) == {
        "edocr2__Elevator_bottom.PDF",
        "edocr__Gripper.PDF",
    }
    assert set(_names(_search(engine, "floor", formats=("pdf",)))) <= {
        n for n in ground if n.endswith(".pdf")
    }
    assert set(_names(_search(engine, '"ground floor"', path_glob="*House*"))) == {"xbim__SampleHouse4.ifc"}
    # glob characters of SQL's LIKE are plain characters in a glob
    assert _search(engine, "floor", path_glob="%") == []
    # the second question: revision B drawn by J. SMITH, no words needed
    hits = _search(engine, None, fields=["revision=b", "drawn_by=j. smith"])
    assert [Path(h.path).name for h in hits] == ["bracket.dxf"]
    assert hits[0].snippet == "revision: \x02B\x03 · drawn_by: \x02J. SMITH\x03"


def test_cli_search_output(corpus: dict[str, Any], engine: Engine, cli_env: dict[str, str]) -> None:
    got = run_cli("search", "CX-1001", "--json", env=cli_env)
    assert got.returncode == 0, got.stderr
    [hit] = json.loads(got.stdout)
    assert hit["path"].endswith("bracket.dxf") and hit["field"] == "title_block.drawing_number"
    assert hit["snippet"] == "CX-1001" and hit["highlights"] == [[0, 7]]
    got = run_cli("search", '"ground floor"', "--ids", "--limit", "2", env=cli_env)
    assert got.returncode == 0 and len(got.stdout.split()) == 2
    table = run_cli("search", "MOUNTING PLATE", env=cli_env)
    assert table.returncode == 0 and "bracket.dxf" in table.stdout and "title_block.title" in table.stdout
    assert "1 of 1 matching files" in table.stderr
    for args, message in [
        (["search", ""], "empty"),
        (["search", "?!"], "no letters or digits"),
        (["search", "x" * 10_000], "limit is 1,000"),
        (["search", "x", "--field", "colour=red"], "not a title-block field"),
    ]:
        bad = run_cli(*args, env=cli_env)
        assert bad.returncode == 2, (args, bad.stderr)
        assert bad.stderr.count("\n") == 1 and message in bad.stderr and "Traceback" not in bad.stderr


def test_cli_export_view_texts(
    corpus: dict[str, Any], engine: Engine, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    import csv

    target = tmp_path / "texts.csv"
    got = run_cli(
        "export", "--view", "texts", "--to", "csv", "--path", "*bracket.dxf", "-o", str(target), env=cli_env
    )
    assert got.returncode == 0, got.stderr
    rows = list(csv.DictReader(target.open()))
    _, doc = next(v for k, v in corpus.items() if k.endswith("samples/files/dxf/bracket.dxf"))
    payload = doc["payload"]
    assert len(rows) == len(payload["texts"]) + sum(len(i["attribs"]) for i in payload["inserts"])
    assert {"kind": "dxf.attribute", "tag": "DWG_NO", "text": "CX-1001"}.items() <= next(
        r for r in rows if r["tag"] == "DWG_NO"
    ).items()
    bad = run_cli("export", "--view", "nope", env=cli_env)
    assert bad.returncode == 2 and "no such view" in bad.stderr


# -- the views against the documents -------------------------------------------------


def _view(engine: Engine, name: str) -> dict[str, list[Any]]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text(f"SELECT * FROM cadextract.{name}")).all()
    out: dict[str, list[Any]] = {}
    for r in rows:
        out.setdefault(r.path, []).append(r)
    return out


def _walk(nodes: list[dict[str, Any]]) -> int:
    return sum(1 + _walk(n.get("children") or []) for n in nodes)


def _close(a: float | None, b: float | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9))


def test_views_match_the_documents_for_every_file(corpus: dict[str, Any], engine: Engine) -> None:
    views = {name: _view(engine, name) for name in sqlviews.VIEWS}
    assert set(views["documents"]) == set(corpus)  # one row per file, every file
    checked = {"dxf": 0, "pdf": 0, "ifc": 0, "step": 0}
    for path, (job, doc) in corpus.items():
        p = doc["payload"]
        [d] = views["documents"][path]
        assert d.job_id == job.id and d.format == job.format and d.sha256 == job.sha256
        fields = (p.get("title_block") or {}).get("fields") or {}
        for name in ("drawing_number", "title", "revision", "date", "scale", "sheet", "drawn_by"):
            assert getattr(d, name) == (fields.get(name) or {}).get("value"), (path, name)
        n = {name: len(rows.get(path, [])) for name, rows in views.items()}
        if job.format == "dxf":
            assert n["texts"] == len(p["texts"]) + sum(len(i["attribs"]) for i in p["inserts"])
            assert n["layers"] == len(p["layers"])
            assert sum(r.entity_count or 0 for r in views["layers"].get(path, [])) == sum(
                layer["entity_count"] or 0 for layer in p["layers"]
            )
            assert n["dimensions"] == len(p["dimensions"])
            got = sorted((r.value for r in views["dimensions"].get(path, [])), key=str)
            assert got == sorted((x["measurement"] for x in p["dimensions"]), key=str)
            assert n["title_blocks"] == len(fields)
        elif job.format == "pdf":
            assert n["texts"] == sum(1 for page in p["pages"] if "text" in page)
            cells = sum(len(row) for page in p["pages"] for t in page.get("tables", []) for row in t["rows"])
            assert n["pdf_tables"] == cells
            assert n["dimensions"] == len(p["callouts"]) and n["title_blocks"] == len(fields)
        elif job.format == "ifc":
            assert n["ifc_storeys"] == len(p["storeys"])
            assert sum(r.count for r in views["ifc_storey_classes"].get(path, [])) == sum(
                sum(s["elements_by_class"].values()) for s in p["storeys"]
            )
            assert n["ifc_elements"] == len(p["elements"])
            props = sum(
                1
                for e in p["elements"]
                for ps in (e["property_sets"] or {}).values()
                for k in ps
                if k != "id"
            )
            assert n["ifc_properties"] == props
        elif job.format == "step":
            assert n["step_parts"] == len(p["parts"])
            assert _close(
                sum(r.volume for r in views["step_parts"].get(path, [])) if p["parts"] else None,
                sum(x["volume"] for x in p["parts"]) if p["parts"] else None,
            )
            assert n["step_assembly"] == _walk(p["assembly"])
        checked[job.format] = checked.get(job.format, 0) + 1  # raster scans have no per-format view
    assert all(checked[f] for f in ("dxf", "pdf", "ifc", "step")), checked


def test_the_four_questions(corpus: dict[str, Any], engine: Engine) -> None:
    """The SQL of docs/sql.md answers them (the M6x20 and revision-B ones are searches)."""
    with engine.connect() as conn:
        doors = conn.execute(
            sa.text(
                """SELECT storey, sum(count) AS doors FROM cadextract.ifc_storey_classes
                   WHERE ifc_class = 'IfcDoor' GROUP BY storey ORDER BY storey"""
            )
        ).all()
        big = conn.execute(
            sa.text(
                "SELECT path, name, volume_l FROM cadextract.step_parts WHERE volume_l > 1 ORDER BY volume_l"
            )
        ).all()
    assert doors and all(r.doors > 0 for r in doors)
    assert "thur3BEC007t-none_1H" in {r.name for r in big} and all(r.volume_l > 1 for r in big)
