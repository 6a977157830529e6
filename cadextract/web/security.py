"""The console's security decisions, as pure functions: binding, tokens, cookies, CSRF.

- Without a token the console binds only to loopback and accepts only loopback Host
  headers (a web page elsewhere cannot reach it through DNS rebinding).
- With a token every request needs it: a login form sets an HttpOnly, SameSite=Strict
  cookie derived from the token (never the token itself); scripts send
  ``Authorization: Bearer <token>``.
- Form posts carry a CSRF token bound to the browser's session cookie; API posts must
  be JSON (a cross-site page cannot send that without a CORS preflight, which the
  console never grants).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass, field

AUTH_COOKIE = "cx_auth"
SESSION_COOKIE = "cx_session"
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1", "[::1]")
MIN_TOKEN_LENGTH = 16


class RefuseToStart(Exception):
    """The console's settings are unsafe; the message says what to change."""


@dataclass(frozen=True)
class WebConfig:
    host: str = "127.0.0.1"
    port: int = 8765
    token: str | None = None
    read_only: bool = False
    #: signs CSRF tokens; fresh per process (sessions end when the console restarts)
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_config(config: WebConfig) -> None:
    """Refuse a binding to anything but loopback without a token, and weak tokens."""
    if config.token is not None and len(config.token) < MIN_TOKEN_LENGTH:
        raise RefuseToStart(
            f"the token is too short ({len(config.token)} characters); use at least {MIN_TOKEN_LENGTH}, "
            "e.g. from `python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
        )
    if not is_loopback(config.host) and not config.token:
        raise RefuseToStart(
            f"refusing to listen on {config.host} without a token: anyone who can reach it could "
            "cancel and purge jobs; set --token or CADEXTRACT_WEB_TOKEN (or bind to 127.0.0.1)"
        )


def host_allowed(config: WebConfig, host_header: str) -> bool:
    """Without a token, only loopback names may appear in the Host header."""
    if config.token:
        return True
    name = (
        host_header.rsplit(":", 1)[0] if not host_header.startswith("[") else host_header.split("]")[0] + "]"
    )
    return is_loopback(name)


def cookie_value(token: str) -> str:
    """What the auth cookie holds: derived from the token, useless as a Bearer token."""
    return hmac.new(token.encode(), b"cadextract-console-cookie", hashlib.sha256).hexdigest()


def authenticated(config: WebConfig, *, cookie: str | None, authorization: str | None) -> bool:
    """True when no token is set, or the request carries it (cookie or Bearer header)."""
    if not config.token:
        return True
    if authorization and authorization.lower().startswith("bearer "):
        return hmac.compare_digest(authorization[7:].strip().encode(), config.token.encode())
    if cookie:
        return hmac.compare_digest(cookie.encode(), cookie_value(config.token).encode())
    return False


def token_matches(config: WebConfig, given: str) -> bool:
    return bool(config.token) and hmac.compare_digest(given.encode(), (config.token or "").encode())


def new_session() -> str:
    return secrets.token_urlsafe(24)


def csrf_token(config: WebConfig, session: str) -> str:
    return hmac.new(config.secret, session.encode(), hashlib.sha256).hexdigest()


def csrf_ok(config: WebConfig, session: str | None, given: str | None) -> bool:
    if not session or not given:
        return False
    return hmac.compare_digest(csrf_token(config, session).encode(), given.encode())


#: every page: scripts only from the console itself, no framing, no plugins
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
#: preview images: nothing inside them may run or load, even opened on their own
PREVIEW_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
