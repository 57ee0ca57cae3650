"""Ingest stage, OCR: scanned PDF pages and images -> lines of text in reading order.

The engine is RapidOCR's ONNX build (``rapidocr_onnxruntime``, the ``[ocr]`` extra): PP-OCRv4
Chinese detection and recognition as ONNX files inside the wheel, so nothing is downloaded at
run time.  It gives back text boxes, not lines in order, so :func:`reading_order` puts them in
order: a recursive X-Y cut (a column gutter, a vertical strip no box crosses, splits a region into
columns read left to right; rows of boxes that share no gutter, a headline across the page, are
read top to bottom), and boxes of one row are joined left to right.  An indented line starts a
paragraph (the cleaning's mark, :data:`qa.ingest.formats.INDENT`).

A page is OCR'd once per file content: the lines are kept in ``<cache>/ocr/<sha256>/<page>.json``
(:class:`OcrJob`), so a rebuild, or the read that follows a page skipped for its limits, never
OCRs a page twice.  Each page's line keeps its box, a fraction of the page (x0, y0, x1, y1), so a
passage can be outlined on its page.
"""

from __future__ import annotations

import json
import os
import statistics
from dataclasses import dataclass, field
from pathlib import Path

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp")
RENDER_DPI = 200  # a PDF page without a text layer is rendered at this resolution for OCR
MAX_PIXELS = 40_000_000  # an image larger than this (a decompression bomb) is refused, not OCR'd
MIN_SCORE = 0.5  # recognised text below this confidence is dropped (RapidOCR's own default)
ENGINE = "rapidocr_onnxruntime 1.4.4, PP-OCRv4 det+rec, no angle classifier; reading order v1"


@dataclass
class OcrLine:
    text: str
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 as fractions of the page
    indented: bool = False


@dataclass
class OcrJob:
    """The OCR of one file: where its pages are cached (None: not cached), the pages to skip
    ({page: why}, pages that passed a limit before) and ``report(message)`` for progress."""

    cache: str | None
    sha256: str
    skip: dict = field(default_factory=dict)
    report: object = None
    engine: object = None

    def _path(self, page: int) -> Path | None:
        if not self.cache:
            return None
        return Path(self.cache) / _engine_key() / self.sha256[:2] / self.sha256 / f"{page}.json"

    def cached(self, page: int) -> list[OcrLine] | None:
        path = self._path(page)
        if path is None or not path.is_file():
            return None
        try:
            rows = json.loads(path.read_text(encoding="utf-8"))
            return [OcrLine(r["text"], tuple(r["box"]), bool(r.get("indented"))) for r in rows]
        except (OSError, ValueError, KeyError, TypeError):
            return None  # a damaged entry is OCR'd again

    def store(self, page: int, lines: list[OcrLine]) -> None:
        path = self._path(page)
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps([{"text": x.text, "box": list(x.box), "indented": x.indented} for x in lines],
                                      ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, path)
        except OSError:
            pass  # a read-only cache: the page is OCR'd again next time

    def say(self, page, done: int, total: int) -> None:
        if self.report is not None:
            self.report(("page", page, done, total))

    def lines(self, page: int, image) -> list[OcrLine]:
        """The lines of one page (a PIL image, or a callable giving one), from the cache or OCR'd."""
        got = self.cached(page)
        if got is not None:
            return got
        if callable(image):
            image = image()
        if self.engine is None:
            self.engine = engine()
        got = recognise(self.engine, image)
        self.store(page, got)
        return got


def _engine_key() -> str:
    import hashlib

    return hashlib.sha256(ENGINE.encode()).hexdigest()[:8]


def engine():
    """RapidOCR with its packaged models; ImportError names the extra to install."""
    import importlib.util

    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError as e:
        out_of_memory = any(m in str(e) for m in ("failed to map", "bad_alloc", "Cannot allocate memory"))
        if importlib.util.find_spec("rapidocr_onnxruntime") is not None and out_of_memory:
            raise MemoryError(str(e)) from e  # installed, but its libraries do not fit the memory limit
        raise ImportError("OCR needs the [ocr] extra: pip install 'bulletin-qa[ocr]' (rapidocr_onnxruntime)") from e
    # the angle classifier is off: scans are upright, and it costs time on every line
    return RapidOCR(use_cls=False, print_verbose=False)


