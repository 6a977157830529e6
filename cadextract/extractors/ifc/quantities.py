"""Which elements are physical, and quantities summed per storey.

Openings and other subtraction features (holes cut into walls) and virtual elements (space
boundaries that are not built) are ``IfcElement`` subclasses but not things on site: they are
counted separately, never among the physical elements.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

#: IfcElement subclasses that are not physical things
NON_PHYSICAL = ("IfcFeatureElementSubtraction", "IfcVirtualElement")


def is_physical(element: Any) -> bool:
    return not any(element.is_a(c) for c in NON_PHYSICAL)


def non_physical_counts(elements: list[Any]) -> dict[str, int]:
    return dict(sorted(Counter(e.is_a() for e in elements if not is_physical(e)).items()))


def element_quantities(element: Any) -> dict[str, float]:
    """Numeric quantities of one element's quantity sets (its type's included), by quantity name."""
    import ifcopenshell.util.element as element_util

    out: dict[str, float] = {}
    for qto in element_util.get_psets(element, qtos_only=True).values():
        for name, value in qto.items():
            if name != "id" and isinstance(value, int | float) and not isinstance(value, bool):
                out[name] = out.get(name, 0.0) + float(value)
    return out


class StoreyQuantities:
    """Sums each storey's element quantities, by quantity name (NetVolume, NetSideArea, …)."""

    def __init__(self, model: Any) -> None:
        self.enabled = bool(model.by_type("IfcElementQuantity"))
        self.sums: dict[int, Counter[str]] = {}
        self.counted: dict[int, int] = {}

    def add(self, element: Any, storey: Any) -> None:
        if not self.enabled or storey is None:
            return
        q = element_quantities(element)
        if q:
            self.sums.setdefault(storey.id(), Counter()).update(q)
            self.counted[storey.id()] = self.counted.get(storey.id(), 0) + 1

    def of(self, storey_id: int | None) -> dict[str, Any] | None:
        """``{elements, totals}`` for a storey, or None when the file has no quantity sets."""
        if not self.enabled or storey_id is None:
            return None
        sums = self.sums.get(storey_id, Counter())
        return {
            "elements": self.counted.get(storey_id, 0),
            "totals": {k: round(v, 6) for k, v in sorted(sums.items())},
        }
