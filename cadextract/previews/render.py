"""Draw one small preview image per file: pure functions of a path, run in the child process.

DXF through ezdxf's drawing add-on (SVG backend), the first PDF page through pypdfium2
(PNG), STEP as a hidden-line SVG through cadquery, IFC as a plan of each storey's
element footprints (SVG drawn here from ifcopenshell's geometry). ``runner.make`` runs
them in a forked process under a deadline.
"""

from __future__ import annotations

import gzip
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from cadextract.extractors import testing
from cadextract.previews import MAX_BYTES

SVG = "image/svg+xml"
PNG = "image/png"
JPEG = "image/jpeg"
PDF_SIDES = (900, 600, 400)  # longest side in pixels, tried in turn until it fits
LINE_ART_WHITE = 0.8  # share of near-white pixels above which a page is drawn as PNG


class PreviewError(Exception):
    """The file could not be drawn (the message says why, in one line)."""


# -- per format ------------------------------------------------------------------------


DXF_MAX_OUTLINED_TEXTS = 40


def render_dxf(path: Path, doc: Any = None) -> tuple[str, bytes]:
    from ezdxf.addons.drawing import config, layout, svg
    from ezdxf.addons.drawing.frontend import Frontend
    from ezdxf.addons.drawing.properties import RenderContext

    if doc is None:
        from ezdxf import recover

        doc, _auditor = recover.readfile(str(path))
    space = doc.modelspace()
    if len(space) == 0:  # a drawing laid out only on paper
        space = next((lay for lay in doc.layouts if len(lay)), space)
    backend = svg.SVGBackend()
    # text drawn as glyph outlines is most of the cost: past a few dozen texts, a thumbnail
    # shows each text as a grey bar ("greeked"), about twice as fast
    many_texts = len(space.query("TEXT MTEXT ATTRIB")) > DXF_MAX_OUTLINED_TEXTS
    cfg = config.Configuration(
        background_policy=config.BackgroundPolicy.WHITE,
        color_policy=config.ColorPolicy.MONOCHROME_LIGHT_BG,
        lineweight_scaling=0.5,
        text_policy=config.TextPolicy.REPLACE_FILL if many_texts else config.TextPolicy.FILLING,
    )
    Frontend(RenderContext(doc), backend, config=cfg).draw_layout(space, finalize=True)
    page = layout.Page(0, 0, layout.Units.mm, margins=layout.Margins.all(2))
    # coordinates as integers of at most 4 digits: a tenth of the default's bytes
    settings = layout.Settings(output_coordinate_space=4000, fit_page=True)
    return SVG, backend.get_string(page, settings=settings, xml_declaration=False).encode()


def render_pdf(path: Path, loaded: Any = None, max_bytes: int = MAX_BYTES) -> tuple[str, bytes]:
    import io

    import pypdfium2 as pdfium  # type: ignore[import-untyped]

    pdf = pdfium.PdfDocument(str(path))
    try:
        if len(pdf) == 0:
            raise PreviewError("the PDF has no pages")
        page = pdf[0]
        width, height = page.get_size()
        data, mime = b"", PNG
        for side in PDF_SIDES:
            image = page.render(scale=side / max(width, height, 1.0), grayscale=True).to_pil()
            buf = io.BytesIO()
            histogram = image.histogram()
            if sum(histogram[240:]) >= LINE_ART_WHITE * sum(histogram):
                # line art, mostly paper: a small and sharp PNG
                image.save(buf, format="PNG", compress_level=6)
            else:  # a scan or a photo: PNG would be large and slow to encode
                image.save(buf, format="JPEG", quality=75)
                mime = JPEG
            data = buf.getvalue()
            if len(data) <= max_bytes:
                break
        return mime, data
    finally:
        pdf.close()


