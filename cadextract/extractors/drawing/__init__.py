"""The drawing annotation parser shared by vector PDF, DXF and OCR text.

Input is neutral positioned text (:class:`TextItem`: glyphs or OCR words with a box and an
angle) plus drawn strokes; output is :class:`Annotations` (dimensions, GD&T frames, datums,
surface finish, notes, title block, parts list). No PDF library is imported here.
"""

from cadextract.extractors.drawing.model import (
    Annotations,
    BomItem,
    Curve,
    Dimension,
    Segment,
    Sheet,
    TextItem,
)
from cadextract.extractors.drawing.parser import parse_sheet

__all__ = ["Annotations", "BomItem", "Curve", "Dimension", "Segment", "Sheet", "TextItem", "parse_sheet"]
