"""Database URLs: parse, mask every credential, and hand psycopg the parts, not a string.

A libpq URL can carry a password in two places: the user-info part
(``postgresql://user:secret@host/db``) and the query (``?password=secret``,
``?sslpassword=secret``). Both are masked wherever a URL is shown. psycopg is given
keyword arguments instead of a re-rendered URL: SQLAlchemy renders a password with a
space unencoded, which libpq rejects, quoting the password in its error.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

#: query parameters of a libpq URL whose values are secrets
SECRET_PARAMS = frozenset({"password", "sslpassword"})
MASK = "***"


class BadURL(ValueError):
    """The text is not a URL that can be parsed; the message never contains a password."""


def parse(url: str) -> URL:
    """Parse a URL, or raise BadURL with a masked, readable reason (port 'abc', host '[::1')."""
    try:
        return make_url(url)
    except ArgumentError:
        raise BadURL("not a database URL") from None
    except ValueError as exc:
        # SQLAlchemy's message for a bad port or an unclosed IPv6 bracket is int()'s
        raise BadURL(f"not a valid database URL (bad host or port: {_port_hint(exc)})") from None


def _port_hint(exc: ValueError) -> str:
    text = str(exc)
    marker = "base 10: "
    return f"{text.split(marker, 1)[1]} is not a port number" if marker in text else "cannot be read"


def mask(url: str | URL) -> str:
    """The URL with every credential replaced by ***; '<unparseable URL>' when it can't be read."""
    try:
        parsed = url if isinstance(url, URL) else parse(url)
    except BadURL:
        return "<unparseable URL>"
    secrets = {k: MASK for k in parsed.query if k.lower() in SECRET_PARAMS}
    if secrets:
        parsed = parsed.update_query_dict(secrets)
    return parsed.render_as_string(hide_password=True).replace("%2A%2A%2A", MASK)


def libpq_params(url: URL) -> dict[str, Any]:
    """Keyword arguments for ``psycopg.connect`` equivalent to ``url`` (password intact)."""
    params: dict[str, Any] = {
        k: v for k, v in url.translate_connect_args(username="user", database="dbname").items() if v
    }
    for key, value in url.query.items():
        params[key] = ",".join(value) if isinstance(value, tuple) else value
    return params


def redact(text: str, url: URL) -> str:
    """``text`` with any secret of ``url`` replaced by *** (for error messages from drivers)."""
    secrets = [url.password] + [url.query.get(k) for k in url.query if k.lower() in SECRET_PARAMS]
    for secret in secrets:
        if isinstance(secret, str) and secret:
            text = text.replace(secret, MASK)
    return text
