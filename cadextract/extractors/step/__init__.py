"""STEP extractor (OCP / OpenCASCADE XCAF): units, assembly tree, parts and solids, totals.

OCP is imported inside the functions, so importing this module stays cheap; cadquery itself is
never imported (its import costs seconds and brings nothing the extractor needs).

How it reads: ``STEPCAFControl_Reader`` transfers the file into an XCAF document with the target
unit ``xstep.cascade.unit = MM`` — the same setting and the same STEP translator
``cadquery.importers.importStep`` uses, so the free shapes of the document are the shapes
cadquery gets, and the totals (``num_solids``, volume, solid surface area, bounding box) are
computed exactly as cadquery computes them: ``BRepGProp`` volume / surface properties per solid
and ``BRepBndLib.AddOptimal`` boxes. All lengths in the payload are millimetres
(``values_unit``); ``length_unit`` is the unit the file declares. The names come from the STEP
product structure (``XCAFDoc_ShapeTool`` labels): assemblies, components (instances) and parts.
Solids are listed once per placed instance (an assembly that uses one bolt eight times has eight
bolt solids, as cadquery counts them).

Surface-only files: a STEP file that holds faces or shells but no solid (e.g. a surface model,
``splinecage.stp``, ``plane.STEP``) is **not** an error. It gives a successful result with
``counts.solids == 0``, zero solid volume and area, the face/shell counts, the area of all faces
and the bounding box, and a warning saying the file has no solids. Only a file whose transfer
yields no geometry at all raises :class:`NoSolids`.

The modules: ``header`` (cheap checks, the STEP header, the protocol), ``ocp`` (reading into
XCAF, shape helpers), ``structure`` (assembly tree, parts), ``solids`` (measuring), ``views``.

Failures: empty file :class:`EmptyFile`; not ISO-10303-21 (or an IFC file) :class:`WrongFormat`;
no ``END-ISO-10303-21;`` :class:`TruncatedFile`; a schema OpenCASCADE does not translate
:class:`UnsupportedVersion`; a file the reader refuses :class:`CorruptFile`; ``OSError``
:class:`FileUnreadable` (transient).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cadextract import previews
from cadextract.extractors.base import CorruptFile, Extractor, NoSolids, Progress
from cadextract.extractors.shared import number, translated
from cadextract.extractors.step import ocp, solids, structure
from cadextract.extractors.step.header import check_file, protocol_of
from cadextract.extractors.step.views import rows, summarize

__all__ = ["EXTRACTOR", "VALUES_UNIT", "extract", "protocol_of", "rows", "summarize", "versions"]

#: every length in the payload is in this unit (OCCT converts on read)
VALUES_UNIT = "mm"


def extract(path: Path, options: Mapping[str, Any], progress: Progress) -> dict[str, Any]:
    """Read one STEP file into the payload described in the package docstring."""
    progress(0.0, "checking file")
    header = check_file(path)
    schema = header["file_schema"]
    protocol = protocol_of(schema)
    progress(2.0, "reading STEP")
    reader, doc = ocp.read(path, protocol, schema, progress)
    progress(40.0, "translated")
    # OCCT failures surface as assorted exception types; running out of memory is not one
    with translated(lambda exc: CorruptFile(f"{path.name}: the STEP geometry could not be analysed: {exc}")):
        return _extract_doc(path, reader, doc, header, protocol, progress)


def _extract_doc(
    path: Path, reader: Any, doc: Any, header: dict[str, Any], protocol: str | None, progress: Progress
) -> dict[str, Any]:
    warnings: list[str] = []
    free = ocp.free_shapes(doc)
    compound = ocp.compound_of(free)  # everything cadquery's importStep returns
    previews.offer(path, compound)  # the job's preview draws this shape instead of reading it again
    counts = ocp.topology(compound, free.Length())
    if counts["faces"] == 0 and counts["edges"] == 0 and counts["vertices"] == 0:
        raise NoSolids(f"{path.name} holds no geometry: no solids, faces or edges were translated")
    tree, walker = structure.assembly(free, warnings)
    placed = structure.placed_solids(walker, compound, counts["solids"], warnings)
    progress(45.0, f"{len(placed)} solids")
    measured = solids.measure(placed, warnings, progress)
    area_all_faces, loose = solids.add_outside(compound, placed, counts, measured)
    warnings.extend(_geometry_warnings(path, counts, loose))
    units = ocp.file_units(reader)
    warnings.extend(_unit_warnings(units))
    parts = structure.parts(walker, measured.solids)
    counts["parts"] = len(parts)
    counts["part_instances"] = sum(p["instance_count"] for p in parts)
    payload: dict[str, Any] = {
        "file_schema": header["file_schema"],
        "protocol": protocol,
        "header": {k: v for k, v in header.items() if k != "file_schema"},
        "length_unit": units[0] if units else None,
        "values_unit": VALUES_UNIT,
        "counts": counts,
        "totals": {
            "volume": number(measured.volume),
            "surface_area": number(measured.area),
            "surface_area_all_faces": area_all_faces,
            "center_of_mass": measured.center_of_mass(),
            "bbox": ocp.bbox_dict(measured.box),
        },
        "assembly": tree,
        "parts": parts,
        "solids": measured.solids,
        "warnings": warnings,
    }
    progress(100.0, f"{len(measured.solids)} solids")
    return payload


def _geometry_warnings(path: Path, counts: Mapping[str, int], loose: bool) -> list[str]:
    if counts["solids"] == 0:
        return [
            f"{path.name} holds no solids, only {counts['faces']} faces in {counts['shells']} shells "
            "(a surface model): volumes are zero"
        ]
    if loose:
        return ["the file holds geometry outside its solids (free faces, edges or points)"]
    return []


def _unit_warnings(units: list[str]) -> list[str]:
    if len(units) > 1:
        return [f"the file declares several length units ({', '.join(units)}); the first is reported"]
    if not units:
        return ["the file declares no length unit; millimetres were assumed"]
    return []


def versions() -> dict[str, str]:
    """Library versions from package metadata (cheap: nothing heavy is imported)."""
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, str] = {}
    for dist in ("cadquery-ocp", "cadquery"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            continue
    return out


EXTRACTOR = Extractor(
    name="step",
    extract=extract,
    versions=versions,
    version="1",
    default_timeout=1800,
    description="STEP AP203/AP214/AP242 (OpenCASCADE XCAF): units, assembly, parts, solids, totals",
    extensions=(".stp", ".step"),
    summarize=summarize,
    rows=rows,
)
