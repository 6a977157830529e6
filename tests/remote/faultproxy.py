"""An HTTP proxy in front of the local S3 server that fails chosen keys on purpose.

Workers point AWS_ENDPOINT_URL at it; a request whose path contains a rule's key gets
that rule's answer instead of the server's: an HTTP status with an S3 error document
(403, 503, ...) or a connection reset (RST, no response). Clearing the rules heals it.
Everything else is forwarded unchanged, so s3fs and botocore speak real HTTP throughout.
"""

from __future__ import annotations

import http.client
import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

RESET = "reset"
#: headers that describe one hop's framing, not the object
_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection"}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    upstream: tuple[str, int]
    rules: dict[str, int | str]
    hits: dict[str, int]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet: pytest shows stderr of failures only

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        rule = self._rule()
        if rule == RESET:
            # SO_LINGER 0: close() sends RST, what a dropped connection looks like
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        if isinstance(rule, int):
            self._error(rule)
            return
        self._forward(body)

    do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = _handle

    def _rule(self) -> int | str | None:
        path = unquote(urlsplit(self.path).path)
        for key, rule in self.server.rules.items():
            if key in path:
                self.server.hits[key] = self.server.hits.get(key, 0) + 1
                return rule
        return None

    def _error(self, status: int) -> None:
        code = {403: "AccessDenied", 404: "NoSuchKey", 503: "SlowDown"}.get(status, "InternalError")
        payload = (
            f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
            f"<Message>injected {status}</Message></Error>"
        ).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _forward(self, body: bytes | None) -> None:
        conn = http.client.HTTPConnection(*self.server.upstream, timeout=30)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            self.send_response(resp.status)
            for name, value in resp.getheaders():
                if name.lower() not in _HOP and (name.lower() != "content-length" or self.command == "HEAD"):
                    self.send_header(name, value)
            if self.command != "HEAD":
                self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
        finally:
            conn.close()


@contextmanager
def fault_proxy(upstream_url: str, rules: dict[str, int | str]) -> Iterator[_Server]:
    """A running proxy (its ``server_address`` gives the port); ``rules`` may be changed live."""
    parts = urlsplit(upstream_url)
    server = _Server(("127.0.0.1", 0), _Handler)
    server.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
    server.rules = rules
    server.hits = {}
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
