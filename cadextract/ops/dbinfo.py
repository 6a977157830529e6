"""`db` commands: where the database is, its revision, its URL for libpq tools, upgrade, stop."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy.engine import Engine

from cadextract import db
from cadextract.config import Settings


@dataclass(frozen=True)
class DbStatus:
    url: str  # password masked
    embedded: bool
    revision: str | None
    head: str

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def status(engine: Engine, settings: Settings) -> DbStatus:
    return DbStatus(
        url=db.mask_url(str(engine.url)),
        embedded=settings.database_url is None,
        revision=db.current_revision(engine),
        head=db.head_revision(),
    )


def upgrade(engine: Engine) -> str | None:
    """Migrate to the head, then check every table is there ("current" is not enough)."""
    db.upgrade(engine)
    db.check_tables(engine)
    return db.current_revision(engine)


def url(settings: Settings, *, show_password: bool) -> str:
    """The URL in use: masked, or as pg_dump and psql take it (password in clear)."""
    resolved = db.resolve_url(settings.database_url, settings.home)
    return libpq_url(resolved) if show_password else db.mask_url(resolved)


def libpq_url(url: str) -> str:
    """A SQLAlchemy URL as libpq tools (pg_dump, psql) take it: postgresql://, password in clear."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
