"""A real console (uvicorn on a free port) over the test database, and headless Chromium.

The browser is Debian's Chromium driven by Playwright through ``executable_path``
(Playwright cannot download its own browsers here); without it the tests skip.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from cadextract.web.app import create_app
from cadextract.web.security import WebConfig

CHROMIUM = os.environ.get("CADEXTRACT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
REPO = Path(__file__).resolve().parents[2]
#: set to write the README's screenshots into docs/ as well
DOCS_SCREENSHOTS = os.environ.get("CADEXTRACT_DOCS_SCREENSHOTS") == "1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Console:
    """One uvicorn server in a thread; ``url`` is its address."""

    def __init__(self, engine: Engine, config: WebConfig) -> None:
        import uvicorn

        self.port = _free_port()
        self.config = WebConfig(
            host="127.0.0.1", port=self.port, token=config.token, read_only=config.read_only
        )
        app = create_app(engine, self.config)
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", access_log=False)
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the console did not start")
            time.sleep(0.05)
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def console_factory(engine: Engine) -> Iterator[Any]:
    started: list[Console] = []

    def start(**kw: Any) -> Console:
        c = Console(engine, WebConfig(**kw))
        started.append(c)
        return c

    yield start
    for c in started:
        c.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium); browser tests skipped")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install playwright); browser tests skipped")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(20_000)
    pg.on("dialog", lambda dialog: dialog.accept())  # the confirmations of actions
    yield pg
    context.close()


def shot(page: Any, tmp_path: Path, name: str, *, docs: bool = False) -> Path:
    """Save a screenshot into the test's tmp folder (and docs/ when asked to)."""
    target = tmp_path / f"{name}.png"
    page.screenshot(path=str(target), full_page=True)
    if docs and DOCS_SCREENSHOTS:
        shutil.copy(target, REPO / "docs" / f"console-{name}.png")
    return target
