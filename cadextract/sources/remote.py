"""Listing objects under a URL (s3://, gs://, az://, https://) for submit, through fsspec.

Credentials come from each backend's standard configuration (for S3: the AWS
environment variables, ~/.aws profiles, instance roles; AWS_ENDPOINT_URL for an
S3-compatible server). Listing paginates inside fsspec (ListObjectsV2 pages of 1,000).
The format comes from the key's extension; a key without a known one has its first
64 KiB read (one ranged GET) and classified like a local file.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, replace
from typing import Any

from cadextract import files
from cadextract.sources import urls

#: backend package to install per scheme, for the "no backend" message
BACKENDS = {
    "s3": "s3fs (a default dependency)",
    "gs": "gcsfs: pip install 'cadextract[gcs]'",
    "gcs": "gcsfs: pip install 'cadextract[gcs]'",
    "az": "adlfs: pip install 'cadextract[azure]'",
    "abfs": "adlfs: pip install 'cadextract[azure]'",
    "http": "aiohttp (a default dependency)",
    "https": "aiohttp (a default dependency)",
}


@dataclass(frozen=True)
class RemoteObject:
    """One object found under a submitted URL."""

    url: str
    size: int
    etag: str | None
    version: str | None
    format: str | None = None
    skip_reason: str | None = None


def filesystem(url: str) -> tuple[Any, str]:
    """(fsspec filesystem, path inside it) for a URL; SourceError when no backend is installed."""
    import fsspec

    name = urls.scheme(url) or ""
    try:
        fsspec.get_filesystem_class(name)
    except (ImportError, ValueError):
        hint = BACKENDS.get(name, "no fsspec backend is known for it")
        raise urls.SourceError(f"{urls.mask(url)}: cannot read {name}:// URLs here ({hint})") from None
    options: dict[str, Any] = {}
    if name == "s3":
        # fail a listing in seconds, not minutes, when the endpoint is down
        options["config_kwargs"] = {"connect_timeout": 5, "retries": {"max_attempts": 3, "mode": "standard"}}
    fs, path = fsspec.core.url_to_fs(url, **options)
    return fs, str(path)


def etag_of(info: dict[str, Any]) -> str | None:
    """The object's ETag without quotes, from an fsspec info dict of any backend."""
    for key in ("ETag", "etag", "e_tag", "md5Hash", "content_settings_etag"):
        value = info.get(key)
        if value:
            return str(value).strip('"')
    return None


def version_of(info: dict[str, Any]) -> str | None:
    for key in ("VersionId", "version_id", "generation"):
        value = info.get(key)
        if value and value != "null":
            return str(value)
    return None


def list_objects(
    url: str, *, recursive: bool, forced_format: str | None = None
) -> tuple[list[RemoteObject], bool]:
    """The objects under ``url`` (one if it names an object) and whether it was a prefix.

    Raises SourceError (bad URL, no such bucket or object, prefix without --recursive)
    or StorageUnavailable (unreachable, credentials refused).
    """
    urls.check(url)
    fs, root = filesystem(url)
    try:
        found, is_prefix = _list(fs, root, url, recursive, forced_format)
        # keys without a known extension: their first 64 KiB decide (after the listing,
        # which may run inside fsspec's event loop, where a blocking read cannot)
        found = [_sniffed(fs, o) if o.format is None and o.skip_reason is None else o for o in found]
    except urls.SourceError:
        raise
    except FileNotFoundError as exc:
        raise urls.SourceError(
            f"{urls.mask(url)}: no such bucket, object or prefix ({_first(exc)})"
        ) from None
    except PermissionError as exc:
        raise urls.StorageUnavailable(
            f"{urls.mask(url)}: access denied (403): check the storage credentials ({_first(exc)})"
        ) from None
    except Exception as exc:  # botocore/aiohttp raise their own connection errors
        raise urls.StorageUnavailable(f"{urls.mask(url)}: cannot list: {_first(exc)}") from None
    return sorted(found, key=lambda o: o.url), is_prefix


def _list(
    fs: Any, root: str, url: str, recursive: bool, forced: str | None
) -> tuple[list[RemoteObject], bool]:
    if not url.endswith("/"):
        info = fs.info(root)
        if info.get("type") != "directory":
            one = _object(fs, root, info, root, forced)
            return ([one] if one else []), False
    if not recursive:
        raise urls.SourceError(
            f"{urls.mask(url)} is a prefix: add --recursive to submit the objects under it"
        )
    if hasattr(fs, "_iterdir"):  # s3fs: page by page, keeping only what a job needs
        objects = _iter_s3(fs, root, forced)
    else:
        infos: dict[str, dict[str, Any]] = fs.find(root, detail=True)
        objects = [o for name, info in infos.items() if (o := _object(fs, name, info, root, forced))]
    if not objects:
        # S3 has no empty folders: an empty listing is nearly always a mistyped prefix
        raise urls.SourceError(f"{urls.mask(url)}: no objects under this prefix")
    return objects, True


def _iter_s3(fs: Any, root: str, forced: str | None) -> list[RemoteObject]:
    """ListObjectsV2 pages turned into small records as they come (a million keys fit)."""
    from fsspec.asyn import sync

    bucket, _, prefix = root.partition("/")
    prefix = prefix.rstrip("/") + "/" if prefix else ""

    async def collect() -> list[RemoteObject]:
        out: list[RemoteObject] = []
        async for info in fs._iterdir(bucket, delimiter="", prefix=prefix):
            found = _object(fs, info["name"], info, root, forced)
            if found is not None:
                out.append(found)
        return out

    result: list[RemoteObject] = sync(fs.loop, collect)
    return result


def _object(fs: Any, name: str, info: dict[str, Any], root: str, forced: str | None) -> RemoteObject | None:
    url = fs.unstrip_protocol(name)
    size = int(info.get("size") or 0)
    if name.endswith("/"):
        return None  # a "folder" marker some tools create
    rel = name[len(root) :].lstrip("/") if name.startswith(root) else posixpath.basename(name)
    if any(part.startswith(".") for part in rel.split("/")):
        return None  # hidden, as in a local walk
    etag, version = etag_of(info), version_of(info)
    if size == 0:
        return RemoteObject(url, 0, etag, version, None, "empty file (0 bytes)")
    fmt = forced or files.EXTENSIONS.get(posixpath.splitext(name)[1].lower())
    return RemoteObject(url, size, etag, version, fmt)


def _sniffed(fs: Any, o: RemoteObject) -> RemoteObject:
    try:
        head: bytes = fs.cat_file(o.url, start=0, end=64 * 1024)
        fmt = files.detect_bytes(head)
    except Exception:
        fmt = None
    if fmt is None:
        return replace(o, skip_reason=files.UNSUPPORTED)
    return replace(o, format=fmt)


def _first(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]
