"""A generated mechanical drawing with known annotations (matplotlib PDF backend, TrueType text).

One A3 sheet: a rotated and an inclined dimension, stacked deviations (upright and vertical),
a stacked fit, stacked limits, counts, a thread, an angle, a chamfer, a boxed basic dimension,
three feature control frames (two symbols drawn as strokes, one as a Unicode glyph), datum
labels, a surface finish, general notes, a German title block with a people table and a drawing
number overflowing its cell, and a German parts list. :func:`make_drawing_pdf` returns the truth.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

FONT = 11  # points
MM = 25.4 / 72  # one point in mm

TRUTH_DIMENSIONS: list[dict[str, Any]] = [
    {"text": "35.00 (vertical)", "kind": "linear", "nominal": 35.0},
    {"text": "R8.05 (30°)", "kind": "radius", "nominal": 8.05},
    {"text": "12.50 +0.10/-0.05", "kind": "linear", "nominal": 12.5, "upper": 0.1, "lower": -0.05},
    {
        "text": "18.48 +0.10/-0.03 (vertical)",
        "kind": "linear",
        "nominal": 18.48,
        "upper": 0.1,
        "lower": -0.03,
    },
    {"text": "Ø12 H7", "kind": "diameter", "nominal": 12.0, "fit": "H7"},
    {"text": "Ø20 H7/g6 (stacked)", "kind": "diameter", "nominal": 20.0, "fit": "H7/g6"},
    {"text": "16.00/15.50", "kind": "linear", "nominal": 15.5, "range": [15.5, 16.0]},
    {"text": "2x Ø6.60 ±0.05", "kind": "diameter", "nominal": 6.6, "count": 2, "upper": 0.05, "lower": -0.05},
    {"text": "4x M8x1.25", "kind": "thread", "nominal": 8.0, "count": 4},
    {"text": "30°", "kind": "angle", "nominal": 30.0},
    {"text": "1x45°", "kind": "chamfer", "nominal": 1.0},
    {"text": "50.00 (boxed)", "kind": "linear", "nominal": 50.0, "basic": True},
    {"text": "Ø5.8-5.85", "kind": "diameter", "nominal": 5.8, "range": [5.8, 5.85]},
]
TRUTH_GDT: list[dict[str, Any]] = [
    {
        "characteristic": "position",
        "tolerance": 0.14,
        "diameter": True,
        "modifier": "MMC",
        "datums": [("C", None), ("E", "MMC")],
    },
    {"characteristic": "flatness", "tolerance": 0.3, "diameter": False, "modifier": None, "datums": []},
    {
        "characteristic": "parallelism",
        "tolerance": 0.25,
        "diameter": False,
        "modifier": None,
        "datums": [("A", None)],
    },
]
TRUTH_TITLE = {
    "title": "Grundplatte gefräst",
    "drawing_number": "Aufspannung_Eckverbinder-0042",
    "material": "S235JR",
    "weight": "1,25 kg",
    "scale": "1:2",
    "sheet": "1 VON 2",
    "sheet_size": "A3",
    "drawn_by": "M. Weber",
    "drawn_date": "2026-11-30",
    "approved_by": "K. Braun",
    "approved_date": "2026-12-01",
}
TRUTH_ABSENT = ["revision", "checked_by", "checked_date", "date"]
TRUTH_BOM = [
    {
        "position": "1",
        "quantity": 1.0,
        "description": "Grundplatte",
        "part_number": "CX-100-01",
        "material": "S235JR",
    },
    {
        "position": "2",
        "quantity": 4.0,
        "description": "Zylinderschraube",
        "part_number": "ISO 4762 M8x25",
        "material": "8.8",
    },
    {
        "position": "3",
        "quantity": 2.0,
        "description": "Passstift",
        "part_number": "ISO 8734 6x20",
        "material": "1.3505",
    },
]


def make_drawing_pdf(path: Path) -> dict[str, Any]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Circle, Polygon

    fig = plt.figure(figsize=(420 / 25.4, 297 / 25.4))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 420)
    ax.set_ylim(0, 297)
    ax.axis("off")

    def line(x0: float, y0: float, x1: float, y1: float, lw: float = 0.6) -> None:
        ax.add_line(Line2D([x0, x1], [y0, y1], color="black", linewidth=lw))

    def rect(x0: float, y0: float, x1: float, y1: float) -> None:
        for a, b, c, d in ((x0, y0, x1, y0), (x1, y0, x1, y1), (x1, y1, x0, y1), (x0, y1, x0, y0)):
            line(a, b, c, d)

    def text(x: float, y: float, s: str, size: float = FONT, **kw: Any) -> Any:
        kw.setdefault("va", "baseline")
        return ax.text(x, y, s, fontsize=size, rotation_mode="anchor", **kw)

    with matplotlib.rc_context({"pdf.fonttype": 42, "font.family": "DejaVu Sans"}):
        line(10, 10, 410, 10), line(410, 10, 410, 287), line(410, 287, 10, 287), line(10, 287, 10, 10)
        # the part
        rect(80, 150, 200, 230)
        ax.add_patch(Circle((140, 190), 10, fill=False, linewidth=0.8))
        # dimensions
        text(60, 170, "35.00", rotation=90)
        text(215, 240, "R8.05", rotation=30)
        text(100, 255, "12.50", ha="right", va="center")
        text(101, 255 + 1.8, "+0.10", size=8, va="center")
        text(101, 255 - 1.8, "-0.05", size=8, va="center")
        text(40, 200, "18.48", rotation=90, ha="right", va="center")
        text(40 - 1.8, 201, "+0.10", size=8, rotation=90, va="center")
        text(40 + 1.8, 201, "-0.03", size=8, rotation=90, va="center")
        text(230, 200, "Ø12 H7")
        text(260, 200, "Ø20", ha="right", va="center")
        text(261, 200 + 2.0, "H7", size=9, va="center")
        text(261, 200 - 2.0, "g6", size=9, va="center")
        text(300, 203, "16.00")
        text(300, 198, "15.50")
        text(230, 180, "2x Ø6.60 ±0.05")
        text(230, 165, "4x M8x1.25")
        text(300, 180, "30°")
        text(300, 165, "1x45°")
        basic = text(330, 180, "50.00")
        text(330, 165, "Ø5.8-5.85")
        fig.canvas.draw()
        bb = basic.get_window_extent().transformed(ax.transData.inverted())
        rect(bb.x0 - 1.2, bb.y0 - 1.2, bb.x1 + 1.2, bb.y1 + 1.2)
        # three feature control frames: cells 8 mm high
        h = 8.0

        def frame(x: float, y: float, widths: list[float], cells: list[str | None]) -> list[float]:
            xs = [x]
            for w in widths:
                xs.append(xs[-1] + w)
            line(xs[0], y, xs[-1], y), line(xs[0], y + h, xs[-1], y + h)
            for xv in xs:
                line(xv, y, xv, y + h)
            for i, c in enumerate(cells):
                if c:
                    text(xs[i] + 1.5, y + 2.3, c)
            return xs

        xs = frame(90, 110, [h, 22, h, 14], [None, "Ø0.14  M", "C", "E  M"])
        cx, cy = xs[0] + h / 2, 110 + h / 2
        ax.add_patch(Circle((cx, cy), 2.0, fill=False, linewidth=0.6))
        line(cx - 3, cy, cx + 3, cy), line(cx, cy - 3, cx, cy + 3)
        xs = frame(90, 90, [h, 14], [None, "0.3"])
        ax.add_patch(
            Polygon(
                [(xs[0] + 1.5, 92.5), (xs[0] + 5, 92.5), (xs[0] + 6.5, 95.5), (xs[0] + 3, 95.5)],
                closed=True,
                fill=False,
                linewidth=0.6,
            )
        )
        frame(90, 70, [h, 16, h], ["∥", "0.25", "A"])
        # datum labels
        for letter, x in (("A", 200), ("C", 220), ("E", 240)):
            rect(x, 120, x + 8, 128)
            text(x + 2.2, 122, letter)
            ax.add_patch(Polygon([(x + 2, 115), (x + 6, 115), (x + 4, 118)], closed=True, color="black"))
            line(x + 4, 118, x + 4, 120)
        text(30, 60, "Ra 3.2", size=14)
        text(30, 45, "Allgemeintoleranzen ISO 2768-mK", size=9)
        text(30, 38, "Kanten brechen 0,5", size=9)
        _title_block(line, text)
        _parts_list(line, text)
        fig.savefig(path, format="pdf")
    plt.close(fig)
    return {
        "dimensions": TRUTH_DIMENSIONS,
        "gdt": TRUTH_GDT,
        "datums": ["A", "C", "E"],
        "surface_finish": [{"parameter": "Ra", "value": 3.2}],
        "title_block": TRUTH_TITLE,
        "title_block_absent": TRUTH_ABSENT,
        "bom": TRUTH_BOM,
        "notes": {"general_tolerance": "mK", "edges": None},
    }


def _title_block(line: Any, text: Any) -> None:
    x0, x1, y0, y1 = 250.0, 410.0, 10.0, 60.0
    for y in (10, 20, 30, 40, 50, 60):
        line(x0, y, x1, y)
    line(x0, y0, x0, y1), line(x1, y0, x1, y1)
    # people table on the left: label | NAME | DATUM
    for x in (275, 300):
        line(x, 10, x, 60)
    line(325, 10, 325, 60)
    text(276, 52, "NAME", size=6)
    text(301, 52, "DATUM", size=6)
    for y, label, name, date in (
        (42, "GEZEICHNET", "M. Weber", "2026-11-30"),
        (32, "GEPRÜFT", "", ""),
        (22, "GENEHMIGT", "K. Braun", "2026-12-01"),
    ):
        text(251, y, label, size=6)
        if name:
            text(276, y, name, size=6)
            text(301, y, date, size=6)
    text(251, 12, "ÄNDERUNG", size=6)
    # right part: one field per ruled row
    line(370, 10, 370, 60), line(395, 10, 395, 20)
    text(326, 56, "BENENNUNG:", size=5)
    text(328, 52, "Grundplatte gefräst", size=9)
    text(326, 46, "ZEICHNUNGSNR.:", size=5)
    text(328, 42, "Aufspannung_Eckverbinder-0042", size=9)  # runs past x=370 into the next cell
    text(326, 36, "WERKSTOFF:", size=5)
    text(330, 32, "S235JR", size=9)
    text(371, 36, "GEWICHT:", size=5)
    text(373, 32, "1,25 kg", size=8)
    text(326, 26, "MASSSTAB: 1:2", size=6)
    text(371, 26, "BLATT 1 VON 2", size=6)
    text(326, 12, "DATUM", size=5)
    text(398, 13, "A3", size=10)


def _parts_list(line: Any, text: Any) -> None:
    cols = [250.0, 262.0, 276.0, 318.0, 370.0, 410.0]
    heads = ["POS", "MENGE", "BENENNUNG", "SACHNUMMER", "WERKSTOFF"]
    rows = [
        [r["position"], str(int(r["quantity"])), r["description"], r["part_number"], r["material"]]
        for r in TRUTH_BOM
    ]
    y_top, row_h = 100.0, 7.0
    n = len(rows) + 1
    for i in range(n + 1):
        line(cols[0], y_top - i * row_h, cols[-1], y_top - i * row_h)
    for x in cols:
        line(x, y_top, x, y_top - n * row_h)
    for r, cells in enumerate([heads, *rows]):
        for c, value in enumerate(cells):
            text(cols[c] + 1, y_top - r * row_h - 5, value, size=6)