def render_step(path: Path, shape: Any = None) -> tuple[str, bytes]:
    """An isometric view: hidden lines removed for simple parts, a wireframe beyond.

    Drawn straight with OCP, the way cadquery's SVG exporter does it: importing
    cadquery would cost each child 3 s on top of the OCP modules the extractor loaded,
    and exact hidden-line removal takes tens of seconds on a large assembly.
    """
    from OCP.TopAbs import TopAbs_EDGE
    from OCP.TopExp import TopExp
    from OCP.TopTools import TopTools_IndexedMapOfShape

    if shape is None:
        shape = _read_step(path)
    edges = TopTools_IndexedMapOfShape()
    TopExp.MapShapes_s(shape, TopAbs_EDGE, edges)
    if edges.Extent() == 0:
        raise PreviewError("the STEP file holds no edges to draw")
    simple = edges.Extent() <= STEP_HLR_MAX_EDGES
    lines = _hidden_line_view(shape) if simple else _wireframe_view(shape)
    if not lines:
        raise PreviewError("the view has no visible edges")
    return SVG, lines_svg(lines).encode()


STEP_DIRECTION = (1.0, -1.0, 0.8)  # cadquery's default isometric-like view
STEP_HLR_MAX_EDGES = 400  # above this, exact hidden-line removal gets slow: a wireframe instead


def _read_step(path: Path) -> Any:
    from OCP.IFSelect import IFSelect_ReturnStatus
    from OCP.STEPControl import STEPControl_Reader

    reader = STEPControl_Reader()
    if reader.ReadFile(str(path)) != IFSelect_ReturnStatus.IFSelect_RetDone:
        raise PreviewError("the STEP reader could not read the file")
    reader.TransferRoots()
    shape = reader.OneShape()
    if shape.IsNull():
        raise PreviewError("the STEP file holds no shapes to draw")
    return shape


def _hidden_line_view(shape: Any) -> list[list[tuple[float, float]]]:
    from OCP.gp import gp_Ax2, gp_Dir, gp_Pnt
    from OCP.HLRAlgo import HLRAlgo_Projector
    from OCP.HLRBRep import HLRBRep_Algo, HLRBRep_HLRToShape

    hlr = HLRBRep_Algo()
    hlr.Add(shape)
    hlr.Projector(HLRAlgo_Projector(gp_Ax2(gp_Pnt(), gp_Dir(*STEP_DIRECTION))))
    hlr.Update()
    hlr.Hide()
    out = HLRBRep_HLRToShape(hlr)
    visible = [out.VCompound(), out.Rg1LineVCompound(), out.OutLineVCompound()]
    return [
        [(p[0], p[1]) for p in line]
        for compound in visible
        if not compound.IsNull()
        for line in _polylines(compound)
    ]


def _wireframe_view(shape: Any) -> list[list[tuple[float, float]]]:
    """Every edge projected onto the view plane (no hidden-line removal)."""
    import math

    dx, dy, dz = STEP_DIRECTION
    n = math.sqrt(dx * dx + dy * dy + dz * dz)
    d = (dx / n, dy / n, dz / n)
    # view axes: x' perpendicular to d in the ground plane, y' = d × x'
    h = math.hypot(d[0], d[1]) or 1.0
    ux = (-d[1] / h, d[0] / h, 0.0)
    uy = (d[1] * ux[2] - d[2] * ux[1], d[2] * ux[0] - d[0] * ux[2], d[0] * ux[1] - d[1] * ux[0])
    return [
        [
            (p[0] * ux[0] + p[1] * ux[1] + p[2] * ux[2], p[0] * uy[0] + p[1] * uy[1] + p[2] * uy[2])
            for p in line
        ]
        for line in _polylines(shape, three_d=True)
    ]


def _polylines(compound: Any, three_d: bool = False) -> list[list[tuple[float, ...]]]:
    from OCP.BRepAdaptor import BRepAdaptor_Curve
    from OCP.BRepLib import BRepLib
    from OCP.GCPnts import GCPnts_QuasiUniformDeflection
    from OCP.TopAbs import TopAbs_EDGE
    from OCP.TopExp import TopExp_Explorer
    from OCP.TopoDS import TopoDS

    if not three_d:
        BRepLib.BuildCurves3d_s(compound)
    deflection = _size(compound) / 400  # a few hundred points across the view, whatever the units
    lines: list[list[tuple[float, ...]]] = []
    explorer = TopExp_Explorer(compound, TopAbs_EDGE)
    while explorer.More():
        curve = BRepAdaptor_Curve(TopoDS.Edge_s(explorer.Current()))
        points = GCPnts_QuasiUniformDeflection(curve, deflection)
        if points.IsDone() and points.NbPoints() >= 2:
            pts = [points.Value(i) for i in range(1, points.NbPoints() + 1)]
            lines.append([(p.X(), p.Y(), p.Z()) if three_d else (p.X(), p.Y()) for p in pts])
        explorer.Next()
    return lines


