"""`doctor`: the checks of an installation, as data. The CLI renders them as a table."""

from __future__ import annotations

import enum
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine

from cadextract import db
from cadextract.config import Settings, create_home
from cadextract.extractors import registry

MIN_FREE_BYTES = 1 << 30


@dataclass(frozen=True)
class Check:
    """One row of `doctor`: what was checked, whether it is fine, and what was found."""

    check: str
    ok: bool
    detail: str | dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {"check": self.check, "ok": self.ok, "detail": self.detail}

    def detail_text(self) -> str:
        if isinstance(self.detail, dict):
            return ", ".join(f"{k} {v}" for k, v in self.detail.items())
        return str(self.detail)


class Verdict(enum.Enum):
    OK = "ok"
    DATABASE_FAILED = "database failed"  # exit 3, like every command that cannot use the database
    OTHER_FAILED = "other check failed"  # exit 1


def verdict(checks: list[Check]) -> Verdict:
    """The database check decides first; any other failed check comes next."""
    if all(c.ok for c in checks):
        return Verdict.OK
    if any(c.check == "database" and not c.ok for c in checks):
        return Verdict.DATABASE_FAILED
    return Verdict.OTHER_FAILED


def run(settings: Settings, connect: Callable[[], Engine]) -> list[Check]:
    """Embedded server, database and schema, each extractor, OCR engines, free disk."""
    checks: list[Check] = []
    if settings.database_url is None:
        checks.append(Check("embedded server", True, db.embedded_status(settings.home)))
    checks.append(database_check(connect))
    checks.extend(extractor_checks())
    from cadextract.extractors.ocr import engines as ocr_engines

    # which OCR engines this host can run
    checks.extend(Check(c["check"], bool(c["ok"]), c["detail"]) for c in ocr_engines.doctor_checks())
    create_home(settings.home)
    free = shutil.disk_usage(settings.home).free
    checks.append(Check("free disk", free > MIN_FREE_BYTES, f"{free / 2**30:.1f} GiB in {settings.home}"))
    return checks


def database_check(connect: Callable[[], Engine]) -> Check:
    try:
        engine = connect()
        rev = db.current_revision(engine)
    except db.DatabaseUnavailable as exc:
        return Check("database", False, str(exc))
    return Check("database", rev == db.head_revision(), f"{db.mask_url(str(engine.url))} at revision {rev}")


def extractor_checks() -> list[Check]:
    """Each installed format: does it import, and which library versions it runs on."""
    checks = []
    for name in registry.names():
        if registry.is_internal(name):
            continue  # benchmark and fault-test extractors, not formats
        try:
            versions = registry.get(name).versions()
            detail = ", ".join(f"{k} {v}" for k, v in versions.items()) or "ok"
            checks.append(Check(f"extractor {name}", True, detail))
        except Exception as exc:  # doctor reports whatever is broken
            checks.append(Check(f"extractor {name}", False, f"{type(exc).__name__}: {exc}"))
    return checks
