"""Hand-made labels of the corpus drawings (tests/extractors/labels/*.json) and the scoring of
an extracted payload against them: precision and recall per sheet, matched by normalised value."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LABELS_DIR = Path(__file__).parent / "labels"


def load_labels() -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted(LABELS_DIR.glob("*.json"))]


def _r(v: Any) -> float | None:
    return None if v is None else round(float(v), 4)


def dim_value(d: dict[str, Any]) -> float | None:
    return _r(d.get("nominal"))


def dim_key(d: dict[str, Any]) -> tuple[Any, ...]:
    """Everything an engineer reads in a dimension, normalised (a count of 1 is no count)."""
    rng = d.get("range")
    return (
        d.get("kind"),
        _r(d.get("nominal")),
        d.get("count") or 1,
        _r(d.get("upper")),
        _r(d.get("lower")),
        d.get("fit"),
        None if rng is None else (_r(rng[0]), _r(rng[1])),
        d.get("limit"),
        bool(d.get("basic")),
        _r(d.get("depth")),
    )


def frame_key(g: dict[str, Any]) -> tuple[Any, ...]:
    datums = tuple(x if isinstance(x, str) else x["letter"] for x in g.get("datums", []))
    return (g.get("characteristic"), _r(g.get("tolerance")), bool(g.get("diameter")), datums)


@dataclass
class Score:
    labelled: int
    found: int
    matched: int

    @property
    def precision(self) -> float:
        return self.matched / self.found if self.found else 1.0

    @property
    def recall(self) -> float:
        return self.matched / self.labelled if self.labelled else 1.0


def _match(want: list[Any], got: list[Any]) -> int:
    """One-to-one matches between two lists of keys."""
    pool = list(got)
    n = 0
    for w in want:
        if w in pool:
            pool.remove(w)
            n += 1
    return n


def score_sheet(label: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
    dims = payload.get("dimensions", [])
    frames = payload.get("gdt", [])
    fields = (payload.get("title_block") or {}).get("fields") or {}
    want_tb = label.get("title_block", {})
    tb_ok = sum(
        1
        for k, v in want_tb.items()
        if k in fields and " ".join(str(fields[k]["value"]).split()).casefold() == v.casefold()
    )
    absent_ok = sum(1 for k in label.get("title_block_absent", []) if k not in fields)
    return {
        "dim_detect": Score(
            len(label["dimensions"]),
            len(dims),
            _match([dim_value(d) for d in label["dimensions"]], [dim_value(d) for d in dims]),
        ),
        "dim_full": Score(
            len(label["dimensions"]),
            len(dims),
            _match([dim_key(d) for d in label["dimensions"]], [dim_key(d) for d in dims]),
        ),
        "gdt": Score(
            len(label["gdt"]),
            len(frames),
            _match([frame_key(g) for g in label["gdt"]], [frame_key(g) for g in frames]),
        ),
        "datums": Score(
            len(label["datums"]),
            len(payload.get("datums", [])),
            _match(label["datums"], [d["letter"] for d in payload.get("datums", [])]),
        ),
        "surface": Score(
            len(label["surface_finish"]),
            len(payload.get("surface_finish", [])),
            _match(
                [(s["parameter"], _r(s["value"])) for s in label["surface_finish"]],
                [(s["parameter"], _r(s["value"])) for s in payload.get("surface_finish", [])],
            ),
        ),
        "title_block": Score(len(want_tb), len(want_tb), tb_ok),
        "title_absent": Score(
            len(label.get("title_block_absent", [])), len(label.get("title_block_absent", [])), absent_ok
        ),
    }


def total(scores: list[dict[str, Any]], key: str) -> Score:
    return Score(
        sum(s[key].labelled for s in scores),
        sum(s[key].found for s in scores),
        sum(s[key].matched for s in scores),
    )
