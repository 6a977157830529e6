"""Finding, classifying and hashing the files a user submits.

The format comes from the file's first bytes, not its name: PDF by ``%PDF-``, DXF by
its binary sentinel or its ``0 / SECTION`` opening, and IFC versus STEP (both
ISO-10303-21 files) by the header's FILE_SCHEMA, scans (PNG, JPEG, TIFF) by their
signatures. The extension is only a fallback for
files whose content is unrecognisable, so a damaged ``.dxf`` still gets a job that
fails with a readable reason instead of vanishing at submit time.
"""

from __future__ import annotations

import hashlib
import os
import re
import zipfile
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from cadextract import pathpolicy
from cadextract.display import printable
from cadextract.extractors import registry, shared

EXTENSIONS = {
    ".pdf": "pdf",
    ".dxf": "dxf",
    ".ifc": "ifc",
    ".ifczip": "ifc",
    ".stp": "step",
    ".step": "step",
    ".p21": "step",
    ".png": "raster",
    ".jpg": "raster",
    ".jpeg": "raster",
    ".tif": "raster",
    ".tiff": "raster",
}

_ASCII_DXF = re.compile(rb"\A(?:\s*999\s*\r?\n[^\n]*\n)*\s*0\s*\r?\n\s*SECTION\s*\r?\n", re.IGNORECASE)
_HEAD = 64 * 1024

#: why a file of no known format is skipped (the walkers and the object listing say the same)
UNSUPPORTED = "unsupported file type (not PDF, DXF, IFC, STEP, PNG, JPEG or TIFF)"


class SubmitError(ValueError):
    """A path given on the command line cannot be submitted (nothing was queued)."""


def detect_format(path: Path) -> str | None:
    """The format the file's content says it is, else the extension's, else None."""
    try:
        with path.open("rb") as fh:
            head = fh.read(_HEAD)
    except OSError:
        head = b""
    found = detect_bytes(head)
    if found is None and head.startswith(b"PK\x03\x04"):
        found = _detect_zip(path)
    return found or EXTENSIONS.get(path.suffix.lower())


def detect_bytes(head: bytes) -> str | None:
    """Classify by the first bytes of a file (see module docstring)."""
    stripped = shared.skip_leading(head)
    if stripped.startswith(b"%PDF-") or b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(shared.DXF_BINARY_SENTINEL) or _ASCII_DXF.match(stripped):
        return "dxf"
    if shared.is_spf(head):
        schema = shared.spf_schema(head)
        if schema is None:
            return None  # truncated header: let the extension decide
        return "ifc" if shared.is_ifc_schema(schema) else "step"
    # imported here: the raster extractor pulls in the OCR and drawing parsers (0.15 s),
    # which a submit that finds nothing new never needs
    from cadextract.extractors import raster

    if raster.image_kind(head) is not None:  # PNG, JPEG, TIFF signatures
        return "raster"
    return None


def _detect_zip(path: Path) -> str | None:
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
    except (zipfile.BadZipFile, OSError):
        return None
    return "ifc" if any(n.lower().endswith(".ifc") for n in names) else None


@dataclass(frozen=True)
class Candidate:
    """A file found for submission, before hashing."""

    path: Path  # absolute, resolved once here
    size: int
    format: str | None
    skip_reason: str | None = None


def collect(
    paths: Sequence[str | Path],
    *,
    recursive: bool,
    forced_format: str | None = None,
    follow_links: bool = False,
) -> list[Candidate]:
    """Expand the command-line paths into candidates, or raise SubmitError on the first bad one.

    A file named explicitly must exist, be non-empty and be of a known format; inside
    folders such files are returned with a ``skip_reason`` instead. Links inside a
    folder are only taken when they stay inside it, unless ``follow_links``
    (see :mod:`cadextract.pathpolicy`); a link named explicitly is the user's choice.
    """
    if forced_format is not None and not registry.is_registered(forced_format):
        raise SubmitError(
            f"unknown format {printable(forced_format)!r}; known: {', '.join(registry.public_names())}"
        )
    out: list[Candidate] = []
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw).expanduser()
        shown = printable(str(raw))
        if not path.exists():
            raise SubmitError(f"{shown}: {pathpolicy.missing_reason(path)}")
        path = path.resolve()
        if path.is_dir():
            if not recursive:
                raise SubmitError(f"{shown} is a folder: add --recursive to submit the files in it")
            for found, reason in _walk(path, follow_links=follow_links):
                if found not in seen:
                    seen.add(found)
                    out.append(
                        Candidate(found, 0, None, reason) if reason else _candidate(found, forced_format)
                    )
        else:
            if path in seen:
                continue
            seen.add(path)
            reason = pathpolicy.name_skip_reason(path)
            cand = Candidate(path, 0, None, reason) if reason else _candidate(path, forced_format)
            if cand.skip_reason:
                raise SubmitError(f"{shown}: {cand.skip_reason}")
            out.append(cand)
    return out


