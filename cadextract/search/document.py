"""What a result document puts into the search index: a pure function, run in the child.

The index stores *segments*: a label saying where the text came from (``title_block.
revision``, ``dxf.attribute``, ``pdf.table``…), a rank weight (A: file name, title block,
project and product names; B: names, attributes, tags; C: texts; D: layers, properties,
headers) and the text. PostgreSQL's ``simple`` parser does the tokenising (no stemming, no
stop words); this module only adds what that parser misses about engineering identifiers
(see :func:`variants`) and normalises symbols (``⌀`` and ``∅`` are written ``Ø``).

It runs in the child process, beside the extractor: the children work in parallel, the
supervisor only passes the JSON on, and the cap's warning lands in the result document.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

#: the benchmark's format: no index row, neither at completion nor by `cadextract index`
UNINDEXED_FORMAT = "noop"
#: bumped when what goes into the index changes (``cadextract index --rebuild`` re-runs it)
INDEX_VERSION = 1
#: characters of text per document; the tsvector itself is limited to 1 MB by PostgreSQL
MAX_CHARS = 256 * 1024
#: title-block fields `search --field` accepts (the DXF and PDF extractors' field names)
TITLE_BLOCK_FIELDS = ("drawing_number", "title", "revision", "date", "scale", "sheet", "drawn_by")
#: the switch a benchmark uses to measure the index's cost (docs/configuration.md)
ENV_SWITCH = "CADEXTRACT_SEARCH_INDEX"

_SYMBOLS = str.maketrans({"⌀": "Ø", "∅": "Ø", "\x02": " ", "\x03": " "})
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SPACES = re.compile(r"[ \t\r\f\v]+")
_CHUNK = re.compile(r"\S+")
_JOINERS = re.compile(r"[-_/]+")


@dataclass(frozen=True)
class Segment:
    """One labelled piece of searchable text."""

    label: str
    weight: str  # "A" (ranks highest) .. "D"
    text: str
    extra: str = ""  # identifier variants: indexed, never shown


@dataclass
class IndexEntry:
    """Everything the index stores for one result document."""

    segments: list[Segment]
    fields: dict[str, str]  # title-block field -> value as extracted
    warnings: list[str] = field(default_factory=list)

    def field_keys(self) -> list[str]:
        """``name=value`` with the value normalised, for exact ``--field`` filters."""
        return [f"{name}={normalise_value(value)}" for name, value in self.fields.items()]

    def to_json(self) -> str:
        return json.dumps(
            {
                "v": INDEX_VERSION,
                "labels": [s.label for s in self.segments],
                "weights": "".join(s.weight for s in self.segments),
                "texts": [s.text for s in self.segments],
                "extras": [s.extra for s in self.segments],
                "fields": self.fields,
                "keys": self.field_keys(),
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )


def enabled() -> bool:
    """False when ``CADEXTRACT_SEARCH_INDEX=off`` (benchmarks compare with and without)."""
    return os.environ.get(ENV_SWITCH, "on").strip().lower() not in ("off", "0", "no", "false")


def normalise(text: str) -> str:
    """NFKC, one diameter sign, no control characters, single spaces; newlines kept."""
    text = unicodedata.normalize("NFKC", text).translate(_SYMBOLS)
    text = _CONTROL.sub(" ", text)
    return "\n".join(line for line in (_SPACES.sub(" ", x).strip() for x in text.split("\n")) if line)


def normalise_value(value: str) -> str:
    """A title-block value as ``--field`` compares it: case-folded, spaces collapsed."""
    return " ".join(normalise(value).split()).casefold()


def variants(text: str) -> list[str]:
    """Extra spellings of identifiers so that ``CX1001`` and ``1001`` find ``CX-1001``.

    PostgreSQL's parser reads ``CX-1001`` as ``cx`` and the signed number ``-1001`` and
    a path as one token; for a word joining parts with ``-``, ``_`` or ``/`` that holds
    a digit or a slash, the joined form and each part are indexed too.
    """
    out: dict[str, None] = {}
    for chunk in _CHUNK.findall(text):
        core = chunk.strip("()[]{}<>,;:\"'!?")
        if not _JOINERS.search(core) or not (any(c.isdigit() for c in core) or "/" in core):
            continue
        parts = [p for p in _JOINERS.split(core) if p]
        if len(parts) < 2:
            continue
        out.setdefault("".join(parts), None)
        for part in parts:
            out.setdefault(part, None)
    return list(out)


def _items(values: Iterable[Any]) -> Iterator[str]:
    for value in values:
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            text = str(value).strip()
            if text:
                yield text


class _Builder:
    """Collects items per label (first occurrence kept) in the order labels appear."""

    def __init__(self) -> None:
        self.items: dict[str, tuple[str, dict[str, None]]] = {}

    def add(self, label: str, weight: str, values: Iterable[Any]) -> None:
        _, seen = self.items.setdefault(label, (weight, {}))
        for text in _items(values):
            seen.setdefault(text, None)

    def segments(self) -> list[Segment]:
        out = []
        for label, (weight, seen) in self.items.items():
            text = normalise("\n".join(seen))
            if text:
                out.append(Segment(label, weight, text))
        return out


def index_entry(document: Mapping[str, Any]) -> IndexEntry:
    """The index entry of one result document (any format, also an unknown one)."""
    b = _Builder()
    path = str((document.get("file") or {}).get("path") or "")
    if path:
        p = PurePosixPath(path)
        b.add("file", "A", [p.name, p.stem, " ".join(part for part in p.parent.parts if part != "/")])
    payload = document.get("payload") or {}
    fields = _title_block(payload, b)
    fmt = document.get("format")
    if fmt == "dxf":
        _dxf(payload, b)
    elif fmt == "pdf":
        _pdf(payload, b)
    elif fmt == "ifc":
        _ifc(payload, b)
    elif fmt == "step":
        _step(payload, b)
    segments = sorted(b.segments(), key=lambda s: s.weight)  # stable: A first, then in order
    segments = [Segment(s.label, s.weight, s.text, " ".join(variants(s.text))) for s in segments]
    segments, warnings = cap(segments, MAX_CHARS)
    return IndexEntry(segments=segments, fields=fields, warnings=warnings)


def cap(segments: list[Segment], limit: int) -> tuple[list[Segment], list[str]]:
    """Keep at most ``limit`` characters (text and variants), highest weights first."""
    total = sum(len(s.text) + len(s.extra) for s in segments)
    if total <= limit:
        return segments, []
    kept: list[Segment] = []
    left = limit
    for s in segments:
        if left <= 0:
            break
        text = s.text[:left]
        left -= len(text)
        extra = s.extra[: max(0, left)]
        left -= len(extra)
        kept.append(Segment(s.label, s.weight, text, extra))
    warning = (
        f"search index: {total / 1e6:.1f} MB of text; only the first {limit // 1024} KB is searchable "
        "(file name, title block and names first)"
    )
    return kept, [warning]


def _title_block(payload: Mapping[str, Any], b: _Builder) -> dict[str, str]:
    fields: dict[str, str] = {}
    raw = (payload.get("title_block") or {}).get("fields") or {}
    for name, item in raw.items():
        value = item.get("value") if isinstance(item, Mapping) else item
        if isinstance(value, str | int | float) and str(value).strip():
            fields[str(name)] = str(value).strip()
            b.add(f"title_block.{name}", "A", [value])
    return fields


def _dxf(p: Mapping[str, Any], b: _Builder) -> None:
    b.add("dxf.attribute", "B", _attribs(p.get("inserts") or []))
    b.add("dxf.property", "B", [f"{k}: {v}" for k, v in (p.get("custom_properties") or {}).items()])
    b.add("dxf.text", "C", (t.get("text") for t in p.get("texts") or []))
    b.add(
        "dxf.dimension",
        "C",
        (d.get("text_override") or d.get("display_text") for d in p.get("dimensions") or []),
    )
    b.add("dxf.layer", "D", (layer.get("name") for layer in p.get("layers") or []))
    b.add("dxf.block", "D", (blk.get("name") for blk in p.get("blocks") or [] if not blk.get("anonymous")))


def _attribs(inserts: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    for ins in inserts:
        for tag, value in (ins.get("attribs") or {}).items():
            if str(value).strip():
                yield f"{tag}: {value}"


def _pdf(p: Mapping[str, Any], b: _Builder) -> None:
    meta = p.get("metadata") or {}
    b.add("pdf.metadata", "B", (meta.get(k) for k in ("Title", "Subject", "Author", "Keywords")))
    pages = p.get("pages") or []
    b.add("pdf.table", "C", _cells(pages))
    b.add("pdf.callout", "C", (c.get("text") for c in p.get("callouts") or []))
    b.add("pdf.text", "C", (page.get("text") for page in pages))


def _cells(pages: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    for page in pages:
        for table in page.get("tables") or []:
            for row in table.get("rows") or []:
                yield from (cell for cell in row if cell)


def _ifc(p: Mapping[str, Any], b: _Builder) -> None:
    project = p.get("project") or {}
    b.add("ifc.project", "A", (project.get(k) for k in ("name", "long_name", "description", "phase")))
    for node in _walk(p.get("spatial_tree") or [], "children"):
        cls = str(node.get("ifc_class") or "")
        label = {"IfcBuildingStorey": "ifc.storey", "IfcSpace": "ifc.space"}.get(cls, "ifc.site")
        b.add(label, "B", [node.get("name"), node.get("long_name")])
    for storey in p.get("storeys") or []:
        b.add("ifc.storey", "B", [storey.get("name"), storey.get("long_name")])
    elements = p.get("elements") or []
    b.add("ifc.tag", "B", (e.get("tag") for e in elements))
    b.add("ifc.element", "C", _element_names(elements))
    b.add("ifc.type", "C", list(p.get("elements_by_class") or {}) + [e.get("type_name") for e in elements])
    b.add("ifc.material", "C", (m for e in elements for m in e.get("materials") or []))
    b.add("ifc.property", "D", _properties(elements))
    header = p.get("header") or {}
    b.add("ifc.header", "D", _header_values(header))


def _element_names(elements: Iterable[Mapping[str, Any]]) -> Iterator[Any]:
    for e in elements:
        yield from (e.get("name"), e.get("description"), e.get("object_type"))


def _properties(elements: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    for e in elements:
        for pset in (e.get("property_sets") or {}).values():
            if not isinstance(pset, Mapping):
                continue
            for name, value in pset.items():
                if name != "id" and isinstance(value, str | int | float) and not isinstance(value, bool):
                    yield f"{name}: {value}"


def _header_values(header: Mapping[str, Any]) -> Iterator[Any]:
    for value in header.values():
        if isinstance(value, list):
            yield from value
        else:
            yield value


def _step(p: Mapping[str, Any], b: _Builder) -> None:
    tree = p.get("assembly") or []
    b.add("step.product", "A", (node.get("name") for node in tree))
    b.add("step.part", "B", (part.get("name") for part in p.get("parts") or []))
    nodes = list(_walk(tree, "children"))
    b.add("step.assembly", "B", (v for n in nodes for v in (n.get("name"), n.get("instance_name"))))
    b.add("step.header", "D", _header_values(p.get("header") or {}))


def _walk(nodes: Iterable[Mapping[str, Any]], key: str) -> Iterator[Mapping[str, Any]]:
    stack = list(nodes)[::-1]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(list(node.get(key) or [])[::-1])


def entry_json(document: Mapping[str, Any], *, enabled: bool = True) -> tuple[str | None, list[str]]:
    """(index JSON, warnings) for the completion path; (None, []) when switched off.

    The no-op extractor writes no index row: it reads no drawing, so there is nothing to
    find, and the no-op benchmark measures the queue alone (the fault-test formats are
    indexed like real ones, so tests can follow a job's hits through its life).
    """
    if not enabled or document.get("format") == UNINDEXED_FORMAT:
        return None, []
    entry = index_entry(document)
    return entry.to_json(), entry.warnings
