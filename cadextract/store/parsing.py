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
