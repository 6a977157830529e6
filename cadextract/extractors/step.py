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

Failures: empty file :class:`EmptyFile`; not ISO-10303-21 (or an IFC file) :class:`WrongFormat`;
no ``END-ISO-10303-21;`` :class:`TruncatedFile`; a schema OpenCASCADE does not translate
:class:`UnsupportedVersion`; a file the reader refuses :class:`CorruptFile`; ``OSError``
:class:`FileUnreadable` (transient).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from cadextract import previews
from cadextract.extractors.base import (
    CorruptFile,
    EmptyFile,
    Extractor,
    FileUnreadable,
    NoSolids,
    Progress,
    TruncatedFile,
    UnsupportedVersion,
    WrongFormat,
    describe_head,
    no_progress,
)
from cadextract.extractors.shared import SPF_END, SPF_MAGIC, is_ifc_schema, number, spf_body, translated

HEAD_BYTES = 64 * 1024
TAIL_BYTES = 4 * 1024
#: every length in the payload is in this unit (OCCT converts on read)
VALUES_UNIT = "mm"
#: at most this many assembly-tree nodes are written (the solids list is never cut)
MAX_TREE_NODES = 20_000

Scalar = str | int | float | bool | None

#: ISO 10303 part number in the schema's object identifier -> application protocol
_AP_BY_PART = {"203": "AP203", "403": "AP203", "214": "AP214", "242": "AP242", "442": "AP242", "209": "AP209"}
_AP_BY_NAME = (
    ("CONFIG_CONTROL_DESIGN", "AP203"),
    ("AP203", "AP203"),
    ("AUTOMOTIVE_DESIGN", "AP214"),
    ("AP214", "AP214"),
    ("AP242", "AP242"),
    ("STRUCTURAL_ANALYSIS_DESIGN", "AP209"),
)
#: protocols OpenCASCADE's STEP translator reads
_READABLE = ("AP203", "AP214", "AP242")
_OID_RE = re.compile(r"\{\s*1\s+\d+\s+10303\s+(\d+)")
_HEADER_ENTITY_RE = re.compile(r"\b(FILE_DESCRIPTION|FILE_NAME|FILE_SCHEMA)\s*\(", re.IGNORECASE)
_X2_RE = re.compile(r"\\X2\\((?:[0-9A-Fa-f]{4})+)\\X0\\")
_X_RE = re.compile(r"\\X\\([0-9A-Fa-f]{2})")


# --------------------------------------------------------------------------- header


def _decode_step_string(s: str) -> str:
    s = _X2_RE.sub(lambda m: bytes.fromhex(m.group(1)).decode("utf-16-be", "replace"), s)
    s = _X_RE.sub(lambda m: bytes.fromhex(m.group(1)).decode("latin-1"), s)
    return s.replace("''", "'")


def _parse_args(text: str, start: int) -> list[Any]:
    """Parse a parenthesised STEP argument list starting after '(' at ``start``."""
    out: list[Any] = []
    stack: list[list[Any]] = [out]
    i, n = start, len(text)
    while i < n:
        c = text[i]
        if c == "'":
            j = i + 1
            while j < n:
                if text[j] == "'":
                    if j + 1 < n and text[j + 1] == "'":
                        j += 2
                        continue
                    break
                j += 1
            stack[-1].append(_decode_step_string(text[i + 1 : j]))
            i = j + 1
            continue
        if c == "(":
            new: list[Any] = []
            stack[-1].append(new)
            stack.append(new)
        elif c == ")":
            stack.pop()
            if not stack:
                return out
        elif c == "$":
            stack[-1].append(None)
        i += 1
    return out


