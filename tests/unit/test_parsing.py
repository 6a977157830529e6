"""Job id prefixes resolve as git resolves abbreviated hashes."""

from __future__ import annotations

import uuid

import pytest

from cadextract.store import parsing


def test_full_uuid_is_taken_as_is() -> None:
    u = uuid.uuid4()
    assert parsing.prefix_pattern(str(u)) == u
    assert parsing.prefix_pattern(str(u).upper()) == u


def test_prefix_becomes_a_like_pattern() -> None:
    assert parsing.prefix_pattern("3F2a") == "3f2a%"
    assert parsing.prefix_pattern("3f2a1b2c-12") == "3f2a1b2c-12%"


@pytest.mark.parametrize("bad", ["", "  ", "xyz", "3f2a;drop", "../etc"])
def test_non_hex_is_rejected(bad: str) -> None:
    with pytest.raises(parsing.JobNotFound):
        parsing.prefix_pattern(bad)


def test_pick_one_none_or_many() -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    assert parsing.pick("ab", [a]) == a
    with pytest.raises(parsing.JobNotFound):
        parsing.pick("ab", [])
    with pytest.raises(parsing.AmbiguousPrefix):
        parsing.pick("ab", [a, b])


def test_glob_to_like() -> None:
    assert parsing.glob_to_like("*.dxf") == "%/%.dxf"
    assert parsing.glob_to_like("/data/*/a?.pdf") == "/data/%/a_.pdf"
    assert parsing.glob_to_like("100%_done.pdf") == "%/100\\%\\_done.pdf"


@pytest.mark.parametrize(
    ("glob", "probe"),
    [
        ("part-0500000.pdf", "fdp.0000050-trap/%"),  # a file name: the reversed path starts so
        ("*/Drawings/Bracket.DXF", "fxd.tekcarb/sgniward/%"),  # lower-cased, like the index
        ("*rev_B_final.pdf", "fdp.lanif\\_b\\_ver%"),  # _ is literal text in a glob: escaped
        ("*.dxf", None),  # too short an ending: the probe would match a quarter of the table
        ("*/drawings/*", None),  # ends in a wildcard
        ("*/Maßblatt-01.pdf", None),  # non-ASCII: Python's lower() need not be the server's
    ],
)
def test_suffix_probe(glob: str, probe: str | None) -> None:
    assert parsing.suffix_probe(parsing.glob_to_like(glob)) == probe
