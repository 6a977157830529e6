"""Real OCR on the scanned sample drawing: the raster path, image-only PDF pages, engines."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cadextract import result
from cadextract.extractors import base, pdf, raster
from tests.conftest import REPO

SAMPLES = REPO / "samples"
SCAN = SAMPLES / "files" / "scan" / "bracket-scan.png"
EXPECTED: dict[str, Any] = json.loads((SAMPLES / "expected.json").read_text())["scan/bracket-scan.png"]


def validated(fmt: str, payload: dict[str, Any]) -> dict[str, Any]:
    doc = result.build_document(
        format=fmt,
        extractor_name=fmt,
        extractor_version="1",
        libraries={},
        path="/x",
        sha256="0" * 64,
        size=1,
        payload=payload,
        extract_seconds=0.0,
    )
    result.validate(doc)
    return payload


def fields(payload: dict[str, Any]) -> dict[str, str]:
    return {k: v["value"] for k, v in payload["title_block"]["fields"].items()}


def callout_values(payload: dict[str, Any]) -> set[tuple[str, float | None]]:
    return {(c["kind"], c["value"]) for c in payload["callouts"]}


@pytest.fixture(scope="module")
def scan_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Page 1 of the sample drawing as an image-only PDF (Pillow writes the scan as one JPEG-less image)."""
    from PIL import Image

    out = tmp_path_factory.mktemp("scan") / "bracket-scan.pdf"
    with Image.open(SCAN) as image:
        image.save(out, resolution=EXPECTED["dpi"])
    return out


def test_scanned_sample_png_gives_title_block_and_callouts() -> None:
    got = validated("raster", raster.extract(SCAN, {}, base.no_progress))
    assert (got["image_format"], got["page_count"], got["width"], got["height"], got["dpi"]) == (
        "PNG",
        1,
        EXPECTED["width"],
        EXPECTED["height"],
        EXPECTED["dpi"],
    )
    found = fields(got)
    assert found["drawing_number"] == EXPECTED["title_block"]["drawing_number"]
    right = [name for name, value in EXPECTED["title_block"].items() if found.get(name) == value]
    assert len(right) >= 6, found  # measured: all 7
    expected_callouts = {(c["kind"], c["value"]) for c in pdf.find_callouts("\n".join(EXPECTED["callouts"]))}
    assert expected_callouts <= callout_values(got)
    page = got["pages"][0]
    assert page["text_source"] == "ocr" and page["ocr"]["engine"] == "rapidocr"
    assert page["ocr"]["mean_confidence"] > 0.9
    # words are positioned in image pixels: the drawing number sits in the title block, lower right
    [number] = [w for w in page["words"] if w["text"] == "CX-2002"]
    assert number["x0"] > got["width"] * 0.6 and number["top"] > got["height"] * 0.6
    assert any("read by OCR" in w for w in got["warnings"])


def test_image_only_pdf_page_is_read_by_ocr(scan_pdf: Path) -> None:
    got = validated("pdf", pdf.extract(scan_pdf, {}, base.no_progress))
    page = got["pages"][0]
    assert page["has_text_layer"] is False and got["pages_without_text"] == [1]
    assert page["text_source"] == "ocr" and page["ocr"]["dpi"] == 200
    assert fields(got)["drawing_number"] == "CX-2002"
    assert page["callout_count"] >= 4
    # boxes in PDF points: the page is 420 mm wide = 1190.55 pt
    assert all(0 <= w["x0"] < w["x1"] <= 1191 for w in page["words"])
    assert got["ocr"]["pages"] == [1] and got["ocr"]["engine_used"] == "rapidocr"
    assert any("read by OCR" in w and ": 1;" in w for w in got["warnings"])
    assert not any("run OCR" in w for w in got["warnings"])


def test_ocr_never_keeps_the_scan_warning(scan_pdf: Path) -> None:
    got = validated("pdf", pdf.extract(scan_pdf, {"ocr": "never"}, base.no_progress))
    assert got["pages"][0]["text"] == "" and "text_source" not in got["pages"][0]
    assert got["title_block"]["fields"] == {} and got["ocr"]["pages"] == []
    assert any("run OCR" in w for w in got["warnings"])


