"""Small, realistic sample drawings for the DXF and PDF extractors.

Each ``make_*`` function writes one file and returns the values known by construction, so
tests can compare an extractor's payload against them exactly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

TITLE_VALUES_DXF = {
    "DWG_NO": "CX-1001",
    "TITLE": "MOUNTING PLATE",
    "REV": "B",
    "DATE": "2026-11-28",
    "SCALE": "1:2",
    "SHEET": "1/1",
    "DRAWN_BY": "J. SMITH",
}
TAG_TO_FIELD = {
    "DWG_NO": "drawing_number",
    "TITLE": "title",
    "REV": "revision",
    "DATE": "date",
    "SCALE": "scale",
    "SHEET": "sheet",
    "DRAWN_BY": "drawn_by",
}


def make_dxf(path: Path) -> dict[str, Any]:
    """A 100 x 60 mm plate (DXF R2010, millimetres) with a title block in paperspace."""
    from ezdxf.enums import TextEntityAlignment
    from ezdxf.filemanagement import new

    doc = new("R2010", setup=True, units=4)  # 4 = millimetres
    layers: dict[str, tuple[int, str]] = {  # name -> (ACI colour, linetype)
        "OUTLINE": (7, "Continuous"),
        "CENTER": (1, "CENTER"),
        "DIMS": (3, "Continuous"),
        "NOTES": (2, "Continuous"),
        "TITLE": (5, "Continuous"),
        "CONSTRUCTION": (8, "DASHED"),
        "OLD": (9, "Continuous"),
    }
    for name, (color, linetype) in layers.items():
        doc.layers.add(name, color=color, linetype=linetype)
    doc.layers.get("CONSTRUCTION").off()
    doc.layers.get("OLD").freeze()
    doc.layers.get("TITLE").lock()

    msp = doc.modelspace()
    corners = [(0, 0), (100, 0), (100, 60), (0, 60)]
    for a, b in zip(corners, corners[1:] + corners[:1], strict=True):
        msp.add_line(a, b, dxfattribs={"layer": "OUTLINE"})
    msp.add_circle((30, 30), 6, dxfattribs={"layer": "OUTLINE"})
    msp.add_circle((75, 30), 5, dxfattribs={"layer": "OUTLINE"})
    msp.add_line((20, 30), (40, 30), dxfattribs={"layer": "CENTER"})
    msp.add_line((30, 20), (30, 40), dxfattribs={"layer": "CENTER"})
    msp.add_line((-10, -10), (110, 70), dxfattribs={"layer": "CONSTRUCTION"})

    texts = [
        {"type": "TEXT", "text": "PLATE SIDE VIEW", "layer": "NOTES", "position": [0.0, 70.0], "height": 5.0},
        {"type": "TEXT", "text": "Ø12 THRU", "layer": "NOTES", "position": [22.0, 42.0], "height": 2.5},
    ]
    msp.add_text("PLATE SIDE VIEW", height=5.0, dxfattribs={"layer": "NOTES"}).set_placement(
        (0, 70), align=TextEntityAlignment.LEFT
    )
    msp.add_text("%%c12 THRU", height=2.5, dxfattribs={"layer": "NOTES"}).set_placement(
        (22, 42), align=TextEntityAlignment.LEFT
    )
    mtext = msp.add_mtext(
        "{\\C1;NOTES:}\\PBREAK ALL EDGES 0.5", dxfattribs={"layer": "NOTES", "char_height": 3.0}
    )
    mtext.set_location((0, -30))
    texts.append(
        {
            "type": "MTEXT",
            "text": "NOTES:\nBREAK ALL EDGES 0.5",
            "layer": "NOTES",
            "position": [0.0, -30.0],
            "height": 3.0,
        }
    )

    dims = []
    d = msp.add_linear_dim(
        base=(0, -15), p1=(0, 0), p2=(100, 0), dimstyle="Standard", dxfattribs={"layer": "DIMS"}
    )
    d.render()
    dims.append(
        {
            "type": "linear",
            "measurement": 100.0,
            "text_override": None,
            "display_text": "100",
            "layer": "DIMS",
        }
    )
    d = msp.add_linear_dim(
        base=(115, 0),
        p1=(100, 0),
        p2=(100, 60),
        angle=90,
        text="<> ±0.1",
        dimstyle="Standard",
        dxfattribs={"layer": "DIMS"},
    )
    d.render()
    dims.append(
        {
            "type": "linear",
            "measurement": 60.0,
            "text_override": "<> ±0.1",
            "display_text": "60 ±0.1",
            "layer": "DIMS",
        }
    )
    d = msp.add_radius_dim(
        center=(75, 30), radius=5, angle=45, dimstyle="Standard", dxfattribs={"layer": "DIMS"}
    )
    d.render()
    dims.append(
        {"type": "radius", "measurement": 5.0, "text_override": None, "display_text": "R5", "layer": "DIMS"}
    )

    # title block: a block with a frame and ATTDEFs, inserted in paperspace with ATTRIBs
    block = doc.blocks.new("TITLEBLOCK")
    block.add_lwpolyline([(0, 0), (180, 0), (180, 40), (0, 40)], close=True)
    for i, tag in enumerate(TITLE_VALUES_DXF):
        y = 35 - i * 5
        block.add_text(tag.replace("_", " "), height=2.0).set_placement((2, y))
        block.add_attdef(tag, insert=(40, y), height=2.5, text="?")
    psp = doc.layouts.get("Layout1")
    insert = psp.add_blockref("TITLEBLOCK", (230, 10), dxfattribs={"layer": "TITLE"})
    insert.add_auto_attribs(TITLE_VALUES_DXF)
    psp.add_text("SEE NOTES", height=3.0, dxfattribs={"layer": "NOTES"}).set_placement((20, 20))

    doc.saveas(path)
    return {
        "dxf_version": "AC1024",
        "release": "R2010",
        "insunits": 4,
        "units": "Millimeters",
        "layers": sorted([*layers, "0", "Defpoints"]),
        "layer_flags": {
            "CONSTRUCTION": {"on": False, "frozen": False, "locked": False},
            "OLD": {"on": True, "frozen": True, "locked": False},
            "TITLE": {"on": True, "frozen": False, "locked": True},
            "OUTLINE": {"on": True, "frozen": False, "locked": False},
        },
        "layer_colors": {name: color for name, (color, _) in layers.items()},
        "modelspace_entities_by_type": {"CIRCLE": 2, "DIMENSION": 3, "LINE": 7, "MTEXT": 1, "TEXT": 2},
        "modelspace_texts": texts,
        "paperspace_texts": [{"type": "TEXT", "text": "SEE NOTES", "layout": "Layout1"}],
        "dimensions": dims,
        "title_block_block": "TITLEBLOCK",
        "title_block": {TAG_TO_FIELD[tag]: value for tag, value in TITLE_VALUES_DXF.items()},
        "title_block_tags": {TAG_TO_FIELD[tag]: tag for tag in TITLE_VALUES_DXF},
        "title_block_layout": "Layout1",
        "attribs": dict(TITLE_VALUES_DXF),
    }


PDF_PAGES: list[dict[str, Any]] = [
    {
        "title_block": {
            "drawing_number": "CX-2002",
            "title": "BRACKET",
            "revision": "C",
            "date": "2026-11-28",
            "scale": "1:1",
            "sheet": "1 OF 2",
            "drawn_by": "A. MILLER",
        },
        "callouts": ["Ø12 H7", "R5", "45°", "20 ±0.1"],
    },
    {
        "title_block": {
            "drawing_number": "CX-2002",
            "title": "BRACKET",
            "revision": "C",
            "date": "2026-11-28",
            "scale": "2:1",
            "sheet": "2 OF 2",
            "drawn_by": "A. MILLER",
        },
        "callouts": ["Ø8", "R2.5", "30°", "15 ±0.05"],
    },
]
PDF_LABELS = {
    "drawing_number": "DWG NO",
    "title": "TITLE",
    "revision": "REV",
    "date": "DATE",
    "scale": "SCALE",
    "sheet": "SHEET",
    "drawn_by": "DRAWN BY",
}
#: the expected parsed callouts per page: (kind, value, tolerance, fit)
PDF_CALLOUTS = [
    [
        ("diameter", 12.0, None, "H7"),
        ("radius", 5.0, None, None),
        ("angle", 45.0, None, None),
        ("tolerance", 20.0, 0.1, None),
    ],
    [
        ("diameter", 8.0, None, None),
        ("radius", 2.5, None, None),
        ("angle", 30.0, None, None),
        ("tolerance", 15.0, 0.05, None),
    ],
]


def make_pdf(path: Path) -> dict[str, Any]:
    """A 2-page A3 drawing (matplotlib PDF backend, TrueType text) with ruled title blocks."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.lines import Line2D
    from matplotlib.patches import Circle, Rectangle

    width_in, height_in = 420 / 25.4, 297 / 25.4
    with matplotlib.rc_context({"pdf.fonttype": 42, "font.family": "DejaVu Sans"}), PdfPages(path) as pdf:
        for page in PDF_PAGES:
            fig = plt.figure(figsize=(width_in, height_in))
            ax = fig.add_axes((0, 0, 1, 1))
            ax.set_xlim(0, 420)
            ax.set_ylim(0, 297)
            ax.axis("off")
            ax.add_patch(Rectangle((10, 10), 400, 277, fill=False, linewidth=1.0))
            # the part: a plate with two holes
            ax.add_patch(Rectangle((60, 140), 160, 90, fill=False, linewidth=1.2))
            ax.add_patch(Circle((100, 185), 12, fill=False))
            ax.add_patch(Circle((180, 185), 5, fill=False))
            c1, c2, c3, c4 = page["callouts"]
            ax.text(85, 205, c1, fontsize=12)
            ax.text(185, 195, c2, fontsize=12)
            ax.text(230, 150, c3, fontsize=12)
            ax.text(130, 125, c4, fontsize=12)
            # ruled title block, lower right: label column + value column
            x0, x1, x2, y_top, row_h = 270.0, 320.0, 405.0, 100.0, 12.0
            fields = list(PDF_LABELS)
            n = len(fields)
            for i in range(n + 1):
                y = y_top - i * row_h
                ax.add_line(Line2D([x0, x2], [y, y], color="black", linewidth=0.8))
            for x in (x0, x1, x2):
                ax.add_line(Line2D([x, x], [y_top, y_top - n * row_h], color="black", linewidth=0.8))
            for i, name in enumerate(fields):
                y = y_top - i * row_h - row_h / 2 - 1.5
                ax.text(x0 + 2, y, PDF_LABELS[name], fontsize=9)
                ax.text(x1 + 2, y, page["title_block"][name], fontsize=11)
            pdf.savefig(fig)
            plt.close(fig)
        info = pdf.infodict()
        info["Title"] = "CX-2002 BRACKET"
        info["Author"] = "A. MILLER"
        info["Subject"] = "cadextract sample drawing"
    return {
        "page_count": 2,
        "page_width": round(width_in * 72, 3),
        "page_height": round(height_in * 72, 3),
        "metadata": {"Title": "CX-2002 BRACKET", "Author": "A. MILLER"},
        "title_block": dict(PDF_PAGES[0]["title_block"]),
        "pages": [
            {"title_block": dict(p["title_block"]), "callouts": list(p["callouts"])} for p in PDF_PAGES
        ],
        "callouts": PDF_CALLOUTS,
        "labels": dict(PDF_LABELS),
        "tables_per_page_min": 1,
    }
