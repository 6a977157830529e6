"""Preview images made by the extraction job: render (in the child), store (with the result).

``render`` is pure (a file in, bytes out) and runs in the child process; ``store`` is
the SQL that keeps one preview per job beside its result.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from typing import Any

#: the ceiling for one stored preview (bytes, after compression)
MAX_BYTES = 200 * 1024
#: seconds a preview may take before its child is replaced (CADEXTRACT_PREVIEW_SECONDS overrides)
MAX_SECONDS = 10.0


@dataclass(frozen=True)
class Preview:
    """One preview image: ``mime`` is image/svg+xml or image/png; SVG may be gzip-compressed."""

    mime: str
    data: bytes
    seconds: float
    #: CPU seconds the drawing took (not stored; benchmarks compare it with extraction)
    cpu_seconds: float = 0.0

    @property
    def gzipped(self) -> bool:
        return self.data[:2] == b"\x1f\x8b"

    def plain(self) -> bytes:
        """The image bytes as a file would hold them (SVG decompressed)."""
        return gzip.decompress(self.data) if self.gzipped else self.data


def extension(mime: str) -> str:
    return {"image/svg+xml": ".svg", "image/png": ".png"}.get(mime, ".bin")


# What an extractor has already loaded (ezdxf document, IFC model, STEP shape), offered
# to the preview of the same job so it need not read the file a second time: a forked
# renderer sees it in the memory it inherits. One job at a time per child process.
_offered: tuple[str, Any] | None = None


def offer(path: object, loaded: Any) -> None:
    """Called by an extractor once its file is loaded; costs nothing if no preview is made."""
    global _offered
    _offered = (str(path), loaded)


def take(path: object) -> Any | None:
    """The object offered for this path (once), else None."""
    global _offered
    offered, _offered = _offered, None
    if offered is not None and offered[0] == str(path):
        return offered[1]
    return None
