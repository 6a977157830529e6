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

Failures: an empty file is :class:`EmptyFile`; a file that is not ISO-10303-21 / zip, or a
STEP file of another schema, is :class:`WrongFormat`; a missing ``END-ISO-10303-21;`` is
:class:`TruncatedFile`; a schema ifcopenshell cannot read (e.g. ``IFC2X3_FINAL``) is
:class:`UnsupportedVersion`; a parse failure is :class:`CorruptFile`; ``OSError`` is
:class:`FileUnreadable` (transient).
"""

from __future__ import annotations

import contextlib
import math
import zipfile
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from cadextract import previews
from cadextract.extractors import ifc_quantities
from cadextract.extractors.base import (
    CorruptFile,
    EmptyFile,
    ExtractionError,
    Extractor,
    FileUnreadable,
    PermanentError,
    Progress,
    TruncatedFile,
    UnsupportedVersion,
    WrongFormat,
    describe_head,
)
from cadextract.extractors.shared import SPF_END, SPF_MAGIC, is_ifc_schema, number, spf_body, spf_schema

DETAIL_LEVELS = ("summary", "full")
#: schemas ifcopenshell 0.9 reads (by prefix of the FILE_SCHEMA identifier)
SUPPORTED_SCHEMAS = ("IFC2X3", "IFC4", "IFC4X3")
#: how many bytes of the head / tail are read to sniff the header and the terminator
HEAD_BYTES = 64 * 1024
TAIL_BYTES = 4 * 1024
#: report progress every this many elements
PROGRESS_EVERY = 200
#: how many classes the one-row summary names
TOP_CLASSES = 5

ZIP_MAGIC = b"PK\x03\x04"

Scalar = str | int | float | bool | None


# --------------------------------------------------------------------------- sniffing


def _sniff_spf(head: bytes, tail: bytes | None, what: str) -> str | None:
    """Check an ISO-10303-21 text; return the FILE_SCHEMA identifier (None if absent)."""
    stripped = spf_body(head)
    if not stripped:
        raise EmptyFile(f"{what} holds only whitespace: nothing to extract")
    if not stripped.startswith(SPF_MAGIC):
        if stripped.startswith(b"<"):
            raise WrongFormat(f"{what} looks like XML (ifcXML?), not an IFC-SPF (ISO-10303-21) text file")
        raise WrongFormat(
            f"{what} is not an IFC file: it does not start with 'ISO-10303-21;' "
            f"(it looks like {describe_head(stripped)})"
        )
    schema = spf_schema(head)
    if schema and not is_ifc_schema(schema):
        raise WrongFormat(
            f"{what} is a STEP file with schema {schema!r}, not IFC: submit it with --format step"
        )
    if tail is not None and SPF_END not in tail:
        raise TruncatedFile(
            f"{what} is truncated: it does not end with 'END-ISO-10303-21;' (incomplete copy or download?)"
        )
    return schema


def _check_file(path: Path) -> str | None:
    """Cheap checks before the parser runs; returns the declared schema when readable."""
    try:
        size = path.stat().st_size
        if size == 0:
            raise EmptyFile(f"{path.name} is empty (0 bytes)")
        with path.open("rb") as fh:
            head = fh.read(HEAD_BYTES)
            fh.seek(max(0, size - TAIL_BYTES))
            tail = fh.read()
    except OSError as exc:
        raise FileUnreadable(f"cannot read {path}: {exc.strerror or exc}") from exc
    if head.startswith(ZIP_MAGIC) or path.suffix.lower() == ".ifczip":
        return _check_zip(path, head)
    return _sniff_spf(head, tail, path.name)


def _check_zip(path: Path, head: bytes) -> str | None:
    if not head.startswith(ZIP_MAGIC):
        raise WrongFormat(f"{path.name} has the .ifczip extension but is not a zip archive")
    try:
        with zipfile.ZipFile(path) as zf:
            members = [i for i in zf.infolist() if i.filename.lower().endswith(".ifc")]
            if not members:
                raise WrongFormat(f"{path.name} is a zip archive without an .ifc file inside")
            with zf.open(members[0]) as fh:
                inner_head = fh.read(HEAD_BYTES)
    except zipfile.BadZipFile as exc:
        raise CorruptFile(f"{path.name} is a damaged zip archive: {exc}") from exc
    except OSError as exc:
        raise FileUnreadable(f"cannot read {path}: {exc}") from exc
    if not inner_head.strip():
        raise EmptyFile(f"{path.name}: the IFC file inside the archive is empty")
    return _sniff_spf(inner_head, None, f"{path.name}:{members[0].filename}")


def _open(path: Path, declared: str | None) -> Any:
    import ifcopenshell

    try:
        return ifcopenshell.open(str(path))
    except ifcopenshell.SchemaError as exc:
        raise UnsupportedVersion(
            f"unsupported schema {declared or '?'} in {path.name}: ifcopenshell {ifcopenshell.version} "
            f"reads {', '.join(SUPPORTED_SCHEMAS)} ({exc})"
        ) from exc
    except ifcopenshell.Error as exc:
        message = str(exc)
        if "header" in message.lower():
            raise CorruptFile(f"{path.name} has an invalid IFC header: {message}") from exc
        raise CorruptFile(f"{path.name} cannot be parsed as IFC: {message}") from exc
    except OSError as exc:
        raise FileUnreadable(f"cannot read {path}: {exc.strerror or exc}") from exc
    except (RuntimeError, ValueError, zipfile.BadZipFile) as exc:
        raise CorruptFile(f"{path.name} cannot be parsed as IFC: {exc}") from exc


# --------------------------------------------------------------------------- values


def _json_safe(value: Any, depth: int = 0) -> Any:
    """A JSON-serialisable copy of a property value (no NaN/inf, no entity instances)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if depth > 6:
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v, depth + 1) for k, v in value.items() if k != "id"}
    if isinstance(value, list | tuple | set | frozenset):
        return [_json_safe(v, depth + 1) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    is_a = getattr(value, "is_a", None)
    if callable(is_a):  # an entity instance: name it rather than dump it
        name = getattr(value, "Name", None) if hasattr(value, "Name") else None
        return f"{is_a()}:{name}" if name else f"{is_a()}#{value.id()}"
    return str(value)


def _num(value: Any) -> float | None:
    return number(value, parse_text=False)  # a numeric attribute, not a label that looks like one


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return str(value)


def _attr(entity: Any, name: str) -> Any:
    try:
        return getattr(entity, name)
    except (AttributeError, RuntimeError):
        return None


# --------------------------------------------------------------------------- header, units


def _header(f: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    try:
        fn = f.header.file_name
        out["name"] = _text(fn.name)
        out["time_stamp"] = _text(fn.time_stamp)
        out["author"] = [str(a) for a in (fn.author or ()) if a]
        out["organization"] = [str(a) for a in (fn.organization or ()) if a]
        out["preprocessor_version"] = _text(fn.preprocessor_version)
        out["originating_system"] = _text(fn.originating_system)
    except Exception:  # a malformed header must not sink an otherwise readable model
        pass
    with contextlib.suppress(Exception):
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
        try:
            unit = unit_util.get_project_unit(f, unit_type)
            units[key] = unit_util.get_full_unit_name(unit) if unit is not None else None
        except Exception as exc:  # odd unit definitions: report, carry on
            units[key] = None
            warnings.append(f"could not read the project {key} unit: {exc}")
    scale: float | None = None
    if units.get("length"):
        try:
            scale = _num(unit_util.calculate_unit_scale(f, "LENGTHUNIT"))
        except Exception:
            scale = None
    units["length_scale_to_metre"] = scale
    return units


# --------------------------------------------------------------------------- spatial tree


def _is_spatial(entity: Any, spatial_base: str) -> bool:
    return bool(entity.is_a(spatial_base))


def _elevation(node: Any) -> float | None:
    for attr in ("Elevation", "RefElevation", "ElevationOfRefHeight"):
        if hasattr(node, attr):
            return _num(_attr(node, attr))
    return None


def _children(node: Any, spatial_base: str) -> list[Any]:
    kids: list[Any] = []
    for rel in _attr(node, "IsDecomposedBy") or ():
        for obj in _attr(rel, "RelatedObjects") or ():
            if _is_spatial(obj, spatial_base):
                kids.append(obj)
    return kids


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


# --------------------------------------------------------------------------- elements


def _element_detail(element: Any, container: Any, storey: Any) -> dict[str, Any]:
    import ifcopenshell.util.element as element_util

    el_type: Any = element_util.get_type(element)
    try:
        materials = [str(m.Name) for m in element_util.get_materials(element) if _attr(m, "Name")]
    except Exception:
        materials = []
    try:
        psets = _json_safe(element_util.get_psets(element, psets_only=True))
    except Exception:
        psets = {}
    try:
        qsets = _json_safe(element_util.get_psets(element, qtos_only=True))
    except Exception:
        qsets = {}
    return {
        "global_id": _text(_attr(element, "GlobalId")),
        "ifc_class": element.is_a(),
        "name": _text(_attr(element, "Name")),
        "description": _text(_attr(element, "Description")),
        "object_type": _text(_attr(element, "ObjectType")),
        "tag": _text(_attr(element, "Tag")),
        "predefined_type": _text(_attr(element, "PredefinedType"))
        if hasattr(element, "PredefinedType")
        else None,
        "type_class": el_type.is_a() if el_type is not None else None,
        "type_name": _text(_attr(el_type, "Name")) if el_type is not None else None,
        "container": _text(_attr(container, "Name")) if container is not None else None,
        "container_class": container.is_a() if container is not None else None,
        "container_global_id": _text(_attr(container, "GlobalId")) if container is not None else None,
        "storey": _text(_attr(storey, "Name")) if storey is not None else None,
        "storey_global_id": _text(_attr(storey, "GlobalId")) if storey is not None else None,
        "materials": materials,
        "property_sets": psets,
        "quantity_sets": qsets,
    }


# --------------------------------------------------------------------------- extract


def extract(path: Path, options: Mapping[str, Any], progress: Progress) -> dict[str, Any]:
    """Read one IFC / IFCZIP file into the payload described in the module docstring."""
    detail = str(options.get("detail", "summary") or "summary").lower()
    if detail not in DETAIL_LEVELS:
        raise PermanentError(
            f"option detail={detail!r} is not one of {', '.join(DETAIL_LEVELS)}", error_type="BadOption"
        )
    progress(0.0, "checking file")
    declared = _check_file(path)
    progress(2.0, "parsing IFC")
    f = _open(path, declared)
    previews.offer(path, f)  # the job's preview draws this model instead of reading it again
    progress(30.0, "parsed")
    try:
        return _extract_model(f, detail, progress)
    except ExtractionError:
        raise
    except (RuntimeError, ValueError, TypeError, AttributeError) as exc:
        raise CorruptFile(f"{path.name}: the IFC model is inconsistent and could not be read: {exc}") from exc


def _extract_model(f: Any, detail: str, progress: Progress) -> dict[str, Any]:
    import ifcopenshell.util.element as element_util

    warnings: list[str] = []
    schema = str(f.schema)
    spatial_base = "IfcSpatialStructureElement" if schema == "IFC2X3" else "IfcSpatialElement"

    projects = list(f.by_type("IfcProject"))
    if not projects:
        warnings.append("the file has no IfcProject: no project, units or spatial tree")
    elif len(projects) > 1:
        warnings.append(f"the file has {len(projects)} IfcProject entities; the first one is reported")
    project = projects[0] if projects else None

    products = list(f.by_type("IfcProduct"))
    products_by_class = Counter(p.is_a() for p in products)
    all_elements = list(f.by_type("IfcElement"))
    elements = [e for e in all_elements if ifc_quantities.is_physical(e)]
    quantities = ifc_quantities.StoreyQuantities(f)
    elements_by_class = Counter(e.is_a() for e in elements)
    try:
        entity_count = len(f.entity_names())
    except Exception:
        entity_count = sum(1 for _ in f)

    # place every element in the spatial structure
    storey_cache: dict[int, Any] = {}
    direct: dict[int, Counter[str]] = {}
    uncontained = 0
    element_rows: list[dict[str, Any]] = []
    total = len(elements)
    for i, element in enumerate(elements):
        container = element_util.get_container(element)
        if container is None:
            uncontained += 1
        else:
            direct.setdefault(container.id(), Counter())[element.is_a()] += 1
        if detail == "full" or quantities.enabled:
            storey = _storey_of(container, storey_cache) if container is not None else None
            quantities.add(element, storey)
            if detail == "full":
                element_rows.append(_element_detail(element, container, storey))
        if i % PROGRESS_EVERY == 0:
            progress(30.0 + 65.0 * i / max(total, 1), f"element {i + 1} of {total}")
    if uncontained:
        warnings.append(f"{uncontained} of {total} elements are not placed in the spatial structure")

    # the spatial tree from the project down
    seen: set[int] = set()

    def node_of(entity: Any) -> dict[str, Any]:
        seen.add(entity.id())
        counts = direct.get(entity.id(), Counter())
        kids = [node_of(k) for k in _children(entity, spatial_base) if k.id() not in seen]
        kids.sort(key=_node_order)
        return {
            "_id": entity.id(),
            "global_id": _text(_attr(entity, "GlobalId")),
            "ifc_class": entity.is_a(),
            "name": _text(_attr(entity, "Name")),
            "long_name": _text(_attr(entity, "LongName")),
            "elevation": _elevation(entity),
            "element_count": sum(counts.values()),
            "element_count_total": sum(counts.values()) + sum(k["element_count_total"] for k in kids),
            "elements_by_class": dict(sorted(counts.items())),
            "children": kids,
        }

    tree = [node_of(k) for k in _children(project, spatial_base)] if project is not None else []
    tree.sort(key=_node_order)
    orphans = [
        s
        for s in f.by_type(spatial_base)
        if s.id() not in seen and (s.is_a("IfcSite") or s.is_a("IfcBuilding") or s.is_a("IfcBuildingStorey"))
    ]
    if orphans:
        warnings.append(
            f"{len(orphans)} spatial elements are not connected to the project; listed at the top"
        )
        tree.extend(node_of(s) for s in orphans if s.id() not in seen)

    storeys: list[dict[str, Any]] = []

    def collect(nodes: Iterable[dict[str, Any]], building: str | None) -> None:
        for n in nodes:
            if n["ifc_class"] == "IfcBuildingStorey":
                storeys.append(
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

    collect(tree, None)
    _drop_ids(tree)
    storeys.sort(key=lambda s: (s["elevation"] is None, s["elevation"] or 0.0))

    units = _units(f, warnings) if project is not None else {"length_scale_to_metre": None}
    payload: dict[str, Any] = {
        "schema": schema,
        "schema_identifier": str(f.schema_identifier),
        "header": _header(f),
        "project": {
            "global_id": _text(_attr(project, "GlobalId")) if project is not None else None,
            "name": _text(_attr(project, "Name")) if project is not None else None,
            "long_name": _text(_attr(project, "LongName")) if project is not None else None,
            "description": _text(_attr(project, "Description")) if project is not None else None,
            "phase": _text(_attr(project, "Phase")) if project is not None else None,
        },
        "length_unit": units.get("length"),
        "units": units,
        "counts": {
            "entity_instances": entity_count,
            "products": len(products),
            "elements": len(elements),
            "sites": products_by_class.get("IfcSite", 0),
            "buildings": products_by_class.get("IfcBuilding", 0),
            "storeys": products_by_class.get("IfcBuildingStorey", 0),
            "spaces": products_by_class.get("IfcSpace", 0),
            "uncontained_elements": uncontained,
            "openings": sum(1 for e in all_elements if e.is_a("IfcFeatureElementSubtraction")),
            "virtual_elements": sum(1 for e in all_elements if e.is_a("IfcVirtualElement")),
            "spatial_elements": len(f.by_type(spatial_base)),
        },
        "non_physical_by_class": ifc_quantities.non_physical_counts(all_elements),
        "products_by_class": dict(sorted(products_by_class.items())),
        "elements_by_class": dict(sorted(elements_by_class.items())),
        "spatial_tree": tree,
        "storeys": storeys,
        "detail": detail,
        "warnings": warnings,
    }
    if detail == "full":
        payload["elements"] = element_rows
    progress(100.0, f"{total} elements")
    return payload


def _drop_ids(nodes: list[dict[str, Any]]) -> None:
    for n in nodes:
        n.pop("_id", None)
        _drop_ids(n["children"])


def _node_order(node: Mapping[str, Any]) -> tuple[bool, float, str]:
    """Children in elevation order (storeys), then by name; unordered relations stay stable."""
    elevation = node["elevation"]
    return (elevation is None, elevation or 0.0, node["name"] or "")


def _sum_classes(node: Mapping[str, Any]) -> dict[str, int]:
    total: Counter[str] = Counter(node["elements_by_class"])
    for kid in node["children"]:
        total.update(_sum_classes(kid))
    return dict(sorted(total.items()))


# --------------------------------------------------------------------------- views


def summarize(payload: Mapping[str, Any]) -> dict[str, Scalar]:
    """One flat row per file for tables and CSV."""
    counts = payload.get("counts") or {}
    project = payload.get("project") or {}
    header = payload.get("header") or {}
    by_class = payload.get("elements_by_class") or {}
    top = sorted(by_class.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_CLASSES]
    storeys = payload.get("storeys") or []
    return {
        "schema": payload.get("schema"),
        "schema_identifier": payload.get("schema_identifier"),
        "project_name": project.get("name"),
        "length_unit": payload.get("length_unit"),
        "originating_system": header.get("originating_system"),
        "site_count": counts.get("sites"),
        "building_count": counts.get("buildings"),
        "storey_count": counts.get("storeys"),
        "space_count": counts.get("spaces"),
        "product_count": counts.get("products"),
        "element_count": counts.get("elements"),
        "uncontained_elements": counts.get("uncontained_elements"),
        "top_classes": ", ".join(f"{cls}:{n}" for cls, n in top),
        "storeys": "; ".join(
            f"{s.get('name')} @ {s.get('elevation')} ({s.get('element_count')})" for s in storeys
        ),
        "detail": payload.get("detail"),
    }


def rows(payload: Mapping[str, Any]) -> Iterator[dict[str, Scalar]]:
    """One row per element when the payload has them (detail=full), else one per class count."""
    import json

    elements = payload.get("elements")
    if elements is not None:
        for e in elements:
            yield {
                "global_id": e.get("global_id"),
                "ifc_class": e.get("ifc_class"),
                "name": e.get("name"),
                "type_name": e.get("type_name"),
                "storey": e.get("storey"),
                "container": e.get("container"),
                "materials": "; ".join(e.get("materials") or []),
                "property_sets": json.dumps(e.get("property_sets") or {}, ensure_ascii=False, sort_keys=True),
                "quantity_sets": json.dumps(e.get("quantity_sets") or {}, ensure_ascii=False, sort_keys=True),
            }
        return
    for cls, n in (payload.get("elements_by_class") or {}).items():
        yield {"ifc_class": cls, "count": n}


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
