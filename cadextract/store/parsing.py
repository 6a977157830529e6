"""Job ids and path globs as users type them: pure parsing, no database."""

from __future__ import annotations

import uuid
from collections.abc import Sequence


class JobNotFound(LookupError):
    """No job matches the id or prefix."""


class AmbiguousPrefix(LookupError):
    """Several jobs match the prefix."""


def prefix_pattern(prefix: str) -> uuid.UUID | str:
    """A full UUID, or the LIKE pattern for a prefix; JobNotFound if it cannot be an id."""
    cleaned = prefix.strip().lower()
    if not cleaned or any(c not in "0123456789abcdef-" for c in cleaned):
        raise JobNotFound(f"{prefix!r} is not a job id (expected hex digits, as shown by `cadextract jobs`)")
    try:
        return uuid.UUID(cleaned)  # a full id needs no scan
    except ValueError:
        return cleaned + "%"  # compared with the dashed text form, as ids are printed


def pick(prefix: str, matches: Sequence[uuid.UUID]) -> uuid.UUID:
    """The single match for a prefix, as git resolves abbreviated hashes."""
    if not matches:
        raise JobNotFound(f"no job id starts with {prefix!r}")
    if len(matches) > 1:
        raise AmbiguousPrefix(
            f"job id prefix {prefix!r} is ambiguous ({len(matches)}+ jobs); give more characters"
        )
    return matches[0]


def glob_to_like(pattern: str) -> str:
    """Shell glob (* ?) to a SQL LIKE pattern; a glob with no slash matches the file name."""
    out = []
    for ch in pattern:
        if ch == "*":
            out.append("%")
        elif ch == "?":
            out.append("_")
        elif ch in "%_\\":
            out.append("\\" + ch)
        else:
            out.append(ch)
    like = "".join(out)
    return like if "/" in pattern else "%/" + like


#: a glob ending in at least this many literal characters (a file name, not ".pdf") is
#: looked up by the reversed-path index; a shorter ending matches too many rows for it
SUFFIX_PROBE_MIN = 8


def suffix_probe(like: str) -> str | None:
    """A LIKE prefix pattern for ``reverse(lower(path))`` implied by ``like``, or None.

    ``%/part-0500000.pdf`` ends in literal text, so every match's reversed, lower-cased
    path starts with ``fdp.0000050-trap/``; the index on that expression finds the few
    candidates without walking the table.
    """
    tail: list[str] = []  # the literal characters after the last wildcard
    chars = iter(like)
    for ch in chars:
        if ch == "\\":
            tail.append(next(chars, ""))
        elif ch in "%_":
            tail = []
        else:
            tail.append(ch)
    # ASCII only: Python's lower() must agree with the server's for the probe to be exact
    if len(tail) < SUFFIX_PROBE_MIN or not "".join(tail).isascii():
        return None
    reversed_lower = "".join(tail).lower()[::-1]
    return "".join("\\" + c if c in "%_\\" else c for c in reversed_lower) + "%"