def _header(head: bytes) -> dict[str, Any]:
    text = head.decode("latin-1")
    end = text.find("ENDSEC")
    text = text[: end if end > 0 else len(text)]
    entities: dict[str, list[Any]] = {}
    for m in _HEADER_ENTITY_RE.finditer(text):
        try:
            entities[m.group(1).upper()] = _parse_args(text, m.end())
        except (IndexError, ValueError):
            continue

    def arg(name: str, i: int) -> Any:
        args = entities.get(name) or []
        return args[i] if i < len(args) else None

    def strings(value: Any) -> list[str]:
        if isinstance(value, list):
            return [str(v) for v in value if isinstance(v, str) and v]
        return [value] if isinstance(value, str) and value else []

    def string(value: Any) -> str | None:
        return value if isinstance(value, str) and value else None

    schemas = strings(arg("FILE_SCHEMA", 0))
    return {
        "file_schema": schemas[0] if schemas else None,
        "description": strings(arg("FILE_DESCRIPTION", 0)),
        "implementation_level": string(arg("FILE_DESCRIPTION", 1)),
        "name": string(arg("FILE_NAME", 0)),
        "time_stamp": string(arg("FILE_NAME", 1)),
        "author": strings(arg("FILE_NAME", 2)),
        "organization": strings(arg("FILE_NAME", 3)),
        "preprocessor_version": string(arg("FILE_NAME", 4)),
        "originating_system": string(arg("FILE_NAME", 5)),
        "authorization": string(arg("FILE_NAME", 6)),
    }


def protocol_of(schema: str | None) -> str | None:
    """AP203 / AP214 / AP242 (or another AP) from a FILE_SCHEMA identifier; None if unknown."""
    if not schema:
        return None
    m = _OID_RE.search(schema)
    if m and m.group(1) in _AP_BY_PART:
        return _AP_BY_PART[m.group(1)]
    upper = schema.upper()
    for prefix, ap in _AP_BY_NAME:
        if upper.startswith(prefix):
            return ap
    return None


def _check_file(path: Path) -> dict[str, Any]:
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
    stripped = spf_body(head)
    if not stripped:
        raise EmptyFile(f"{path.name} holds only whitespace: nothing to extract")
    if not stripped.startswith(SPF_MAGIC):
        if stripped.startswith(b"PK\x03\x04"):
            raise WrongFormat(f"{path.name} is a zip archive, not a STEP text file (compressed STEP?)")
        raise WrongFormat(
            f"{path.name} is not a STEP file: it does not start with 'ISO-10303-21;' "
            f"(it looks like {describe_head(stripped)})"
        )
    header = _header(head)
    schema = header["file_schema"]
    if schema and is_ifc_schema(schema):
        raise WrongFormat(
            f"{path.name} is an IFC file (schema {schema}), not STEP: submit it with --format ifc"
        )
    if SPF_END not in tail:
        raise TruncatedFile(
            f"{path.name} is truncated: it does not end with 'END-ISO-10303-21;' "
            "(incomplete copy or download?)"
        )
    return header


# --------------------------------------------------------------------------- OCP helpers


def _label_name(label: Any) -> str | None:
    from OCP.TDataStd import TDataStd_Name
    from OCP.TDF import TDF_AttributeIterator

    # Iterate the label's own attributes instead of FindAttribute(guid, TDataStd_Name()):
    # handing OCP a fresh attribute as an out-parameter corrupts memory in some processes.
    it = TDF_AttributeIterator(label)
    while it.More():
        attr = it.Value()
        if isinstance(attr, TDataStd_Name):
            name = str(attr.Get().ToExtString()).strip()
            # OCCT names unnamed components after the label they refer to: "=>[0:1:1:2]"
            return name if name and not name.startswith("=>[") else None
        it.Next()
    return None


def _entry(label: Any) -> str:
    from OCP.TCollection import TCollection_AsciiString
    from OCP.TDF import TDF_Tool

    s = TCollection_AsciiString()
    TDF_Tool.Entry_s(label, s)
    return str(s.ToCString())


def _count(shape: Any, kind: Any) -> int:
    from OCP.TopExp import TopExp
    from OCP.TopTools import TopTools_IndexedMapOfShape

    m = TopTools_IndexedMapOfShape()
    TopExp.MapShapes_s(shape, kind, m)
    return int(m.Extent())


def _shapes(shape: Any, kind: Any) -> list[Any]:
    from OCP.TopExp import TopExp
    from OCP.TopTools import TopTools_IndexedMapOfShape

    m = TopTools_IndexedMapOfShape()
    TopExp.MapShapes_s(shape, kind, m)
    return [m.FindKey(i) for i in range(1, m.Extent() + 1)]


