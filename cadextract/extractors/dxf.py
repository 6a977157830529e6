"""DXF extractor (ezdxf): version, units, extents, layers, entity counts, texts, dimensions,
blocks, INSERTs with their ATTRIBs and a normalised title block.

ezdxf is imported inside the functions: importing this module stays cheap. A file
``ezdxf.readfile`` refuses is retried through ``ezdxf.recover.readfile``; what the recovery
repaired becomes a warning. Per-list entries (texts, dimensions, inserts) are capped at
``options["max_items"]`` (default :data:`DEFAULT_MAX_ITEMS`) with a warning when truncated;
counts always cover every entity.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from cadextract import previews
from cadextract.extractors import dxf_annotations
from cadextract.extractors.base import (
    CorruptFile,
    EmptyFile,
    ExtractionError,
    Extractor,
    FileUnreadable,
    Progress,
    TruncatedFile,
    UnsupportedVersion,
    WrongFormat,
    int_option,
    json_safe,
)
from cadextract.extractors.shared import captured_logs, log_warnings, number, tail, translated

#: default cap for each of the texts / dimensions / inserts lists
DEFAULT_MAX_ITEMS = 100_000
#: at most this many repair messages are copied into warnings (the count is always given)
MAX_REPAIR_WARNINGS = 50
COORD_DIGITS = 9  # drawing units: keeps sub-micrometre detail, drops float noise
#: drawings with more entities than this get no computed extents when the header has none
MAX_ENTITIES_FOR_BBOX = 500_000

#: DXF versions ezdxf reads natively (ezdxf.lldxf.const.acad_release); others load with a warning
KNOWN_VERSIONS = frozenset(
    (
        "AC1004",
        "AC1006",
        "AC1009",
        "AC1012",
        "AC1014",
        "AC1015",
        "AC1018",
        "AC1021",
        "AC1024",
        "AC1027",
        "AC1032",
    )
)
BINARY_SENTINEL = b"AutoCAD Binary DXF\r\n\x1a\x00"
TEXT_TYPES = ("TEXT", "MTEXT")
DIMENSION_TYPES = ("DIMENSION", "ARC_DIMENSION", "LARGE_RADIAL_DIMENSION")
DIMTYPE_NAMES = {
    0: "linear",
    1: "aligned",
    2: "angular",
    3: "diameter",
    4: "radius",
    5: "angular_3point",
    6: "ordinate",
}

#: normalised title-block field -> accepted attribute tags / labels (upper case, only A-Z0-9)
TITLE_FIELDS: dict[str, tuple[str, ...]] = {
    "drawing_number": (
        "DWGNO",
        "DWGNUM",
        "DWGNUMBER",
        "DRAWINGNO",
        "DRAWINGNUMBER",
        "DRGNO",
        "DRWNO",
        "DOCNO",
        "DOCUMENTNO",
        "DOCUMENTNUMBER",
        "ZEICHNUNGSNR",
        "ZEICHNUNGSNUMMER",
        "ZEICHNR",
    ),
    "title": ("TITLE", "DWGTITLE", "DRAWINGTITLE", "TITLE1", "BENENNUNG", "TITEL"),
    "revision": ("REV", "REVISION", "REVNO", "REVISIONNO", "DWGREV", "INDEX"),
    "date": ("DATE", "DWGDATE", "DRAWNDATE", "DATUM"),
    "scale": ("SCALE", "DWGSCALE", "MASSSTAB", "MASTAB"),
    "sheet": ("SHEET", "SHEETNO", "SHEETNUMBER", "SHT", "SHTNO", "BLATT"),
    "drawn_by": ("DRAWNBY", "DRAWN", "DRN", "DRNBY", "DRAFTER", "AUTHOR", "GEZEICHNET", "GEZ"),
}
_TAG_TO_FIELD = {tag: name for name, tags in TITLE_FIELDS.items() for tag in tags}
_LABEL_RE = re.compile(
    r"^\s*(?P<label>[A-Za-zÄÖÜäöüß][A-Za-zÄÖÜäöüß .\-_#]{0,24}?)\s*(?:[:=#]|\.\s|\s{2,}|$)\s*(?P<value>.*)$"
)


def _norm_tag(tag: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", tag.upper().replace("Ä", "A").replace("ß", "SS"))


def versions() -> dict[str, str]:
    from ezdxf.version import __version__

    return {"ezdxf": str(__version__)}


# ----------------------------------------------------------------------------- helpers


def _num(value: Any) -> float | None:
    return number(value, COORD_DIGITS)


def _vec(value: Any) -> list[float | None] | None:
    if value is None:
        return None
    try:
        return [_num(c) for c in tuple(value)[:3]]
    except TypeError:
        return None


def _clean(obj: Any) -> Any:
    """JSON- and PostgreSQL-safe values (see ``base.json_safe``)."""
    return json_safe(obj)


def _sniff(path: Path) -> bool:
    """Check the file is plausibly DXF; return True when it is binary DXF."""
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(4096)
    except FileNotFoundError as exc:
        raise FileUnreadable(f"file not found: {path}") from exc
    except OSError as exc:
        raise FileUnreadable(f"cannot read {path}: {exc.strerror or exc}") from exc
    if size == 0 or not head.strip():
        what = "is empty (0 bytes)" if size == 0 else f"holds only whitespace ({size} bytes)"
        raise EmptyFile(f"{path.name} {what}: nothing to extract")
    if head.startswith(BINARY_SENTINEL):
        return True
    if head[:6] in {b"AC1012", b"AC1014", b"AC1015", b"AC1018", b"AC1021", b"AC1024", b"AC1027"} or (
        head[:4] == b"AC10" or head[:4] == b"AC20"
    ):
        raise WrongFormat(f"{path.name} is a DWG file, not DXF: export it as DXF first")
    for magic, what in (
        (b"%PDF", "a PDF"),
        (b"PK\x03\x04", "a ZIP archive"),
        (b"ISO-10303-21", "a STEP/IFC file"),
        (b"\x89PNG", "a PNG image"),
        (b"\xff\xd8\xff", "a JPEG image"),
    ):
        if head.lstrip().startswith(magic):
            raise WrongFormat(f"{path.name} is {what}, not a DXF file")
    text = head.removeprefix(b"\xef\xbb\xbf").decode("latin-1")
    if "\x00" in text[:1024]:
        raise WrongFormat(f"{path.name} is binary data but not binary DXF (no 'AutoCAD Binary DXF' sentinel)")
    # ASCII DXF: group-code / value line pairs, usually "0\nSECTION" near the start
    if not re.search(r"(?m)^\s*0\s*\r?\n\s*SECTION\s*$", text) and not re.match(r"\s*999\s*\r?\n", text):
        raise WrongFormat(f"{path.name} does not look like a DXF file (no '0 / SECTION' at the start)")
    return False


def _has_eof_marker(path: Path, binary: bool) -> bool:
    """False when the file looks cut off: it neither ends with EOF nor with a closed section.

    Some writers omit the final ``0 / EOF`` but end with ``0 / ENDSEC``; ezdxf's recover mode
    reads those, so they do not count as truncated.
    """
    end = tail(path, 4096)
    if end is None:
        return True
    if binary:
        return b"EOF" in end
    lines = [line.strip() for line in end.splitlines() if line.strip()]
    return bool(lines) and lines[-1].upper() in {b"EOF", b"ENDSEC"}


def _load(path: Path, binary: bool, warnings: list[str], allow_partial: bool) -> tuple[Any, str]:
    with captured_logs("ezdxf") as messages:  # skipped handles, replaced styles
        try:
            return _load_inner(path, binary, warnings, allow_partial)
        finally:
            warnings.extend(log_warnings(messages, "ezdxf", MAX_REPAIR_WARNINGS))


def _load_inner(path: Path, binary: bool, warnings: list[str], allow_partial: bool) -> tuple[Any, str]:
    from ezdxf import recover
    from ezdxf.filemanagement import readfile
    from ezdxf.lldxf.const import DXFError, DXFStructureError, DXFVersionError

    try:
        return readfile(str(path)), "ezdxf.readfile"
    except OSError as exc:
        raise FileUnreadable(f"cannot read {path}: {exc.strerror or exc}") from exc
    except DXFVersionError as exc:
        raise UnsupportedVersion(f"{path.name}: DXF version not supported by ezdxf: {exc}") from exc
    except (DXFError, ValueError, TypeError, KeyError, IndexError, AttributeError, UnicodeError) as first:
        first_error = f"{type(first).__name__}: {first}"
        if not allow_partial and not _has_eof_marker(path, binary):
            raise TruncatedFile(
                f"{path.name} is truncated (it ends in the middle of a section; ezdxf: {first_error}); "
                f"copy the file again, or resubmit with option allow_partial=true to salvage what is there"
            ) from first

    def unrecoverable(exc: Exception) -> ExtractionError:
        if isinstance(exc, OSError):
            return FileUnreadable(f"cannot read {path}: {exc.strerror or exc}")
        if isinstance(exc, DXFVersionError):
            return UnsupportedVersion(f"{path.name}: DXF version not supported by ezdxf: {exc}")
        if not _has_eof_marker(path, binary):
            return TruncatedFile(
                f"{path.name} is truncated (it ends in the middle of a section) "
                f"and could not be recovered: {exc}"
            )
        kind = "structure" if isinstance(exc, DXFStructureError) else type(exc).__name__
        return CorruptFile(
            f"{path.name} is a damaged DXF file that even ezdxf's recover mode cannot read "
            f"({kind}: {exc}); re-export it from the CAD program"
        )

    with translated(unrecoverable):
        doc, auditor = recover.readfile(str(path))
    warnings.append(
        f"loaded with ezdxf.recover after ezdxf.readfile failed ({first_error}); "
        f"{len(auditor.fixes)} repair(s), {len(auditor.errors)} unrecoverable error(s)"
    )
    for entry in list(auditor.fixes)[:MAX_REPAIR_WARNINGS]:
        warnings.append(f"repaired: {entry.message}")
    for entry in list(auditor.errors)[:MAX_REPAIR_WARNINGS]:
        warnings.append(f"recover error: {entry.message}")
    extra = max(0, len(auditor.fixes) - MAX_REPAIR_WARNINGS) + max(
        0, len(auditor.errors) - MAX_REPAIR_WARNINGS
    )
    if extra:
        warnings.append(f"... and {extra} more repair message(s)")
    if not _has_eof_marker(path, binary):
        warnings.append(
            "file ends in the middle of a section (no EOF marker): "
            "it may be truncated, entities may be missing"
        )
    return doc, "ezdxf.recover.readfile"


def _plain_text(entity: Any) -> str:
    try:
        return str(entity.plain_text())
    except Exception:
        return str(entity.dxf.get("text", ""))


def _text_record(entity: Any, layout: str) -> dict[str, Any]:
    dxftype = entity.dxftype()
    if dxftype == "MTEXT":
        height = entity.dxf.get("char_height")
        raw = entity.text
    else:
        height = entity.dxf.get("height")
        raw = entity.dxf.get("text", "")
    return {
        "handle": entity.dxf.get("handle"),
        "type": dxftype,
        "layout": layout,
        "layer": entity.dxf.get("layer", "0"),
        "text": _plain_text(entity),
        "raw": raw if raw != _plain_text(entity) else None,
        "position": _vec(entity.dxf.get("insert")),
        "height": _num(height),
        "rotation": _num(entity.dxf.get("rotation", 0.0)),
        "style": entity.dxf.get("style"),
    }


def _dimension_record(entity: Any, layout: str, doc: Any) -> dict[str, Any]:
    dxftype = entity.dxftype()
    raw_dimtype = int(entity.dxf.get("dimtype", 0))
    if dxftype == "ARC_DIMENSION":
        kind = "arc"
    elif dxftype == "LARGE_RADIAL_DIMENSION":
        kind = "large_radial"
    else:
        kind = DIMTYPE_NAMES.get(raw_dimtype & 7, f"type_{raw_dimtype & 7}")
    measurement: float | None = None
    vector: list[float | None] | None = None
    source = None
    actual = entity.dxf.get("actual_measurement")
    if actual is not None and _num(actual) is not None:
        measurement, source = _num(actual), "actual_measurement"
    else:
        try:
            m = entity.get_measurement()
            if isinstance(m, int | float):
                measurement, source = _num(m), "computed"
            else:
                vector, source = _vec(m), "computed"
                if kind == "ordinate" and vector is not None:
                    axis = 0 if raw_dimtype & 64 else 1
                    measurement = vector[axis]
        except Exception:
            source = None
    text = entity.dxf.get("text", "")
    override = None if text in ("", "<>") else text
    display = None
    block_name = entity.dxf.get("geometry")
    if block_name:
        block = doc.blocks.get(block_name)
        if block is not None:
            parts = [_plain_text(e) for e in block if e.dxftype() in TEXT_TYPES]
            display = " ".join(p for p in parts if p) or None
    record = {
        "handle": entity.dxf.get("handle"),
        "entity": dxftype,
        "type": kind,
        "layout": layout,
        "layer": entity.dxf.get("layer", "0"),
        "measurement": measurement,
        "measurement_vector": vector,
        "measurement_source": source,
        "text_override": override,
        "display_text": display,
        "dimstyle": entity.dxf.get("dimstyle"),
        "block": block_name,
    }
    record.update(dxf_annotations.dimension_annotation(entity, record))
    return record


def _insert_record(entity: Any, layout: str) -> dict[str, Any]:
    attribs: dict[str, str] = {}
    attrib_handles: dict[str, str | None] = {}
    for attrib in getattr(entity, "attribs", []):
        tag = str(attrib.dxf.get("tag", ""))
        if tag and tag not in attribs:
            attribs[tag] = _plain_text(attrib)
            attrib_handles[tag] = attrib.dxf.get("handle")
    return {
        "handle": entity.dxf.get("handle"),
        "block": entity.dxf.get("name"),
        "layout": layout,
        "layer": entity.dxf.get("layer", "0"),
        "position": _vec(entity.dxf.get("insert")),
        "scale": [
            _num(entity.dxf.get("xscale", 1.0)),
            _num(entity.dxf.get("yscale", 1.0)),
            _num(entity.dxf.get("zscale", 1.0)),
        ],
        "rotation": _num(entity.dxf.get("rotation", 0.0)),
        "attribs": attribs,
        "_attrib_handles": attrib_handles,
    }


def _extents(doc: Any, msp_count: int, warnings: list[str]) -> dict[str, Any] | None:
    emin, emax = doc.header.get("$EXTMIN"), doc.header.get("$EXTMAX")
    try:
        lo, hi = _vec(emin), _vec(emax)
        if (
            lo is not None
            and hi is not None
            and None not in lo[:2]
            and None not in hi[:2]
            and all(abs(c) < 1e19 for c in lo[:2] + hi[:2] if c is not None)
            and lo[0] <= hi[0]  # type: ignore[operator]
            and lo[1] <= hi[1]  # type: ignore[operator]
        ):
            return {"min": lo, "max": hi, "source": "header"}
    except TypeError:
        pass
    if msp_count == 0 or msp_count > MAX_ENTITIES_FOR_BBOX:
        return None
    try:
        from ezdxf import bbox

        box = bbox.extents(doc.modelspace(), fast=True)
        if box.has_data:
            return {"min": _vec(box.extmin), "max": _vec(box.extmax), "source": "computed"}
    except Exception as exc:
        warnings.append(f"could not compute drawing extents: {type(exc).__name__}: {exc}")
    return None


# ----------------------------------------------------------------------------- title block


def _title_block(
    inserts: list[dict[str, Any]], texts: list[dict[str, Any]], custom: dict[str, str]
) -> dict[str, Any]:
    fields: dict[str, dict[str, Any]] = {}
    block_name: str | None = None
    # 1. ATTRIBs: the INSERT carrying the most recognised tags wins (ties: paperspace first)
    best: tuple[int, int, int] | None = None
    best_insert: dict[str, Any] | None = None
    for index, ins in enumerate(inserts):
        hits = sum(1 for tag in ins["attribs"] if _norm_tag(tag) in _TAG_TO_FIELD)
        if not hits:
            continue
        name_bonus = 1 if re.search(r"TITLE|BORDER|FRAME|SCHRIFT|RAHMEN", str(ins["block"]).upper()) else 0
        key = (hits, name_bonus, -index)
        if best is None or key > best:
            best, best_insert = key, ins
    if best_insert is not None:
        block_name = best_insert["block"]
        for tag, value in best_insert["attribs"].items():
            name = _TAG_TO_FIELD.get(_norm_tag(tag))
            if name and name not in fields and value.strip():
                fields[name] = {
                    "value": value.strip(),
                    "source": {
                        "kind": "attrib",
                        "block": best_insert["block"],
                        "insert_handle": best_insert["handle"],
                        "handle": best_insert["_attrib_handles"].get(tag),
                        "tag": tag,
                        "layout": best_insert["layout"],
                    },
                }
    # 2. drawing custom properties (DWGPROPS)
    for prop, prop_value in custom.items():
        name = _TAG_TO_FIELD.get(_norm_tag(prop))
        if name and name not in fields and str(prop_value).strip():
            fields[name] = {
                "value": str(prop_value).strip(),
                "source": {"kind": "custom_property", "tag": prop},
            }
    # 3. TEXT/MTEXT labels: "DWG NO: 123" in one text, or a label text with the value beside/below it
    missing = [n for n in TITLE_FIELDS if n not in fields]
    if missing and texts:
        for rec in texts:
            line = rec["text"].strip().split("\n")[0]
            m = _LABEL_RE.match(line)
            if not m:
                continue
            name = _TAG_TO_FIELD.get(_norm_tag(m.group("label")))
            if name is None or name in fields:
                continue
            value = m.group("value").strip()
            if value.endswith((":", "/")):  # "Scale: 1:" with the "75" as a separate text beside it
                right = _nearest_value_text(rec, texts, same_line_only=True)
                if right is not None:
                    value += right["text"].strip()
            if value:
                fields[name] = {
                    "value": value,
                    "source": {
                        "kind": "text",
                        "handle": rec["handle"],
                        "label": m.group("label").strip(),
                        "layout": rec["layout"],
                    },
                }
                continue
            near = _nearest_value_text(rec, texts)
            if near is not None:
                fields[name] = {
                    "value": near["text"].strip(),
                    "source": {
                        "kind": "text_near_label",
                        "handle": near["handle"],
                        "label": m.group("label").strip(),
                        "label_handle": rec["handle"],
                        "layout": rec["layout"],
                    },
                }
    ordered = {name: fields[name] for name in TITLE_FIELDS if name in fields}
    return {"block": block_name, "fields": ordered}


def _is_label(text: str) -> bool:
    m = _LABEL_RE.match(text.strip())
    return bool(m and not m.group("value").strip() and _norm_tag(m.group("label")) in _TAG_TO_FIELD)


def _nearest_value_text(
    label: dict[str, Any], texts: list[dict[str, Any]], *, same_line_only: bool = False
) -> dict[str, Any] | None:
    """The closest non-label text to the right on the same line, else just below the label."""
    pos = label.get("position")
    if not pos or pos[0] is None or pos[1] is None:
        return None
    h = label.get("height") or 2.5
    best: tuple[int, float, dict[str, Any]] | None = None
    for rec in texts:
        if rec is label or rec["layout"] != label["layout"] or not rec["text"].strip():
            continue
        p = rec.get("position")
        if not p or p[0] is None or p[1] is None or _is_label(rec["text"]):
            continue
        dx, dy = p[0] - pos[0], p[1] - pos[1]
        if 0 < dx <= 30 * h and abs(dy) <= 0.6 * h:  # to the right on the same line: preferred
            rank, dist = 0, dx
        elif not same_line_only and -8 * h <= dy < -0.3 * h and abs(dx) <= 10 * h:  # below
            rank, dist = 1, abs(dy) * 1.5 + abs(dx)
        else:
            continue
        if best is None or (rank, dist) < best[:2]:
            best = (rank, dist, rec)
    return best[2] if best else None


# ----------------------------------------------------------------------------- extract


def extract(path: Path, options: Mapping[str, Any], progress: Progress) -> dict[str, Any]:
    path = Path(path)
    progress(0.0, "reading DXF")
    binary = _sniff(path)
    warnings: list[str] = []
    with translated(functools.partial(_unexpected, path)):
        return _extract(path, options, progress, binary, warnings)


def _unexpected(path: Path, exc: Exception) -> ExtractionError:
    if isinstance(exc, OSError):
        return FileUnreadable(f"cannot read {path}: {exc.strerror or exc}")
    return CorruptFile(f"{path.name}: unexpected content while reading the DXF ({type(exc).__name__}: {exc})")


def _extract(
    path: Path, options: Mapping[str, Any], progress: Progress, binary: bool, warnings: list[str]
) -> dict[str, Any]:
    from ezdxf import units

    max_items = int_option(options, "max_items", DEFAULT_MAX_ITEMS)
    caps = {
        "texts": int_option(options, "max_texts", max_items),
        "dimensions": int_option(options, "max_dimensions", max_items),
        "inserts": int_option(options, "max_inserts", max_items),
    }
    doc, loader = _load(path, binary, warnings, bool(options.get("allow_partial", False)))
    previews.offer(path, doc)  # the job's preview draws this document instead of reading it again
    progress(30.0, "loaded")
    loaded_version = getattr(doc, "loaded_dxfversion", None) or doc.dxfversion
    if doc.acad_release == "unknown" or loaded_version not in KNOWN_VERSIONS:
        warnings.append(
            f"DXF version {loaded_version} is not one ezdxf knows; it was read as {doc.dxfversion}: "
            f"check the results"
        )

    # layouts: block record name -> layout name
    layout_of_block: dict[str, str] = {}
    layout_order: list[str] = []
    for name in doc.layouts.names_in_taborder():
        try:
            layout = doc.layouts.get(name)
        except Exception:
            continue
        layout_of_block[str(layout.block_record_name).lower()] = name
        layout_order.append(name)

    total = max(1, len(doc.entitydb))
    done = 0
    step = max(1000, total // 100)
    layer_counts: Counter[str] = Counter()
    insert_counts: Counter[str] = Counter()
    by_layout: dict[str, Counter[str]] = {name: Counter() for name in layout_order}
    texts: list[dict[str, Any]] = []
    dimensions: list[dict[str, Any]] = []
    inserts: list[dict[str, Any]] = []
    totals = {"texts": 0, "dimensions": 0, "inserts": 0}
    blocks: list[dict[str, Any]] = []
    drawing = dxf_annotations.DrawingParts(max_items)

    for block in doc.blocks:
        block_name = str(block.name)
        layout_name = layout_of_block.get(block_name.lower())
        entity_count = 0
        attdefs: list[str] = []
        for entity in block:
            done += 1
            entity_count += 1
            if done % step == 0:
                progress(30.0 + 60.0 * min(1.0, done / total), f"{done} of ~{total} entities")
            dxftype = entity.dxftype()
            if dxftype == "INSERT":
                insert_counts[str(entity.dxf.get("name"))] += 1
            if layout_name is None:
                if dxftype == "ATTDEF":
                    attdefs.append(str(entity.dxf.get("tag", "")))
                continue
            by_layout[layout_name][dxftype] += 1
            layer_counts[str(entity.dxf.get("layer", "0"))] += 1
            if dxftype in TEXT_TYPES:
                totals["texts"] += 1
                if len(texts) < caps["texts"]:
                    texts.append(_text_record(entity, layout_name))
            elif dxftype in DIMENSION_TYPES:
                totals["dimensions"] += 1
                if len(dimensions) < caps["dimensions"]:
                    dimensions.append(_dimension_record(entity, layout_name, doc))
            elif dxftype in dxf_annotations.DrawingParts.KINDS:
                drawing.add(entity, layout_name)
            elif dxftype == "INSERT":
                totals["inserts"] += 1
                if len(inserts) < caps["inserts"]:
                    inserts.append(_insert_record(entity, layout_name))
        record = block.block_record
        blocks.append(
            {
                "name": block_name,
                "layout": layout_name,
                "anonymous": block_name.startswith("*"),
                "xref": bool(getattr(block.block, "is_xref", False)) if block.block is not None else False,
                "base_point": _vec(block.block.dxf.get("base_point")) if block.block is not None else None,
                "entity_count": entity_count,
                "attdef_tags": attdefs,
                "_record": record is not None,
            }
        )
    for rec in blocks:
        rec["insert_count"] = insert_counts.get(rec["name"], 0)
        del rec["_record"]
    for key, cap in caps.items():
        if totals[key] > cap:
            warnings.append(f"{key} list truncated to {cap} of {totals[key]} entries (option max_{key})")
    progress(90.0, "layers and title block")

    layers: list[dict[str, Any]] = []
    layer_names: set[str] = set()
    for layer in doc.layers:
        name = str(layer.dxf.name)
        layer_names.add(name)
        rgb = layer.rgb
        layers.append(
            {
                "name": name,
                "color": abs(int(layer.dxf.get("color", 7))),
                "true_color": [int(c) for c in rgb] if rgb else None,
                "linetype": layer.dxf.get("linetype", "Continuous"),
                "lineweight": layer.dxf.get("lineweight"),
                "on": bool(layer.is_on()),
                "frozen": bool(layer.is_frozen()),
                "locked": bool(layer.is_locked()),
                "plot": bool(layer.dxf.get("plot", 1)),
                "entity_count": layer_counts.get(name, 0),
            }
        )
    layer_lookup = {n.lower() for n in layer_names}
    undefined = sorted(n for n in layer_counts if n.lower() not in layer_lookup)
    if undefined:
        # DXF layer names are case-insensitive: recount case-insensitively
        lower_counts: Counter[str] = Counter()
        for n, c in layer_counts.items():
            lower_counts[n.lower()] += c
        for rec in layers:
            rec["entity_count"] = lower_counts.get(rec["name"].lower(), 0)

    layouts = []
    for name in layout_order:
        counts = by_layout[name]
        layouts.append(
            {
                "name": name,
                "kind": "modelspace" if name == "Model" else "paperspace",
                "entity_count": sum(counts.values()),
                "entities_by_type": dict(sorted(counts.items())),
            }
        )
    msp = by_layout.get("Model", Counter())

    insunits = doc.header.get("$INSUNITS")
    try:
        unit_name = units.unit_name(int(insunits)) if insunits is not None else None
    except (KeyError, ValueError, TypeError):
        unit_name = None
    if insunits is not None and int(insunits) == 0:
        unit_name = "Unitless"
    measurement = doc.header.get("$MEASUREMENT")

    custom: dict[str, str] = {}
    try:
        for key, value in doc.header.custom_vars:
            custom[str(key)] = str(value)
    except Exception:
        pass

    title = _title_block(inserts, texts, custom)
    for ins in inserts:
        del ins["_attrib_handles"]

    payload: dict[str, Any] = {
        "dxf_version": doc.dxfversion,
        "loaded_dxf_version": getattr(doc, "loaded_dxfversion", None) or doc.dxfversion,
        "release": doc.acad_release,
        "binary": binary,
        "encoding": doc.encoding,
        "loader": loader,
        "insunits": int(insunits) if insunits is not None else None,
        "units": unit_name,
        "measurement": ("metric" if int(measurement) == 1 else "imperial")
        if measurement is not None
        else None,
        "extents": _extents(doc, sum(msp.values()), warnings),
        "layers": layers,
        "undefined_layers": undefined,
        "layouts": layouts,
        "modelspace": {"entity_count": sum(msp.values()), "entities_by_type": dict(sorted(msp.items()))},
        "counts": {
            "entities": sum(sum(c.values()) for c in by_layout.values()),
            "texts": totals["texts"],
            "dimensions": totals["dimensions"],
            "inserts": totals["inserts"],
            "layers": len(layers),
            "blocks": len(blocks),
        },
        "texts": texts,
        "dimensions": dimensions,
        "blocks": blocks,
        "inserts": inserts,
        "custom_properties": custom,
        "title_block": title,
        **drawing.payload(texts, inserts, warnings),
        "limits": {"texts": caps["texts"], "dimensions": caps["dimensions"], "inserts": caps["inserts"]},
        "warnings": warnings,
    }
    progress(100.0, "done")
    return _clean(payload)  # type: ignore[no-any-return]


# ----------------------------------------------------------------------------- summaries


def summarize(payload: Mapping[str, Any]) -> dict[str, str | int | float | bool | None]:
    counts = payload.get("counts", {})
    msp = payload.get("modelspace", {})
    fields = payload.get("title_block", {}).get("fields", {})
    extents = payload.get("extents") or {}
    lo, hi = extents.get("min"), extents.get("max")
    out: dict[str, str | int | float | bool | None] = {
        "dxf_version": payload.get("dxf_version"),
        "release": payload.get("release"),
        "units": payload.get("units"),
        "loader": payload.get("loader"),
        "layer_count": counts.get("layers"),
        "block_count": counts.get("blocks"),
        "entity_count": counts.get("entities"),
        "modelspace_entity_count": msp.get("entity_count"),
        "text_count": counts.get("texts"),
        "dimension_count": counts.get("dimensions"),
        "insert_count": counts.get("inserts"),
        "layout_count": len(payload.get("layouts", [])),
        "extents_width": _num(hi[0] - lo[0]) if lo and hi and None not in (lo[0], hi[0]) else None,
        "extents_height": _num(hi[1] - lo[1]) if lo and hi and None not in (lo[1], hi[1]) else None,
    }
    for name in TITLE_FIELDS:
        field = fields.get(name)
        out[f"tb_{name}"] = field["value"] if field else None
    return out


def rows(payload: Mapping[str, Any]) -> Iterator[dict[str, str | int | float | bool | None]]:
    def xy(pos: Iterable[Any] | None) -> tuple[Any, Any]:
        p = list(pos or [None, None])
        return (p[0] if p else None, p[1] if len(p) > 1 else None)

    for t in payload.get("texts", []):
        x, y = xy(t.get("position"))
        yield {
            "entity": t["type"],
            "handle": t.get("handle"),
            "layout": t.get("layout"),
            "layer": t.get("layer"),
            "x": x,
            "y": y,
            "text": t.get("text"),
            "height": t.get("height"),
            "value": None,
            "block": None,
        }
    for d in payload.get("dimensions", []):
        yield {
            "entity": d["entity"],
            "handle": d.get("handle"),
            "layout": d.get("layout"),
            "layer": d.get("layer"),
            "x": None,
            "y": None,
            "text": d.get("readable") or d.get("text_override") or d.get("display_text"),
            "height": None,
            "value": d.get("measurement"),
            "block": d.get("type"),
        }
    for i in payload.get("inserts", []):
        x, y = xy(i.get("position"))
        attribs = i.get("attribs") or {}
        yield {
            "entity": "INSERT",
            "handle": i.get("handle"),
            "layout": i.get("layout"),
            "layer": i.get("layer"),
            "x": x,
            "y": y,
            "text": "; ".join(f"{k}={v}" for k, v in attribs.items()) or None,
            "height": None,
            "value": None,
            "block": i.get("block"),
        }


EXTRACTOR = Extractor(
    name="dxf",
    extract=extract,
    versions=versions,
    version="2",
    default_timeout=600,
    description="DXF drawings (ezdxf): layers, texts, dimensions with tolerances, GD&T, tables, parts lists",
    extensions=(".dxf",),
    summarize=summarize,
    rows=rows,
)
