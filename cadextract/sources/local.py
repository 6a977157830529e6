"""Walking local folders: os.scandir, one stat per file, the path rules of files.collect."""

from __future__ import annotations

import os
import stat as statmod
from collections.abc import Iterator
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path
from stat import S_ISREG
from typing import NamedTuple

from cadextract import pathpolicy
from cadextract.display import has_undecodable, printable
from cadextract.files import SubmitError
from cadextract.sources.decide import Stat


class LocalFile(NamedTuple):
    """A file found by the walk, with its stat (None when it could not be read).

    A NamedTuple, not a dataclass: the walk makes one per file, and a tuple is built
    several times faster.
    """

    path: str
    stat: Stat | None
    skip_reason: str | None = None


@dataclass(frozen=True)
class Root:
    """A command-line path resolved: a folder to walk or a single file."""

    given: str
    path: Path
    is_dir: bool


def resolve(raw: str, *, recursive: bool) -> Root:
    """The command-line path as a Root, or SubmitError (missing, folder without -r)."""
    path = Path(raw).expanduser()
    shown = printable(raw)
    if not path.exists():
        raise SubmitError(f"{shown}: {pathpolicy.missing_reason(path)}")
    path = path.resolve()
    if path.is_dir():
        if not recursive:
            raise SubmitError(f"{shown} is a folder: add --recursive to submit the files in it")
        return Root(raw, path, True)
    return Root(raw, path, False)


def one(path: Path) -> LocalFile:
    """A single named file, stat'ed (a link named explicitly is the user's choice)."""
    reason = pathpolicy.name_skip_reason(path)
    if reason is not None:
        return LocalFile(str(path), None, reason)
    try:
        st = path.stat()
    except OSError as exc:
        return LocalFile(str(path), None, f"cannot read: {exc.strerror}")
    if not statmod.S_ISREG(st.st_mode):
        return LocalFile(str(path), None, "not a regular file")
    return LocalFile(str(path), Stat.of(st))


def walk(root: Path, *, follow_links: bool = False) -> Iterator[LocalFile]:
    """Every non-hidden file under ``root``, sorted per folder, stat'ed once.

    The rules of :mod:`cadextract.pathpolicy` (the same as ``files.collect``): links are
    taken only when they stay inside ``root`` unless ``follow_links``; a link to a
    folder inside is walked under its real name only; a followed link cycle ends at a
    folder already walked; names that are not UTF-8 are skipped with a reason.
    """
    visited = {root}
    stack = [str(root)]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = [e for e in it if not e.name.startswith(".")]
        except OSError:
            continue  # an unreadable folder: nothing under it can be submitted
        entries.sort(key=_name)
        folder_ok = folder.isascii() or not has_undecodable(folder)
        subdirs: list[str] = []
        for entry in entries:
            # the common case first: a regular file (the folder entry's type says so, no
            # stat) with an ASCII name needs no path rule; everything else goes to _entry
            if folder_ok and entry.name.isascii():
                try:
                    st = entry.stat() if entry.is_file(follow_symlinks=False) else None
                except OSError as exc:
                    yield LocalFile(entry.path, None, f"cannot read: {exc.strerror}")
                    continue
                if st is not None and S_ISREG(st.st_mode):
                    yield LocalFile(
                        entry.path, Stat(st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)
                    )
                    continue
            found = _entry(entry, root, follow_links, not folder_ok, visited, subdirs)
            if found is not None:
                yield found
        stack.extend(reversed(subdirs))  # depth first, in name order


_name = attrgetter("name")


def _entry(
    entry: os.DirEntry[str],
    root: Path,
    follow_links: bool,
    folder_bad: bool,
    visited: set[Path],
    subdirs: list[str],
) -> LocalFile | None:
    """One directory entry: a file found (maybe with a skip reason), or None (a folder, queued)."""
    try:
        if entry.is_symlink():
            info = pathpolicy.classify_link(Path(entry.path), root)
            if info.target is not None and info.target.is_dir():
                reason = pathpolicy.link_skip_reason(info, follow_links=follow_links, is_dir=True)
                if reason is not None and info.kind is not pathpolicy.LinkTarget.INSIDE:
                    return LocalFile(entry.path, None, reason)
                if info.kind is not pathpolicy.LinkTarget.INSIDE and info.target not in visited:
                    visited.add(info.target)
                    subdirs.append(entry.path)
                return None
            reason = pathpolicy.link_skip_reason(info, follow_links=follow_links)
            if reason is not None:
                return LocalFile(entry.path, None, reason)
        elif entry.is_dir(follow_symlinks=False):
            subdirs.append(entry.path)
            return None
        if folder_bad or (not entry.name.isascii() and has_undecodable(entry.name)):
            return LocalFile(
                entry.path, None, pathpolicy.name_skip_reason(entry.path) or "file name is not UTF-8"
            )
        st = entry.stat()
    except OSError as exc:
        return LocalFile(entry.path, None, f"cannot read: {exc.strerror}")
    if statmod.S_ISREG(st.st_mode):
        return LocalFile(entry.path, Stat.of(st))
    return LocalFile(entry.path, None, "not a regular file")
