"""PDF → PNG with poppler's pdftoppm: the PNG of a sheet is its PDF rasterised, so there is one
drawing path (SVG → WeasyPrint PDF) and the PNG shows exactly what prints."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from maps.render import RenderError

DPI_CHOICES: tuple[int, ...] = (96, 150, 200, 300)
PDFTOPPM_TIMEOUT_S = 60


def pdf_to_png(pdf: bytes, *, dpi: int, page: int = 1) -> bytes:
    """Page `page` of `pdf` as PNG at `dpi` (one of DPI_CHOICES). Fixed arguments, no shell, a
    timeout; the PDF is ours (WeasyPrint's output), never an upload."""
    if dpi not in DPI_CHOICES:
        raise RenderError(f"dpi must be one of {', '.join(map(str, DPI_CHOICES))}")
    if not isinstance(page, int) or page < 1:
        raise RenderError("page must be a positive whole number")
    with tempfile.TemporaryDirectory(prefix="onemap-png-") as tmp:
        source = Path(tmp) / "sheet.pdf"
        source.write_bytes(pdf)
        target = Path(tmp) / "sheet"
        executable = shutil.which("pdftoppm")
        if executable is None:
            raise RenderError("pdftoppm (poppler-utils) is not installed")
        try:
            # Fixed argument list built from validated integers and our own temporary paths.
            subprocess.run(  # noqa: S603
                [executable, "-png", "-r", str(dpi), "-f", str(page), "-l", str(page), "-singlefile", str(source), str(target)],
                check=True, capture_output=True, timeout=PDFTOPPM_TIMEOUT_S,
            )
        except subprocess.TimeoutExpired:
            raise RenderError("rasterising the sheet took too long: choose a lower resolution") from None
        except subprocess.CalledProcessError as exc:
            raise RenderError("the sheet could not be rasterised") from exc
        return target.with_suffix(".png").read_bytes()
