"""`work` and the worker phase of `run`: a supervisor wired to the log, reconnects and signals.

The CLI chooses what to show (log lines, a live table); this module runs the worker and
returns its counts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from sqlalchemy.engine import Engine

from cadextract import db
from cadextract.config import Settings
from cadextract.display import printable
from cadextract.extractors import registry
from cadextract.runtime import stopping, supervisor
from cadextract.runtime.outcomes import EventKind

log = logging.getLogger("cadextract.jobs")

Tick = Callable[[supervisor.Supervisor], None]


def check_formats(formats: Sequence[str]) -> None:
    """Every format asked for is installed (UnknownFormat otherwise: exit 2)."""
    for f in formats:
        registry.get(f)


def event_level(kind: EventKind) -> int:
    """Failures and lost leases are warnings (shown with -q); claims only with -v."""
    if kind in (EventKind.FAILED, EventKind.LOST):
        return logging.WARNING
    if kind is EventKind.CLAIMED:
        return logging.DEBUG
    return logging.INFO


def log_events(*, live: bool) -> Callable[[supervisor.Event], None]:
    """One log line per event; with a live table, claims are seen there instead."""

    def on_event(e: supervisor.Event) -> None:
        if e.kind is EventKind.CLAIMED and live:
            return
        level = event_level(e.kind)
        if not log.isEnabledFor(level):
            return  # twice per job: skip formatting what nobody will see (-q, no -v)
        log.log(
            level,
            "%-9s %s %-4s %s%s",
            e.kind,
            str(e.job_id)[:8],
            e.format,
            printable(e.path),
            f"  ({printable(e.detail)})" if e.detail else "",
        )

    return on_event


def reconnect_for(settings: Settings, engine: Engine) -> Callable[[], Engine]:
    """After an outage: the embedded server may itself have died, so start it again."""

    def reconnect() -> Engine:
        if settings.database_url is None:
            db.embedded_url(settings.home)
        return engine

    return reconnect


def run(
    engine: Engine,
    settings: Settings,
    options: supervisor.Options,
    *,
    on_event: Callable[[supervisor.Event], None],
    on_tick: Tick | None = None,
    on_finish: Tick | None = None,
) -> supervisor.Stats:
    """Run a supervisor until it stops; SIGTERM / Ctrl-C stop it gracefully.

    A schema found damaged while it ran raises :class:`db.SchemaProblem` (exit 3).
    """
    sup = supervisor.Supervisor(
        engine, settings, options, on_event=on_event, reconnect=reconnect_for(settings, engine)
    )
    if on_tick is not None:
        sup.on_tick = on_tick
    exiting = stopping.install_signal_handlers(sup.request_stop)
    try:
        stats = sup.run()
        if on_finish is not None:
            on_finish(sup)
    finally:
        exiting()
    if sup.fatal is not None:
        raise db.SchemaProblem(sup.fatal)
    return stats
