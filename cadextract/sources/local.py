"""Walking local folders: os.scandir, one stat per file, the same rules as files.collect."""

from __future__ import annotations

import os
import stat as statmod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cadextract.files import SubmitError
from cadextract.sources.decide import Stat


@dataclass(frozen=True)
class LocalFile:
    """A file found by the walk, with its stat (None when it could not be read)."""

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
    if not path.exists():
        raise SubmitError(f"{raw}: no such file or directory")
    path = path.resolve()
    if path.is_dir():
        if not recursive:
            raise SubmitError(f"{raw} is a folder: add --recursive to submit the files in it")
        return Root(raw, path, True)
    return Root(raw, path, False)


def one(path: Path) -> LocalFile:
    """A single named file, stat'ed."""
    try:
        st = path.stat()
    except OSError as exc:
        return LocalFile(str(path), None, f"cannot read: {exc.strerror}")
    if not statmod.S_ISREG(st.st_mode):
        return LocalFile(str(path), None, "not a regular file")
    return LocalFile(str(path), Stat.of(st))


def walk(root: Path) -> Iterator[LocalFile]:
    """Every non-hidden regular file under ``root``, sorted per folder, stat'ed once.

    Symbolic links to files are followed (their target's stat); links to folders are
    not descended into, so a link cannot make the walk loop.
    """
    stack = [str(root)]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = sorted((e for e in it if not e.name.startswith(".")), key=lambda e: e.name)
        except OSError:
            continue  # an unreadable folder: nothing under it can be submitted
        subdirs = []
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    subdirs.append(entry.path)
                    continue
                st = entry.stat()
            except OSError as exc:
                yield LocalFile(entry.path, None, f"cannot read: {exc.strerror}")
                continue
            if statmod.S_ISREG(st.st_mode):
                yield LocalFile(entry.path, Stat.of(st))
            elif not statmod.S_ISDIR(st.st_mode):
                yield LocalFile(entry.path, None, "not a regular file")
        stack.extend(reversed(subdirs))  # depth first, in name order
