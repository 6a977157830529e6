"""A generated DXF with known annotations: toleranced dimensions (dimension-style overrides),
``<>`` text overrides, three TOLERANCE frames, a parts list of block references with attributes,
general notes. :func:`make_drawing_dxf` returns the truth."""

from __future__ import annotations

from pathlib import Path
from typing import Any

TRUTH_BOM = [
    {
        "position": "1",
        "quantity": 1.0,
        "part_number": "CX-100-01",
        "description": "BASE PLATE",
        "material": "S235JR",
    },
    {
        "position": "2",
        "quantity": 4.0,
        "part_number": "ISO 4762 M8x25",
        "description": "CAP SCREW",
        "material": "8.8",
    },
    {
        "position": "3",
        "quantity": 2.0,
        "part_number": "ISO 8734 6x20",
        "description": "DOWEL PIN",
        "material": "1.3505",
    },
]


def make_drawing_dxf(path: Path) -> dict[str, Any]:
    from ezdxf.filemanagement import new

    doc = new("R2010", setup=True, units=4)
    msp = doc.modelspace()
    msp.add_lwpolyline([(0, 0), (100, 0), (100, 60), (0, 60)], close=True)
    dims = [
        msp.add_linear_dim(
            base=(0, 70),
            p1=(0, 60),
            p2=(100, 60),
            override={"dimtol": 1, "dimtp": 0.1, "dimtm": 0.05},
            dimstyle="Standard",
        ),
        msp.add_linear_dim(
            base=(110, 0),
            p1=(100, 0),
            p2=(100, 60),
            angle=90,
            override={"dimtol": 1, "dimtp": 0.2, "dimtm": 0.2},
            dimstyle="Standard",
        ),
        msp.add_linear_dim(
            base=(0, -10),
            p1=(0, 0),
            p2=(25, 0),
            override={"dimlim": 1, "dimtp": 0.02, "dimtm": 0.0},
            dimstyle="Standard",
        ),
        msp.add_diameter_dim(center=(30, 30), radius=6, angle=45, text="<> H7", dimstyle="Standard"),
        msp.add_radius_dim(center=(75, 30), radius=5, angle=30, dimstyle="Standard"),
    ]
    for d in dims:
        d.render()
    frames = [
        r"{\Fgdt;j}%%v{\Fgdt;n}0.14{\Fgdt;m}%%vA%%vB{\Fgdt;m}",
        r"{\Fgdt;c}%%v0.3",
        r"{\Fgdt;f}%%v0.25%%vA",
    ]
    for i, content in enumerate(frames):
        msp.new_entity(
            "TOLERANCE", dxfattribs={"content": content, "insert": (0, -20 - 10 * i), "dimstyle": "Standard"}
        )
    block = doc.blocks.new("BOM_ROW")
    for i, tag in enumerate(("POS", "QTY", "PART_NO", "DESCRIPTION", "MATERIAL")):
        block.add_attdef(tag, (i * 20, 0), dxfattribs={"height": 2.5})
    for row, item in enumerate(TRUTH_BOM):
        ins = msp.add_blockref("BOM_ROW", (120, 50 - row * 5))
        values = {"POS": item["position"], "QTY": str(int(item["quantity"])), "PART_NO": item["part_number"],
                  "DESCRIPTION": item["description"], "MATERIAL": item["material"]}  # fmt: skip
        ins.add_auto_attribs(values)
    msp.add_mtext(
        "GENERAL TOLERANCES ISO 2768-m\\PBREAK ALL SHARP EDGES", dxfattribs={"char_height": 3.0}
    ).set_location((0, -60))
    msp.add_text("Ra 1.6", height=3.0).set_placement((60, -60))
    doc.saveas(path)
    return {
        "dimensions": [
            {"kind": "linear", "nominal": 100.0, "upper": 0.1, "lower": -0.05, "readable": "100 +0.1/-0.05"},
            {"kind": "linear", "nominal": 60.0, "upper": 0.2, "lower": -0.2, "tolerance": 0.2},
            {"kind": "linear", "nominal": 25.0, "range": [25.0, 25.02]},
            {"kind": "diameter", "nominal": 12.0, "fit": "H7", "override": "<> H7"},
            {"kind": "radius", "nominal": 5.0},
        ],
        "gdt": [
            {
                "characteristic": "position",
                "tolerance": 0.14,
                "diameter": True,
                "modifier": "MMC",
                "datums": [("A", None), ("B", "MMC")],
            },
            {
                "characteristic": "flatness",
                "tolerance": 0.3,
                "diameter": False,
                "modifier": None,
                "datums": [],
            },
            {
                "characteristic": "parallelism",
                "tolerance": 0.25,
                "diameter": False,
                "modifier": None,
                "datums": [("A", None)],
            },
        ],
        "bom": TRUTH_BOM,
        "notes": ["general_tolerance", "edges"],
        "surface_finish": [("Ra", 1.6)],
    }