def recognise(ocr, image) -> list[OcrLine]:
    """OCR one page image (PIL): its lines in reading order."""
    import numpy as np

    img = image.convert("RGB")
    w, h = img.size
    result, _ = ocr(np.asarray(img)[:, :, ::-1].copy(), use_cls=False)  # RapidOCR takes BGR arrays
    boxes = []
    for pts, text, score in result or []:
        if float(score) < MIN_SCORE or not text.strip():
            continue
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        boxes.append((min(xs), min(ys), max(xs), max(ys), text.strip()))
    return [OcrLine(text, (x0 / w, y0 / h, x1 / w, y1 / h), ind)
            for text, (x0, y0, x1, y1), ind in reading_order(boxes)]


def reading_order(boxes: list[tuple]) -> list[tuple[str, tuple, bool]]:
    """(text, box, indented) of each line, in reading order, from boxes (x0, y0, x1, y1, text)
    in any order."""
    if not boxes:
        return []
    height = statistics.median(b[3] - b[1] for b in boxes) or 1.0
    out: list[tuple[str, tuple, bool]] = []
    _cut(list(boxes), height, out, depth=0)
    return out


def _gutter(boxes: list[tuple], height: float) -> float | None:
    """The x of the widest vertical strip (at least a character wide) that no box crosses, with
    boxes on both sides; None when there is none."""
    spans = sorted((b[0], b[2]) for b in boxes)
    best, reach = None, spans[0][1]
    for x0, x1 in spans[1:]:
        if x0 - reach >= 0.8 * height and (best is None or x0 - reach > best[0]):
            best = (x0 - reach, (reach + x0) / 2)
        reach = max(reach, x1)
    return best[1] if best else None


def _rows(boxes: list[tuple], height: float) -> list[list[tuple]]:
    """Boxes grouped into bands separated by a horizontal strip no box crosses, top to bottom."""
    bands: list[list[tuple]] = []
    bottom = None
    for b in sorted(boxes, key=lambda b: b[1]):
        if bands and b[1] < bottom - 0.1 * height:
            bands[-1].append(b)
            bottom = max(bottom, b[3])
        else:
            bands.append([b])
            bottom = b[3]
    return bands


def _cut(boxes: list[tuple], height: float, out: list, depth: int) -> None:
    """X-Y cut: columns left to right where a gutter runs through the whole region; else runs of
    bands that share a gutter (the columns under a headline) are cut, the rest read as lines."""
    x = _gutter(boxes, height) if depth < 12 else None
    if x is not None:
        _cut([b for b in boxes if b[2] <= x], height, out, depth + 1)
        _cut([b for b in boxes if b[0] >= x], height, out, depth + 1)
        return
    bands = _rows(boxes, height)
    i = 0
    while i < len(bands):
        j, group = i + 1, list(bands[i])
        while j < len(bands) and _gutter(group + bands[j], height) is not None:
            group += bands[j]
            j += 1
        if j > i + 1 and _gutter(group, height) is not None and depth < 12:
            _cut(group, height, out, depth + 1)
        else:
            for band in bands[i:j]:
                _lines(band, height, out)
        i = j


def _lines(band: list[tuple], height: float, out: list) -> None:
    """The boxes of one band (no gutter through it) as lines: boxes whose middles are within half
    a line of each other are one line, joined left to right."""
    left = min(b[0] for b in band)
    rows: list[list[tuple]] = []
    for b in sorted(band, key=lambda b: (b[1] + b[3]) / 2):
        mid = (b[1] + b[3]) / 2
        if rows and abs(mid - (rows[-1][0][1] + rows[-1][0][3]) / 2) < 0.5 * height:
            rows[-1].append(b)
        else:
            rows.append([b])
    for row in rows:
        row.sort(key=lambda b: b[0])
        text = row[0][4]
        for a, b in zip(row, row[1:]):
            text += (" " if b[0] - a[2] > 0.3 * height else "") + b[4]
        box = (min(b[0] for b in row), min(b[1] for b in row), max(b[2] for b in row), max(b[3] for b in row))
        out.append((text, box, row[0][0] - left >= 1.2 * height))


