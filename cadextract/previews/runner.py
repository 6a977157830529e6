"""Run a renderer in a forked process under a deadline: a slow, crashing or hanging renderer
costs at most its budget and never the job (it becomes a warning).

The fork inherits what the extractor loaded (handed over through ``previews.offer``),
so the file is not read twice; the renderer's imports are made here first, once per
child process, or every forked renderer would pay for them again.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import select
import signal
import time
from pathlib import Path
from typing import Any

from cadextract.previews import MAX_BYTES, MAX_SECONDS, Preview, take
from cadextract.previews.render import RENDERERS, PreviewError, render

MIN_BUDGET = 0.5  # seconds; below this a preview is not attempted


def make(
    path: Path, fmt: str, *, budget: float = MAX_SECONDS, max_bytes: int = MAX_BYTES
) -> tuple[Preview | None, str | None]:
    """(preview, None), or (None, warning) when it failed, was too big or too slow.

    Formats without a renderer (plugins, test formats) give (None, None).
    """
    loaded = take(path)  # always taken, so nothing outlives the job
    if fmt not in RENDERERS:
        return None, None
    _warm(fmt)
    if budget < MIN_BUDGET:
        return None, "preview skipped: the job's time limit leaves no time for it"
    started = time.perf_counter()
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the renderer's own process: a crash or a hang here costs only the preview
        os.close(read_fd)
        _run_child(path, fmt, loaded, max_bytes, write_fd)
    os.close(write_fd)
    try:
        raw, finished = _read_until(read_fd, started + budget)
    finally:
        os.close(read_fd)
    if not finished:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    _pid, status, usage = os.wait4(pid, 0)
    seconds = time.perf_counter() - started
    cpu = usage.ru_utime + usage.ru_stime
    if not finished:
        return None, f"preview skipped: it took longer than {budget:.0f}s"
    if os.WIFSIGNALED(status):
        return None, f"preview failed: the renderer was killed by {signal.Signals(os.WTERMSIG(status)).name}"
    head, _, body = raw.partition(b"\n")
    if head.startswith(b"ok "):
        return Preview(mime=head[3:].decode(), data=body, seconds=seconds, cpu_seconds=cpu), None
    return None, "preview failed: " + (body.decode(errors="replace") or "the renderer stopped")


#: imported in the child before forking, once per child: a forked renderer's imports die with it
WARM = {
    "dxf": ("ezdxf.addons.drawing.svg", "ezdxf.addons.drawing.frontend", "ezdxf.recover"),
    "pdf": ("pypdfium2", "PIL.Image", "PIL.PngImagePlugin"),
    "step": ("OCP.STEPControl", "OCP.HLRBRep", "OCP.HLRAlgo", "OCP.BRepLib", "OCP.GCPnts", "OCP.BRepAdaptor"),
    "ifc": ("ifcopenshell", "ifcopenshell.geom", "ifcopenshell.util.element"),
}


_warmed: set[str] = set()


def _warm(fmt: str) -> None:
    import importlib

    if fmt in _warmed:
        return
    _warmed.add(fmt)
    for name in WARM.get(fmt, ()):
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    if fmt == "dxf":  # ezdxf loads its font cache on first text drawn: once here, not per job
        with contextlib.suppress(Exception):
            from ezdxf.fonts import fonts

            fonts.make_font("DejaVuSans.ttf", 1.0)


def _run_child(path: Path, fmt: str, loaded: Any, max_bytes: int, fd: int) -> None:
    code = 0
    try:
        _die_with_parent()
        # parsers chatter on stderr about what they repair: not the worker's terminal
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        try:
            mime, data = render(path, fmt, loaded, max_bytes)
            message = b"ok " + mime.encode() + b"\n" + data
        except PreviewError as exc:
            message = b"error\n" + str(exc).encode()
        view = memoryview(message)
        while view:
            view = view[os.write(fd, view) :]
    except BaseException:
        code = 1
    finally:
        os._exit(code)  # never run the parent's exit handlers or flush its buffers


def _die_with_parent() -> None:
    # a child killed by its supervisor (cancel, timeout) must take its renderer with it
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)


def _read_until(fd: int, deadline: float) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    while True:
        left = deadline - time.perf_counter()
        if left <= 0:
            return b"", False
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return b"".join(chunks), True
        chunks.append(chunk)
