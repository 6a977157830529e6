"""Items 4, 8, 13 of issue 10 as pure decisions and a walk over real files (no database)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cadextract import files, pathpolicy
from cadextract.extractors import base, registry
from cadextract.pathpolicy import LinkInfo, LinkTarget

SECRET = b"root:$6$SUPERSECRET-HASH:19000:0:99999:7:::\n"


def test_is_within() -> None:
    root = Path("/drop")
    assert pathpolicy.is_within(Path("/drop"), root)
    assert pathpolicy.is_within(Path("/drop/a/b.dxf"), root)
    assert not pathpolicy.is_within(Path("/dropbox/a.dxf"), root)  # a prefix is not a parent
    assert not pathpolicy.is_within(Path("/root/secret"), root)


@pytest.mark.parametrize(
    ("kind", "follow", "refused"),
    [
        (LinkTarget.INSIDE, False, False),
        (LinkTarget.INSIDE, True, False),
        (LinkTarget.OUTSIDE, False, True),
        (LinkTarget.OUTSIDE, True, False),
        (LinkTarget.BROKEN, True, True),
        (LinkTarget.LOOP, True, True),
    ],
)
def test_link_skip_reason(kind: LinkTarget, follow: bool, refused: bool) -> None:
    reason = pathpolicy.link_skip_reason(LinkInfo(None, kind), follow_links=follow)
    assert (reason is not None) == refused
    if kind is LinkTarget.OUTSIDE and refused:
        assert reason is not None and "--follow-links" in reason


def test_name_skip_reason() -> None:
    assert pathpolicy.name_skip_reason(Path("/d/plan ü.dxf")) is None
    bad = os.fsdecode(b"/d/plan\xff.dxf")
    assert pathpolicy.name_skip_reason(bad) is not None


def _drop(tmp_path: Path) -> tuple[Path, Path]:
    outside = tmp_path / "private"
    outside.mkdir()
    (outside / "secret").write_bytes(SECRET)
    (outside / "other.dxf").write_bytes(b"  0\nSECTION\n  2\nHEADER\n  0\nENDSEC\n  0\nEOF\n")
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "real.dxf").write_bytes(b"  0\nSECTION\n  2\nHEADER\n  0\nENDSEC\n  0\nEOF\n")
    (drop / "x.step").symlink_to(outside / "secret")
    (drop / "alias.dxf").symlink_to(drop / "real.dxf")  # stays inside: taken
    (drop / "sub").symlink_to(outside)  # a folder outside
    (drop / "loop.dxf").symlink_to(drop / "loop.dxf")
    return drop, outside


def test_walk_does_not_follow_links_out_of_the_folder(tmp_path: Path) -> None:
    drop, _ = _drop(tmp_path)
    found = {c.path.name: c for c in files.collect([drop], recursive=True)}
    assert found["real.dxf"].skip_reason is None
    assert found["alias.dxf"].skip_reason is None
    for name in ("x.step", "sub"):
        reason = found[name].skip_reason
        assert reason is not None and "outside the folder" in reason, name
    assert found["loop.dxf"].skip_reason == "symbolic link loop"
    assert "other.dxf" not in found  # the linked folder was not descended


def test_follow_links_takes_them_and_survives_cycles(tmp_path: Path) -> None:
    drop, outside = _drop(tmp_path)
    (outside / "back").symlink_to(tmp_path)  # a cycle through the followed folder
    found = {
        c.path.relative_to(drop).as_posix(): c
        for c in files.collect([drop], recursive=True, follow_links=True)
    }
    assert found["x.step"].skip_reason is None  # followed: the operator asked for it
    assert found["sub/other.dxf"].skip_reason is None
    assert found["loop.dxf"].skip_reason == "symbolic link loop"


def test_a_non_utf8_name_is_skipped_and_the_rest_is_taken(tmp_path: Path) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    good = b"  0\nSECTION\n  2\nHEADER\n  0\nENDSEC\n  0\nEOF\n"
    (folder / "a.dxf").write_bytes(good)
    with open(os.path.join(os.fsencode(folder), b"caf\xe9.dxf"), "wb") as fh:
        fh.write(good)
    found = files.collect([folder], recursive=True)
    by_ok = {c.skip_reason is None: c for c in found}
    assert by_ok[True].path.name == "a.dxf"
    assert "not valid UTF-8" in (by_ok[False].skip_reason or "")
    with pytest.raises(files.SubmitError, match=r"caf\\xe9\.dxf: file name is not valid UTF-8"):
        files.collect([by_ok[False].path], recursive=False)


def test_a_link_loop_named_on_the_command_line(tmp_path: Path) -> None:
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    with pytest.raises(files.SubmitError, match="symbolic link loop"):
        files.collect([tmp_path / "a"], recursive=False)
    (tmp_path / "gone").symlink_to(tmp_path / "nothing-here")
    with pytest.raises(files.SubmitError, match="does not exist"):
        files.collect([tmp_path / "gone"], recursive=False)
    with pytest.raises(files.SubmitError, match="no such file or directory"):
        files.collect([tmp_path / "never"], recursive=False)


def test_unknown_format_lists_only_real_formats() -> None:
    with pytest.raises(files.SubmitError) as info:
        files.collect([], recursive=False, forced_format="dwg")
    assert "dxf" in str(info.value)
    assert "noop" not in str(info.value) and "test-" not in str(info.value)
    with pytest.raises(registry.UnknownFormat) as info2:
        registry.get("dwg")
    assert "noop" not in str(info2.value) and "test-" not in str(info2.value)
    assert registry.public_names() == ["dxf", "pdf", "ifc", "step", "raster"]


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (SECRET, "text"),
        (b"%PDF-1.7\n", "a PDF document"),
        (b"PK\x03\x04rest", "a zip archive"),
        (b"\x00\x01\x02secret\xff", "binary data"),
    ],
)
def test_describe_head_never_quotes_bytes(head: bytes, expected: str) -> None:
    text = base.describe_head(head)
    assert text.startswith(expected)
    assert "root" not in text and "secret" not in text.lower()


def test_step_and_ifc_errors_do_not_quote_the_file(tmp_path: Path) -> None:
    from cadextract.extractors import ifc, step

    secret = tmp_path / "x.step"
    secret.write_bytes(SECRET)
    for extractor in (step.EXTRACTOR, ifc.EXTRACTOR):
        with pytest.raises(base.WrongFormat) as info:
            extractor.extract(secret, {}, lambda p, n=None: None)
        assert "SUPERSECRET" not in str(info.value) and "root:" not in str(info.value)


def test_whitespace_only_dxf_is_not_called_zero_bytes(tmp_path: Path) -> None:
    from cadextract.extractors import dxf

    blank = tmp_path / "blank.dxf"
    blank.write_bytes(b"   \n\t\n  ")
    with pytest.raises(base.EmptyFile) as info:
        dxf.EXTRACTOR.extract(blank, {}, lambda p, n=None: None)
    assert "0 bytes" not in str(info.value)
    assert "only whitespace" in str(info.value)
