"""Measuring the solids of a STEP file: volume, area, centre of mass and box per placed solid
(computed once per part, moved for further instances), the totals, and the geometry that lies
outside every solid."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cadextract.extractors.base import Progress
from cadextract.extractors.shared import number
from cadextract.extractors.step.ocp import bbox_dict, count

#: (solid, its names and place in the assembly) as the structure walk lists them
Placed = list[tuple[Any, dict[str, Any]]]


@dataclass
class Measured:
    """Every placed solid's figures and their totals (lengths in mm)."""

    box: Any  # Bnd_Box of everything measured
    solids: list[dict[str, Any]] = field(default_factory=list)
    volume: float = 0.0
    area: float = 0.0
    moment: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])

    def center_of_mass(self) -> list[float | None] | None:
        return [number(m / self.volume) for m in self.moment] if self.volume > 0 else None


def measure(placed: Placed, warnings: list[str], progress: Progress) -> Measured:
    """Measure each placed solid (progress weighted by face count) and sum the totals."""
    from OCP.Bnd import Bnd_Box
    from OCP.TopAbs import TopAbs_ShapeEnum
    from OCP.TopTools import TopTools_IndexedMapOfShape

    out = Measured(Bnd_Box())
    weights = [max(1, count(s, TopAbs_ShapeEnum.TopAbs_FACE)) for s, _ in placed]
    all_weight = sum(weights) or 1
    done = 0
    # solids met before in another placement (instances of one part): TShape -> first placement
    known = TopTools_IndexedMapOfShape()
    refs: list[tuple[Any, dict[str, Any]]] = []
    for index, ((solid, meta), weight) in enumerate(zip(placed, weights, strict=True)):
        props = _placed_props(solid, known, refs)
        out.box.Add(props.pop("_box"))
        vol = props["volume"] or 0.0
        out.volume += vol
        out.area += props["surface_area"] or 0.0
        com = props["center_of_mass"]
        if None not in com:
            for k in range(3):
                out.moment[k] += vol * com[k]
        if vol < 0:
            warnings.append(f"solid {index} ({meta['name']}) has a negative volume: its faces are inverted")
        out.solids.append({"index": index, **meta, **props})
        done += weight
        progress(45.0 + 53.0 * done / all_weight, f"solid {index + 1} of {len(placed)}")
    return out


def add_outside(
    compound: Any, placed: Placed, counts: dict[str, int], measured: Measured
) -> tuple[float | None, bool]:
    """(area of all faces, whether geometry lies outside the solids); the outside's box joins
    ``measured.box``. The solids' figures are reused: boxes merge exactly, areas add up."""
    from OCP.Bnd import Bnd_Box
    from OCP.BRep import BRep_Builder
    from OCP.BRepBndLib import BRepBndLib
    from OCP.BRepGProp import BRepGProp
    from OCP.GProp import GProp_GProps
    from OCP.TopAbs import TopAbs_ShapeEnum
    from OCP.TopoDS import TopoDS_Compound
    from OCP.TopTools import TopTools_MapOfShape

    builder = BRep_Builder()
    in_solids = TopoDS_Compound()
    builder.MakeCompound(in_solids)
    for solid, _ in placed:
        builder.Add(in_solids, solid)
    loose = any(
        count(in_solids, kind) != counts[key]
        for kind, key in (
            (TopAbs_ShapeEnum.TopAbs_FACE, "faces"),
            (TopAbs_ShapeEnum.TopAbs_EDGE, "edges"),
            (TopAbs_ShapeEnum.TopAbs_VERTEX, "vertices"),
        )
    )
    if not loose:
        return measured.area, False
    listed = TopTools_MapOfShape()
    for solid, _ in placed:
        listed.Add(solid)
    outside = TopoDS_Compound()
    builder.MakeCompound(outside)
    _outside_solids(compound, listed, builder, outside)
    outside_box = Bnd_Box()
    BRepBndLib.AddOptimal_s(outside, outside_box)
    measured.box.Add(outside_box)
    outside_faces = GProp_GProps()
    BRepGProp.SurfaceProperties_s(outside, outside_faces)
    return number(measured.area + outside_faces.Mass()), True


