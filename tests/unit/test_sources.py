"""Pure decisions of incremental and remote submits (no database, no network)."""

from __future__ import annotations

import errno
import gc
import os
from pathlib import Path

import botocore.exceptions
import pytest

from cadextract.extractors import base
from cadextract.sources import bulk, cache, decide, fetch, local, urls
from cadextract.sources.decide import Cached, Stat

NOW = 1_800_000_000 * 10**9  # a hashing time well after the file's last change
OLD = NOW - 3600 * 10**9


def cached(stat: Stat, sha: str = "a" * 64, checked: int = NOW) -> Cached:
    return Cached(stat, sha, "dxf", checked)


def test_unchanged_stat_is_not_hashed_again() -> None:
    st = Stat(10, OLD, OLD, 7, 1)
    assert not decide.needs_hash(st, cached(st))
    assert decide.needs_hash(st, cached(st), rehash=True)  # --rehash


def test_new_or_unhashed_paths_are_hashed() -> None:
    st = Stat(10, OLD, OLD, 7, 1)
    assert decide.needs_hash(st, None)
    assert decide.needs_hash(st, Cached(st, None, None, NOW))
    assert decide.needs_hash(st, Cached(None, "a" * 64, "dxf", NOW))


def test_same_second_same_size_rewrite_is_caught_by_ctime() -> None:
    # rewritten in place, same size, mtime put back (touch -r / a tool preserving times)
    before = Stat(10, OLD, OLD, 7, 1)
    after = Stat(10, OLD, OLD + 400_000_000, 7, 1)
    assert decide.needs_hash(after, cached(before))


def test_file_replaced_by_an_older_copy_is_caught_by_inode_and_mtime() -> None:
    before = Stat(10, OLD, OLD, 7, 1)
    older = Stat(10, OLD - 86400 * 10**9, OLD + 10**9, 8, 1)  # mv older.dxf file.dxf
    assert decide.needs_hash(older, cached(before))
    assert decide.needs_hash(Stat(10, OLD, OLD, 8, 1), cached(before))  # only the inode differs
    assert decide.needs_hash(Stat(10, OLD, OLD, 7, 2), cached(before))  # another device


def test_racily_clean_rows_are_hashed_again() -> None:
    # changed 1 s before it was hashed: a write in the same tick could hide behind it
    st = Stat(10, NOW - 10**9, NOW - 10**9, 7, 1)
    assert decide.needs_hash(st, cached(st, checked=NOW))
    assert not decide.needs_hash(st, cached(st, checked=NOW + 5 * 10**9))
    assert decide.needs_hash(st, Cached(st, "a" * 64, "dxf", None))


def test_changed_paths_and_disappeared() -> None:
    a, b = Stat(1, OLD, OLD, 1, 1), Stat(2, OLD, OLD, 2, 1)
    stats = {"/r/a": a, "/r/b": b, "/r/c": a}
    cache_ = {"/r/a": cached(a), "/r/b": cached(Stat(3, OLD, OLD, 2, 1)), "/r/gone": cached(a)}
    assert decide.changed_paths(stats, cache_) == ["/r/b", "/r/c"]
    assert decide.changed_paths(stats, cache_, rehash=True) == ["/r/a", "/r/b", "/r/c"]
    assert decide.disappeared(cache_, set(stats)) == ["/r/gone"]


def test_remote_key_changes_with_etag_size_and_url_only() -> None:
    k = decide.remote_key("s3://b/k.dxf", "e1", None, 5)
    assert k.startswith("obj:") and decide.is_remote_key(k)
    assert k == decide.remote_key("s3://b/k.dxf", "e1", None, 5)
    assert k != decide.remote_key("s3://b/k.dxf", "e2", None, 5)
    assert k != decide.remote_key("s3://b/k.dxf", "e1", None, 6)
    assert k != decide.remote_key("s3://b/other.dxf", "e1", None, 5)


def test_like_prefix_escapes_wildcards() -> None:
    assert cache.like_prefix("/data/a_b%c") == "/data/a\\_b\\%c/"
    assert cache.like_prefix("s3://bkt/p/") == "s3://bkt/p/"


@pytest.mark.parametrize(
    ("text", "is_url"),
    [
        ("s3://b/p", True),
        ("gs://b", True),
        ("https://x/y.pdf", True),
        ("/data/x.pdf", False),
        ("file:///data/x.pdf", False),
        ("relative/s3:/x", False),
        ("C:/x", False),
    ],
)
def test_is_url(text: str, is_url: bool) -> None:
    assert urls.is_url(text) is is_url


@pytest.mark.parametrize(
    "url",
    [
        "s3://AKIAXXXX:hunter2@bucket/p/",
        "https://user:hunter2@host/x.pdf",
        "https://host/x.pdf?X-Amz-Signature=hunter2&X-Amz-Credential=a",
        "az://c/x.pdf?sv=2020&sig=hunter2",
    ],
)
def test_url_with_a_secret_is_refused_and_never_echoed(url: str) -> None:
    with pytest.raises(urls.SourceError) as err:
        urls.check(url)
    assert "hunter2" not in str(err.value) and "credential" in str(err.value)
    assert "hunter2" not in urls.mask(url)


def test_plain_urls_pass() -> None:
    assert urls.check("s3://bucket/p/a b é.dxf") == "s3://bucket/p/a b é.dxf"