def _size(shape: Any) -> float:
    from OCP.Bnd import Bnd_Box
    from OCP.BRepBndLib import BRepBndLib

    box = Bnd_Box()
    BRepBndLib.Add_s(shape, box)
    if box.IsVoid():
        return 1.0
    x0, y0, z0, x1, y1, z1 = box.Get()
    return float(max(x1 - x0, y1 - y0, z1 - z0, 1e-6))


def lines_svg(lines: Sequence[Sequence[tuple[float, ...]]], width: int = 640, height: int = 480) -> str:
    """Polylines fitted into a white box (y up, as drawn)."""
    xs = [x for line in lines for x, _ in line]
    ys = [y for line in lines for _, y in line]
    x0, y0 = min(xs), min(ys)
    span_x, span_y = max(max(xs) - x0, 1e-9), max(max(ys) - y0, 1e-9)
    scale = min((width - 40) / span_x, (height - 40) / span_y)
    # centred in the box
    x0 -= ((width - 40) / scale - span_x) / 2
    y0 -= ((height - 40) / scale - span_y) / 2
    paths = []
    for line in lines:
        d = "M" + "L".join(
            f"{20 + (x - x0) * scale:.1f} {height - 20 - (y - y0) * scale:.1f}" for x, y in line
        )
        paths.append(f'<path d="{d}"/>')
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}"><rect width="100%" height="100%" fill="white"/>'
        '<g fill="none" stroke="#223" stroke-width="1" stroke-linecap="round">'
        + "".join(paths)
        + "</g></svg>"
    )


IFC_SECONDS = 1.5  # geometry is built element by element; stop after this long
# what a storey plan is made of; doors, windows and stairs sit inside these outlines and
# their detailed geometry cost most of the time (2.5 s → 0.2 s CPU on SampleHouse4)
IFC_CLASSES = ("IfcWall", "IfcSlab", "IfcColumn", "IfcBeam")


def render_ifc(path: Path, model: Any = None) -> tuple[str, bytes]:
    import ifcopenshell
    import ifcopenshell.geom
    import ifcopenshell.util.element

    if model is None:
        model = ifcopenshell.open(str(path))
    storeys = list(model.by_type("IfcBuildingStorey"))
    if not storeys:
        raise PreviewError("the model has no building storeys to draw a plan of")
    names = [str(s.Name or f"storey #{s.id()}") for s in storeys]
    elements = [e for cls in IFC_CLASSES for e in _by_type(model, cls) if e.Representation is not None]
    if not elements:
        return SVG, placeholder_svg("no plan: the model's elements carry no geometry", names).encode()
    settings = ifcopenshell.geom.settings()  # type: ignore[no-untyped-call]
    settings.set("use-world-coords", True)
    # a footprint needs no holes, and a wall clipped under a roof has the footprint of the
    # unclipped one: booleans were 98 % of the time (xbim House: 4.1 s → 0.08 s CPU)
    settings.set("disable-opening-subtractions", True)
    settings.set("disable-boolean-result", True)
    stop_at = time.perf_counter() + IFC_SECONDS
    partial = False
    footprints: dict[int, list[list[tuple[float, float]]]] = {s.id(): [] for s in storeys}
    iterator = ifcopenshell.geom.iterator(settings, model, 1, include=elements)
    if iterator.initialize():  # False: no element's geometry could be built
        while True:
            shape = iterator.get()  # type: ignore[no-untyped-call]
            element = model.by_id(shape.id)
            storey = ifcopenshell.util.element.get_container(element)
            if storey is not None and storey.id() in footprints:
                verts = shape.geometry.verts
                hull = convex_hull([(verts[i], verts[i + 1]) for i in range(0, len(verts), 3)])
                if len(hull) >= 3:
                    footprints[storey.id()].append(hull)
            if not iterator.next():
                break
            if time.perf_counter() > stop_at:  # draw what there is rather than nothing
                partial = True
                break
    panels = [(name, footprints[s.id()]) for name, s in zip(names, storeys, strict=True)]
    panels = [p for p in panels if p[1]]
    if not panels:
        return SVG, placeholder_svg("no plan: no element geometry lies on a storey", names).encode()
    return SVG, plan_svg(panels, note="partial plan: the model is large" if partial else "").encode()


