"""Developer sessions: `nox` runs lint, typecheck and tests; benchmarks run only by name."""

from __future__ import annotations

import nox

nox.options.sessions = ["lint", "typecheck", "tests"]
nox.options.reuse_existing_virtualenvs = True

PYTHON = "3.11"


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """The full test suite against an embedded PostgreSQL (same as .ci/run)."""
    session.install("-e", ".[dev]")
    session.run("pytest", *session.posargs)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install("ruff")
    session.run("ruff", "check", "cadextract", "tests", "bench", "samples", "noxfile.py")
    session.run("ruff", "format", "--check", "cadextract", "tests", "bench", "samples", "noxfile.py")


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the package."""
    session.install("-e", ".[dev]")
    session.run("mypy")


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Queue benchmarks (throughput vs pgqueuer/procrastinate, latency, submit, big tables)."""
    session.install("-e", ".[dev,bench]")
    session.run("python", "bench/queue_bench.py", *session.posargs)


@nox.session(name="bench-extract", python=PYTHON)
def bench_extract(session: nox.Session) -> None:
    """Each extractor over the shared corpus, relative to the bare library load."""
    session.install("-e", ".[dev]")
    session.run("python", "bench/extract.py", *session.posargs)


@nox.session(python=PYTHON)
def chaos(session: nox.Session) -> None:
    """4 workers x 2 children over 2,000 jobs while killing things; prints lost/duplicated/stuck."""
    session.install("-e", ".[dev]")
    session.run("python", "bench/chaos.py", *session.posargs)
