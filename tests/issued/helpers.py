"""PDF checks shared by the issued-document tests: text through pdftotext, page 1 through pdftoppm."""

from __future__ import annotations

import io
import subprocess

from PIL import Image


def pdf_text(data: bytes) -> str:
    """The PDF's text (pdftotext -layout, UTF-8)."""
    return subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()


def page_png(data: bytes, *, page: int = 1, dpi: int = 60) -> bytes:
    return subprocess.run(["pdftoppm", "-png", "-r", str(dpi), "-f", str(page), "-l", str(page), "-"],
                          input=data, capture_output=True, check=True).stdout


def ink_share(png: bytes) -> float:
    """Share of pixels that are not near-white: 0 for a blank page."""
    image = Image.open(io.BytesIO(png)).convert("L")
    histogram = image.histogram()
    return sum(histogram[:200]) / (image.width * image.height)


def colour_pixels(png: bytes, *, red_min: int = 150) -> int:
    """Pixels that are clearly red (the site outline and fill, the seal): proof the map was drawn."""
    import numpy as np

    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    return int(((rgb[..., 0] >= red_min) & (rgb[..., 1] < 120) & (rgb[..., 2] < 120)).sum())
