"""Small sample models for the IFC and STEP extractors.

Each ``make_*`` function writes one file and returns the values known by construction, so
tests can compare an extractor's payload against them exactly.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

#: storey name -> (elevation in millimetres, wall names on it)
IFC_STOREYS: dict[str, tuple[float, list[str]]] = {
    "Ground Floor": (0.0, ["W-G-01", "W-G-02", "W-G-03"]),
    "First Floor": (3200.0, ["W-1-01", "W-1-02"]),
}
IFC_FIRE_RATING = "REI60"
IFC_WALL_LENGTH = 5000.0


def make_ifc(path: Path) -> dict[str, Any]:
    """An IFC4 project (millimetres): site → building → two storeys with 3 + 2 walls, a slab.

    Every wall has a type ("WT-200"), a material ("Concrete"), ``Pset_WallCommon`` with
    ``FireRating`` and ``IsExternal``, and ``Qto_WallBaseQuantities.Length``.
    """
    import ifcopenshell
    import ifcopenshell.api

    f = ifcopenshell.api.run("project.create_file", version="IFC4")
    project = ifcopenshell.api.run("root.create_entity", f, ifc_class="IfcProject", name="Sample Project")
    ifcopenshell.api.run("unit.assign_unit", f)  # the default: millimetres, m², m³
    ifcopenshell.api.run("context.add_context", f, context_type="Model")
    site = ifcopenshell.api.run("root.create_entity", f, ifc_class="IfcSite", name="Sample Site")
    building = ifcopenshell.api.run("root.create_entity", f, ifc_class="IfcBuilding", name="Sample Building")
    ifcopenshell.api.run("aggregate.assign_object", f, relating_object=project, products=[site])
    ifcopenshell.api.run("aggregate.assign_object", f, relating_object=site, products=[building])
    material = ifcopenshell.api.run("material.add_material", f, name="Concrete")
    wall_type = ifcopenshell.api.run("root.create_entity", f, ifc_class="IfcWallType", name="WT-200")

    walls_per_storey: dict[str, int] = {}
    wall_storey: dict[str, str] = {}
    for storey_name, (elevation, wall_names) in IFC_STOREYS.items():
        storey = ifcopenshell.api.run(
            "root.create_entity", f, ifc_class="IfcBuildingStorey", name=storey_name
        )
        storey.Elevation = elevation
        ifcopenshell.api.run("aggregate.assign_object", f, relating_object=building, products=[storey])
        for wall_name in wall_names:
            wall = ifcopenshell.api.run("root.create_entity", f, ifc_class="IfcWall", name=wall_name)
            ifcopenshell.api.run("spatial.assign_container", f, relating_structure=storey, products=[wall])
            ifcopenshell.api.run("type.assign_type", f, related_objects=[wall], relating_type=wall_type)
            ifcopenshell.api.run("material.assign_material", f, products=[wall], material=material)
            pset = ifcopenshell.api.run("pset.add_pset", f, product=wall, name="Pset_WallCommon")
            ifcopenshell.api.run(
                "pset.edit_pset", f, pset=pset, properties={"FireRating": IFC_FIRE_RATING, "IsExternal": True}
            )
            qto = ifcopenshell.api.run("pset.add_qto", f, product=wall, name="Qto_WallBaseQuantities")
            ifcopenshell.api.run("pset.edit_qto", f, qto=qto, properties={"Length": IFC_WALL_LENGTH})
            wall_storey[wall_name] = storey_name
        walls_per_storey[storey_name] = len(wall_names)
    slab_storey = next(iter(IFC_STOREYS))
    slab = ifcopenshell.api.run("root.create_entity", f, ifc_class="IfcSlab", name="S-G-01")
    ground = next(s for s in f.by_type("IfcBuildingStorey") if s.Name == slab_storey)
    ifcopenshell.api.run("spatial.assign_container", f, relating_structure=ground, products=[slab])
    f.write(str(path))

    n_walls = sum(walls_per_storey.values())
    return {
        "schema": "IFC4",
        "project_name": "Sample Project",
        "length_unit": "MILLIMETRE",
        "site_name": "Sample Site",
        "building_name": "Sample Building",
        "storeys": {name: elev for name, (elev, _) in IFC_STOREYS.items()},
        "walls_per_storey": walls_per_storey,
        "wall_storey": wall_storey,
        "wall_type": "WT-200",
        "material": "Concrete",
        "fire_rating": IFC_FIRE_RATING,
        "wall_length": IFC_WALL_LENGTH,
        "elements_by_class": {"IfcSlab": 1, "IfcWall": n_walls},
        "element_count": n_walls + 1,
        # site, building, 2 storeys, walls, slab
        "product_count": 1 + 1 + len(IFC_STOREYS) + n_walls + 1,
        "storey_count": len(IFC_STOREYS),
    }


#: part name -> (kind, dimensions in mm)
STEP_BOX = (10.0, 20.0, 30.0)
STEP_PIN = (5.0, 40.0)  # radius, height


def make_step(path: Path) -> dict[str, Any]:
    """An AP214 assembly "bracket" (mm): a 10×20×30 box "base_plate" and a r=5 h=40 cylinder "pin".

    The pin stands on top of the plate, centred on it.
    """
    import cadquery as cq

    dx, dy, dz = STEP_BOX
    radius, height = STEP_PIN
    plate = cq.Workplane("XY").box(dx, dy, dz, centered=(True, True, False))
    pin = cq.Workplane("XY").circle(radius).extrude(height)
    assy = cq.Assembly(name="bracket")
    assy.add(plate, name="base_plate")
    assy.add(pin, name="pin", loc=cq.Location(cq.Vector(0, 0, dz)))
    assy.export(str(path), "STEP")

    box_volume = dx * dy * dz
    pin_volume = math.pi * radius**2 * height
    return {
        "assembly_name": "bracket",
        "length_unit": "millimetre",
        "parts": {
            "base_plate": {
                "volume": box_volume,
                "surface_area": 2 * (dx * dy + dy * dz + dx * dz),
                "bbox_size": (dx, dy, dz),
                "center_of_mass": (0.0, 0.0, dz / 2),
                "faces": 6,
            },
            "pin": {
                "volume": pin_volume,
                "surface_area": 2 * math.pi * radius**2 + 2 * math.pi * radius * height,
                "bbox_size": (2 * radius, 2 * radius, height),
                "center_of_mass": (0.0, 0.0, dz + height / 2),
                "faces": 3,
            },
        },
        "solid_count": 2,
        "total_volume": box_volume + pin_volume,
        "bbox": {
            "xmin": -dx / 2,
            "ymin": -dy / 2,
            "zmin": 0.0,
            "xmax": dx / 2,
            "ymax": dy / 2,
            "zmax": dz + height,
        },
    }
