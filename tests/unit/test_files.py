"""Format detection and file collection, on files made here (no database)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cadextract import files

STEP_HEADER = b"""ISO-10303-21;
HEADER;
FILE_DESCRIPTION(('x'),'2;1');
FILE_NAME('a.stp','2020-01-01',(''),(''),'','','');
FILE_SCHEMA(('AUTOMOTIVE_DESIGN { 1 0 10303 214 1 1 1 1 }'));
ENDSEC;
"""
IFC_HEADER = STEP_HEADER.replace(b"AUTOMOTIVE_DESIGN { 1 0 10303 214 1 1 1 1 }", b"IFC4")


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "pdf"),
        (b"  0\nSECTION\n  2\nHEADER\n", "dxf"),
        (b"999\ndxflib 3.17\n  0\r\nSECTION\r\n", "dxf"),
        (b"AutoCAD Binary DXF\r\n\x1a\x00rest", "dxf"),
        (STEP_HEADER, "step"),
        (IFC_HEADER, "ifc"),
        (IFC_HEADER.replace(b"IFC4", b"IFC2X3"), "ifc"),
        (
            STEP_HEADER.replace(
                b"AUTOMOTIVE_DESIGN { 1 0 10303 214 1 1 1 1 }",
                b"AP242_MANAGED_MODEL_BASED_3D_ENGINEERING_MIM_LF",
            ),
            "step",
        ),
        (b"ISO-10303-21;\nHEADER;\n", None),  # header cut before FILE_SCHEMA
        (b"hello world", None),
        (b"", None),
    ],
)
def test_detect_bytes(head: bytes, expected: str | None) -> None:
    assert files.detect_bytes(head) == expected


def test_content_beats_extension(tmp_path: Path) -> None:
    # an IFC file saved with a .stp name is still IFC: the schema decides
    p = tmp_path / "model.stp"
    p.write_bytes(IFC_HEADER)
    assert files.detect_format(p) == "ifc"
    q = tmp_path / "drawing.txt"
    q.write_bytes(b"%PDF-1.4\n")
    assert files.detect_format(q) == "pdf"


def test_extension_is_the_fallback_for_unreadable_content(tmp_path: Path) -> None:
    p = tmp_path / "broken.DXF"
    p.write_bytes(b"\x00\x01garbage")
    assert files.detect_format(p) == "dxf"
    q = tmp_path / "notes.txt"
    q.write_bytes(b"\x00\x01garbage")
    assert files.detect_format(q) is None


def test_ifczip_detected_by_member(tmp_path: Path) -> None:
    import zipfile

    p = tmp_path / "model.zip"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("model.ifc", IFC_HEADER)
    assert files.detect_format(p) == "ifc"


def test_collect_rejects_bad_explicit_paths(tmp_path: Path) -> None:
    (tmp_path / "empty.dxf").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(files.SubmitError, match="no such file"):
        files.collect([tmp_path / "missing.dxf"], recursive=False)
    with pytest.raises(files.SubmitError, match="--recursive"):
        files.collect([tmp_path], recursive=False)
    with pytest.raises(files.SubmitError, match="empty file"):
        files.collect([tmp_path / "empty.dxf"], recursive=False)
    with pytest.raises(files.SubmitError, match="unsupported file type"):
        files.collect([tmp_path / "notes.txt"], recursive=False)
    with pytest.raises(files.SubmitError, match="unknown format"):
        files.collect([tmp_path / "notes.txt"], recursive=False, forced_format="dwg")


def test_collect_in_folders_skips_with_reasons(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.pdf").write_bytes(b"%PDF-1.4\n")
    (tmp_path / "empty.dxf").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "b.pdf").write_bytes(b"%PDF-1.4\n")
    found = {c.path.name: c for c in files.collect([tmp_path], recursive=True)}
    assert set(found) == {"a.pdf", "empty.dxf", "notes.txt"}
    assert found["a.pdf"].format == "pdf" and found["a.pdf"].skip_reason is None
    assert found["a.pdf"].path.is_absolute()
    assert "empty" in (found["empty.dxf"].skip_reason or "")
    assert "unsupported" in (found["notes.txt"].skip_reason or "")


def test_hash_matches_hashlib_in_parallel(tmp_path: Path) -> None:
    import hashlib

    paths = []
    for i in range(40):
        p = tmp_path / f"f{i}.pdf"
        p.write_bytes(b"%PDF-1.4\n" + bytes([i]) * (i * 1000))
        paths.append(p)
    cands = files.collect(paths, recursive=False)
    seen = []
    digests = files.hash_all(cands, workers=4, on_done=seen.append, parallel_above=5000)
    assert len(seen) == 40
    for p in paths:
        assert digests[p.resolve()] == hashlib.sha256(p.read_bytes()).hexdigest()


def test_small_file_hash_reads_to_the_end_when_the_file_grew(tmp_path: Path) -> None:
    import hashlib

    p = tmp_path / "grown.dxf"
    p.write_bytes(b"0\nSECTION\n" * 5000)
    stale = files.Candidate(p, 3, "dxf")  # stat'ed at 3 bytes, 50 kB when read
    assert files.hash_all([stale]) == {p: hashlib.sha256(p.read_bytes()).hexdigest()}
