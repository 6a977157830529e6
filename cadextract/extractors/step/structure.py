"""The product structure of a STEP file: the XCAF label tree walked into the assembly tree,
the parts, and each placed solid once."""

from __future__ import annotations

from typing import Any

from cadextract.extractors.step.ocp import entry, label_name, shapes
from cadextract.extractors.step.solids import Placed

#: at most this many assembly-tree nodes are written (the solids list is never cut)
MAX_TREE_NODES = 20_000


class Walker:
    """Walks the XCAF label tree; collects the assembly tree and each placed solid once."""

    def __init__(self) -> None:
        from OCP.TopTools import TopTools_MapOfShape

        self.solids: Placed = []
        self.parts: dict[str, dict[str, Any]] = {}
        self.seen = TopTools_MapOfShape()
        self.nodes = 0
        self.truncated = False

    def walk(self, label: Any, loc: Any, path: list[str], instance: str | None, depth: int) -> dict[str, Any]:
        """The tree node of ``label`` placed at ``loc``; its solids are listed on the way."""
        from OCP.XCAFDoc import XCAFDoc_ShapeTool

        self.nodes += 1
        name = label_name(label)
        here = [*path, name or entry(label)]
        node: dict[str, Any] = {
            "name": name,
            "instance_name": instance,
            "part_id": entry(label),
            "kind": "part",
            "solid_count": 0,
            "children": [],
        }
        if XCAFDoc_ShapeTool.IsAssembly_s(label) and depth < 64:
            node["kind"] = "assembly"
            self._components(label, loc, here, depth, node)
        else:
            node["solid_count"] = self._part(label, loc, path, here, instance, node)
        return node

    def _components(self, label: Any, loc: Any, here: list[str], depth: int, node: dict[str, Any]) -> None:
        from OCP.TDF import TDF_Label, TDF_LabelSequence
        from OCP.XCAFDoc import XCAFDoc_ShapeTool

        comps = TDF_LabelSequence()
        XCAFDoc_ShapeTool.GetComponents_s(label, comps, False)
        for i in range(1, comps.Length() + 1):
            comp = comps.Value(i)
            ref = TDF_Label()
            if not XCAFDoc_ShapeTool.GetReferredShape_s(comp, ref):
                continue
            child_loc = loc.Multiplied(XCAFDoc_ShapeTool.GetLocation_s(comp))
            child = self.walk(ref, child_loc, here, label_name(comp), depth + 1)
            node["solid_count"] += child["solid_count"]
            if self.nodes <= MAX_TREE_NODES:
                node["children"].append(child)
            else:
                self.truncated = True

    def _part(
        self,
        label: Any,
        loc: Any,
        path: list[str],
        here: list[str],
        instance: str | None,
        node: dict[str, Any],
    ) -> int:
        """List the solids of one placed part (each solid once); returns how many."""
        from OCP.TopAbs import TopAbs_ShapeEnum
        from OCP.XCAFDoc import XCAFDoc_ShapeTool

        shape = XCAFDoc_ShapeTool.GetShape_s(label)
        if shape.IsNull():
            return 0
        placed = shape.Moved(loc) if not loc.IsIdentity() else shape
        name, part_id = node["name"], node["part_id"]
        part = self.parts.get(part_id)
        first = part is None
        if part is None:
            part = self.parts[part_id] = {
                "part_id": part_id,
                "name": name,
                "instance_count": 0,
                "solid_count": 0,
                "solid_indices": [],
            }
        part["instance_count"] += 1
        body = 0
        for solid in shapes(placed, TopAbs_ShapeEnum.TopAbs_SOLID):
            if not self.seen.Add(solid):
                continue
            if first:
                part["solid_indices"].append(len(self.solids))
            meta = {
                "name": name or next((p for p in reversed(path) if not p.startswith("0:")), None),
                "part_id": part_id,
                "path": "/".join(here),
                "instance_name": instance,
                "body_index": body,
            }
            self.solids.append((solid, meta))
            body += 1
        if first:
            part["solid_count"] = body
        return body


def assembly(free: Any, warnings: list[str]) -> tuple[list[dict[str, Any]], Walker]:
    """The assembly tree from the free shapes down, and the walker holding solids and parts."""
    from OCP.TopLoc import TopLoc_Location

    walker = Walker()
    tree = [walker.walk(free.Value(i), TopLoc_Location(), [], None, 0) for i in range(1, free.Length() + 1)]
    if walker.truncated:
        warnings.append(f"the assembly tree has more than {MAX_TREE_NODES} nodes; the rest is left out")
    return tree, walker


def placed_solids(walker: Walker, compound: Any, solid_count: int, warnings: list[str]) -> Placed:
    """The named solids of the walk, or the compound's unnamed ones when the two disagree."""
    from OCP.TopAbs import TopAbs_ShapeEnum

    if len(walker.solids) == solid_count:
        return walker.solids
    # the label walk and the compound disagree: trust the compound, lose the names
    warnings.append(
        f"the assembly structure gave {len(walker.solids)} solids but the shape has {solid_count}; "
        "solids are listed without names"
    )
    return [
        (s, {"name": None, "part_id": None, "path": None, "instance_name": None, "body_index": i})
        for i, s in enumerate(shapes(compound, TopAbs_ShapeEnum.TopAbs_SOLID))
    ]


def parts(walker: Walker, solids: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per part with its instance count and the volume and area of its solids."""
    out = []
    for part in walker.parts.values():
        idx = part.pop("solid_indices")
        vols = [solids[i]["volume"] or 0.0 for i in idx if i < len(solids)]
        areas = [solids[i]["surface_area"] or 0.0 for i in idx if i < len(solids)]
        out.append({**part, "volume": sum(vols), "surface_area": sum(areas)})
    return out