def _bbox_dict(box: Any) -> dict[str, float | None] | None:
    if box.IsVoid():
        return None
    xmin, ymin, zmin, xmax, ymax, zmax = box.Get()
    return {
        "xmin": number(xmin),
        "ymin": number(ymin),
        "zmin": number(zmin),
        "xmax": number(xmax),
        "ymax": number(ymax),
        "zmax": number(zmax),
        "dx": number(xmax - xmin),
        "dy": number(ymax - ymin),
        "dz": number(zmax - zmin),
    }


def _read(
    path: Path, protocol: str | None, schema: str | None, progress: Progress = no_progress
) -> tuple[Any, Any]:
    """ReadFile + Transfer into an XCAF document; returns (reader, document)."""
    from OCP.IFSelect import IFSelect_ReturnStatus
    from OCP.Interface import Interface_Static
    from OCP.STEPCAFControl import STEPCAFControl_Reader
    from OCP.TCollection import TCollection_ExtendedString
    from OCP.TDocStd import TDocStd_Document

    # same target unit as cadquery.importers.importStep: results are in millimetres
    Interface_Static.SetCVal_s("xstep.cascade.unit", "MM")
    reader = STEPCAFControl_Reader()
    reader.SetNameMode(True)
    reader.SetColorMode(False)
    reader.SetLayerMode(False)
    reader.SetPropsMode(False)
    reader.SetGDTMode(False)
    reader.SetMatMode(False)
    reader.SetViewMode(False)
    # OCCT raises Standard_Failure subclasses on broken input
    with translated(lambda exc: CorruptFile(f"{path.name}: the STEP reader failed: {exc}")):
        status = reader.ReadFile(str(path))
    if status != IFSelect_ReturnStatus.IFSelect_RetDone:
        if protocol is not None and protocol not in _READABLE:
            raise UnsupportedVersion(
                f"{path.name} uses STEP {protocol} ({schema}); OpenCASCADE reads AP203, AP214 and AP242"
            )
        if status == IFSelect_ReturnStatus.IFSelect_RetVoid:
            raise NoSolids(f"{path.name} holds no STEP entities that can be read")
        raise CorruptFile(
            f"{path.name} could not be parsed as STEP (reader status {status.name}); "
            "the file is damaged or not valid ISO 10303-21"
        )
    with translated(lambda exc: CorruptFile(f"{path.name}: the STEP reader failed: {exc}")):
        roots = int(reader.ChangeReader().NbRootsForTransfer())
    if roots == 0:
        raise NoSolids(f"{path.name} holds no shapes or products to translate: no solids, no geometry")
    # reading and translating are one library call each (no progress hook in OCP): mark the seam
    progress(15.0, f"parsed; translating {roots} root(s)")
    doc = TDocStd_Document(TCollection_ExtendedString("MDTV-XCAF"))
    with translated(
        lambda exc: CorruptFile(f"{path.name}: the STEP geometry could not be translated: {exc}")
    ):
        ok = reader.Transfer(doc)
    if not ok:
        raise CorruptFile(f"{path.name}: the STEP geometry could not be translated")
    return reader, doc


def _file_units(reader: Any) -> list[str]:
    from OCP.TColStd import TColStd_SequenceOfAsciiString

    lengths, angles, solid_angles = (TColStd_SequenceOfAsciiString() for _ in range(3))
    try:
        reader.ChangeReader().FileUnits(lengths, angles, solid_angles)
    except Exception:
        return []
    names = [str(lengths.Value(i).ToCString()).strip().lower() for i in range(1, lengths.Length() + 1)]
    return list(dict.fromkeys(n for n in names if n))


# --------------------------------------------------------------------------- structure