def _walk(root: Path, *, follow_links: bool) -> Iterable[tuple[Path, str | None]]:
    """Files under ``root`` with a skip reason for those the path policy refuses."""
    visited = {root}  # real paths of folders walked: a followed link cycle ends here
    for dirpath, dirnames, filenames in os.walk(root, followlinks=follow_links):
        here = Path(dirpath)
        keep = []
        # hidden folders (.git, .cache) never hold drawings worth queueing
        for d in sorted(d for d in dirnames if not d.startswith(".")):
            sub = here / d
            if sub.is_symlink():
                info = pathpolicy.classify_link(sub, root)
                reason = pathpolicy.link_skip_reason(info, follow_links=follow_links, is_dir=True)
                if reason is not None and info.kind is not pathpolicy.LinkTarget.INSIDE:
                    yield sub, reason
                    continue
                # a link to a folder inside the root is walked there, under its real name
                if info.kind is pathpolicy.LinkTarget.INSIDE or info.target in visited:
                    continue
                assert info.target is not None
                visited.add(info.target)
            keep.append(d)
        dirnames[:] = keep
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            path = here / name
            reason = pathpolicy.name_skip_reason(path)
            if reason is None and path.is_symlink():
                info = pathpolicy.classify_link(path, root)
                reason = pathpolicy.link_skip_reason(info, follow_links=follow_links)
            yield path, reason


def _candidate(path: Path, forced_format: str | None) -> Candidate:
    try:
        st = path.stat()
    except OSError as exc:
        return Candidate(path, 0, None, f"cannot read: {exc.strerror}")
    if not path.is_file():
        return Candidate(path, 0, None, "not a regular file")
    if not os.access(path, os.R_OK):
        return Candidate(path, st.st_size, None, "permission denied")
    if st.st_size == 0:
        return Candidate(path, 0, None, "empty file (0 bytes)")
    fmt = forced_format or detect_format(path)
    if fmt is None:
        return Candidate(path, st.st_size, None, UNSUPPORTED)
    return Candidate(path, st.st_size, fmt)


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, streamed in 1 MiB blocks (never the whole file in memory)."""
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _sha256_small(path: Path, size: int) -> str:
    """sha256 of a small file: one read of its stat'ed size (then to its end, had it grown).

    ``hashlib.file_digest`` allocates a 256 KiB buffer per file: for 100,000 files of a
    few hundred bytes that, and ``Path.open``'s buffered file object, cost 4x the hashing.
    """
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        digest = hashlib.sha256(os.read(fd, size + 1))
        while chunk := os.read(fd, 1 << 20):
            digest.update(chunk)
        return digest.hexdigest()
    finally:
        os.close(fd)


def hash_all(
    candidates: Sequence[Candidate],
    *,
    workers: int = 4,
    on_done: Callable[[Candidate], None] | None = None,
    parallel_above: int = 1 << 20,
) -> dict[Path, str]:
    """sha256 of each candidate; files over ``parallel_above`` bytes hash in parallel threads.

    hashlib releases the GIL on large buffers, so big files gain from threads; for small
    ones a thread pool costs more than the hashing, so they are done inline.
    """
    results: dict[Path, str] = {}
    big = [c for c in candidates if c.size > parallel_above]
    for c in candidates:
        if c.size <= parallel_above:
            results[c.path] = _sha256_small(c.path, c.size)
            if on_done:
                on_done(c)
    if not big:
        return results
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for c, digest in zip(big, pool.map(lambda c: sha256_file(c.path), big), strict=True):
            results[c.path] = digest
            if on_done:
                on_done(c)
    return results
