"""Flat rows of a drawing result for the terminal: what a person reads on the sheet
(dimensions, GD&T, datums, surface finish, notes, title block, parts list); DXF layers are
shown by resultview."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Row = dict[str, Any]


def _tol(d: Mapping[str, Any]) -> str | None:
    if d.get("range"):
        lo, hi = d["range"]
        return f"{lo:g} … {hi:g}"
    if d.get("tolerance") is not None:
        return f"±{d['tolerance']:g}"
    if d.get("upper") is not None or d.get("lower") is not None:
        return " / ".join(f"{v:+g}" if v else "0" for v in (d.get("upper"), d.get("lower")))
    return d.get("limit")


def _dimension(d: Mapping[str, Any]) -> Row:
    return {
        "text": d.get("readable") or d.get("text"),
        "kind": d.get("kind"),
        "nominal": d.get("nominal"),
        "tolerance": _tol(d),
        "fit": d.get("fit"),
        "count": d.get("count"),
        "basic": "yes" if d.get("basic") else None,
        "where": f"page {d['page']}" if d.get("page") else d.get("layer"),
    }


def _frame(g: Mapping[str, Any]) -> Row:
    datums = " ".join(
        x["letter"] + (f"({x['modifier']})" if x.get("modifier") else "") for x in g.get("datums", [])
    )
    return {
        "characteristic": g.get("characteristic"),
        "tolerance": g.get("tolerance"),
        "diameter": "Ø" if g.get("diameter") else None,
        "modifier": g.get("modifier"),
        "datums": datums or None,
        "cells": g.get("text"),
        "where": f"page {g['page']}" if g.get("page") else g.get("layer"),
    }


def sections(fmt: str, payload: Mapping[str, Any]) -> list[tuple[str, list[Row]]]:
    """(title, rows) of each non-empty section; nothing for formats without drawings."""
    if fmt not in {"pdf", "dxf"}:
        return []
    out: list[tuple[str, list[Row]]] = [
        ("dimension callouts", [_dimension(d) for d in payload.get("dimensions", [])]),
        ("GD&T frames", [_frame(g) for g in payload.get("gdt", [])]),
        ("datums", [{"letter": d["letter"], "page": d.get("page")} for d in payload.get("datums", [])]),
        (
            "surface finish",
            [{"parameter": s["parameter"], "value": s["value"]} for s in payload.get("surface_finish", [])],
        ),
        (
            "notes",
            [
                {"kind": n["kind"], "value": n.get("value"), "text": n["text"]}
                for n in payload.get("notes", [])
            ],
        ),
        (
            "title block",
            [
                {
                    "field": k,
                    "value": f["value"],
                    "found": (f.get("source") or {}).get("method") or (f.get("source") or {}).get("kind"),
                }
                for k, f in ((payload.get("title_block") or {}).get("fields") or {}).items()
            ],
        ),
        (
            "parts list",
            [
                {
                    k: b.get(k)
                    for k in ("position", "quantity", "part_number", "description", "material", "source")
                }
                for b in payload.get("bom", [])
            ],
        ),
    ]
    return [(title, rows) for title, rows in out if rows]
