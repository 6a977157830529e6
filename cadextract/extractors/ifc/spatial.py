"""The spatial structure of an IFC model: where each element is placed, the tree from the
project down (site → building → storey → space) and the storeys flattened."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cadextract.extractors.base import Progress
from cadextract.extractors.ifc import quantities as ifc_quantities
from cadextract.extractors.ifc.elements import element_detail
from cadextract.extractors.ifc.values import attr, num, text

#: report progress every this many elements
PROGRESS_EVERY = 200


def spatial_base(schema: str) -> str:
    """The class every spatial element derives from in this schema."""
    return "IfcSpatialStructureElement" if schema == "IFC2X3" else "IfcSpatialElement"


@dataclass
class Placement:
    """Where the physical elements are: direct counts per container, the unplaced, and the
    per-element detail rows when the job asks for them."""

    direct: dict[int, Counter[str]] = field(default_factory=dict)
    uncontained: int = 0
    rows: list[dict[str, Any]] = field(default_factory=list)


def place_elements(
    elements: list[Any], detail: str, quantities: ifc_quantities.StoreyQuantities, progress: Progress
) -> Placement:
    """Place every element in the spatial structure (and sum storey quantities on the way)."""
    import ifcopenshell.util.element as element_util

    out = Placement()
    storey_cache: dict[int, Any] = {}
    total = len(elements)
    for i, element in enumerate(elements):
        container = element_util.get_container(element)
        if container is None:
            out.uncontained += 1
        else:
            out.direct.setdefault(container.id(), Counter())[element.is_a()] += 1
        if detail == "full" or quantities.enabled:
            storey = _storey_of(container, storey_cache) if container is not None else None
            quantities.add(element, storey)
            if detail == "full":
                out.rows.append(element_detail(element, container, storey))
        if i % PROGRESS_EVERY == 0:
            progress(30.0 + 65.0 * i / max(total, 1), f"element {i + 1} of {total}")
    return out


def _storey_of(container: Any, cache: dict[int, Any]) -> Any:
    """The first IfcBuildingStorey at or above a spatial container (None if there is none)."""
    import ifcopenshell.util.element as element_util

    key = container.id()
    if key in cache:
        return cache[key]
    node, seen, found = container, set(), None
    while node is not None and node.id() not in seen:
        seen.add(node.id())
        if node.is_a("IfcBuildingStorey"):
            found = node
            break
        node = element_util.get_aggregate(node)
    cache[key] = found
    return found


def tree(
    model: Any, project: Any, base: str, direct: dict[int, Counter[str]], warnings: list[str]
) -> list[dict[str, Any]]:
    """The spatial tree from the project down; sites, buildings and storeys the project does not
    reach are listed at the top. Nodes keep a private ``_id`` until :func:`drop_ids`."""
    seen: set[int] = set()

    def node_of(entity: Any) -> dict[str, Any]:
        seen.add(entity.id())
        counts = direct.get(entity.id(), Counter())
        kids = [node_of(k) for k in _children(entity, base) if k.id() not in seen]
        kids.sort(key=_node_order)
        return {
            "_id": entity.id(),
            "global_id": text(attr(entity, "GlobalId")),
            "ifc_class": entity.is_a(),
            "name": text(attr(entity, "Name")),
            "long_name": text(attr(entity, "LongName")),
            "elevation": _elevation(entity),
            "element_count": sum(counts.values()),
            "element_count_total": sum(counts.values()) + sum(k["element_count_total"] for k in kids),
            "elements_by_class": dict(sorted(counts.items())),
            "children": kids,
        }

    out = [node_of(k) for k in _children(project, base)] if project is not None else []
    out.sort(key=_node_order)
    orphans = [
        s
        for s in model.by_type(base)
        if s.id() not in seen and (s.is_a("IfcSite") or s.is_a("IfcBuilding") or s.is_a("IfcBuildingStorey"))
    ]
    if orphans:
        warnings.append(
            f"{len(orphans)} spatial elements are not connected to the project; listed at the top"
        )
        out.extend(node_of(s) for s in orphans if s.id() not in seen)
    return out


def storeys(nodes: list[dict[str, Any]], quantities: ifc_quantities.StoreyQuantities) -> list[dict[str, Any]]:
    """Every storey of the tree with its building, in elevation order."""
    out: list[dict[str, Any]] = []

    def collect(level: Iterable[dict[str, Any]], building: str | None) -> None:
        for n in level:
            if n["ifc_class"] == "IfcBuildingStorey":
                out.append(
                    {
                        "global_id": n["global_id"],
                        "name": n["name"],
                        "long_name": n["long_name"],
                        "building": building,
                        "elevation": n["elevation"],
                        "element_count": n["element_count_total"],
                        "elements_by_class": _sum_classes(n),
                        "quantities": quantities.of(n["_id"]),
                    }
                )
            collect(n["children"], n["name"] if n["ifc_class"] == "IfcBuilding" else building)

    collect(nodes, None)
    out.sort(key=lambda s: (s["elevation"] is None, s["elevation"] or 0.0))
    return out


def drop_ids(nodes: list[dict[str, Any]]) -> None:
    for n in nodes:
        n.pop("_id", None)
        drop_ids(n["children"])


def _elevation(node: Any) -> float | None:
    for name in ("Elevation", "RefElevation", "ElevationOfRefHeight"):
        if hasattr(node, name):
            return num(attr(node, name))
    return None


def _children(node: Any, base: str) -> list[Any]:
    kids: list[Any] = []
    for rel in attr(node, "IsDecomposedBy") or ():
        for obj in attr(rel, "RelatedObjects") or ():
            if obj.is_a(base):
                kids.append(obj)
    return kids


def _node_order(node: Mapping[str, Any]) -> tuple[bool, float, str]:
    """Children in elevation order (storeys), then by name; unordered relations stay stable."""
    elevation = node["elevation"]
    return (elevation is None, elevation or 0.0, node["name"] or "")


def _sum_classes(node: Mapping[str, Any]) -> dict[str, int]:
    total: Counter[str] = Counter(node["elements_by_class"])
    for kid in node["children"]:
        total.update(_sum_classes(kid))
    return dict(sorted(total.items()))