# --------------------------------------------------------------------------- files


def ocr_pages(job: OcrJob, pages: list[int], image_of) -> tuple[dict[int, list[OcrLine]], list[str]]:
    """The lines of each page (``image_of(page)``: its PIL image), and the pages skipped, named:
    earlier over a limit (``job.skip``), or failing now (memory, a damaged image)."""
    got: dict[int, list[OcrLine]] = {}
    skipped = [f"page {p}: {job.skip[p]}" for p in pages if p in job.skip]
    todo = [p for p in pages if p not in job.skip]
    for i, page in enumerate(todo):
        job.say(page, i, len(todo))
        try:
            got[page] = job.lines(page, lambda page=page: image_of(page))
        except ImportError as e:
            skipped.append(f"page {page}: no text layer, and {e}")
        except MemoryError:
            skipped.append(f"page {page}: OCR needs more memory than the reading worker's limit "
                           "(BULLETIN_QA_READ_MEMORY_MB)")
        except Exception as e:  # noqa: BLE001 - one bad page does not lose the others
            skipped.append(f"page {page}: OCR failed ({type(e).__name__}: {str(e)[:200]})")
    job.say(None, len(todo), len(todo))
    return got, sorted(skipped, key=lambda s: int(s.split(":")[0].split()[1]))


def put_lines(out: dict, page: int, lines: list[OcrLine]) -> None:
    """Append one OCR'd page to ``out`` ({"lines", "pages", "boxes"}): an indented line starts a
    paragraph (the cleaning's mark)."""
    from qa.ingest.errors import INDENT

    for x in lines:
        out["lines"].append((INDENT if x.indented else "") + x.text)
        out["pages"].append(page)
        out["boxes"].append([round(v, 4) for v in x.box])


def pdf_renderer(data: bytes):
    """``image_of(page)``: a PDF page (1-based) rendered at :data:`RENDER_DPI` (pypdfium2, which
    pdfplumber brings), refused past :data:`MAX_PIXELS`."""
    opened = []  # the document, opened at the first page (its library loads inside the page's limits)

    def image_of(page: int):
        if not opened:
            import pypdfium2 as pdfium

            opened.append(pdfium.PdfDocument(data))
        p = opened[0][page - 1]
        w, h = p.get_size()
        scale = RENDER_DPI / 72
        if w * h * scale * scale > MAX_PIXELS:
            scale = (MAX_PIXELS / (w * h)) ** 0.5
        return p.render(scale=scale, grayscale=True).to_pil()

    return image_of


def read_image(data: bytes, name: str, job: OcrJob) -> tuple[str, str, dict]:
    """A photo or scan (.png .jpg .tif ...; every frame of a multi-page TIFF is a page) read by OCR."""
    import io

    from PIL import Image

    from qa.ingest.errors import IngestError

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # Pillow refuses a larger image (DecompressionBombError)
    try:
        img = Image.open(io.BytesIO(data))
        frames = getattr(img, "n_frames", 1)
    except Exception as e:  # noqa: BLE001
        raise IngestError(f"{name}: not a readable image ({type(e).__name__}: {e})") from e

    def image_of(page: int):
        img.seek(page - 1)
        img.load()
        return img.copy()

    got, skipped = ocr_pages(job, list(range(1, frames + 1)), image_of)
    out = {"lines": [], "pages": [], "boxes": []}
    for page in sorted(got):
        put_lines(out, page, got[page])
    if not out["lines"]:
        raise IngestError(f"{name}: OCR found no text in the image" + (f" ({'; '.join(skipped)})" if skipped else ""))
    meta = {"format": "image", "pages": out["pages"], "page_count": frames, "ocr_boxes": out["boxes"],
            "ocr_pages": sorted(got)}
    if skipped:
        meta["skipped_pages"] = skipped
    return "\n".join(out["lines"]), "ocr", meta
