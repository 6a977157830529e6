"""PDF extractor: generated sample (exact values), the shared corpus (vs REFERENCE.json), errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cadextract.extractors import base, registry
from cadextract.extractors.pdf import EXTRACTOR, extract, find_callouts
from samples.generators.dxf_pdf import make_pdf
from tests.conftest import CORPUS, REFERENCE
from tests.extractors import common
from tests.extractors.common import Recorder, check_progress

CORPUS_FILES = sorted(
    f"{folder}/{p.name}"
    for folder in ("pdf", "bad")
    if (CORPUS / folder).is_dir()
    for p in (CORPUS / folder).iterdir()
    if p.suffix.lower() == ".pdf"
)
#: files in the corpus whose pages carry no text layer at all
NO_TEXT = {"pdf/ocrmypdf__skew.pdf", "pdf/ocrmypdf__vector.pdf"}
#: files the extractor must refuse, and how
MUST_FAIL: dict[str, tuple[type[base.ExtractionError], ...]] = {
    "bad/ocrmypdf__invalid.pdf": (base.CorruptFile, base.WrongFormat),
    "bad/pdfminer__aes-256.pdf": (base.EncryptedFile,),
    "bad/pdfplumber__password-example.pdf": (base.EncryptedFile,),
}


def run(path: Path, options: dict[str, Any] | None = None) -> tuple[dict[str, Any], Recorder]:
    return common.run_extractor(EXTRACTOR, path, options)


def validated(path: Path, payload: dict[str, Any]) -> dict[str, Any]:
    return common.validated(EXTRACTOR, path, payload)


def compare_with_reference(p: dict[str, Any], ref: dict[str, Any]) -> None:
    assert p["page_count"] == ref["page_count"]
    assert len(p["pages"]) == len(ref["pages"])
    for got, want in zip(p["pages"], ref["pages"], strict=True):
        assert got["number"] == want["page"]
        assert got["width"] == pytest.approx(want["width"], abs=0.01)
        assert got["height"] == pytest.approx(want["height"], abs=0.01)
        assert got["text_chars"] == want["text_chars"], f"page {want['page']}"
        assert got["table_count"] == want["tables"], f"page {want['page']}"
        assert len(got["tables"]) == want["tables"]
    if "total_text_chars" in ref:
        assert p["total_text_chars"] == ref["total_text_chars"]


# ----------------------------------------------------------------------------- generated sample


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], dict[str, Any], Recorder]:
    path = tmp_path_factory.mktemp("pdf") / "bracket.pdf"
    expected = make_pdf(path)
    payload, rec = run(path)
    return path, expected, payload, rec


def test_registry_lookup() -> None:
    assert registry.get("pdf") is EXTRACTOR
    assert EXTRACTOR.summarize is not None and EXTRACTOR.rows is not None
    assert "pdfplumber" in EXTRACTOR.versions()


def test_sample_pages(sample: Any) -> None:
    _, exp, p, _ = sample
    assert p["page_count"] == exp["page_count"]
    assert p["encrypted"] is False
    assert p["has_text_layer"] is True and p["pages_without_text"] == []
    for page in p["pages"]:
        assert page["width"] == pytest.approx(exp["page_width"], abs=0.01)
        assert page["height"] == pytest.approx(exp["page_height"], abs=0.01)
        assert page["rotation"] == 0
        assert page["has_text_layer"] is True
        assert page["text_chars"] == len(page["text"]) > 0
        assert page["table_count"] >= exp["tables_per_page_min"]
    for key, value in exp["metadata"].items():
        assert p["metadata"][key] == value


def test_sample_title_block(sample: Any) -> None:
    _, exp, p, _ = sample
    fields = p["title_block"]["fields"]
    assert {k: v["value"] for k, v in fields.items()} == exp["title_block"]
    for name, field in fields.items():
        assert field["source"]["page"] == 1
        assert field["source"]["method"] == "table_right"
        assert field["source"]["label"] == exp["labels"][name]
    for page, want in zip(p["pages"], exp["pages"], strict=True):
        assert page["title_block"] == want["title_block"]


def test_sample_title_block_table(sample: Any) -> None:
    _, exp, p, _ = sample
    table = next(t for t in p["pages"][0]["tables"] if t["col_count"] == 2)
    assert table["rows"] == [[exp["labels"][k], v] for k, v in exp["title_block"].items()]


def test_sample_callouts(sample: Any) -> None:
    _, exp, p, _ = sample
    for number, want in enumerate(exp["callouts"], start=1):
        got = [
            (c["kind"], c["value"], c["tolerance"], c["fit"]) for c in p["callouts"] if c["page"] == number
        ]
        assert got == want
        texts = [c["text"] for c in p["callouts"] if c["page"] == number]
        assert texts == exp["pages"][number - 1]["callouts"]


def test_sample_validates_and_summarizes(sample: Any) -> None:
    path, exp, p, rec = sample
    doc = validated(path, p)
    assert doc["warnings"] == []
    assert EXTRACTOR.summarize is not None and EXTRACTOR.rows is not None
    summary = EXTRACTOR.summarize(doc["payload"])
    assert summary["page_count"] == 2
    assert summary["tb_drawing_number"] == exp["title_block"]["drawing_number"]
    assert summary["pages_without_text"] == 0
    assert all(v is None or isinstance(v, str | int | float | bool) for v in summary.values())
    rows = list(EXTRACTOR.rows(doc["payload"]))
    assert [r["page"] for r in rows] == [1, 2]
    assert [r["sheet"] for r in rows] == ["1 OF 2", "2 OF 2"]
    check_progress(rec)


def test_text_cap(sample: Any) -> None:
    path, _, _, _ = sample
    p, _ = run(path, {"max_text_chars": 10})
    assert all(len(page["text"]) <= 10 < page["text_chars"] for page in p["pages"])
    assert any("truncated" in w for w in p["warnings"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ø12 H7", [("diameter", 12.0, None, "H7")]),
        ("⌀6,5 ±0.02", [("diameter", 6.5, 0.02, None)]),
        ("R5", [("radius", 5.0, None, None)]),
        ("REV C", []),
        ("Ra 6,5", []),
        ("45°", [("angle", 45.0, None, None)]),
        ("20 ±0.1", [("tolerance", 20.0, 0.1, None)]),
        ("4 x M8 Gewinde", [("thread", 8.0, None, None)]),
        ("SCALE 1:2 SHEET 1 OF 1", []),
    ],
)
def test_find_callouts(text: str, expected: list[tuple[Any, ...]]) -> None:
    got = [(c["kind"], c["value"], c["tolerance"], c["fit"]) for c in find_callouts(text)]
    assert got == expected


# ----------------------------------------------------------------------------- errors


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "e.pdf").write_bytes(b"")
    with pytest.raises(base.EmptyFile):
        extract(tmp_path / "e.pdf", {}, base.no_progress)


def test_wrong_format(tmp_path: Path) -> None:
    (tmp_path / "x.pdf").write_text("0\nSECTION\n2\nENTITIES\n0\nENDSEC\n0\nEOF\n")
    with pytest.raises(base.WrongFormat):
        extract(tmp_path / "x.pdf", {}, base.no_progress)


def test_truncated_file(sample: Any, tmp_path: Path) -> None:
    path, _, _, _ = sample
    data = path.read_bytes()
    (tmp_path / "t.pdf").write_bytes(data[: len(data) // 2])
    try:
        p = extract(tmp_path / "t.pdf", {}, base.no_progress)
    except (base.TruncatedFile, base.CorruptFile) as exc:
        assert exc.permanent
        return
    # pdfminer rebuilds a lost xref by scanning: then the damage must show as warnings or missing pages
    assert p["warnings"] or p["page_count"] < 2


def test_missing_file_is_transient(tmp_path: Path) -> None:
    with pytest.raises(base.FileUnreadable) as info:
        extract(tmp_path / "nope.pdf", {}, base.no_progress)
    assert info.value.permanent is False


def test_permission_denied_is_transient(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "locked.pdf"
    path.write_bytes(b"%PDF-1.4\n%%EOF\n")

    def denied(self: Path, *args: Any, **kwargs: Any) -> Any:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "open", denied)
    with pytest.raises(base.FileUnreadable) as info:
        extract(path, {}, base.no_progress)
    assert info.value.permanent is False


# ----------------------------------------------------------------------------- corpus


@pytest.mark.corpus
@pytest.mark.parametrize("rel", CORPUS_FILES or ["<corpus missing>"])
def test_corpus_file(rel: str) -> None:
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus not found")
    ref = REFERENCE[rel]
    path = CORPUS / rel
    if rel in MUST_FAIL or not ref.get("ok", True):
        with pytest.raises(base.ExtractionError) as info:
            extract(path, {}, base.no_progress)
        assert isinstance(info.value, MUST_FAIL.get(rel, (base.PermanentError,))), type(info.value)
        assert info.value.permanent
        if "with_password" in ref:
            with_pw = ref["with_password"]
            p, rec = run(path, {"password": with_pw["password"]})
            assert p["encrypted"] is True
            compare_with_reference(p, with_pw)
            validated(path, p)
            check_progress(rec)
            with pytest.raises(base.EncryptedFile, match="wrong"):
                extract(path, {"password": "not-the-password"}, base.no_progress)
        return
    p, rec = run(path, {"ocr": "never"})  # the text layer against the reference (OCR: test_ocr*.py)
    compare_with_reference(p, ref)
    without = [pg["number"] for pg in p["pages"] if pg["text_chars"] == 0]
    if rel in NO_TEXT:
        assert p["has_text_layer"] is False
        assert any("text layer" in w for w in p["warnings"])
    if without:
        assert p["pages_without_text"] == without
        assert any("text layer" in w for w in p["warnings"])
    validated(path, p)
    check_progress(rec)


def test_corpus_drawing_title_block() -> None:
    """A SOLIDWORKS drawing: the title-block fields are found in its table cells / text."""
    path = CORPUS / "pdf" / "edocr2__Aufspannung.PDF"
    if not path.is_file():
        pytest.skip("../shared/corpus not found")
    p, _ = run(path)
    fields = {k: v["value"] for k, v in p["title_block"]["fields"].items()}
    assert fields["scale"] == "2:1"
    assert fields["sheet"] == "1 OF 1"
    assert fields["drawing_number"] == "Micro_Vu-4.20"
    assert "drawn_by" not in fields  # the DRAWN cell is empty: CHK'D below it is a label, not a name
