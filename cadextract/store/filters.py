"""The job filters of `jobs`, `export`, `cancel`, `retry` and the console, as SQL in one place."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cadextract.store.parsing import glob_to_like, suffix_probe
from cadextract.store.sql import JOBS


@dataclass(frozen=True)
class JobFilter:
    """Filters shared by `jobs`, `export`, `cancel` and `retry`."""

    statuses: Sequence[str] = ()
    formats: Sequence[str] = ()
    batch: str | None = None
    since: datetime | None = None
    path_glob: str | None = None
    #: glob matching ignores case unless asked (drawings come as .PDF and .pdf alike)
    path_case_sensitive: bool = False


def filter_sql(f: JobFilter) -> tuple[str, dict[str, Any]]:
    """The WHERE clause (over ``j``) and its parameters: written once for every listing."""
    clauses = ["TRUE"]
    params: dict[str, Any] = {}
    if f.statuses:
        clauses.append("j.status = ANY(CAST(:statuses AS text[]))")
        params["statuses"] = list(f.statuses)
    if f.formats:
        clauses.append("j.format = ANY(CAST(:formats AS text[]))")
        params["formats"] = list(f.formats)
    if f.batch is not None:
        clauses.append("j.batch = :batch")
        params["batch"] = f.batch
    if f.since is not None:
        clauses.append("j.created_at >= :since")
        params["since"] = f.since
    if f.path_glob:
        op = "LIKE" if f.path_case_sensitive else "ILIKE"
        # a path whose content was already extracted under another path (a rename, a
        # copy) is recorded in source_files: its job is found through it too
        like = glob_to_like(f.path_glob)
        probe = suffix_probe(like)
        if probe is None:
            clauses.append(
                f"(j.path {op} :path_like ESCAPE '\\' OR (j.sha256, j.format) IN "
                "(SELECT s.sha256, s.format FROM cadextract.source_files s "
                f"WHERE s.path {op} :path_like ESCAPE '\\' AND s.sha256 IS NOT NULL))"
            )
        else:
            # a glob naming a file: the few candidates come from the reversed-path indexes
            # (migration 0006) instead of a walk over every job
            rev = "LIKE :path_rev ESCAPE '\\'"
            clauses.append(
                f"""j.id IN (SELECT p.id FROM {JOBS} p
                              WHERE reverse(lower(p.path)) {rev} AND p.path {op} :path_like ESCAPE '\\'
                             UNION
                             SELECT c.id FROM cadextract.source_files s
                             JOIN {JOBS} c ON (c.sha256, c.format) = (s.sha256, s.format)
                             WHERE reverse(lower(s.path)) {rev} AND s.path {op} :path_like ESCAPE '\\')"""
            )
            params["path_rev"] = probe
        params["path_like"] = like
    return " AND ".join(clauses), params
