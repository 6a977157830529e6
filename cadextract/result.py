"""The result document: a versioned envelope around an extractor's payload."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

SCHEMA_VERSION = 1


def build_document(
    *,
    format: str,
    extractor_name: str,
    extractor_version: str,
    libraries: dict[str, str],
    path: str,
    sha256: str,
    size: int,
    payload: dict[str, Any],
    extract_seconds: float,
) -> dict[str, Any]:
    """Wrap a payload; its optional ``warnings`` key moves up into the envelope."""
    payload = dict(payload)
    warnings = [str(w) for w in payload.pop("warnings", []) or []]
    return {
        "schema_version": SCHEMA_VERSION,
        "format": format,
        "extractor": {"name": extractor_name, "version": extractor_version, "libraries": libraries},
        "file": {"path": path, "sha256": sha256, "size": size},
        "timings": {"extract_s": round(extract_seconds, 6)},
        "warnings": warnings,
        "payload": payload,
    }


@cache
def load_schema(name: str) -> dict[str, Any]:
    """A JSON Schema shipped in ``cadextract/schemas`` (``result`` or ``payload-<format>``)."""
    text = resources.files("cadextract.schemas").joinpath(f"{name}.schema.json").read_text()
    return json.loads(text)  # type: ignore[no-any-return]


def validate(document: dict[str, Any]) -> None:
    """Raise ``jsonschema.ValidationError`` unless the envelope and its payload conform."""
    import jsonschema  # only tests and `doctor` validate; keep the worker import-light

    jsonschema.validate(document, load_schema("result"))
    fmt = document["format"]
    try:
        payload_schema = load_schema(f"payload-{fmt}")
    except FileNotFoundError:
        return  # plugin formats may ship no schema
    jsonschema.validate(document["payload"], payload_schema)
