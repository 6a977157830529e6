"""Pure decisions of an incremental submit: has a file changed, what is an object's key.

The rule is rsync's and git's: a file whose (size, mtime, ctime, inode, device) are all
what they were when it was hashed has the hash it had then. ctime and inode catch what
mtime alone misses (a rewrite in the same second with the same size and a restored
mtime, a file replaced by an older copy through rename). A file whose ctime falls
within the file system's timestamp granularity of its hashing is "racily clean" (git's
term): it could have changed after it was read without its stat showing it, so it is
hashed again next time.
"""

from __future__ import annotations

import functools
import hashlib
import os
import uuid
from collections.abc import Iterable, Mapping
from typing import NamedTuple

from cadextract import ops

#: ctime within this many ns before the hashing counts as racy (coarsest common file
#: system timestamps: FAT 2 s; ext4/xfs/btrfs are ns but NFS servers may round)
RACY_NS = 2_000_000_000

#: prefix of the change key stored as a remote job's sha256 (its content is only read
#: by the worker): dedupe and the worker's "changed since submit" check use it
REMOTE_KEY_PREFIX = "obj:"


# Stat, Cached and LatestJob are NamedTuples, not dataclasses: a nightly run makes one of
# each per file (100,000 and more), and a tuple is built and compared several times faster.


class Stat(NamedTuple):
    """What one stat() says about a file, the parts that show a change."""

    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int
    device: int

    @classmethod
    def of(cls, st: os.stat_result) -> Stat:
        return cls(st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)


class LatestJob(NamedTuple):
    """The newest job of a cached path's content and format, as the cache lookup found it."""

    id: uuid.UUID
    status: str
    error_type: str | None = None
    error_message: str | None = None
    attempts: int = 0


class Cached(NamedTuple):
    """What the last submit recorded for a path (and the newest job of that content)."""

    stat: Stat | None
    sha256: str | None
    format: str | None
    checked_ns: int | None = None
    etag: str | None = None
    missing: bool = False
    latest: LatestJob | None = None


def needs_hash(stat: Stat, cached: Cached | None, *, rehash: bool = False) -> bool:
    """True unless the path's stat is exactly what it was when a trustworthy hash was taken."""
    if rehash or cached is None or cached.sha256 is None or cached.stat is None:
        return True
    if cached.stat != stat:
        return True
    # hashed in the same tick as the last change: a later write could hide behind it
    return cached.checked_ns is None or stat.ctime_ns >= cached.checked_ns - RACY_NS


def remote_key(url: str, etag: str | None, version: str | None, size: int) -> str:
    """The change key of an object: the same URL, ETag/version and size give the same key."""
    ident = f"{url}\n{etag or ''}\n{version or ''}\n{size}"
    return REMOTE_KEY_PREFIX + hashlib.sha256(ident.encode("utf-8", "surrogateescape")).hexdigest()


def is_remote_key(value: str) -> bool:
    return value.startswith(REMOTE_KEY_PREFIX)


def disappeared(known: Iterable[str], seen: set[str]) -> list[str]:
    """Paths recorded under the walked roots that this walk did not find, sorted."""
    return sorted(p for p in known if p not in seen)


def changed_paths(
    stats: Mapping[str, Stat], cache: Mapping[str, Cached], *, rehash: bool = False
) -> list[str]:
    """The paths to read again, in the order given."""
    return [p for p, st in stats.items() if needs_hash(st, cache.get(p), rehash=rehash)]


#: the skip reason of a file whose content's newest job decides its outcome without a new job
_DECIDED = {
    "already queued": "already queued (same content)",
    "already completed": "already completed (same content)",
}


def decided_reason(
    cached: Cached | None, sha256: str, fmt: str, *, force: bool = False, retry_failed: bool = False
) -> str | None:
    """Why an unchanged path needs no new job (the newest job of its content decides), or None.

    The answer enqueueing would give: active content is "already queued", completed is
    "already completed" (unless ``force``), failed is a known failure (unless
    ``retry_failed``/``force``). None (no such job, a cancelled one, another format)
    sends the path through the enqueue, which decides with the whole jobs table.
    """
    if cached is None or cached.latest is None or cached.sha256 != sha256 or cached.format != fmt:
        return None
    return _reason(cached.latest.status, force, retry_failed)


@functools.cache
def _reason(status: str, force: bool, retry_failed: bool) -> str | None:
    # cached: a nightly run asks this once per unchanged file with a handful of answers
    admission = ops.admit(status, force=force, retry_failed=retry_failed)
    if admission is ops.Admission.KNOWN_FAILURE:
        return ops.KNOWN_FAILURE_REASON
    return _DECIDED.get(admission.value)
