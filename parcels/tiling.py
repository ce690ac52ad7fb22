"""Vector-tile generalisation: which zones a tile at a given zoom draws, and its grid size."""

from __future__ import annotations

import numpy as np

# A zone appears in tiles from the first zoom at which it covers this many display pixels (256-px
# tiles; six pixels ≈ a 2.5 × 2.5 px speck); from DETAIL_ZOOM on every zone is drawn. Smaller zones would be sub-pixel specks that
# cost bytes and milliseconds without being visible.
MIN_FEATURE_PIXELS = 6.0
DETAIL_ZOOM = 15
EQUATOR_M_PER_PIXEL = 156543.03  # Web Mercator, zoom 0, 256-px tiles


def zone_min_zoom(areas_m2: np.ndarray, lats: np.ndarray) -> np.ndarray:
    """Per zone, the first zoom (0…DETAIL_ZOOM) at which it covers MIN_FEATURE_PIXELS pixels."""
    pixel0 = EQUATOR_M_PER_PIXEL * np.cos(np.radians(lats))
    with np.errstate(divide="ignore"):
        z = 0.5 * np.log2(MIN_FEATURE_PIXELS * pixel0 * pixel0 / np.maximum(areas_m2, 1e-9))
    return np.clip(np.ceil(z), 0, DETAIL_ZOOM).astype(np.int16)


def tile_extent(zoom: int) -> int:
    """MVT grid size: full 4096 from zoom 14, coarser below (smaller tiles, nothing visible lost)."""
    return 4096 if zoom >= 14 else 1024
