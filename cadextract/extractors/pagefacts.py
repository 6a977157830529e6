"""What the pages of one document say, gathered page by page: callouts, title block, annotations.

Shared by the PDF and raster extractors so a scanned page gives the same payload fields
whichever file it came in: its text's callouts, its title-block fields (the drawing
parser's ruled block first, then label/value pairs in tables, text or OCR word
positions), and the drawing parser's lists (dimensions, GD&T, notes, parts list).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cadextract.extractors import textfields
from cadextract.extractors.drawing.lists import TB_FIELDS, DrawingLists, drawing_summary
from cadextract.extractors.drawing.model import Annotations
from cadextract.extractors.ocr.layout import Word, fields_from_words

#: a title-block field: (value, method, label as printed)
Field = tuple[str, str, str]
Summary = dict[str, str | int | float | bool | None]


def page_fields(
    notes: Annotations,
    tables: Sequence[list[list[str | None]]],
    text: str,
    ocr_words: Sequence[Word] | None,
) -> dict[str, Field]:
    """The title-block fields of one page, best source first.

    The drawing parser's ruled title block wins. A vector page without one falls back to
    label/value pairs in its tables and text lines. A scanned page (``ocr_words`` given)
    also fills the fields the ruled block lacks from the words' positions: OCR text lines
    run across a scan's cells, and a rule the scan lost leaves a cell unread.
    """
    fields: dict[str, Field] = {k: (f.value, f.method, f.label) for k, f in notes.title_block.items()}
    if notes.title_block and ocr_words is None:
        return fields
    fallback = textfields.fields_from_tables(list(tables))
    if ocr_words is None:
        more = textfields.fields_from_text(text)
    else:
        more = fields_from_words(ocr_words, textfields.LABEL_RE, textfields.valid)
    for name, value in more.items():
        fallback.setdefault(name, value)
    for name, value in fallback.items():
        fields.setdefault(name, value)
    return fields


@dataclass
class PageFacts:
    """Callouts, title-block fields and drawing annotations of a document's pages, capped."""

    max_items: int
    callouts: list[dict[str, Any]] = field(default_factory=list)
    callout_total: int = 0
    title: dict[str, dict[str, Any]] = field(default_factory=dict)
    drawing: DrawingLists = field(default_factory=DrawingLists)

    def add(self, rec: dict[str, Any], notes: Annotations, fields: Mapping[str, Field]) -> None:
        """One page: its record gains ``callout_count`` and ``title_block``; the first page wins a field."""
        number = rec["number"]
        found = textfields.find_callouts(rec.get("text") or "")
        self.callout_total += len(found)
        rec["callout_count"] = len(found)
        room = max(0, self.max_items - len(self.callouts))
        self.callouts.extend({"page": number, **c} for c in found[:room])
        self.drawing.add(notes, self.max_items)
        rec["title_block"] = {name: fields[name][0] for name in TB_FIELDS if name in fields}
        for name in TB_FIELDS:
            if name in fields and name not in self.title:
                value, method, label = fields[name]
                self.title[name] = {
                    "value": value,
                    "source": {"page": number, "method": method, "label": label},
                }

    def warnings(self) -> list[str]:
        out = self.drawing.warnings(self.max_items)
        if self.callout_total > len(self.callouts):
            out.append(
                f"callouts truncated to {len(self.callouts)} of {self.callout_total} (option max_items)"
            )
        return out

    def payload(self) -> dict[str, Any]:
        """The payload keys these facts fill."""
        return {
            "callouts": self.callouts,
            "title_block": {"fields": {name: self.title[name] for name in TB_FIELDS if name in self.title}},
            **self.drawing.payload(),
        }


def summary(payload: Mapping[str, Any]) -> Summary:
    """Summary columns of these facts: the ``tb_*`` fields and the annotation counts."""
    fields = payload.get("title_block", {}).get("fields", {})
    out: Summary = {}
    for name in textfields.TITLE_LABELS:
        found = fields.get(name)
        out[f"tb_{name}"] = found["value"] if found else None
    out.update(drawing_summary(payload))
    return out


#: page-row columns read from the page's title block or its OCR record, not the page itself
_FROM_TITLE = {"drawing_number", "sheet"}


def page_rows(payload: Mapping[str, Any], columns: Sequence[str]) -> Iterator[Summary]:
    """One row a page with these ``columns`` (``drawing_number``/``sheet`` from its title block)."""
    for p in payload.get("pages", []):
        tb = p.get("title_block") or {}
        row: Summary = {}
        for name in columns:
            if name == "page":
                row[name] = p.get("number")
            elif name in _FROM_TITLE:
                row[name] = tb.get(name)
            elif name == "ocr_mean_confidence":
                row[name] = (p.get("ocr") or {}).get("mean_confidence")
            else:
                row[name] = p.get(name)
        yield row