class _Walker:
    """Walks the XCAF label tree; collects the assembly tree and each placed solid once."""

    def __init__(self) -> None:
        from OCP.TopTools import TopTools_MapOfShape

        self.solids: list[tuple[Any, dict[str, Any]]] = []
        self.parts: dict[str, dict[str, Any]] = {}
        self.seen = TopTools_MapOfShape()
        self.nodes = 0
        self.truncated = False

    def walk(self, label: Any, loc: Any, path: list[str], instance: str | None, depth: int) -> dict[str, Any]:
        from OCP.TDF import TDF_Label, TDF_LabelSequence
        from OCP.TopAbs import TopAbs_ShapeEnum
        from OCP.XCAFDoc import XCAFDoc_ShapeTool

        self.nodes += 1
        name = _label_name(label)
        here = [*path, name or _entry(label)]
        node: dict[str, Any] = {
            "name": name,
            "instance_name": instance,
            "part_id": _entry(label),
            "kind": "part",
            "solid_count": 0,
            "children": [],
        }
        if XCAFDoc_ShapeTool.IsAssembly_s(label) and depth < 64:
            node["kind"] = "assembly"
            comps = TDF_LabelSequence()
            XCAFDoc_ShapeTool.GetComponents_s(label, comps, False)
            for i in range(1, comps.Length() + 1):
                comp = comps.Value(i)
                ref = TDF_Label()
                if not XCAFDoc_ShapeTool.GetReferredShape_s(comp, ref):
                    continue
                child_loc = loc.Multiplied(XCAFDoc_ShapeTool.GetLocation_s(comp))
                child = self.walk(ref, child_loc, here, _label_name(comp), depth + 1)
                node["solid_count"] += child["solid_count"]
                if self.nodes <= MAX_TREE_NODES:
                    node["children"].append(child)
                else:
                    self.truncated = True
            return node

        shape = XCAFDoc_ShapeTool.GetShape_s(label)
        if shape.IsNull():
            return node
        placed = shape.Moved(loc) if not loc.IsIdentity() else shape
        part_id = node["part_id"]
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
        for solid in _shapes(placed, TopAbs_ShapeEnum.TopAbs_SOLID):
            if not self.seen.Add(solid):
                continue
            if first:
                part["solid_indices"].append(len(self.solids))
            self.solids.append(
                (
                    solid,
                    {
                        "name": name or next((p for p in reversed(path) if not p.startswith("0:")), None),
                        "part_id": part_id,
                        "path": "/".join(here),
                        "instance_name": instance,
                        "body_index": body,
                    },
                )
            )
            body += 1
        if first:
            part["solid_count"] = body
        node["solid_count"] = body
        return node


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
        "bbox": _bbox_dict(box),
        "shells": _count(solid, TopAbs_ShapeEnum.TopAbs_SHELL),
        "faces": _count(solid, TopAbs_ShapeEnum.TopAbs_FACE),
        "edges": _count(solid, TopAbs_ShapeEnum.TopAbs_EDGE),
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
    return {**ref, "center_of_mass": list(com), "bbox": _bbox_dict(box), "_box": box}


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


# --------------------------------------------------------------------------- extract


def extract(path: Path, options: Mapping[str, Any], progress: Progress) -> dict[str, Any]:
    """Read one STEP file into the payload described in the module docstring."""
    progress(0.0, "checking file")
    header = _check_file(path)
    schema = header["file_schema"]
    protocol = protocol_of(schema)
    progress(2.0, "reading STEP")
    reader, doc = _read(path, protocol, schema, progress)
    progress(40.0, "translated")
    # OCCT failures surface as assorted exception types; running out of memory is not one
    with translated(lambda exc: CorruptFile(f"{path.name}: the STEP geometry could not be analysed: {exc}")):
        return _extract_doc(path, reader, doc, header, protocol, progress)


