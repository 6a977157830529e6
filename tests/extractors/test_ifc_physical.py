"""IFC: openings and virtual elements are not physical elements; quantities summed per storey."""

from __future__ import annotations

from typing import Any

import pytest

from cadextract.extractors.ifc import EXTRACTOR
from tests.conftest import CORPUS, REFERENCE
from tests.extractors import common

HOUSE = "ifc/xbim__House.ifc"


@pytest.fixture(scope="module")
def house() -> dict[str, Any]:
    path = CORPUS / HOUSE
    if not path.is_file():
        pytest.skip("corpus not present")
    payload, _ = common.run_extractor(EXTRACTOR, path)
    common.validated(EXTRACTOR, path, payload)
    return payload


def test_openings_counted_apart(house: dict[str, Any]) -> None:
    ref = REFERENCE[HOUSE]["IfcProduct_by_class"]
    assert house["counts"]["openings"] == ref["IfcOpeningElement"] == 45
    assert house["non_physical_by_class"] == {"IfcOpeningElement": 45}
    assert "IfcOpeningElement" not in house["elements_by_class"]
    assert house["products_by_class"]["IfcOpeningElement"] == 45  # still a product
    assert house["counts"]["elements"] == sum(house["elements_by_class"].values())
    assert (
        sum(s["element_count"] for s in house["storeys"]) + house["counts"]["uncontained_elements"]
        == (house["counts"]["elements"])
    )
    spatial = sum(ref.get(c, 0) for c in ("IfcSite", "IfcBuilding", "IfcBuildingStorey", "IfcSpace"))
    assert house["counts"]["spatial_elements"] == spatial


def test_storey_quantities_match_the_quantity_sets(house: dict[str, Any]) -> None:
    """NetVolume summed over storeys equals the sum read straight from the IfcElementQuantity sets
    of the occurrences and (where the occurrence has no set of that name) of their types."""
    import ifcopenshell

    model = ifcopenshell.open(str(CORPUS / HOUSE))

    def volumes(sets: list[Any]) -> dict[str, float]:
        # by name, whatever the quantity's class: this file stores NetVolume as an IfcQuantityArea
        return {
            q.Name: float(q[3])
            for qset in sets
            if qset.is_a("IfcElementQuantity")
            for q in qset.Quantities
            if q.Name == "NetVolume"
        }

    want = 0.0
    for element in model.by_type("IfcElement"):
        if element.is_a("IfcFeatureElementSubtraction") or element.is_a("IfcVirtualElement"):
            continue
        own: list[Any] = []
        typed: list[Any] = []
        for rel in element.IsDefinedBy:
            if rel.is_a("IfcRelDefinesByProperties"):
                own.append(rel.RelatingPropertyDefinition)
            elif rel.is_a("IfcRelDefinesByType"):
                typed += list(rel.RelatingType.HasPropertySets or [])
        own_names = {s.Name for s in own}
        want += sum(volumes(own).values()) + sum(
            volumes([s for s in typed if s.Name not in own_names]).values()
        )
    got = sum((s["quantities"] or {}).get("totals", {}).get("NetVolume", 0.0) for s in house["storeys"])
    assert want > 0 and got == pytest.approx(want, rel=1e-9)
    assert all(s["quantities"] is not None for s in house["storeys"])


def test_no_quantity_sets_no_quantities() -> None:
    path = CORPUS / "ifc" / "ifcopenshell__basic.ifc"
    if not path.is_file():
        pytest.skip("corpus not present")
    payload, _ = common.run_extractor(EXTRACTOR, path)
    assert all(s["quantities"] is None for s in payload["storeys"])
    assert payload["counts"]["openings"] == 0 and payload["non_physical_by_class"] == {}
