"""OpenCASCADE (OCP) for the STEP extractor: read a file into an XCAF document, and the small
shape helpers (names, counts, boxes). OCP is imported inside the functions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cadextract.extractors.base import CorruptFile, NoSolids, Progress, UnsupportedVersion, no_progress
from cadextract.extractors.shared import number, tolerated, translated
from cadextract.extractors.step.header import READABLE


def label_name(label: Any) -> str | None:
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


def entry(label: Any) -> str:
    from OCP.TCollection import TCollection_AsciiString
    from OCP.TDF import TDF_Tool

    s = TCollection_AsciiString()
    TDF_Tool.Entry_s(label, s)
    return str(s.ToCString())


def count(shape: Any, kind: Any) -> int:
    from OCP.TopExp import TopExp
    from OCP.TopTools import TopTools_IndexedMapOfShape

    m = TopTools_IndexedMapOfShape()
    TopExp.MapShapes_s(shape, kind, m)
    return int(m.Extent())


def shapes(shape: Any, kind: Any) -> list[Any]:
    from OCP.TopExp import TopExp
    from OCP.TopTools import TopTools_IndexedMapOfShape

    m = TopTools_IndexedMapOfShape()
    TopExp.MapShapes_s(shape, kind, m)
    return [m.FindKey(i) for i in range(1, m.Extent() + 1)]


def bbox_dict(box: Any) -> dict[str, float | None] | None:
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


def read(
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
        if protocol is not None and protocol not in READABLE:
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


def file_units(reader: Any) -> list[str]:
    """The length units the file declares, each once, in order."""
    from OCP.TColStd import TColStd_SequenceOfAsciiString

    lengths, angles, solid_angles = (TColStd_SequenceOfAsciiString() for _ in range(3))
    with tolerated():  # OCCT raises on some files' unit declarations: then none is reported
        reader.ChangeReader().FileUnits(lengths, angles, solid_angles)
        names = [str(lengths.Value(i).ToCString()).strip().lower() for i in range(1, lengths.Length() + 1)]
        return list(dict.fromkeys(n for n in names if n))
    return []


def free_shapes(doc: Any) -> Any:
    """The document's top-level (free) shape labels, a TDF_LabelSequence."""
    from OCP.TDF import TDF_LabelSequence
    from OCP.XCAFDoc import XCAFDoc_DocumentTool

    free = TDF_LabelSequence()
    XCAFDoc_DocumentTool.ShapeTool_s(doc.Main()).GetFreeShapes(free)
    return free


def compound_of(free: Any) -> Any:
    """The free shapes in one compound."""
    from OCP.BRep import BRep_Builder
    from OCP.TopoDS import TopoDS_Compound
    from OCP.XCAFDoc import XCAFDoc_ShapeTool

    builder = BRep_Builder()
    compound = TopoDS_Compound()
    builder.MakeCompound(compound)
    for i in range(1, free.Length() + 1):
        shape = XCAFDoc_ShapeTool.GetShape_s(free.Value(i))
        if not shape.IsNull():
            builder.Add(compound, shape)
    return compound


def topology(compound: Any, top_level: int) -> dict[str, int]:
    """How many shapes of each kind the compound holds (each counted once)."""
    from OCP.TopAbs import TopAbs_ShapeEnum

    return {
        "top_level_shapes": int(top_level),
        "solids": count(compound, TopAbs_ShapeEnum.TopAbs_SOLID),
        "shells": count(compound, TopAbs_ShapeEnum.TopAbs_SHELL),
        "faces": count(compound, TopAbs_ShapeEnum.TopAbs_FACE),
        "edges": count(compound, TopAbs_ShapeEnum.TopAbs_EDGE),
        "vertices": count(compound, TopAbs_ShapeEnum.TopAbs_VERTEX),
    }
