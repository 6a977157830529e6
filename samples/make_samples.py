"""Regenerate the bundled sample files: `python samples/make_samples.py`.

The samples are made by this project (ezdxf, matplotlib, ifcopenshell.api, cadquery, pypdfium2),
so they carry no third-party licence; the small outputs are committed so a fresh
install can run `cadextract run samples/files --recursive` without generating anything.
Each generator returns the values known by construction; they are written beside the
files as expected.json, and the tests compare extraction results with them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from samples.generators.dxf_pdf import make_dxf, make_pdf  # noqa: E402
from samples.generators.ifc_step import make_ifc, make_step  # noqa: E402
from samples.generators.scan import make_scan  # noqa: E402

FILES = {
    "dxf/bracket.dxf": make_dxf,
    "pdf/bracket-drawing.pdf": make_pdf,
    "ifc/two-storey-house.ifc": make_ifc,
    "step/pin-and-plate.step": make_step,
    "scan/bracket-scan.png": make_scan,  # after the PDF: it is that drawing, scanned
}


def main() -> None:
    expected = {}
    for rel, make in FILES.items():
        path = HERE / "files" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        expected[rel] = make(path)
        print(f"wrote {rel} ({path.stat().st_size} bytes)")
    (HERE / "expected.json").write_text(json.dumps(expected, indent=2, sort_keys=True, default=str) + "\n")


if __name__ == "__main__":
    main()
