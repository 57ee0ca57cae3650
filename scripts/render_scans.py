"""Render text bulletins as scanned documents: image-only PDFs and PNG pages (issue 29).

Each text file becomes A4 pages at ``--dpi`` (default 150) in two newspaper columns, drawn in
WenQuanYi Micro Hei (Debian's fonts-wqy-microhei), then "scanned": a slight skew, a grey paper,
sensor noise and a little blur.  The file's own lines are kept (a bulletin's lines are its
columns' lines), blank lines too.  Files alternate between an image-only PDF (all pages) and
PNG pages (one file per page, ``NAME.p1.png``...).

    python scripts/render_scans.py corpus/ /tmp/scanned [--dpi 150] [--png-every 2] [--seed 0]
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
A4_INCHES = (8.27, 11.69)


def page_layout(dpi: int) -> dict:
    """Sizes in pixels for A4 at ``dpi``: 10.5 pt body text, two columns."""
    w, h = int(A4_INCHES[0] * dpi), int(A4_INCHES[1] * dpi)
    size = round(10.5 / 72 * dpi)
    margin = round(0.8 * dpi)
    gutter = round(0.35 * dpi)
    return {"size": (w, h), "font": size, "line": round(size * 1.55), "margin": margin,
            "col_width": (w - 2 * margin - gutter) // 2, "gutter": gutter}


def paginate(lines: list[str], dpi: int) -> list[list[list[str]]]:
    """Pages of two columns of lines."""
    lay = page_layout(dpi)
    per_col = (lay["size"][1] - 2 * lay["margin"]) // lay["line"]
    cols = [lines[i:i + per_col] for i in range(0, len(lines), per_col)] or [[]]
    return [cols[i:i + 2] for i in range(0, len(cols), 2)]


def wrap(line: str, width_chars: int) -> list[str]:
    return [line[i:i + width_chars] for i in range(0, len(line), width_chars)] or [""]


def draw_page(columns: list[list[str]], dpi: int, rnd: random.Random):
    """One clean page (PIL image, greyscale)."""
    from PIL import Image, ImageDraw, ImageFont

    lay = page_layout(dpi)
    img = Image.new("L", lay["size"], 255)
    d = ImageDraw.Draw(img)
    font = ImageFont.truetype(FONT, lay["font"])
    for c, col in enumerate(columns):
        x = lay["margin"] + c * (lay["col_width"] + lay["gutter"])
        for i, line in enumerate(col):
            d.text((x, lay["margin"] + i * lay["line"]), line, font=font, fill=rnd.randint(10, 40))
    return img


def scan(img, rnd: random.Random, noise: float = 10.0, skew: float = 0.6):
    """The page as a scanner gives it back: rotated by up to ``skew`` degrees, grey paper,
    Gaussian noise of ``noise`` grey levels, a slight blur."""
    import numpy as np
    from PIL import Image, ImageFilter

    img = img.rotate(rnd.uniform(-skew, skew), resample=Image.BICUBIC, expand=False, fillcolor=255)
    img = img.filter(ImageFilter.GaussianBlur(0.6))
    a = np.asarray(img, dtype=np.float32) * 0.92 + 12
    a += np.random.default_rng(rnd.randrange(1 << 30)).normal(0, noise, a.shape)
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))


def _indent(line: str) -> str:
    """A line as printed: U+FFFD (a text extractor's mark of a paragraph indent) and leading spaces
    become a two-character indent."""
    text = line.replace("\ufffd", " ").rstrip()
    return "\u3000\u3000" + text.lstrip() if text[:1].isspace() and text.strip() else text.strip()


def render_file(text: str, dpi: int, rnd: random.Random) -> list:
    """The scanned pages of one text file."""
    lay = page_layout(dpi)
    width = lay["col_width"] // lay["font"]
    lines = [w for line in text.replace("\r\n", "\n").split("\n") for w in wrap(_indent(line), width)]
    return [scan(draw_page(cols, dpi, rnd), rnd) for cols in paginate(lines, dpi)]


def save_pdf(pages: list, path: Path, dpi: int) -> None:
    """An image-only PDF: one JPEG-compressed image per page, no text layer."""
    first, *rest = [p.convert("RGB") for p in pages]
    first.save(path, "PDF", resolution=float(dpi), save_all=True, append_images=rest, quality=80)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--dpi", type=int, default=150)
    ap.add_argument("--png-every", type=int, default=2, help="every Nth file as PNG pages (0: none)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rnd = random.Random(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    for n, src in enumerate(sorted(p for p in args.corpus.iterdir() if p.suffix in (".txt", ".md"))):
        pages = render_file(src.read_text(encoding="utf-8"), args.dpi, rnd)
        if args.png_every and n % args.png_every == args.png_every - 1:
            for i, page in enumerate(pages, 1):
                page.save(args.out / f"{src.stem}.p{i}.png", optimize=True)
        else:
            save_pdf(pages, args.out / f"{src.stem}.pdf", args.dpi)
        print(f"{src.name}: {len(pages)} page(s)")


if __name__ == "__main__":
    main()