def _client_error(status: int, code: str) -> botocore.exceptions.ClientError:
    return botocore.exceptions.ClientError(
        {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "GetObject",
    )


@pytest.mark.parametrize(
    ("exc", "permanent", "shows"),
    [
        (FileNotFoundError(errno.ENOENT, "gone"), True, "404"),
        (PermissionError(errno.EACCES, "denied"), True, "403"),
        (_client_error(404, "NoSuchKey"), True, "404"),
        (_client_error(403, "AccessDenied"), True, "403"),
        (_client_error(503, "SlowDown"), False, "503"),
        (_client_error(500, "InternalError"), False, "500"),
        (ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"), False, "reset"),
        (botocore.exceptions.EndpointConnectionError(endpoint_url="http://h:1"), False, "connect"),
        (TimeoutError("read timed out"), False, "timed out"),
    ],
)
def test_read_errors_classified(exc: BaseException, permanent: bool, shows: str) -> None:
    mapped = fetch.classify(exc, "s3://bkt/p/k.dxf")
    assert mapped is not None and mapped.permanent is permanent
    assert shows in str(mapped) and "s3://bkt/p/k.dxf" in str(mapped)
    if not permanent:
        assert isinstance(mapped, base.TransientError)


def test_programming_errors_are_not_storage_errors() -> None:
    assert fetch.classify(KeyError("x"), "s3://b/k") is None


def test_stale_download_folders_are_removed(tmp_path: Path) -> None:
    mine = fetch.workdir(tmp_path)
    (mine / "job").mkdir()
    dead = tmp_path / "fetch" / "999999999-1"
    dead.mkdir()
    (dead / "half.dxf").write_bytes(b"x")
    reused = tmp_path / "fetch" / f"{os.getppid()}-1"  # a live pid, another start time
    reused.mkdir()
    removed = fetch.clean_stale(tmp_path)
    assert sorted(removed) == sorted([dead, reused])
    assert mine.is_dir() and not dead.exists()


def test_cap_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CADEXTRACT_FETCH_MAX_MB", "1.5")
    assert fetch.cap_bytes() == int(1.5 * 1024 * 1024)
    monkeypatch.setenv("CADEXTRACT_FETCH_MAX_MB", "lots")
    with pytest.raises(base.PermanentError):
        fetch.cap_bytes()


def test_decided_reason_follows_the_newest_job_of_the_same_content_and_format() -> None:
    import uuid

    st = Stat(10, OLD, OLD, 7, 1)

    def with_job(status: str) -> Cached:
        return Cached(st, "a" * 64, "dxf", NOW, latest=decide.LatestJob(uuid.uuid4(), status))

    assert decide.decided_reason(with_job("completed"), "a" * 64, "dxf") == "already completed (same content)"
    assert decide.decided_reason(with_job("pending"), "a" * 64, "dxf") == "already queued (same content)"
    assert decide.decided_reason(with_job("processing"), "a" * 64, "dxf", force=True) == (
        "already queued (same content)"
    )
    assert "known failure" in str(decide.decided_reason(with_job("failed"), "a" * 64, "dxf"))
    # left to the enqueue: overridden by a flag, a cancel, no job, another format or content
    assert decide.decided_reason(with_job("completed"), "a" * 64, "dxf", force=True) is None
    assert decide.decided_reason(with_job("failed"), "a" * 64, "dxf", retry_failed=True) is None
    assert decide.decided_reason(with_job("cancelled"), "a" * 64, "dxf") is None
    assert decide.decided_reason(cached(st), "a" * 64, "dxf") is None
    assert decide.decided_reason(with_job("completed"), "a" * 64, "pdf") is None
    assert decide.decided_reason(with_job("completed"), "b" * 64, "dxf") is None


def test_walk_takes_plain_files_fast_and_keeps_every_path_rule(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "b.dxf").write_bytes(b"b")
    (root / "a.dxf").write_bytes(b"aa")
    (root / "ünï.dxf").write_bytes(b"u")  # UTF-8, not ASCII: the path rules' side
    (root / ".hidden.dxf").write_bytes(b"h")
    (root / "sub" / "c.dxf").write_bytes(b"ccc")
    os.mkfifo(root / "pipe.dxf")
    (root / "in.dxf").symlink_to(root / "a.dxf")
    outside = tmp_path / "outside.dxf"
    outside.write_bytes(b"o")
    (root / "out.dxf").symlink_to(outside)
    (root / "subl").symlink_to(root / "sub")  # a folder inside: walked under its real name only
    bad = os.fsencode(str(root)) + b"/bad\xff.dxf"
    os.close(os.open(bad, os.O_CREAT | os.O_WRONLY))
    found = {Path(f.path).name if f.path.isprintable() else "bad": f for f in local.walk(root.resolve())}
    assert sorted(found) == ["a.dxf", "b.dxf", "bad", "c.dxf", "in.dxf", "out.dxf", "pipe.dxf", "ünï.dxf"]
    for name, size in (("a.dxf", 2), ("b.dxf", 1), ("c.dxf", 3), ("ünï.dxf", 1), ("in.dxf", 2)):
        f = found[name]
        st = os.stat(f.path)
        assert f.skip_reason is None and f.stat == Stat(
            size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev
        )
    assert found["pipe.dxf"].stat is None and found["pipe.dxf"].skip_reason == "not a regular file"
    assert "outside the folder" in str(found["out.dxf"].skip_reason)
    assert "not valid UTF-8" in str(found["bad"].skip_reason)
    # sorted per folder, depth first
    order = [Path(f.path).name for f in local.walk(root.resolve()) if f.path.isprintable()]
    assert order == ["a.dxf", "b.dxf", "in.dxf", "out.dxf", "pipe.dxf", "ünï.dxf", "c.dxf"]


def test_paused_gc_restores_the_collector_state() -> None:
    assert gc.isenabled()
    with bulk.paused_gc():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), bulk.paused_gc():
        raise RuntimeError("boom")
    assert gc.isenabled()
    gc.disable()
    try:
        with bulk.paused_gc():
            pass
        assert not gc.isenabled()  # it was off before: left off
    finally:
        gc.enable()
