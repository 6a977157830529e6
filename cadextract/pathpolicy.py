"""What a folder walk may take: links, undecodable names, link loops. Pure decisions.

A drop folder is written by other people. A symbolic link in it can point anywhere the
worker may read (``/root``, ``/etc/shadow``, another team's share), so by default a walk
only takes links whose target lies inside the folder being walked, as rsync and
``git add`` do; ``--follow-links`` lifts that. A file name whose bytes are not UTF-8
cannot be stored in the database's text column or shown as is, so such a file is
skipped with a reason (shown with its bytes as ``\\xNN``) and the rest of the folder is
queued. Any walker (the plain one in ``files.py``, an incremental one later) asks these
functions rather than deciding on its own.
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from cadextract.display import has_undecodable

FOLLOW_HINT = "use --follow-links to follow it"


class LinkTarget(Enum):
    """Where a symbolic link leads, as far as the walk cares."""

    INSIDE = "inside"
    OUTSIDE = "outside"
    BROKEN = "broken"
    LOOP = "loop"


@dataclass(frozen=True)
class LinkInfo:
    """A link found by a walk: what it resolves to, if anything."""

    target: Path | None
    kind: LinkTarget


def is_within(target: Path, root: Path) -> bool:
    """True when the resolved ``target`` is ``root`` or lies below it (both absolute, resolved)."""
    return target == root or root in target.parents


def classify_link(link: Path, root: Path) -> LinkInfo:
    """Resolve ``link`` (a symbolic link found under the resolved ``root``)."""
    try:
        os.stat(link)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return LinkInfo(None, LinkTarget.LOOP)
        return LinkInfo(None, LinkTarget.BROKEN)
    target = Path(os.path.realpath(link))
    return LinkInfo(target, LinkTarget.INSIDE if is_within(target, root) else LinkTarget.OUTSIDE)


def link_skip_reason(info: LinkInfo, *, follow_links: bool, is_dir: bool = False) -> str | None:
    """Why a walk must not take this link (None: take it)."""
    if info.kind is LinkTarget.LOOP:
        return "symbolic link loop"
    if info.kind is LinkTarget.BROKEN:
        return "symbolic link to a file that does not exist"
    if info.kind is LinkTarget.OUTSIDE and not follow_links:
        what = "folder" if is_dir else "file"
        return f"symbolic link to a {what} outside the folder being submitted ({FOLLOW_HINT})"
    return None


def name_skip_reason(path: Path | str) -> str | None:
    """Why a path cannot be submitted because of its name (None: it can)."""
    if has_undecodable(str(path)):
        return "file name is not valid UTF-8 (rename the file to submit it)"
    return None


def missing_reason(path: Path) -> str:
    """What to say about a command-line path that cannot be opened (``exists()`` is False)."""
    if os.path.islink(path):
        try:
            os.stat(path)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return "symbolic link loop (the link leads back to itself)"
        return f"symbolic link to {os.readlink(path)!s}, which does not exist"
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symbolic link loop in the path"
        if exc.errno in (errno.EACCES, errno.EPERM):
            return "permission denied"
    return "no such file or directory"
