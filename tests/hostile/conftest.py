"""Builders for hostile-input tests: real files with nasty names, links and contents."""

from __future__ import annotations

from pathlib import Path

import ezdxf


def write_dxf(path: Path, *texts: str) -> Path:
    """A small valid DXF holding the given TEXT entities."""
    doc = ezdxf.new("R2010")
    msp = doc.modelspace()
    for i, text in enumerate(texts or ("hello",)):
        msp.add_text(text, dxfattribs={"insert": (0, i * 10), "height": 2.5})
    msp.add_line((0, 0), (100, 0))
    doc.saveas(path)
    return path