def _by_type(model: Any, cls: str) -> list[Any]:
    try:
        return list(model.by_type(cls))
    except RuntimeError:  # class not in this schema (IFC2X3 has no IfcWallStandardCase subtype etc.)
        return []


def convex_hull(points: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    """Andrew's monotone chain: the footprint outline of a projected element."""
    pts = sorted(set(points))
    if len(pts) < 3:
        return pts

    def cross(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[tuple[float, float]] = []
    upper: list[tuple[float, float]] = []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]


def plan_svg(
    panels: Sequence[tuple[str, Sequence[Sequence[tuple[float, float]]]]], size: int = 300, note: str = ""
) -> str:
    """Storeys side by side, each a plan of its footprints; names are XML-escaped text."""
    xs = [x for _, polys in panels for poly in polys for x, _ in poly]
    ys = [y for _, polys in panels for poly in polys for _, y in poly]
    x0, y0 = min(xs), min(ys)
    span = max(max(xs) - x0, max(ys) - y0, 1e-9)
    scale = (size - 20) / span
    parts = []
    for i, (name, polys) in enumerate(panels):
        left = i * size
        parts.append(f'<g transform="translate({left},0)">')
        parts.append(f'<rect x="2" y="2" width="{size - 4}" height="{size + 16}" fill="none" stroke="#ccc"/>')
        for poly in polys:
            pts = " ".join(f"{10 + (x - x0) * scale:.1f},{size - 10 - (y - y0) * scale:.1f}" for x, y in poly)
            parts.append(f'<polygon points="{pts}" fill="#8893a3" fill-opacity="0.35" stroke="#334"/>')
        parts.append(
            f'<text x="{size / 2}" y="{size + 12}" text-anchor="middle" font-size="12">{escape(name)}</text>'
        )
        parts.append("</g>")
    width, height = size * len(panels), size + 20
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f"width={quoteattr(str(width))} height={quoteattr(str(height))} "
        'font-family="sans-serif"><rect width="100%" height="100%" fill="white"/>'
        + "".join(parts)
        + (f'<text x="6" y="14" font-size="11" fill="#a55">{escape(note)}</text>' if note else "")
        + "</svg>"
    )


def placeholder_svg(reason: str, lines: Sequence[str] = ()) -> str:
    """A clear "no preview" card with the reason and a few lines of text (escaped)."""
    rows = "".join(
        f'<text x="200" y="{120 + 18 * i}" text-anchor="middle" font-size="13" fill="#555">{escape(t)}</text>'
        for i, t in enumerate(list(lines)[:8])
    )
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 300" width="400" height="300" '
        'font-family="sans-serif"><rect width="100%" height="100%" fill="#f4f5f7" stroke="#ccd"/>'
        '<text x="200" y="60" text-anchor="middle" font-size="20" fill="#667">No preview</text>'
        f'<text x="200" y="88" text-anchor="middle" font-size="12" fill="#889">{escape(reason)}</text>'
        f"{rows}</svg>"
    )


RENDERERS: dict[str, Callable[[Path, Any], tuple[str, bytes]]] = {
    "dxf": render_dxf,
    "pdf": render_pdf,
    "step": render_step,
    "ifc": render_ifc,
    "test-preview": testing.draw_preview,  # the fault tests' renderer (hangs, crashes on request)
}


def render(path: Path, fmt: str, loaded: Any = None, max_bytes: int = MAX_BYTES) -> tuple[str, bytes]:
    """Draw a file (or what its extractor loaded) under the size cap (SVG gzip-compressed if need be)."""
    try:
        mime, data = RENDERERS[fmt](path, loaded)
    except PreviewError:
        raise
    except Exception as exc:  # a renderer's own failure on an odd file: one line
        raise PreviewError(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from None
    if len(data) > max_bytes and mime == SVG:
        data = gzip.compress(data, compresslevel=6, mtime=0)  # 9 took 2.4x longer for 0.5 % less
    if len(data) > max_bytes:
        raise PreviewError(f"the preview is {len(data) // 1024} KB, over the {max_bytes // 1024} KB cap")
    return mime, data