def _extract_doc(
    path: Path, reader: Any, doc: Any, header: dict[str, Any], protocol: str | None, progress: Progress
) -> dict[str, Any]:
    from OCP.Bnd import Bnd_Box
    from OCP.BRep import BRep_Builder
    from OCP.BRepBndLib import BRepBndLib
    from OCP.BRepGProp import BRepGProp
    from OCP.GProp import GProp_GProps
    from OCP.TDF import TDF_LabelSequence
    from OCP.TopAbs import TopAbs_ShapeEnum
    from OCP.TopLoc import TopLoc_Location
    from OCP.TopoDS import TopoDS_Compound
    from OCP.TopTools import TopTools_IndexedMapOfShape, TopTools_MapOfShape
    from OCP.XCAFDoc import XCAFDoc_DocumentTool, XCAFDoc_ShapeTool

    warnings: list[str] = []
    shape_tool = XCAFDoc_DocumentTool.ShapeTool_s(doc.Main())
    free = TDF_LabelSequence()
    shape_tool.GetFreeShapes(free)

    # everything cadquery's importStep returns, in one compound
    builder = BRep_Builder()
    compound = TopoDS_Compound()
    builder.MakeCompound(compound)
    for i in range(1, free.Length() + 1):
        shape = XCAFDoc_ShapeTool.GetShape_s(free.Value(i))
        if not shape.IsNull():
            builder.Add(compound, shape)
    previews.offer(path, compound)  # the job's preview draws this shape instead of reading it again
    counts = {
        "top_level_shapes": int(free.Length()),
        "solids": _count(compound, TopAbs_ShapeEnum.TopAbs_SOLID),
        "shells": _count(compound, TopAbs_ShapeEnum.TopAbs_SHELL),
        "faces": _count(compound, TopAbs_ShapeEnum.TopAbs_FACE),
        "edges": _count(compound, TopAbs_ShapeEnum.TopAbs_EDGE),
        "vertices": _count(compound, TopAbs_ShapeEnum.TopAbs_VERTEX),
    }
    if counts["faces"] == 0 and counts["edges"] == 0 and counts["vertices"] == 0:
        raise NoSolids(f"{path.name} holds no geometry: no solids, faces or edges were translated")

    walker = _Walker()
    tree = [walker.walk(free.Value(i), TopLoc_Location(), [], None, 0) for i in range(1, free.Length() + 1)]
    if walker.truncated:
        warnings.append(f"the assembly tree has more than {MAX_TREE_NODES} nodes; the rest is left out")
    placed = walker.solids
    if len(placed) != counts["solids"]:
        # the label walk and the compound disagree: trust the compound, lose the names
        warnings.append(
            f"the assembly structure gave {len(placed)} solids but the shape has {counts['solids']}; "
            "solids are listed without names"
        )
        placed = [
            (s, {"name": None, "part_id": None, "path": None, "instance_name": None, "body_index": i})
            for i, s in enumerate(_shapes(compound, TopAbs_ShapeEnum.TopAbs_SOLID))
        ]
    progress(45.0, f"{len(placed)} solids")

    solids: list[dict[str, Any]] = []
    total_box = Bnd_Box()
    total_volume = 0.0
    total_area = 0.0
    moment = [0.0, 0.0, 0.0]
    weights = [max(1, _count(s, TopAbs_ShapeEnum.TopAbs_FACE)) for s, _ in placed]
    all_weight = sum(weights) or 1
    done = 0
    # solids met before in another placement (instances of one part): TShape -> first placement
    known = TopTools_IndexedMapOfShape()
    refs: list[tuple[Any, dict[str, Any]]] = []
    for index, ((solid, meta), weight) in enumerate(zip(placed, weights, strict=True)):
        props = _placed_props(solid, known, refs)
        box = props.pop("_box")
        total_box.Add(box)
        vol = props["volume"] or 0.0
        total_volume += vol
        total_area += props["surface_area"] or 0.0
        com = props["center_of_mass"]
        if None not in com:
            for k in range(3):
                moment[k] += vol * com[k]
        if vol < 0:
            warnings.append(f"solid {index} ({meta['name']}) has a negative volume: its faces are inverted")
        solids.append({"index": index, **meta, **props})
        done += weight
        progress(45.0 + 53.0 * done / all_weight, f"solid {index + 1} of {len(placed)}")

    # the box of the whole shape: the union of the solid boxes when nothing lies outside them
    in_solids = TopoDS_Compound()
    builder.MakeCompound(in_solids)
    for solid, _ in placed:
        builder.Add(in_solids, solid)
    loose = any(
        _count(in_solids, kind) != counts[key]
        for kind, key in (
            (TopAbs_ShapeEnum.TopAbs_FACE, "faces"),
            (TopAbs_ShapeEnum.TopAbs_EDGE, "edges"),
            (TopAbs_ShapeEnum.TopAbs_VERTEX, "vertices"),
        )
    )
    if loose:
        # the box and face area of the whole shape: the solids' figures (already computed) plus
        # those of what lies outside the solids; boxes merge exactly, areas add up
        listed = TopTools_MapOfShape()
        for solid, _ in placed:
            listed.Add(solid)
        outside = TopoDS_Compound()
        builder.MakeCompound(outside)
        _outside_solids(compound, listed, builder, outside)
        outside_box = Bnd_Box()
        BRepBndLib.AddOptimal_s(outside, outside_box)
        total_box.Add(outside_box)
        outside_faces = GProp_GProps()
        BRepGProp.SurfaceProperties_s(outside, outside_faces)
        area_all_faces = number(total_area + outside_faces.Mass())
    else:
        area_all_faces = total_area
    if counts["solids"] == 0:
        warnings.append(
            f"{path.name} holds no solids, only {counts['faces']} faces in {counts['shells']} shells "
            "(a surface model): volumes are zero"
        )
    elif loose:
        warnings.append("the file holds geometry outside its solids (free faces, edges or points)")

    units = _file_units(reader)
    if len(units) > 1:
        warnings.append(f"the file declares several length units ({', '.join(units)}); the first is reported")
    if not units:
        warnings.append("the file declares no length unit; millimetres were assumed")

    parts = []
    for part in walker.parts.values():
        idx = part.pop("solid_indices")
        vols = [solids[i]["volume"] or 0.0 for i in idx if i < len(solids)]
        areas = [solids[i]["surface_area"] or 0.0 for i in idx if i < len(solids)]
        parts.append({**part, "volume": sum(vols), "surface_area": sum(areas)})
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
            "volume": number(total_volume),
            "surface_area": number(total_area),
            "surface_area_all_faces": area_all_faces,
            "center_of_mass": [number(m / total_volume) for m in moment] if total_volume > 0 else None,
            "bbox": _bbox_dict(total_box),
        },
        "assembly": tree,
        "parts": parts,
        "solids": solids,
        "warnings": warnings,
    }
    progress(100.0, f"{len(solids)} solids")
    return payload


