"""The console over real extractions: previews of every format, XSS payloads stay text.

One module-wide run of `cadextract run` over the four samples plus two hostile files
(a DXF whose TEXT is a script tag, an IFC whose names break out of attributes).
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cadextract.previews import Preview
from cadextract.previews import store as preview_store
from tests.browser.conftest import shot
from tests.conftest import REPO, run_cli

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").expect
DXF_SCRIPT = "<script>window.__xss=1</script>"
IFC_NAME = '"><img src=x onerror="window.__xss=2">'


def make_hostile_dxf(path: Path) -> None:
    import ezdxf

    doc = ezdxf.new()
    msp = doc.modelspace()
    msp.add_line((0, 0), (100, 0))
    msp.add_line((100, 0), (100, 50))
    msp.add_text(DXF_SCRIPT, dxfattribs={"height": 5}).set_placement((5, 10))
    doc.saveas(path)


def make_hostile_ifc(path: Path) -> None:
    """An IFC4 model with a real wall and slab (drawn in the plan), names carrying HTML."""
    import ifcopenshell
    import ifcopenshell.api

    f = ifcopenshell.api.run("project.create_file", version="IFC4")
    project = ifcopenshell.api.run("root.create_entity", f, ifc_class="IfcProject", name=IFC_NAME)
    ifcopenshell.api.run("unit.assign_unit", f)
    model = ifcopenshell.api.run("context.add_context", f, context_type="Model")
    body = ifcopenshell.api.run(
        "context.add_context",
        f,
        context_type="Model",
        context_identifier="Body",
        target_view="MODEL_VIEW",
        parent=model,
    )
    site = ifcopenshell.api.run("root.create_entity", f, ifc_class="IfcSite", name="Site")
    building = ifcopenshell.api.run("root.create_entity", f, ifc_class="IfcBuilding", name="Building")
    storey = ifcopenshell.api.run("root.create_entity", f, ifc_class="IfcBuildingStorey", name=IFC_NAME)
    ifcopenshell.api.run("aggregate.assign_object", f, relating_object=project, products=[site])
    ifcopenshell.api.run("aggregate.assign_object", f, relating_object=site, products=[building])
    ifcopenshell.api.run("aggregate.assign_object", f, relating_object=building, products=[storey])
    for i, (x, y, angle) in enumerate([(0, 0, 0), (5000, 0, 90), (5000, 4000, 180), (0, 4000, 270)]):
        wall = ifcopenshell.api.run("root.create_entity", f, ifc_class="IfcWall", name=f"{IFC_NAME} {i}")
        rep = ifcopenshell.api.run(
            "geometry.add_wall_representation",
            f,
            context=body,
            length=5.0 if i % 2 == 0 else 4.0,
            height=3.0,
            thickness=0.2,
        )
        ifcopenshell.api.run("geometry.assign_representation", f, product=wall, representation=rep)
        import numpy as np

        matrix = np.eye(4)
        rad = np.radians(angle)
        matrix[:2, :2] = [[np.cos(rad), -np.sin(rad)], [np.sin(rad), np.cos(rad)]]
        matrix[0, 3], matrix[1, 3] = x / 1000, y / 1000
        ifcopenshell.api.run("geometry.edit_object_placement", f, product=wall, matrix=matrix)
        ifcopenshell.api.run("spatial.assign_container", f, relating_structure=storey, products=[wall])
    f.write(str(path))


@pytest.fixture(scope="module")
def extracted(engine: Engine, database_url: str, pg_home: Path, tmp_path_factory: Any) -> dict[str, Any]:
    """The samples and the hostile files, extracted for real by `cadextract run`."""
    folder = tmp_path_factory.mktemp("console-files")
    shutil.copytree(REPO / "samples" / "files", folder, dirs_exist_ok=True)
    make_hostile_dxf(folder / "dxf" / "hostile.dxf")
    make_hostile_ifc(folder / "ifc" / "hostile.ifc")
    with engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE cadextract.extraction_jobs CASCADE"))
    env = {"CADEXTRACT_DATABASE_URL": database_url, "CADEXTRACT_HOME": str(pg_home)}
    r = run_cli("run", str(folder), "-r", "-q", "--batch", "console", env=env, timeout=600)
    assert r.returncode == 0, r.stderr
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT id, path, format FROM cadextract.extraction_jobs")).all()
    return {Path(r.path).name: r.id for r in rows}


def test_previews_load_for_every_format(
    extracted: dict[str, Any], console_factory: Any, page: Any, tmp_path: Path
) -> None:
    console = console_factory()
    for name in (
        "bracket.dxf",
        "bracket-drawing.pdf",
        "pin-and-plate.step",
        "two-storey-house.ifc",
        "hostile.ifc",
    ):
        page.goto(f"{console.url}/jobs/{extracted[name]}")
        img = page.locator("img#preview")
        img.wait_for()
        expect(img).to_have_js_property("complete", True)
        width = page.evaluate("document.querySelector('img#preview').naturalWidth")
        assert width > 0, f"the preview of {name} did not load"
        shot(page, tmp_path, "job" if name == "bracket.dxf" else f"job-{name}", docs=name == "bracket.dxf")
    # the plan of the hostile IFC has its four walls as footprints
    svg = page.request.get(f"{console.url}/jobs/{extracted['hostile.ifc']}/preview").text()
    assert svg.count("<polygon") == 4
    assert "&lt;img" in svg or "&quot;&gt;&lt;img" in svg  # the storey name is text in the SVG


def test_job_page_shows_fields_result_and_json(
    extracted: dict[str, Any], console_factory: Any, page: Any
) -> None:
    console = console_factory()
    job_id = extracted["two-storey-house.ifc"]
    page.goto(f"{console.url}/jobs/{job_id}")
    body = page.locator("main").inner_text()
    assert str(job_id) in body and "two-storey-house.ifc" in body
    assert "Ground Floor" in body  # a row of the result tables
    with page.expect_download() as info:
        page.click("text=JSON")
    document = Path(info.value.path()).read_text()
    assert '"format": "ifc"' in document


def test_xss_payloads_stay_text(
    extracted: dict[str, Any], console_factory: Any, page: Any, tmp_path: Path
) -> None:
    console = console_factory()
    for name, payload in (("hostile.dxf", DXF_SCRIPT), ("hostile.ifc", IFC_NAME)):
        page.goto(f"{console.url}/jobs/{extracted[name]}")
        assert payload in page.locator("main").inner_text(), f"{name}: the payload is not shown as text"
        assert page.evaluate("window.__xss") is None, f"{name}: the payload ran"
        assert page.locator("main script, main img[src='x']").count() == 0
        shot(page, tmp_path, f"xss-{name}")
    page.goto(f"{console.url}/search?q=hostile")
    assert page.evaluate("window.__xss") is None
    # the hostile names are in the index: their hits and snippets render as text
    page.goto(f"{console.url}/search?q=window")
    assert "hostile.ifc" in page.locator("#hits").inner_text()
    assert page.evaluate("window.__xss") is None
    assert page.locator("main script, main img[src='x']").count() == 0


def test_search_box_uses_the_full_text_index(
    extracted: dict[str, Any], console_factory: Any, page: Any, tmp_path: Path
) -> None:
    console = console_factory()
    page.goto(console.url)
    page.fill("input[name=q]", '"ground floor"')
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?q=*")
    hits = page.locator("#hits tbody tr")
    assert "two-storey-house.ifc" in hits.first.inner_text()
    assert page.locator("#hits mark").first.inner_text().lower() in ("ground", "ground floor")
    shot(page, tmp_path, "search")
    # a job id prefix lists the job; punctuation alone says why nothing was searched
    job_id = str(extracted["bracket.dxf"])
    page.goto(f"{console.url}/search?q={job_id[:8]}")
    assert job_id[:8] in page.locator("main").inner_text()
    page.goto(f"{console.url}/search?q=%3F%21")
    assert "no letters or digits" in page.locator("#search-error").inner_text()


def test_svg_preview_with_a_script_cannot_run(
    extracted: dict[str, Any], console_factory: Any, page: Any, engine: Engine, tmp_path: Path
) -> None:
    """A stored SVG that carries a script: neither in the page nor opened alone does it run."""
    job_id: uuid.UUID = extracted["bracket.dxf"]
    evil = (
        b'<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100" onload="document.title=\'pwned\'">'
        b"<script>document.title='pwned';window.__xss=3</script>"
        b'<rect width="200" height="100" fill="red"/></svg>'
    )
    with engine.begin() as conn:
        original = preview_store.get(conn, job_id)
        preview_store.save(conn, [preview_store.Stored(job_id, Preview("image/svg+xml", evil, 0.01))])
    try:
        console = console_factory()
        response = page.goto(f"{console.url}/jobs/{job_id}/preview")
        assert "sandbox" in response.headers["content-security-policy"]
        assert response.headers["content-type"].startswith("image/svg+xml")
        page.wait_for_timeout(300)
        assert page.title() != "pwned"
        page.goto(f"{console.url}/jobs/{job_id}")
        page.wait_for_timeout(300)
        assert page.title() != "pwned" and page.evaluate("window.__xss") is None
        shot(page, tmp_path, "svg-payload")
    finally:
        if original is not None:
            with engine.begin() as conn:
                preview_store.save(conn, [preview_store.Stored(job_id, original)])


def test_dashboard_shows_the_counts(
    extracted: dict[str, Any], console_factory: Any, page: Any, engine: Engine, tmp_path: Path
) -> None:
    with engine.connect() as conn:
        counts = dict(
            conn.execute(sa.text("SELECT status, count(*) FROM cadextract.extraction_jobs GROUP BY 1")).all()
        )
    console = console_factory()
    page.goto(console.url + "/")
    for status in ("pending", "processing", "completed", "failed", "cancelled"):
        shown = page.locator(f'[data-count="{status}"]').inner_text()
        assert int(shown) == counts.get(status, 0), status
    assert page.locator('tr[data-format="step"]').count() == 1
    shot(page, tmp_path, "dashboard", docs=os.environ.get("CADEXTRACT_DOCS_SCREENSHOTS") == "1")
