"""IFC attribute values as the payload holds them: text, numbers, property-set values."""

from __future__ import annotations

from typing import Any

from cadextract.extractors.base import json_safe
from cadextract.extractors.shared import number


def num(value: Any) -> float | None:
    return number(value, parse_text=False)  # a numeric attribute, not a label that looks like one


def text(value: Any) -> str | None:
    return None if value is None else str(value)


def attr(entity: Any, name: str) -> Any:
    """An attribute of an entity, None when the schema or the file does not give one."""
    try:
        return getattr(entity, name)
    except (AttributeError, RuntimeError):
        return None


def property_values(psets: Any) -> Any:
    """Property / quantity sets made JSON-safe: without ifcopenshell's ``id`` keys, with
    entity instances named (``IfcClass:Name`` or ``IfcClass#id``) rather than dumped."""
    return json_safe(psets, _scalar, drop_keys=("id",))


def _scalar(value: Any) -> Any:
    if isinstance(value, set | frozenset):
        return [_scalar(v) if callable(getattr(v, "is_a", None)) else v for v in value]
    is_a = getattr(value, "is_a", None)
    if callable(is_a):  # an entity instance: name it rather than dump it
        name = getattr(value, "Name", None) if hasattr(value, "Name") else None
        return f"{is_a()}:{name}" if name else f"{is_a()}#{value.id()}"
    return str(value)
