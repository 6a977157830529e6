"""Scans through the real worker: hostile images end as clear failures or warnings, inside
the memory cap, and the worker goes on; the OCR model is loaded once per child."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from tests.conftest import REPO, run_cli
from tests.helpers import job_rows

SCAN = REPO / "samples" / "files" / "scan" / "bracket-scan.png"
MEMORY_MB = 1024  # the children's cap in these tests: a page may decode into 256 MB


def png_bomb(path: Path, side: int) -> None:
    """A greyscale PNG of side x side white pixels: a few hundred KB that inflate to side² bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    packer = zlib.compressobj(9)
    row = b"\x00" + b"\xff" * side  # filter byte + one row
    body = b"".join(packer.compress(row * 64) for _ in range(side // 64)) + packer.flush()
    with path.open("wb") as fh:
        fh.write(b"\x89PNG\r\n\x1a\n")
        fh.write(chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)))
        fh.write(chunk(b"IDAT", body))
        fh.write(chunk(b"IEND", b""))


def huge_jpeg(path: Path, side: int) -> None:
    """A side x side greyscale JPEG scan with the sample title block pasted in a corner."""
    from PIL import Image

    with Image.open(SCAN) as scan:
        block = scan.crop((1600, 1050, 2400, 1700)).resize((6400, 5200))
    page = Image.new("L", (side, side), 255)
    page.paste(block, (side - 6600, side - 5400))
    page.save(path, quality=60)
    page.close()


def many_pages_tiff(path: Path, pages: int) -> None:
    from PIL import Image

    frames = [Image.new("L", (64, 64), 255) for _ in range(pages)]
    frames[0].save(path, save_all=True, append_images=frames[1:], compression="tiff_deflate")


def submit(*paths: Path, options: tuple[str, ...] = ()) -> dict[str, str]:
    r = run_cli("submit", "--json", *map(str, paths), *options)
    assert r.returncode == 0, r.stderr
    return {Path(o["path"]).name: o["job_id"] for o in json.loads(r.stdout) if o["queued"]}


def result(job_id: str) -> dict[str, Any]:
    r = run_cli("result", job_id, "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)  # type: ignore[no-any-return]


def test_hostile_scans_fail_or_warn_and_the_worker_goes_on(clean_db: Engine, tmp_path: Path) -> None:
    bomb, big, tiff, cut = (
        tmp_path / "bomb.png",
        tmp_path / "scan-20000.jpg",
        tmp_path / "500-pages.tif",
        tmp_path / "cut.jpg",
    )
    png_bomb(bomb, 40_000)  # 1.6 GB of pixels in a small file
    huge_jpeg(big, 20_000)
    many_pages_tiff(tiff, 500)
    from PIL import Image

    with Image.open(SCAN) as scan:
        scan.save(cut, quality=80)
    cut.write_bytes(cut.read_bytes()[: cut.stat().st_size // 2])
    assert bomb.stat().st_size < 3_000_000
    jobs = submit(bomb, big, tiff, cut, options=("-o", "ocr_max_pixels=4000000"))
    jobs |= submit(SCAN)  # a good scan after the bad ones: the worker must still do it
    assert len(jobs) == 5

    r = run_cli(
        "work",
        "-c",
        "2",
        "--until-empty",
        env={"CADEXTRACT_MEMORY_LIMIT_MB": str(MEMORY_MB)},
        timeout=900,
    )
    assert "Traceback" not in r.stderr, r.stderr
    rows = {row.path.rsplit("/", 1)[-1]: row for row in job_rows(clean_db).values()}
    status = {name: row.status for name, row in rows.items()}
    assert status == {
        "bomb.png": "failed",
        "scan-20000.jpg": "completed",
        "500-pages.tif": "completed",
        "cut.jpg": "failed",
        "bracket-scan.png": "completed",
    }, {n: (row.status, row.last_error_message) for n, row in rows.items()}
    # failures are permanent, with a reason a user can act on, not a memory-cap kill
    assert rows["bomb.png"].last_error_type == "ImageTooLarge" and rows["bomb.png"].attempts == 1
    assert "40000 × 40000 px" in rows["bomb.png"].last_error_message
    assert "memory cap" in rows["bomb.png"].last_error_message
    assert rows["cut.jpg"].last_error_type == "TruncatedFile" and rows["cut.jpg"].attempts == 1

    big_doc = result(jobs["scan-20000.jpg"])
    payload = big_doc["payload"]
    assert (payload["width"], payload["height"]) == (20_000, 20_000)
    assert any("downsampled" in w for w in big_doc["warnings"])
    assert payload["title_block"]["fields"]["drawing_number"]["value"] == "CX-2002"
    # word boxes come back in the original image's pixels
    [number] = [w for w in payload["pages"][0]["words"] if w["text"] == "CX-2002"]
    assert number["x0"] > 13_400 and number["top"] > 14_600

    tiff_doc = result(jobs["500-pages.tif"])
    assert tiff_doc["payload"]["page_count"] == 500 and tiff_doc["payload"]["pages_read"] == 200
    assert any("first 200 of 500 pages" in w for w in tiff_doc["warnings"])

    good = result(jobs["bracket-scan.png"])["payload"]
    assert good["title_block"]["fields"]["drawing_number"]["value"] == "CX-2002"


def test_bad_ocr_option_is_refused_at_submit(clean_db: Engine) -> None:
    r = run_cli("submit", str(SCAN), "-o", "ocr=sometimes")
    assert r.returncode == 2 and "ocr='sometimes'" in r.stderr and "Traceback" not in r.stderr
    r = run_cli("submit", str(SCAN), "-o", "ocr_dpi=5000")
    assert r.returncode == 2 and "ocr_dpi" in r.stderr
    assert job_rows(clean_db) == {}


def test_model_loads_once_per_child(clean_db: Engine, tmp_path: Path) -> None:
    from PIL import Image

    paths = []
    for i, box in enumerate([(1600, 1050, 2400, 1700), (1600, 1050, 2400, 1400), (1600, 1300, 2400, 1700)]):
        path = tmp_path / f"block-{i}.png"
        with Image.open(SCAN) as scan:
            scan.crop(box).save(path)
        paths.append(path)
    jobs = submit(*paths)
    r = run_cli("work", "-c", "1", "--until-empty", timeout=600)
    assert r.returncode == 0, r.stderr
    loads = sorted(result(j)["payload"]["ocr"]["model_load_seconds"] for j in jobs.values())
    assert loads[0] == 0 and loads[1] == 0 and loads[2] > 0  # one child: one load, three jobs


def test_doctor_lists_the_ocr_engines(clean_db: Engine) -> None:
    r = run_cli("doctor", "--json")
    checks = {c["check"]: c for c in json.loads(r.stdout)}
    assert checks["ocr engine rapidocr"]["ok"] is True
    assert "model loaded" in checks["ocr engine rapidocr"]["detail"]
    assert "ocr engine tesseract" in checks
    assert checks["extractor raster"]["ok"] is True
