"""IFC extractor (ifcopenshell): schema, project, units, the spatial tree and the elements.

ifcopenshell is imported inside the functions, so importing this module stays cheap.

What the payload holds:

* ``schema`` (``IFC2X3`` / ``IFC4`` / ``IFC4X3``), the exact ``schema_identifier``, the
  STEP header (``FILE_NAME`` / ``FILE_DESCRIPTION``), the project (name, description, phase),
  units (``length_unit`` and friends) and counts (``product_count``, ``products_by_class``
  over every ``IfcProduct`` — spatial elements, openings, annotations included — and
  ``element_count``, ``elements_by_class`` over physical ``IfcElement`` only: openings and
  virtual elements are counted apart, in ``counts.openings`` / ``counts.virtual_elements`` and
  ``non_physical_by_class``; spatial elements in ``counts.spatial_elements``).
* ``spatial_tree``: every spatial structure element reached from ``IfcProject`` through
  ``IfcRelAggregates`` (site → building → storey → space; IFC4X3 facilities too), with name,
  elevation (storey ``Elevation``, site ``RefElevation``, building ``ElevationOfRefHeight``, in
  the project length unit) and the elements placed there. An element's place is its
  ``IfcRelContainedInSpatialStructure`` container, or that of the element it is part of
  (aggregates, openings, fillings); ``storey`` is the first ``IfcBuildingStorey`` at or above it.
* ``storeys``: the storeys flattened, in elevation order, with element counts by class and,
  when the file has quantity sets, the elements' quantities summed by name.
* ``elements`` (only when ``options["detail"] == "full"``): one flat dict per physical ``IfcElement``
  with GlobalId, class, name, type, container, storey, materials, property sets and quantity
  sets (type property sets inherited). ``detail="summary"`` (the default) leaves the list out,
  so a summary stays bounded however many elements the model has; a full result is a flat list
  that streams well (one element per JSON Lines row via :func:`rows`).

The modules: ``checks`` (cheap checks and the parse), ``spatial`` (placement, tree, storeys),
``elements`` (one element in full), ``quantities`` (physical elements, storey sums),
``values`` (attribute values), ``views`` (summary and rows).

Failures: an empty file is :class:`EmptyFile`; a file that is not ISO-10303-21 / zip, or a
STEP file of another schema, is :class:`WrongFormat`; a missing ``END-ISO-10303-21;`` is
:class:`TruncatedFile`; a schema ifcopenshell cannot read (e.g. ``IFC2X3_FINAL``) is
:class:`UnsupportedVersion`; a parse failure is :class:`CorruptFile`; ``OSError`` is
:class:`FileUnreadable` (transient).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cadextract import previews
from cadextract.extractors.base import CorruptFile, ExtractionError, Extractor, PermanentError, Progress
from cadextract.extractors.ifc import checks, spatial
from cadextract.extractors.ifc import quantities as ifc_quantities
from cadextract.extractors.ifc.checks import SUPPORTED_SCHEMAS
from cadextract.extractors.ifc.values import attr, num, text
from cadextract.extractors.ifc.views import rows, summarize
from cadextract.extractors.shared import attempt, tolerated

__all__ = ["DETAIL_LEVELS", "EXTRACTOR", "SUPPORTED_SCHEMAS", "extract", "rows", "summarize", "versions"]

DETAIL_LEVELS = ("summary", "full")


def extract(path: Path, options: Mapping[str, Any], progress: Progress) -> dict[str, Any]:
    """Read one IFC / IFCZIP file into the payload described in the package docstring."""
    detail = str(options.get("detail", "summary") or "summary").lower()
    if detail not in DETAIL_LEVELS:
        raise PermanentError(
            f"option detail={detail!r} is not one of {', '.join(DETAIL_LEVELS)}", error_type="BadOption"
        )
    progress(0.0, "checking file")
    declared = checks.check_file(path)
    progress(2.0, "parsing IFC")
    f = checks.open_model(path, declared)
    previews.offer(path, f)  # the job's preview draws this model instead of reading it again
    progress(30.0, "parsed")
    try:
        return _extract_model(f, detail, progress)
    except ExtractionError:
        raise
    except (RuntimeError, ValueError, TypeError, AttributeError) as exc:
        raise CorruptFile(f"{path.name}: the IFC model is inconsistent and could not be read: {exc}") from exc


def _extract_model(f: Any, detail: str, progress: Progress) -> dict[str, Any]:
    warnings: list[str] = []
    schema = str(f.schema)
    base = spatial.spatial_base(schema)
    project = _project(f, warnings)
    all_elements = list(f.by_type("IfcElement"))
    elements = [e for e in all_elements if ifc_quantities.is_physical(e)]
    quantities = ifc_quantities.StoreyQuantities(f)
    placement = spatial.place_elements(elements, detail, quantities, progress)
    if placement.uncontained:
        warnings.append(
            f"{placement.uncontained} of {len(elements)} elements are not placed in the spatial structure"
        )
    tree = spatial.tree(f, project, base, placement.direct, warnings)
    storeys = spatial.storeys(tree, quantities)
    spatial.drop_ids(tree)
    units = _units(f, warnings) if project is not None else {"length_scale_to_metre": None}
    products_by_class = Counter(p.is_a() for p in f.by_type("IfcProduct"))
    payload: dict[str, Any] = {
        "schema": schema,
        "schema_identifier": str(f.schema_identifier),
        "header": _header(f),
        "project": _project_fields(project),
        "length_unit": units.get("length"),
        "units": units,
        "counts": _counts(f, base, products_by_class, elements, all_elements, placement.uncontained),
        "non_physical_by_class": ifc_quantities.non_physical_counts(all_elements),
        "products_by_class": dict(sorted(products_by_class.items())),
        "elements_by_class": dict(sorted(Counter(e.is_a() for e in elements).items())),
        "spatial_tree": tree,
        "storeys": storeys,
        "detail": detail,
        "warnings": warnings,
    }
    if detail == "full":
        payload["elements"] = placement.rows
    progress(100.0, f"{len(elements)} elements")
    return payload


def _project(f: Any, warnings: list[str]) -> Any:
    projects = list(f.by_type("IfcProject"))
    if not projects:
        warnings.append("the file has no IfcProject: no project, units or spatial tree")
    elif len(projects) > 1:
        warnings.append(f"the file has {len(projects)} IfcProject entities; the first one is reported")
    return projects[0] if projects else None


def _project_fields(project: Any) -> dict[str, str | None]:
    names = {"global_id": "GlobalId", "name": "Name", "long_name": "LongName"}
    names |= {"description": "Description", "phase": "Phase"}
    return {key: text(attr(project, a)) if project is not None else None for key, a in names.items()}


def _counts(
    f: Any,
    base: str,
    products_by_class: Counter[str],
    elements: list[Any],
    all_elements: list[Any],
    uncontained: int,
) -> dict[str, int]:
    entity_count = attempt(lambda: len(f.entity_names()), None)
    return {
        "entity_instances": sum(1 for _ in f) if entity_count is None else entity_count,
        "products": sum(products_by_class.values()),
        "elements": len(elements),
        "sites": products_by_class.get("IfcSite", 0),
        "buildings": products_by_class.get("IfcBuilding", 0),
        "storeys": products_by_class.get("IfcBuildingStorey", 0),
        "spaces": products_by_class.get("IfcSpace", 0),
        "uncontained_elements": uncontained,
        "openings": sum(1 for e in all_elements if e.is_a("IfcFeatureElementSubtraction")),
        "virtual_elements": sum(1 for e in all_elements if e.is_a("IfcVirtualElement")),
        "spatial_elements": len(f.by_type(base)),
    }


def _header(f: Any) -> dict[str, Any]:
    """FILE_NAME and FILE_DESCRIPTION; a malformed header must not sink a readable model."""
    out: dict[str, Any] = {}
    with tolerated():
        fn = f.header.file_name
        out["name"] = text(fn.name)
        out["time_stamp"] = text(fn.time_stamp)
        out["author"] = [str(a) for a in (fn.author or ()) if a]
        out["organization"] = [str(a) for a in (fn.organization or ()) if a]
        out["preprocessor_version"] = text(fn.preprocessor_version)
        out["originating_system"] = text(fn.originating_system)
    with tolerated():
        out["description"] = [str(d) for d in (f.header.file_description.description or ()) if d]
    return out


def _units(f: Any, warnings: list[str]) -> dict[str, Any]:
    import ifcopenshell.util.unit as unit_util

    units: dict[str, Any] = {}
    for unit_type, key in (
        ("LENGTHUNIT", "length"),
        ("AREAUNIT", "area"),
        ("VOLUMEUNIT", "volume"),
        ("PLANEANGLEUNIT", "plane_angle"),
    ):
        units[key] = None

        def odd(exc: Exception, key: str = key) -> None:  # odd unit definitions: report, carry on
            warnings.append(f"could not read the project {key} unit: {exc}")

        with tolerated(odd):
            unit = unit_util.get_project_unit(f, unit_type)
            units[key] = unit_util.get_full_unit_name(unit) if unit is not None else None
    scale: float | None = None
    if units.get("length"):
        scale = attempt(lambda: num(unit_util.calculate_unit_scale(f, "LENGTHUNIT")), None)
    units["length_scale_to_metre"] = scale
    return units


def versions() -> dict[str, str]:
    """Library versions, imported lazily (only in the worker child)."""
    import ifcopenshell

    return {"ifcopenshell": str(ifcopenshell.version)}


EXTRACTOR = Extractor(
    name="ifc",
    extract=extract,
    versions=versions,
    version="2",
    default_timeout=1800,
    description="IFC (ifcopenshell): schema, project, units, spatial tree, element counts and details",
    extensions=(".ifc", ".ifczip"),
    summarize=summarize,
    rows=rows,
)
