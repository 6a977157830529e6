"""One physical IFC element in full: identity, type, container and storey, materials,
property and quantity sets (only for ``detail="full"``)."""

from __future__ import annotations

from typing import Any

from cadextract.extractors.ifc.values import attr, property_values, text
from cadextract.extractors.shared import attempt


def element_detail(element: Any, container: Any, storey: Any) -> dict[str, Any]:
    import ifcopenshell.util.element as element_util

    el_type: Any = element_util.get_type(element)
    # odd materials or property sets leave that field empty; the element is still listed
    materials: list[str] = attempt(
        lambda: [str(m.Name) for m in element_util.get_materials(element) if attr(m, "Name")], []
    )
    psets: dict[str, Any] = attempt(
        lambda: property_values(element_util.get_psets(element, psets_only=True)), {}
    )
    qsets: dict[str, Any] = attempt(
        lambda: property_values(element_util.get_psets(element, qtos_only=True)), {}
    )
    return {
        "global_id": text(attr(element, "GlobalId")),
        "ifc_class": element.is_a(),
        "name": text(attr(element, "Name")),
        "description": text(attr(element, "Description")),
        "object_type": text(attr(element, "ObjectType")),
        "tag": text(attr(element, "Tag")),
        "predefined_type": text(attr(element, "PredefinedType"))
        if hasattr(element, "PredefinedType")
        else None,
        "type_class": el_type.is_a() if el_type is not None else None,
        "type_name": text(attr(el_type, "Name")) if el_type is not None else None,
        "container": text(attr(container, "Name")) if container is not None else None,
        "container_class": container.is_a() if container is not None else None,
        "container_global_id": text(attr(container, "GlobalId")) if container is not None else None,
        "storey": text(attr(storey, "Name")) if storey is not None else None,
        "storey_global_id": text(attr(storey, "GlobalId")) if storey is not None else None,
        "materials": materials,
        "property_sets": psets,
        "quantity_sets": qsets,
    }