def _solid_props(solid: Any) -> dict[str, Any]:
    from OCP.Bnd import Bnd_Box
    from OCP.BRepBndLib import BRepBndLib
    from OCP.BRepGProp import BRepGProp
    from OCP.GProp import GProp_GProps
    from OCP.TopAbs import TopAbs_ShapeEnum

    vprops = GProp_GProps()
    BRepGProp.VolumeProperties_s(solid, vprops)
    sprops = GProp_GProps()
    BRepGProp.SurfaceProperties_s(solid, sprops)
    box = Bnd_Box()
    BRepBndLib.AddOptimal_s(solid, box)
    com = vprops.CentreOfMass()
    return {
        "volume": number(vprops.Mass()),
        "surface_area": number(sprops.Mass()),
        "center_of_mass": [number(com.X()), number(com.Y()), number(com.Z())],
        "bbox": bbox_dict(box),
        "shells": count(solid, TopAbs_ShapeEnum.TopAbs_SHELL),
        "faces": count(solid, TopAbs_ShapeEnum.TopAbs_FACE),
        "edges": count(solid, TopAbs_ShapeEnum.TopAbs_EDGE),
        "_box": box,
    }


def _rigid_move(ref: Any, solid: Any) -> tuple[Any, bool] | None:
    """The rigid transform taking ``ref`` onto ``solid`` (two placements of one solid) and
    whether it only permutes / flips the axes (so a bounding box maps exactly); None when the
    move is not a proper rigid motion (scaled, mirrored or sheared: recompute everything)."""
    if ref.Orientation() != solid.Orientation():
        return None
    move = solid.Location().Transformation().Multiplied(ref.Location().Transformation().Inverted())
    if abs(move.ScaleFactor() - 1.0) > 1e-12 or move.IsNegative():
        return None
    mat = [[move.Value(i, j) for j in (1, 2, 3)] for i in (1, 2, 3)]
    for i in range(3):
        for j in range(3):
            dot = sum(mat[i][k] * mat[j][k] for k in range(3))
            if abs(dot - (1.0 if i == j else 0.0)) > 1e-9:
                return None
    axis_aligned = all(abs(v) <= 1e-12 or abs(abs(v) - 1.0) <= 1e-12 for row in mat for v in row)
    return move, axis_aligned


def _placed_props(solid: Any, known: Any, refs: list[tuple[Any, dict[str, Any]]]) -> dict[str, Any]:
    """Properties of one placed solid; a solid placed again elsewhere (another instance of a
    part) reuses the first placement's figures: volume, area and counts are invariant under a
    rigid move, the centre of mass is moved, and the box is moved when the move keeps the axes
    (otherwise the optimal box of the placed solid is computed)."""
    from OCP.Bnd import Bnd_Box
    from OCP.BRepBndLib import BRepBndLib
    from OCP.gp import gp_Pnt
    from OCP.TopLoc import TopLoc_Location

    key = solid.Located(TopLoc_Location())
    i = int(known.FindIndex(key))
    if i == 0:
        props = _solid_props(solid)
        known.Add(key)
        refs.append((solid, props))
        return dict(props)  # the caller pops "_box": keep the reference's
    ref_solid, ref = refs[i - 1]
    found = _rigid_move(ref_solid, solid)
    if found is None:
        return _solid_props(solid)
    move, axis_aligned = found
    if axis_aligned:
        box = ref["_box"].Transformed(move)
    else:
        box = Bnd_Box()
        BRepBndLib.AddOptimal_s(solid, box)
    com = ref["center_of_mass"]
    if None not in com:
        p = gp_Pnt(*com).Transformed(move)
        com = [number(p.X()), number(p.Y()), number(p.Z())]
    return {**ref, "center_of_mass": list(com), "bbox": bbox_dict(box), "_box": box}


def _outside_solids(shape: Any, solids: Any, builder: Any, out: Any) -> None:
    """Add to ``out`` every piece of ``shape`` that is not one of ``solids`` (free faces,
    shells, wires, edges, vertices, solids the walk did not list), descending into compounds."""
    from OCP.TopAbs import TopAbs_ShapeEnum
    from OCP.TopoDS import TopoDS_Iterator

    it = TopoDS_Iterator(shape)
    while it.More():
        child = it.Value()
        kind = child.ShapeType()
        if kind in (TopAbs_ShapeEnum.TopAbs_COMPOUND, TopAbs_ShapeEnum.TopAbs_COMPSOLID):
            _outside_solids(child, solids, builder, out)
        elif not (kind == TopAbs_ShapeEnum.TopAbs_SOLID and solids.Contains(child)):
            builder.Add(out, child)
        it.Next()
