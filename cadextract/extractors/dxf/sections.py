"""The sections of a DXF payload, one builder each: header and units, the walk over every
block (entity counts, texts, dimensions, inserts, blocks), layers, layouts, extents."""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cadextract.extractors import dxf_annotations
from cadextract.extractors.base import Progress
from cadextract.extractors.dxf import records
from cadextract.extractors.shared import attempt, tolerated

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
LISTS = ("texts", "dimensions", "inserts")


def version_warnings(doc: Any) -> list[str]:
    loaded_version = getattr(doc, "loaded_dxfversion", None) or doc.dxfversion
    if doc.acad_release == "unknown" or loaded_version not in KNOWN_VERSIONS:
        return [
            f"DXF version {loaded_version} is not one ezdxf knows; it was read as {doc.dxfversion}: "
            f"check the results"
        ]
    return []


def header(doc: Any, binary: bool, loader: str) -> dict[str, Any]:
    """Version, encoding, how it was loaded, units and measurement system."""
    from ezdxf import units

    insunits = doc.header.get("$INSUNITS")
    try:
        unit_name = units.unit_name(int(insunits)) if insunits is not None else None
    except (KeyError, ValueError, TypeError):
        unit_name = None
    if insunits is not None and int(insunits) == 0:
        unit_name = "Unitless"
    measurement = doc.header.get("$MEASUREMENT")
    return {
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
    }


def custom_properties(doc: Any) -> dict[str, str]:
    """The drawing's custom properties (DWGPROPS); those read before a failure are kept."""
    custom: dict[str, str] = {}
    with tolerated():
        for key, value in doc.header.custom_vars:
            custom[str(key)] = str(value)
    return custom


def layout_names(doc: Any) -> dict[str, str]:
    """Block record name (lower case) -> layout name, in tab order."""
    out: dict[str, str] = {}
    for name in doc.layouts.names_in_taborder():
        layout = attempt(functools.partial(doc.layouts.get, name), None)
        if layout is not None:
            out[str(layout.block_record_name).lower()] = name
    return out


@dataclass
class Walk:
    """Everything one pass over every block of the document collects."""

    caps: dict[str, int]
    layouts: dict[str, str]  # block record name (lower case) -> layout name
    drawing: dxf_annotations.DrawingParts
    layer_counts: Counter[str] = field(default_factory=Counter)
    insert_counts: Counter[str] = field(default_factory=Counter)
    by_layout: dict[str, Counter[str]] = field(default_factory=dict)
    lists: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {k: [] for k in LISTS})
    totals: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LISTS, 0))
    blocks: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.by_layout = {name: Counter() for name in self.layouts.values()}

    def run(self, doc: Any, progress: Progress) -> None:
        total = max(1, len(doc.entitydb))
        step = max(1000, total // 100)
        done = 0
        for block in doc.blocks:
            layout_name = self.layouts.get(str(block.name).lower())
            entity_count = 0
            attdefs: list[str] = []
            for entity in block:
                done += 1
                entity_count += 1
                if done % step == 0:
                    progress(30.0 + 60.0 * min(1.0, done / total), f"{done} of ~{total} entities")
                if entity.dxftype() == "INSERT":
                    self.insert_counts[str(entity.dxf.get("name"))] += 1
                if layout_name is not None:
                    self._visit(entity, layout_name, doc)
                elif entity.dxftype() == "ATTDEF":
                    attdefs.append(str(entity.dxf.get("tag", "")))
            self.blocks.append(_block_record(block, layout_name, entity_count, attdefs))
        for rec in self.blocks:
            rec["insert_count"] = self.insert_counts.get(rec["name"], 0)

    def _visit(self, entity: Any, layout_name: str, doc: Any) -> None:
        """One entity of a layout (model or paper space)."""
        dxftype = entity.dxftype()
        self.by_layout[layout_name][dxftype] += 1
        self.layer_counts[str(entity.dxf.get("layer", "0"))] += 1
        if dxftype in records.TEXT_TYPES:
            self._keep("texts", lambda: records.text_record(entity, layout_name))
        elif dxftype in records.DIMENSION_TYPES:
            self._keep("dimensions", lambda: records.dimension_record(entity, layout_name, doc))
        elif dxftype in dxf_annotations.DrawingParts.KINDS:
            self.drawing.add(entity, layout_name)
        elif dxftype == "INSERT":
            self._keep("inserts", lambda: records.insert_record(entity, layout_name))

    def _keep(self, key: str, record: Callable[[], dict[str, Any]]) -> None:
        self.totals[key] += 1
        if len(self.lists[key]) < self.caps[key]:
            self.lists[key].append(record())

    def truncation_warnings(self) -> list[str]:
        return [
            f"{key} list truncated to {cap} of {self.totals[key]} entries (option max_{key})"
            for key, cap in self.caps.items()
            if self.totals[key] > cap
        ]

    def layout_list(self) -> list[dict[str, Any]]:
        return [
            {
                "name": name,
                "kind": "modelspace" if name == "Model" else "paperspace",
                "entity_count": sum(counts.values()),
                "entities_by_type": dict(sorted(counts.items())),
            }
            for name, counts in self.by_layout.items()
        ]

    def modelspace(self) -> dict[str, Any]:
        msp = self.by_layout.get("Model", Counter())
        return {"entity_count": sum(msp.values()), "entities_by_type": dict(sorted(msp.items()))}

    def counts(self, layer_count: int) -> dict[str, int]:
        return {
            "entities": sum(sum(c.values()) for c in self.by_layout.values()),
            **self.totals,
            "layers": layer_count,
            "blocks": len(self.blocks),
        }


def _block_record(
    block: Any, layout_name: str | None, entity_count: int, attdefs: list[str]
) -> dict[str, Any]:
    name = str(block.name)
    head = block.block  # the BLOCK entity; None in a damaged file
    return {
        "name": name,
        "layout": layout_name,
        "anonymous": name.startswith("*"),
        "xref": bool(getattr(head, "is_xref", False)) if head is not None else False,
        "base_point": records.vec(head.dxf.get("base_point")) if head is not None else None,
        "entity_count": entity_count,
        "attdef_tags": attdefs,
    }


def layers(doc: Any, layer_counts: Counter[str]) -> tuple[list[dict[str, Any]], list[str]]:
    """The layer table with entity counts, and the layer names entities use without a definition."""
    out: list[dict[str, Any]] = []
    for layer in doc.layers:
        name = str(layer.dxf.name)
        rgb = layer.rgb
        out.append(
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
    defined = {rec["name"].lower() for rec in out}
    undefined = sorted(n for n in layer_counts if n.lower() not in defined)
    if undefined:
        # DXF layer names are case-insensitive: recount case-insensitively
        lower_counts: Counter[str] = Counter()
        for n, c in layer_counts.items():
            lower_counts[n.lower()] += c
        for rec in out:
            rec["entity_count"] = lower_counts.get(rec["name"].lower(), 0)
    return out, undefined


def extents(doc: Any, msp_count: int, warnings: list[str]) -> dict[str, Any] | None:
    """The header's $EXTMIN/$EXTMAX when they are sane, else computed from model space."""
    lo, hi = records.vec(doc.header.get("$EXTMIN")), records.vec(doc.header.get("$EXTMAX"))
    try:
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

    def failed(exc: Exception) -> None:
        warnings.append(f"could not compute drawing extents: {type(exc).__name__}: {exc}")

    with tolerated(failed):
        from ezdxf import bbox

        box = bbox.extents(doc.modelspace(), fast=True)
        if box.has_data:
            return {"min": records.vec(box.extmin), "max": records.vec(box.extmax), "source": "computed"}
    return None
