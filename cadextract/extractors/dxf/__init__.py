"""DXF extractor (ezdxf): version, units, extents, layers, entity counts, texts, dimensions,
blocks, INSERTs with their ATTRIBs and a normalised title block.

ezdxf is imported inside the functions: importing this package stays cheap. Per-list entries
(texts, dimensions, inserts) are capped at ``options["max_items"]`` (default
:data:`DEFAULT_MAX_ITEMS`) with a warning when truncated; counts always cover every entity.

The modules: ``loading`` (sniff, load, recover), ``sections`` (one builder per payload
section), ``records`` (one record per entity), ``title_block``, ``views`` (summary and rows).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cadextract import previews
from cadextract.extractors import dxf_annotations
from cadextract.extractors.base import Extractor, Progress, int_option, json_safe
from cadextract.extractors.dxf import loading, sections
from cadextract.extractors.dxf.title_block import TITLE_FIELDS, title_block
from cadextract.extractors.dxf.views import rows, summarize
from cadextract.extractors.shared import translated

__all__ = ["DEFAULT_MAX_ITEMS", "EXTRACTOR", "TITLE_FIELDS", "extract", "rows", "summarize", "versions"]

#: default cap for each of the texts / dimensions / inserts lists
DEFAULT_MAX_ITEMS = 100_000


def versions() -> dict[str, str]:
    from ezdxf.version import __version__

    return {"ezdxf": str(__version__)}


def extract(path: Path, options: Mapping[str, Any], progress: Progress) -> dict[str, Any]:
    path = Path(path)
    progress(0.0, "reading DXF")
    binary = loading.sniff(path)
    warnings: list[str] = []
    with translated(functools.partial(loading.unexpected, path)):
        return _extract(path, options, progress, binary, warnings)


def _extract(
    path: Path, options: Mapping[str, Any], progress: Progress, binary: bool, warnings: list[str]
) -> dict[str, Any]:
    max_items = int_option(options, "max_items", DEFAULT_MAX_ITEMS)
    caps = {key: int_option(options, f"max_{key}", max_items) for key in sections.LISTS}
    doc, loader = loading.load(path, binary, warnings, bool(options.get("allow_partial", False)))
    previews.offer(path, doc)  # the job's preview draws this document instead of reading it again
    progress(30.0, "loaded")
    warnings.extend(sections.version_warnings(doc))
    walk = sections.Walk(caps, sections.layout_names(doc), dxf_annotations.DrawingParts(max_items))
    walk.run(doc, progress)
    warnings.extend(walk.truncation_warnings())
    progress(90.0, "layers and title block")
    layers, undefined = sections.layers(doc, walk.layer_counts)
    texts, inserts = walk.lists["texts"], walk.lists["inserts"]
    custom = sections.custom_properties(doc)
    title = title_block(inserts, texts, custom)
    for ins in inserts:
        del ins["_attrib_handles"]
    modelspace = walk.modelspace()
    payload: dict[str, Any] = {
        **sections.header(doc, binary, loader),
        "extents": sections.extents(doc, modelspace["entity_count"], warnings),
        "layers": layers,
        "undefined_layers": undefined,
        "layouts": walk.layout_list(),
        "modelspace": modelspace,
        "counts": walk.counts(len(layers)),
        "texts": texts,
        "dimensions": walk.lists["dimensions"],
        "blocks": walk.blocks,
        "inserts": inserts,
        "custom_properties": custom,
        "title_block": title,
        **walk.drawing.payload(texts, inserts, warnings),
        "limits": caps,
        "warnings": warnings,
    }
    progress(100.0, "done")
    return json_safe(payload)  # type: ignore[no-any-return]


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
