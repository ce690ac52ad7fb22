"""Independent area computations for assertions: shapely (GEOS) + pyproj.Geod on the GRS80
ellipsoid (CGCS2000's ellipsoid differs from GRS80 by 1e-10 in flattening), not PostGIS."""

from __future__ import annotations

from collections.abc import Iterable

import shapely
from pyproj import Geod
from shapely.geometry.base import BaseGeometry

GEOD = Geod(ellps="GRS80")


def geod_area_m2(geom: BaseGeometry) -> float:
    """Ellipsoidal area in m² of a lon/lat polygonal geometry (0 for lines and points)."""
    if geom.is_empty:
        return 0.0
    if geom.geom_type in {"Polygon", "MultiPolygon"}:
        # pyproj sums signed ring areas: exteriors must run counter-clockwise and holes clockwise
        return abs(GEOD.geometry_area_perimeter(shapely.orient_polygons(geom))[0])
    if hasattr(geom, "geoms"):
        return sum(geod_area_m2(g) for g in geom.geoms)
    return 0.0


def overlap_m2(site: BaseGeometry, zones: Iterable[BaseGeometry]) -> float:
    return sum(geod_area_m2(site.intersection(z)) for z in zones)


def assert_area_close(actual: float, expected: float) -> None:
    """Within 0.5 m² or 0.01 %, whichever is larger (issue #2)."""
    tolerance = max(0.5, abs(expected) * 1e-4)
    assert abs(actual - expected) <= tolerance, f"{actual} m² vs independently computed {expected} m² (±{tolerance})"