def test_ocr_always_replaces_a_text_layer() -> None:
    source = SAMPLES / "files" / "pdf" / "bracket-drawing.pdf"
    got = pdf.extract(source, {"ocr": "always", "ocr_dpi": 150}, base.no_progress)
    assert got["has_text_layer"] is True  # the file still has one
    assert got["ocr"]["pages"] == [1, 2]
    assert [p["text_source"] for p in got["pages"]] == ["ocr", "ocr"]
    assert fields(got)["drawing_number"] == "CX-2002"


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="the tesseract program is not installed")
def test_tesseract_engine_reads_the_scan() -> None:
    got = validated("raster", raster.extract(SCAN, {"ocr_engine": "tesseract"}, base.no_progress))
    assert got["ocr"]["engine_used"] == "tesseract"
    assert fields(got).get("drawing_number") == "CX-2002"
    with pytest.raises(base.BadOption):
        raster.extract(SCAN, {"ocr_engine": "tesseract", "ocr_lang": "x+y"}, base.no_progress)


def _no_network() -> list[str]:
    """A command prefix that runs without any network (a fresh network namespace), if allowed."""
    probe = subprocess.run(["unshare", "--net", "true"], capture_output=True, check=False)
    if shutil.which("unshare") is None or probe.returncode != 0:
        pytest.skip("cannot create a network namespace here (unshare --net)")
    return ["unshare", "--net"]


def _in_child(code: str, env: dict[str, str] | None = None, prefix: list[str] | None = None) -> Any:
    r = subprocess.run(
        [*(prefix or []), sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, **(env or {})},
        timeout=300,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_engine_runs_offline_single_threaded_and_loads_once(tmp_path: Path) -> None:
    """In a process with no network at all: models come from the package, never a download."""
    from PIL import Image

    block = tmp_path / "title-block.png"  # the scan's title block: small, so the test is quick
    with Image.open(SCAN) as image:
        image.crop((1600, 1050, 2400, 1700)).save(block)
    out = _in_child(
        "import json, psutil\n"
        "from cadextract.extractors import raster, base\n"
        f"a = raster.extract({str(block)!r}, {{}}, base.no_progress)\n"
        f"b = raster.extract({str(block)!r}, {{}}, base.no_progress)\n"
        "print(json.dumps([psutil.Process().num_threads(), a['ocr']['model_load_seconds'],"
        " b['ocr']['model_load_seconds'], b['title_block']['fields']['drawing_number']['value']]))",
        prefix=_no_network(),
    )
    threads, first_load, second_load, number = out
    # onnxruntime and OpenCV default to a pool per core (8 threads here): limited, it is the
    # main thread plus at most one helper
    assert threads <= 2
    assert first_load > 0 and second_load == 0
    assert number == "CX-2002"


def test_no_engine_usable_completes_with_the_reason() -> None:
    out = _in_child(
        "import json\n"
        "from cadextract.extractors import raster, base\n"
        f"p = raster.extract({str(SCAN)!r}, {{'ocr_engine': 'tesseract'}}, base.no_progress)\n"
        "print(json.dumps([p['total_text_chars'], p['ocr']['unavailable'], p['warnings']]))",
        env={"PATH": "/nonexistent"},  # no tesseract program to be found
    )
    chars, reason, warnings = out
    assert chars == 0 and "tesseract program is not installed" in reason
    assert any("no OCR engine usable" in w for w in warnings)


def test_rapidocr_models_ship_in_the_wheel() -> None:
    """The default engine's model files are inside its installed package: nothing to download."""
    import rapidocr_onnxruntime

    package = Path(rapidocr_onnxruntime.__file__).parent
    models = sorted(p.name for p in (package / "models").glob("*.onnx"))
    assert len(models) == 3, models  # detection, direction classifier, recognition
    config = (package / "config.yaml").read_text()
    assert all(f"models/{name}" in config for name in models)