# --------------------------------------------------------------------------- views


def summarize(payload: Mapping[str, Any]) -> dict[str, Scalar]:
    """One flat row per file for tables and CSV."""
    counts = payload.get("counts") or {}
    totals = payload.get("totals") or {}
    bbox = totals.get("bbox") or {}
    header = payload.get("header") or {}
    tree = payload.get("assembly") or []
    return {
        "protocol": payload.get("protocol"),
        "file_schema": payload.get("file_schema"),
        "originating_system": header.get("originating_system"),
        "length_unit": payload.get("length_unit"),
        "values_unit": payload.get("values_unit"),
        "root_names": "; ".join(str(n.get("name")) for n in tree[:5] if n.get("name")),
        "solid_count": counts.get("solids"),
        "part_count": counts.get("parts"),
        "part_instances": counts.get("part_instances"),
        "shell_count": counts.get("shells"),
        "face_count": counts.get("faces"),
        "total_volume": totals.get("volume"),
        "total_area": totals.get("surface_area"),
        "bbox_dx": bbox.get("dx"),
        "bbox_dy": bbox.get("dy"),
        "bbox_dz": bbox.get("dz"),
    }


def rows(payload: Mapping[str, Any]) -> Iterator[dict[str, Scalar]]:
    """One row per placed solid."""
    for s in payload.get("solids") or []:
        bbox = s.get("bbox") or {}
        com = s.get("center_of_mass") or [None, None, None]
        yield {
            "index": s.get("index"),
            "name": s.get("name"),
            "path": s.get("path"),
            "instance_name": s.get("instance_name"),
            "part_id": s.get("part_id"),
            "volume": s.get("volume"),
            "surface_area": s.get("surface_area"),
            "com_x": com[0],
            "com_y": com[1],
            "com_z": com[2],
            "bbox_dx": bbox.get("dx"),
            "bbox_dy": bbox.get("dy"),
            "bbox_dz": bbox.get("dz"),
            "faces": s.get("faces"),
            "edges": s.get("edges"),
        }


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
