"""Geodesy helpers: CRS codes, area units and PostGIS area expressions (docs/domain.md, "Coordinate systems and areas").

Storage is SRID 4490 (CGCS2000 lon/lat). Two areas are reported for every figure:
- ellipsoidal: ST_Area on geography (CGCS2000/GRS80 ellipsoid), m²; the primary figure;
- Gauss–Krüger planar: ST_Area after ST_Transform to the site's 3° zone (zone-prefixed EPSG), m².
Areas are never computed in degrees.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from django.contrib.gis.db.models import GeometryField
from django.db.models import FloatField, Func
from pyproj import Transformer

STORAGE_SRID = 4490
M2_PER_MU = 10000 / 15  # 1 mu = 666.667 m²
M2_PER_HA = 10000
# Polygons smaller than this (degrees², ≈ 0.01 m² in China) are degenerate: slivers and
# "polygons" of collinear points whose float area is not exactly zero.
MIN_AREA_DEG2 = 1e-12


class GeographyArea(Func):
    """Ellipsoidal area in m² of a 4490 geometry expression (ST_Area on geography, spheroid=true)."""

    template = "ST_Area(%(expressions)s::geography, true)"
    output_field = FloatField()


class CollectionExtractPolygons(Func):
    """Keeps only the polygonal part of an intersection (drops touching lines and points)."""

    function = "ST_CollectionExtract"
    template = "ST_CollectionExtract(%(expressions)s, 3)"
    output_field = GeometryField(srid=STORAGE_SRID)


def gk3_zone(lon: float) -> int:
    """3° Gauss–Krüger zone number for a longitude in degrees (central meridian 3·zone)."""
    return round(lon / 3.0)


def gk3_epsg(lon: float) -> int:
    """CGCS2000 3° GK EPSG code *with* zone prefix for a longitude: zone + 4488 (zones 25–45)."""
    zone = gk3_zone(lon)
    if not 25 <= zone <= 45:
        raise ValueError(f"longitude {lon:.6f} is outside China's 3° zones 25–45")
    return zone + 4488


def gk3_epsg_or_none(lon: float) -> int | None:
    """gk3_epsg, or None outside China's 3° zones 25–45 (the Gauss–Krüger figure is then omitted)."""
    zone = gk3_zone(lon)
    return zone + 4488 if 25 <= zone <= 45 else None


@dataclass(frozen=True)
class SiteAreas:
    """A site's ellipsoidal area (m², always) and its GK planar area and EPSG (None outside the
    3° zones 25–45, with a warning saying so)."""

    ellipsoidal_m2: float
    gk_m2: float | None
    gk_epsg: int | None
    warnings: tuple[str, ...] = ()


def site_areas(site) -> SiteAreas:
    """Ellipsoidal and, inside China's 3° zones, Gauss–Krüger planar area of a 4490 geometry."""
    from django.utils.translation import gettext as _

    from parcels.sql import geometry_areas

    lon = site.centroid.x
    epsg = gk3_epsg_or_none(lon)
    if epsg is None:
        # geometry_areas needs a target SRID for its planar figure; 4490 costs nothing and the
        # (degree²) planar value is discarded.
        ellipsoidal, _planar = geometry_areas(site, STORAGE_SRID)
        warning = _("the site (longitude %(lon).4f) lies outside China's 3° Gauss–Krüger zones 25–45: no Gauss–Krüger area is given") % {"lon": lon}
        return SiteAreas(ellipsoidal, None, None, (warning,))
    ellipsoidal, planar = geometry_areas(site, epsg)
    return SiteAreas(ellipsoidal, planar, epsg)


@dataclass(frozen=True)
class AreaFigures:
    """An area in m² with its hectare and mu equivalents."""

    m2: float

    @property
    def ha(self) -> float:
        return self.m2 / M2_PER_HA

    @property
    def mu(self) -> float:
        return self.m2 / M2_PER_MU

    def as_dict(self, prefix: str = "area") -> dict[str, float]:
        return {
            f"{prefix}_m2": round(self.m2, 2),
            f"{prefix}_ha": round(self.ha, 6),
            f"{prefix}_mu": round(self.mu, 4),
        }


class SimplifyPreserveTopology(Func):
    """ST_SimplifyPreserveTopology with a tolerance in the geometry's units (degrees for 4490)."""

    function = "ST_SimplifyPreserveTopology"
    output_field = GeometryField(srid=STORAGE_SRID)


def tolerance_for_zoom(zoom: int) -> float:
    """Simplification tolerance in degrees ≈ a quarter of a screen pixel at web-map zoom `zoom`."""
    metres_per_pixel = 156543.03 * 0.87 / (2 ** max(0, min(zoom, 22)))  # cos(29.9°) ≈ 0.87 (Hubei)
    return metres_per_pixel / 4 / 111_320


def ellipsoidal_areas(geoms: np.ndarray) -> np.ndarray:
    """Ellipsoidal areas in m² of lon/lat (4490) polygons, vectorised.

    Each geometry is projected to an Albers equal-area projection on the GRS80 ellipsoid (CGCS2000's
    ellipsoid) fitted to the data's latitude range; an equal-area projection preserves area on the
    ellipsoid, so the planar area there is the ellipsoidal area. Edges are straight in the projection
    rather than geodesics; for survey-sized edges the difference from PostGIS's geography area is
    below 1e-6 relative (tests/parcels/test_areas.py checks it against PostGIS and pyproj.Geod).
    This is how imports compute stored areas without a per-feature round trip through geography.
    """
    geoms = np.asarray(geoms, dtype=object)
    if len(geoms) == 0:
        return np.zeros(0)
    xmin, ymin, xmax, ymax = shapely.total_bounds(geoms)
    lat_1, lat_2 = ymin + (ymax - ymin) / 6, ymax - (ymax - ymin) / 6
    if lat_2 - lat_1 < 1e-6:
        lat_1, lat_2 = ymin - 0.5, ymax + 0.5
    proj = f"+proj=aea +lat_1={lat_1:.9f} +lat_2={lat_2:.9f} +lat_0={(ymin + ymax) / 2:.9f} +lon_0={(xmin + xmax) / 2:.9f} +ellps=GRS80 +units=m +no_defs"
    transformer = Transformer.from_crs("EPSG:4490", proj, always_xy=True)
    projected = shapely.transform(geoms, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))
    return shapely.area(projected)
