"""The helpers every extractor shares: error policy, numbers, log capture, tails, ISO-10303-21."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from cadextract import files
from cadextract.extractors import shared
from cadextract.extractors.base import CorruptFile, EmptyFile, FileUnreadable, TruncatedFile, WrongFormat


def _corrupt(exc: Exception) -> CorruptFile:
    return CorruptFile(f"bad: {exc}")


def test_the_error_policy_translates_only_what_is_unexpected() -> None:
    with pytest.raises(CorruptFile, match="bad: boom") as info, shared.translated(_corrupt):
        raise ValueError("boom")
    assert isinstance(info.value.__cause__, ValueError)
    # an extraction error the parser code raised itself stands
    with pytest.raises(TruncatedFile), shared.translated(_corrupt):
        raise TruncatedFile("cut off")
    # running out of memory is never "a corrupt file": the child reports the memory limit
    with pytest.raises(MemoryError), shared.translated(_corrupt):
        raise MemoryError


def test_numbers_are_finite_and_rounded_as_asked() -> None:
    assert shared.number(1.23456789, 4) == 1.2346
    assert shared.number("2.5") == 2.5 and shared.number(3) == 3.0
    assert shared.number(float("nan")) is None and shared.number(float("inf"), 2) is None
    assert shared.number("abc") is None and shared.number(None) is None
    assert shared.number("2.5", parse_text=False) is None
    assert shared.number(True, parse_text=False) is None and shared.number(7, parse_text=False) == 7.0


def test_tail_reads_the_end_of_a_file(tmp_path: Path) -> None:
    f = tmp_path / "a.bin"
    f.write_bytes(b"x" * 5000 + b"%%EOF\n")
    assert shared.tail(f, 6) == b"%%EOF\n"
    assert shared.tail(f, 10_000) == f.read_bytes()
    assert shared.tail(tmp_path / "missing", 10) is None


def test_library_logs_become_deduplicated_capped_warnings() -> None:
    logger = logging.getLogger("cadextract-test-lib")
    before = logger.propagate
    with shared.captured_logs("cadextract-test-lib") as messages:
        for i in [1, 1, 2, 3]:
            logger.warning("skipped handle %s", i)
        logger.info("not a warning")
    assert logger.propagate == before and not logger.handlers
    assert shared.log_warnings(messages, "lib", limit=2) == [
        "lib: skipped handle 1",
        "lib: skipped handle 2",
        "... and 1 more lib message(s)",
    ]


HEAD = b"\xef\xbb\xbf\n ISO-10303-21;\nHEADER;\nFILE_SCHEMA(('AUTOMOTIVE_DESIGN { 1 0 10303 214 1 1 1 1 }'));"


def test_iso_10303_21_sniffing_is_shared_by_step_ifc_and_submit() -> None:
    assert shared.is_spf(HEAD) and shared.skip_leading(HEAD).startswith(shared.SPF_MAGIC)
    assert shared.spf_schema(HEAD) == "AUTOMOTIVE_DESIGN { 1 0 10303 214 1 1 1 1 }"
    assert not shared.is_ifc_schema("AUTOMOTIVE_DESIGN") and shared.is_ifc_schema("ifc4")
    assert files.detect_bytes(HEAD) == "step"
    assert (
        files.detect_bytes(HEAD.replace(b"AUTOMOTIVE_DESIGN { 1 0 10303 214 1 1 1 1 }", b"IFC2X3")) == "ifc"
    )
    assert files.detect_bytes(b"ISO-10303-21;\nHEADER;") is None  # no schema yet: the extension decides
    assert not shared.is_spf(b"%PDF-1.7")


def test_optional_steps_tolerate_failures_but_not_running_out_of_memory() -> None:
    heard: list[str] = []
    with shared.tolerated(lambda exc: heard.append(str(exc))):
        raise ValueError("odd unit")
    assert heard == ["odd unit"]
    assert shared.attempt(lambda: 1 // 0, "fallback") == "fallback"
    assert shared.attempt(lambda: "value", "fallback") == "value"
    with pytest.raises(MemoryError), shared.tolerated():
        raise MemoryError
    with pytest.raises(MemoryError):
        shared.attempt(_out_of_memory, None)


def _out_of_memory() -> None:
    raise MemoryError


def test_read_ends_gives_head_and_tail_or_a_readable_error(tmp_path: Path) -> None:
    f = tmp_path / "a.step"
    f.write_bytes(b"HEAD" + b"." * 100 + b"TAIL")
    assert shared.read_ends(f, 4, 4) == (b"HEAD", b"TAIL")
    (tmp_path / "empty.step").write_bytes(b"")
    with pytest.raises(EmptyFile, match=r"empty\.step is empty"):
        shared.read_ends(tmp_path / "empty.step", 4, 4)
    with pytest.raises(FileUnreadable, match="cannot read"):
        shared.read_ends(tmp_path / "missing.step", 4, 4)


KIND = shared.SpfKind(
    "a TEST",
    lambda body, what: f"{what} is XML" if body.startswith(b"<") else None,
    lambda schema, what: f"{what} has schema {schema}" if schema == "OTHER" else None,
)


def test_spf_checks_run_in_one_order_with_one_wording() -> None:
    end = b"END-ISO-10303-21;\n"
    shared.check_spf(HEAD, end, "x", KIND, "AUTOMOTIVE_DESIGN")  # a good file passes
    with pytest.raises(EmptyFile, match="x holds only whitespace"):
        shared.check_spf(b" \n\t", end, "x", KIND, None)
    with pytest.raises(WrongFormat, match="x is XML"):
        shared.check_spf(b"<ifcXML>", end, "x", KIND, None)
    with pytest.raises(WrongFormat, match=r"x is not a TEST file: .* \(it looks like a PDF document\)"):
        shared.check_spf(b"%PDF-1.7", end, "x", KIND, None)
    # the wrong schema is named before the missing end marker (a cut-off file of another format)
    with pytest.raises(WrongFormat, match="x has schema OTHER"):
        shared.check_spf(HEAD, b"cut off", "x", KIND, "OTHER")
    with pytest.raises(TruncatedFile, match="x is truncated"):
        shared.check_spf(HEAD, b"cut off", "x", KIND, "AUTOMOTIVE_DESIGN")
    shared.check_spf(HEAD, None, "x", KIND, None)  # no tail to check (a zip member)
