"""`cadextract serve`: check the settings, build the app, run uvicorn until Ctrl-C."""

from __future__ import annotations

import logging

from sqlalchemy.engine import Engine

from cadextract.web.app import create_app
from cadextract.web.security import WebConfig, check_config


def serve(engine: Engine, config: WebConfig) -> None:
    """Serve the console (blocks); ``RefuseToStart`` before binding anything if it is unsafe."""
    import uvicorn

    check_config(config)
    app = create_app(engine, config)
    logging.getLogger("uvicorn.error").setLevel(logging.INFO)
    uvicorn.run(
        app,
        host=config.host,
        port=config.port,
        log_level="info",
        access_log=False,
        server_header=False,
        proxy_headers=True,  # behind a reverse proxy on the same host: the client's scheme
        forwarded_allow_ips="127.0.0.1",
    )
