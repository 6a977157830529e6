"""OCR engines behind one small interface, loaded once per child process.

``rapidocr`` (the default: rapidocr-onnxruntime, whose wheel carries its ONNX models, so
nothing is downloaded) and ``tesseract`` (pytesseract driving the ``tesseract`` program,
when it is installed). Every engine is limited to one thread: the worker's ``-c N``
children are N processes, and an engine that spreads over every core would make
N children fight over them.
"""

from __future__ import annotations

import math
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from cadextract.extractors.ocr.layout import Word, suppress_contained

if TYPE_CHECKING:
    from PIL.Image import Image

#: detection runs at about this resolution; recognition reads the crops from the
#: full-resolution image. 150 rather than 120: small title-block text is found (corpus
#: median character accuracy 0.648 against 0.613 at 120, docs/performance.md)
DETECT_DPI = 150
#: detection tile edge (pixels at detection scale) and overlap; bounds the engine's memory
DETECT_TILE = 960
DETECT_OVERLAP = 96
#: recognition results below this score are noise (rapidocr's own default)
MIN_SCORE = 0.5
_THREAD_VARS = ("OMP_NUM_THREADS", "OMP_THREAD_LIMIT", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


class EngineUnavailable(RuntimeError):
    """The engine's package or program is missing on this machine."""


class Engine(Protocol):
    name: str
    version: str
    load_seconds: float

    def recognise(self, image: Image, dpi: float | None, lang: str | None) -> list[Word]:
        """Words of a greyscale image, boxes in its pixels."""
        ...


def limit_threads() -> None:
    """One thread for OpenMP, BLAS and Tesseract in this process and the programs it starts."""
    for name in _THREAD_VARS:
        os.environ[name] = "1"


@dataclass
class RapidOcr:
    """rapidocr-onnxruntime (PP-OCRv4 det + rec ONNX models shipped in the wheel)."""

    name: str = "rapidocr"
    version: str = ""
    load_seconds: float = 0.0
    _ocr: Any = None

    @classmethod
    def load(cls) -> RapidOcr:
        limit_threads()
        started = time.perf_counter()
        try:
            import cv2
            from rapidocr_onnxruntime import RapidOCR
        except ImportError as exc:
            raise EngineUnavailable(f"rapidocr-onnxruntime is not installed ({exc})") from None
        cv2.setNumThreads(1)
        # intra/inter op threads = 1: onnxruntime's default is one thread per core.
        # det_limit_type "max": a tile is never scaled up (rapidocr's "min" default blew a
        # 960 x 128 edge tile up to 5520 x 736 pixels: most of a page's CPU time)
        ocr = RapidOCR(
            intra_op_num_threads=1, inter_op_num_threads=1, print_verbose=False, det_limit_type="max"
        )
        from importlib.metadata import version

        return cls(
            version=version("rapidocr-onnxruntime"), load_seconds=time.perf_counter() - started, _ocr=ocr
        )

    def recognise(self, image: Image, dpi: float | None, lang: str | None) -> list[Word]:
        import cv2
        import numpy as np

        full = np.asarray(image.convert("L"))
        height, width = full.shape
        scale = min(1.0, DETECT_DPI / float(dpi or 200))
        small = (
            full
            if scale >= 1.0
            else cv2.resize(
                full,
                (max(1, round(width * scale)), max(1, round(height * scale))),
                interpolation=cv2.INTER_AREA,
            )
        )
        quads = self._detect(small)
        if not quads:
            return []
        boxes = [
            (float(q[:, 0].min()), float(q[:, 1].min()), float(q[:, 0].max()), float(q[:, 1].max()))
            for q in quads
        ]
        keep = suppress_contained(boxes)
        quads = [quads[i] / scale for i in keep]
        crops = []
        for q in quads:
            q = q.astype(np.float32)
            q[:, 0] = q[:, 0].clip(0, width - 1)
            q[:, 1] = q[:, 1].clip(0, height - 1)
            crop = _crop(full, q)
            crops.append(cv2.cvtColor(crop, cv2.COLOR_GRAY2BGR))
        crops, _cls, _ = self._ocr.text_cls(crops)
        results, _ = self._ocr.text_rec(crops)
        words = []
        for q, (text, score) in zip(quads, results, strict=True):
            text = str(text).strip()
            if text and float(score) >= MIN_SCORE:
                words.append(
                    Word(
                        text,
                        float(q[:, 0].min()),
                        float(q[:, 1].min()),
                        float(q[:, 0].max()),
                        float(q[:, 1].max()),
                        float(score),
                    )
                )
        return words

    def _detect(self, small: Any) -> list[Any]:
        """Text quadrilaterals of the detection-scale image, tile by tile (bounded memory)."""
        import cv2
        import numpy as np

        height, width = small.shape
        quads: list[Any] = []
        for y, bottom in tile_spans(height, DETECT_TILE, DETECT_OVERLAP):
            for x, right in tile_spans(width, DETECT_TILE, DETECT_OVERLAP):
                tile = small[y:bottom, x:right]
                if tile.size == 0 or int(tile.min()) > 200:
                    continue  # blank paper: nothing to detect
                found, _ = self._ocr.text_det(cv2.cvtColor(np.ascontiguousarray(tile), cv2.COLOR_GRAY2BGR))
                for q in found if found is not None else []:
                    quads.append(np.asarray(q, dtype=np.float32) + np.array([x, y], dtype=np.float32))
        return quads


def tile_spans(length: int, tile: int, overlap: int) -> list[tuple[int, int]]:
    """(start, end) of equal tiles of at most ``tile`` pixels covering ``length``, overlapping.

    Equal tiles rather than full tiles and a sliver at the edge: a sliver costs a model run
    of its own for a few pixels of paper.
    """
    if length <= tile:
        return [(0, max(length, 1))]
    count = math.ceil((length - overlap) / (tile - overlap))
    size = math.ceil((length + (count - 1) * overlap) / count)
    starts = [min(i * (size - overlap), length - size) for i in range(count)]
    return [(start, start + size) for start in starts]


def _crop(image: Any, quad: Any) -> Any:
    """The quadrilateral's content, straightened; tall crops turned to read left to right."""
    import cv2
    import numpy as np

    w = int(max(np.linalg.norm(quad[0] - quad[1]), np.linalg.norm(quad[2] - quad[3])))
    h = int(max(np.linalg.norm(quad[0] - quad[3]), np.linalg.norm(quad[1] - quad[2])))
    w, h = max(w, 1), max(h, 1)
    target = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(quad.astype(np.float32), target)
    out = cv2.warpPerspective(image, matrix, (w, h), borderMode=cv2.BORDER_REPLICATE, flags=cv2.INTER_CUBIC)
    if h >= 1.5 * w:  # vertical dimension text reads bottom to top
        out = np.ascontiguousarray(np.rot90(out))
    return out


@dataclass
class Tesseract:
    """Tesseract through pytesseract (needs the ``tesseract`` program, e.g. Debian tesseract-ocr)."""

    name: str = "tesseract"
    version: str = ""
    load_seconds: float = 0.0
    languages: tuple[str, ...] = ()

    @classmethod
    def load(cls) -> Tesseract:
        limit_threads()
        started = time.perf_counter()
        try:
            import pytesseract
        except ImportError as exc:
            raise EngineUnavailable(f"pytesseract is not installed ({exc})") from None
        if shutil.which("tesseract") is None:
            raise EngineUnavailable(
                "the tesseract program is not installed (Debian: apt install tesseract-ocr)"
            )
        try:
            version = str(pytesseract.get_tesseract_version())
            languages = tuple(pytesseract.get_languages(config=""))
        except Exception as exc:  # a broken install: say so, don't crash the job
            raise EngineUnavailable(f"tesseract does not run: {exc}") from None
        return cls(version=version, load_seconds=time.perf_counter() - started, languages=languages)

    def recognise(self, image: Image, dpi: float | None, lang: str | None) -> list[Word]:
        import pytesseract

        lang = lang or "eng"
        missing = [code for code in lang.split("+") if code not in self.languages]
        if missing:
            raise EngineUnavailable(
                f"tesseract has no language data for {'+'.join(missing)} "
                f"(installed: {', '.join(self.languages)})"
            )
        # --psm 11: sparse text, the layout of a drawing (no paragraphs to find)
        config = f"--psm 11 --dpi {int(dpi or 200)}"
        data = pytesseract.image_to_data(
            image.convert("L"), lang=lang, config=config, output_type=pytesseract.Output.DICT
        )
        words = []
        for text, conf, left, top, w, h in zip(
            data["text"], data["conf"], data["left"], data["top"], data["width"], data["height"], strict=True
        ):
            text = str(text).strip()
            score = float(conf) / 100.0
            if text and score >= 0:
                words.append(
                    Word(text, float(left), float(top), float(left + w), float(top + h), max(0.0, score))
                )
        return words


_LOADERS: dict[str, Callable[[], Engine]] = {"rapidocr": RapidOcr.load, "tesseract": Tesseract.load}
#: engines loaded in this process (a child loads a model once, not once per page or job)
_CACHE: dict[str, Engine] = {}
_FAILED: dict[str, str] = {}


def get(name: str) -> tuple[Engine, bool]:
    """The engine called ``name`` (``auto``: the first usable), and whether it loaded just now.

    Raises EngineUnavailable with the reason when none can be used.
    """
    candidates = list(_LOADERS) if name == "auto" else [name]
    reasons = []
    for candidate in candidates:
        if candidate in _CACHE:
            return _CACHE[candidate], False
        if candidate in _FAILED:  # don't retry a missing program on every page
            reasons.append(f"{candidate}: {_FAILED[candidate]}")
            continue
        try:
            engine = _LOADERS[candidate]()
        except EngineUnavailable as exc:
            _FAILED[candidate] = str(exc)
            reasons.append(f"{candidate}: {exc}")
            continue
        _CACHE[candidate] = engine
        return engine, True
    raise EngineUnavailable("; ".join(reasons))


def availability() -> dict[str, str | None]:
    """Engine name -> None when usable here, else why not (loads each engine once)."""
    out: dict[str, str | None] = {}
    for name in _LOADERS:
        try:
            get(name)
            out[name] = None
        except EngineUnavailable as exc:
            out[name] = str(exc).split(": ", 1)[-1]
    return out


def describe(name: str) -> str:
    """Version line of a usable engine (for ``doctor`` and result library versions)."""
    engine, _ = get(name)
    return engine.version


def doctor_checks() -> list[dict[str, Any]]:
    """One ``doctor`` row per engine; a missing engine fails only when no engine is usable."""
    found = availability()
    any_usable = any(reason is None for reason in found.values())
    rows = []
    for name, reason in found.items():
        if reason is None:
            engine, _ = get(name)
            detail = f"{engine.version}, model loaded in {engine.load_seconds:.1f} s"
        else:
            detail = f"not usable: {reason}"
        rows.append({"check": f"ocr engine {name}", "ok": reason is None or any_usable, "detail": detail})
    return rows
