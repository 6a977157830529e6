"""The jobs list's filters as the URL gives them: one FastAPI dependency for the page and the API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Query

from cadextract.store import readmodels
from cadextract.web import actions


@dataclass(frozen=True)
class JobQuery:
    """The filters as given (kept for the page's links and form) and, checked, as a JobFilter."""

    status: list[str]
    format: list[str]
    batch: str
    since: str
    path: str

    def checked(self) -> readmodels.JobFilter:
        """The filter ``store.readmodels`` reads; BadRequest names a wrong value."""
        return actions.job_filter(self.status, self.format, self.batch, self.since, self.path)

    def params(self) -> list[tuple[str, str]]:
        """The filters as URL parameters (empty ones left out)."""
        out = [("status", s) for s in self.status] + [("format", x) for x in self.format]
        return out + [
            (k, v) for k, v in (("batch", self.batch), ("since", self.since), ("path", self.path)) if v
        ]


def job_query(
    status: Annotated[list[str], Query()] = [],  # noqa: B006 — FastAPI copies defaults
    format: Annotated[list[str], Query()] = [],  # noqa: B006
    batch: str = "",
    since: str = "",
    path: str = "",
) -> JobQuery:
    return JobQuery(status, format, batch, since, path)
