"""Telling URLs from paths, and keeping secrets out of stored and printed URLs."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

from cadextract.files import SubmitError

_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://")
# query parameters that carry a credential: S3/GCS presigned URLs, Azure SAS tokens
_SECRET_PARAMS = {
    "x-amz-signature",
    "x-amz-credential",
    "x-amz-security-token",
    "x-goog-signature",
    "x-goog-credential",
    "sig",
    "signature",
    "token",
    "access_token",
    "awsaccesskeyid",
    "se",
}


class SourceError(SubmitError):
    """A remote location cannot be submitted as given (bad URL, no such bucket): exit 2."""


class StorageUnavailable(RuntimeError):
    """Object storage cannot be reached or refuses the credentials: exit 6."""


def scheme(text: str) -> str | None:
    """The URL scheme in lower case (``s3``), or None for a local path (file:// included)."""
    match = _SCHEME.match(text)
    if match is None or match.group(1).lower() == "file":
        return None
    return match.group(1).lower()


def is_url(text: str) -> bool:
    """True for object-storage or web URLs, False for local paths."""
    return scheme(text) is not None


def mask(url: str) -> str:
    """The URL with any user:password and query string replaced by ***."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rsplit("@", 1)[1]
    query = "?***" if parts.query else ""
    return f"{parts.scheme}://{netloc}{parts.path}{query}"


def secret_in(url: str) -> str | None:
    """What in the URL looks like a credential (for the refusal message), else None."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "an unparseable URL"
    if "@" in parts.netloc:
        return "a user name or key before '@'"
    for name, _value in parse_qsl(parts.query, keep_blank_values=True):
        if name.lower() in _SECRET_PARAMS:
            return f"the query parameter {name!r}"
    return None


def check(url: str) -> str:
    """The URL, or SourceError if it carries a credential (it would be stored and shown)."""
    found = secret_in(url)
    if found is not None:
        raise SourceError(
            f"{mask(url)}: the URL carries a credential ({found}); give credentials through the "
            "storage's own configuration (AWS_PROFILE / AWS_ACCESS_KEY_ID, GOOGLE_APPLICATION_CREDENTIALS, "
            "AZURE_STORAGE_CONNECTION_STRING), never in the URL"
        )
    return url
