"""Command-line values read into what the core takes: ages, lists, statuses, options. Pure.

Every function raises :class:`BadInput` with the one line the user sees (exit 2).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from cadextract import setting_rules as rules
from cadextract.models import FINISHED, JobStatus
from cadextract.ops.errors import BadInput
from cadextract.store.parsing import prefix_pattern
from cadextract.store.readmodels import SORTS, JobFilter

_AGE = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def split(values: Sequence[str] | None) -> list[str]:
    """Repeated and comma-separated values as one list: ``-s a,b -s c`` -> a, b, c."""
    return [v.strip() for raw in values or [] for v in raw.split(",") if v.strip()]


def job_ids(given: Sequence[str]) -> list[str]:
    """Job ids or prefixes, each checked to be one (hex digits, dashes) before any query;
    a prefix that cannot be an id raises JobNotFound (exit 4), as the query would."""
    return [job_id(g) for g in given]


def job_id(given: str) -> str:
    """One job id or prefix, checked (JobNotFound: exit 4)."""
    prefix_pattern(given)
    return given


def parse_age(text: str) -> timedelta:
    """'30d', '12h', '90m', '45s', '2w' -> timedelta."""
    match = _AGE.match(text.strip().lower())
    if not match:
        raise BadInput(f"cannot read age {text!r}: use e.g. 30d, 12h, 90m")
    seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if seconds > rules.MAX_AGE_SECONDS:
        raise BadInput(f"age {text!r} is too large: at most 100 years (36500d)")
    return timedelta(seconds=seconds)


def parse_since(text: str | None, now: datetime | None = None) -> datetime | None:
    """An ISO time (local zone if none given), or an age back from now."""
    if text is None:
        return None
    try:
        parsed = datetime.fromisoformat(text)
        return parsed if parsed.tzinfo else parsed.astimezone()
    except ValueError:
        return (now or datetime.now(UTC)) - parse_age(text)


def statuses(values: Sequence[str] | None) -> list[str]:
    """Status names, each one of :class:`JobStatus` (the only source of them)."""
    names = split(values)
    known = {s.value for s in JobStatus}
    bad = [s for s in names if s not in known]
    if bad:
        raise BadInput(f"unknown status {bad[0]!r}; use {', '.join(s.value for s in JobStatus)}")
    return names


def finished_statuses(values: Sequence[str] | None) -> list[str]:
    """`purge`'s statuses: finished ones only, all of them by default."""
    names = split(values) or [s.value for s in FINISHED]
    bad = [s for s in names if s not in FINISHED]
    if bad:
        raise BadInput(f"purge only deletes finished jobs; {bad[0]!r} is not a finished state")
    return names


def sort(name: str) -> str:
    if name not in SORTS:
        raise BadInput(f"unknown sort {name!r}; use {', '.join(SORTS)}")
    return name


def job_filter(
    status: Sequence[str] | None = None,
    fmt: Sequence[str] | None = None,
    batch: str | None = None,
    since: str | None = None,
    path: str | None = None,
    case_sensitive: bool = False,
) -> JobFilter:
    """The filter `jobs`, `cancel` and `export` share, from their options."""
    return JobFilter(
        statuses=statuses(status),
        formats=split(fmt),
        batch=batch,
        since=parse_since(since),
        path_glob=path,
        path_case_sensitive=case_sensitive,
    )


def job_options(pairs: Sequence[str] | None) -> dict[str, Any]:
    """``--option KEY=VALUE`` pairs: values read as JSON when they are JSON, else as text."""
    options: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise BadInput(f"--option {pair!r}: expected KEY=VALUE")
        try:
            options[key] = json.loads(raw)
        except ValueError:
            options[key] = raw
    for key, value in options.items():
        # NaN, Infinity and 1e400 parse as JSON numbers that PostgreSQL's jsonb refuses;
        # the timeout has its own rule, the one the worker applies too
        problem = (
            rules.job_timeout_problem(value) if key == "timeout" else rules.finite_number_problem(key, value)
        )
        if problem:
            raise BadInput(problem)
    from cadextract.extractors.ocr import settings as ocr_settings

    problem = ocr_settings.check(options)  # ocr, ocr_engine, ocr_dpi, ocr_lang, ocr_max_pixels
    if problem:
        raise BadInput(f"--{problem}")
    return options


def with_previews(options: dict[str, Any], no_previews: bool) -> dict[str, Any]:
    return {**options, "previews": False} if no_previews else options


def default_batch(now: datetime | None = None) -> str:
    """The batch label when none is given: the UTC time of the submit."""
    return (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
