"""Which extractor handles which format: the four built-ins plus plugins.

Plugins register under the ``cadextract.extractors`` entry-point group with a name
(the job format) pointing at an ``Extractor`` object. Extractor modules import their
heavy libraries (OCP, ifcopenshell) lazily, so looking one up here is cheap.
"""

from __future__ import annotations

import importlib
from functools import cache
from importlib.metadata import entry_points

from cadextract.extractors.base import Extractor

ENTRY_POINT_GROUP = "cadextract.extractors"

BUILTINS: dict[str, str] = {
    "dxf": "cadextract.extractors.dxf:EXTRACTOR",
    "pdf": "cadextract.extractors.pdf:EXTRACTOR",
    "ifc": "cadextract.extractors.ifc:EXTRACTOR",
    "step": "cadextract.extractors.step:EXTRACTOR",
}


class UnknownFormat(LookupError):
    """No extractor is registered under that name."""


@cache
def _specs() -> dict[str, str]:
    specs = dict(BUILTINS)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        # built-ins win: a plugin cannot silently replace the DXF extractor
        specs.setdefault(ep.name, ep.value)
    return specs


def names() -> list[str]:
    """All registered format names, built-ins first."""
    specs = _specs()
    return list(BUILTINS) + sorted(n for n in specs if n not in BUILTINS)


def public_names() -> list[str]:
    """The formats worth naming to a user: not the benchmark and fault-test extractors."""
    return [n for n in names() if not is_internal(n)]


def is_internal(name: str) -> bool:
    """True for ``noop`` and ``test-*``: registered for benchmarks and fault tests only."""
    return name == "noop" or name.startswith("test-")


def is_registered(name: str) -> bool:
    """True when ``name`` is a known format."""
    return name in _specs()


@cache
def get(name: str) -> Extractor:
    """The extractor registered as ``name`` (imports its module)."""
    try:
        spec = _specs()[name]
    except KeyError:
        raise UnknownFormat(f"no extractor for format {name!r}; known: {', '.join(public_names())}") from None
    module_name, _, attr = spec.partition(":")
    obj = getattr(importlib.import_module(module_name), attr)
    if not isinstance(obj, Extractor):
        raise TypeError(f"{spec} is not a cadextract Extractor")
    return obj
