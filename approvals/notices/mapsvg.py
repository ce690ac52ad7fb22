"""A small map of a notice's site, drawn on the server as SVG: the site, the registered parcels
around it (outlines only, no codes or holders), a scale bar and a north arrow.

Drawn in the site's 3° Gauss–Krüger zone (metres, easting/northing), so the scale bar is true:
no tiles, no script, nothing loaded from anywhere (the page's CSP allows it as plain markup).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.contrib.gis.geos import GEOSGeometry, MultiPolygon, Polygon

from parcels.geo import gk3_epsg_or_none
from parcels.models import Parcel

WIDTH, HEIGHT, PAD = 320, 240, 16
# Context around the site: this share of its larger side, at least this many metres.
CONTEXT_SHARE, CONTEXT_MIN_M = 0.6, 60.0
MAX_NEIGHBOURS = 200


@dataclass(frozen=True)
class SiteMap:
    width: int
    height: int
    site_path: str
    neighbour_paths: list[str]
    bar_x: float
    bar_y: float
    bar_px: float
    bar_m: int
    extent_m: float


def _polygons(geom: GEOSGeometry) -> list[Polygon]:
    if isinstance(geom, Polygon):
        return [geom]
    if isinstance(geom, MultiPolygon):
        return list(geom)
    return [g for g in getattr(geom, "__iter__", lambda: [])() if isinstance(g, Polygon)]


def _path(geom: GEOSGeometry, to_px) -> str:
    parts = []
    for polygon in _polygons(geom):
        for ring in polygon:
            pts = [to_px(x, y) for x, y in ring.coords]
            parts.append("M" + " L".join(f"{px:.1f} {py:.1f}" for px, py in pts) + " Z")
    return " ".join(parts)


def _nice_metres(limit: float) -> int:
    """The largest 1/2/5 × 10ⁿ metres not above `limit` (at least 1 m)."""
    if limit < 1:
        return 1
    base = 10 ** math.floor(math.log10(limit))
    return int(next(m * base for m in (5, 2, 1) if m * base <= limit))


def site_map(site: MultiPolygon) -> SiteMap | None:
    """The map of a 4490 site, or None outside China's 3° zones (the page then shows none)."""
    epsg = gk3_epsg_or_none(site.centroid.x)
    if epsg is None:
        return None
    local = site.transform(epsg, clone=True)
    xmin, ymin, xmax, ymax = local.extent
    margin = max(CONTEXT_SHARE * max(xmax - xmin, ymax - ymin), CONTEXT_MIN_M)
    xmin, ymin, xmax, ymax = xmin - margin, ymin - margin, xmax + margin, ymax + margin
    scale = min((WIDTH - 2 * PAD) / (xmax - xmin), (HEIGHT - 2 * PAD) / (ymax - ymin))  # px per metre
    ox = (WIDTH - scale * (xmax - xmin)) / 2
    oy = (HEIGHT - scale * (ymax - ymin)) / 2

    def to_px(x: float, y: float) -> tuple[float, float]:
        # SVG's y grows downwards; northing grows up
        return ox + (x - xmin) * scale, HEIGHT - (oy + (y - ymin) * scale)

    frame = Polygon.from_bbox((xmin, ymin, xmax, ymax))
    frame.srid = epsg
    frame_4490 = frame.transform(site.srid, clone=True)
    neighbours = []
    for parcel in Parcel.objects.filter(geom__intersects=frame_4490).only("geom")[:MAX_NEIGHBOURS]:
        clipped = parcel.geom.transform(epsg, clone=True).intersection(frame)
        if not clipped.empty:
            neighbours.append(_path(clipped, to_px))
    bar_m = _nice_metres((WIDTH / 3) / scale)
    return SiteMap(WIDTH, HEIGHT, _path(local, to_px), neighbours, PAD, HEIGHT - PAD / 2 - 4, bar_m * scale, bar_m, xmax - xmin)
