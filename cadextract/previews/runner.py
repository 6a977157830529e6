"""Draw a job's preview in the child, right after its completion was sent.

No process of its own: the supervisor already knows the job ended, so a renderer that
crashes, hangs or grows costs the child (killed and replaced, see
``runtime.previewing``) and the preview, never the job. Forking a renderer per
preview, as before, cost 30-70 ms of page-table copying in a child holding
OpenCASCADE and the OCR models: more than drawing most files takes.
"""

from __future__ import annotations

import contextlib
import importlib
import time
from pathlib import Path

from cadextract.previews import MAX_BYTES, Preview, take
from cadextract.previews.render import RENDERERS, PreviewError, render


def has_renderer(fmt: str) -> bool:
    """Whether files of this format get a preview (plugins and test formats may not)."""
    return fmt in RENDERERS


def make(path: Path, fmt: str, *, max_bytes: int = MAX_BYTES) -> tuple[Preview | None, str | None]:
    """(preview, None), or (None, warning) when it failed or was too big.

    Formats without a renderer give (None, None).
    """
    loaded = take(path)  # always taken, so nothing outlives the job
    if fmt not in RENDERERS:
        return None, None
    warm(fmt)
    started, cpu = time.perf_counter(), time.process_time()
    try:
        mime, data = render(path, fmt, loaded, max_bytes)
    except PreviewError as exc:
        return None, f"preview failed: {exc}"
    finally:
        del loaded  # a large model is freed before the next job, not after
    seconds = time.perf_counter() - started
    return Preview(mime=mime, data=data, seconds=seconds, cpu_seconds=time.process_time() - cpu), None


#: what each renderer imports beyond its extractor (benchmarks separate this one-off cost)
WARM = {
    "dxf": ("ezdxf.addons.drawing.svg", "ezdxf.addons.drawing.frontend", "ezdxf.recover"),
    "pdf": ("pypdfium2", "PIL.Image", "PIL.PngImagePlugin"),
    "step": ("OCP.STEPControl", "OCP.HLRBRep", "OCP.HLRAlgo", "OCP.BRepLib", "OCP.GCPnts", "OCP.BRepAdaptor"),
    "ifc": ("ifcopenshell", "ifcopenshell.geom", "ifcopenshell.util.element"),
}


def warm(fmt: str) -> None:
    """Import a renderer's modules (once per process; later calls cost a dict look-up)."""
    for name in WARM.get(fmt, ()):
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
