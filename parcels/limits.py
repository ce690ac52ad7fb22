"""How big a site OneMap accepts, and how long one SQL statement may run.

A site's cost is in its vertices (every intersection walks them), its parts (each is a polygon the
queries handle one by one; 19,600 squares took 31 s on /api/overlap/ and 109 s to submit) and its
area (the zones and parcels under it). The overlap API, the planner's overlap query and submission
refuse a site above any limit before any spatial query runs, with a message naming the limit. The
limits are settings (ONEMAP_MAX_SITE_*, onemap/settings.py, which explains the defaults).

Any statement that still runs long is cancelled by PostgreSQL's statement_timeout (settings,
ONEMAP_STATEMENT_TIMEOUT); jobs that are long by nature lift it for their own transaction only
(`lift_statement_timeout`).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from django.conf import settings
from django.contrib.gis.geos import MultiPolygon
from django.db import connection
from django.utils.translation import gettext as _

from parcels.exceptions import SpatialInputError
from parcels.geo import ellipsoidal_areas


class SiteTooLarge(SpatialInputError):
    """A site above a configured limit; `limit` names it ("vertices", "parts" or "area_m2")."""

    def __init__(self, message: str, *, limit: str, value: float, maximum: float) -> None:
        super().__init__(message)
        self.limit = limit
        self.value = value
        self.maximum = maximum


def _n(value: float) -> str:
    """12,345 (a thousands separator the same in both languages)."""
    return f"{value:,.0f}"


def check_geojson_size(geometries: Iterable[Any]) -> None:
    """Raises SiteTooLarge when GeoJSON Polygon/MultiPolygon objects hold more parts or vertices
    than the settings allow, counted on the decoded JSON before any geometry is built: building
    19,600 polygons through GEOS takes 20 s, counting them a few milliseconds. Lists (JSON) and
    tuples (shapely's __geo_interface__, the Shapefile/KML path) are counted alike. Anything
    malformed is skipped here; the parser names it."""
    sequence = (list, tuple)
    parts = vertices = 0
    for geometry in geometries:
        if not isinstance(geometry, dict) or not isinstance(geometry.get("coordinates"), sequence):
            continue
        coordinates = geometry["coordinates"]
        polygons = [coordinates] if geometry.get("type") == "Polygon" else coordinates if geometry.get("type") == "MultiPolygon" else []
        for polygon in polygons:
            parts += 1
            if isinstance(polygon, sequence):
                vertices += sum(len(ring) for ring in polygon if isinstance(ring, sequence))
    check_counts(parts=parts, vertices=vertices)


# Shapefile shape types (ESRI white paper, table 1) whose record content starts with a bounding box
# and then numParts, numPoints (polylines, polygons, multipatches) or numPoints (multipoints).
_SHP_PARTS_TYPES = np.array([3, 5, 13, 15, 23, 25, 31])
_SHP_MULTIPOINT_TYPES = np.array([8, 18, 28])
_SHP_POINT_TYPES = np.array([1, 11, 21])


def check_shapefile_size(*, shp: Path, shx: Path) -> None:
    """Raises SiteTooLarge when a Shapefile holds more records (parts) or points (vertices) than the
    settings allow, counted on the record headers before GDAL builds anything: an 0.75 MB zip with
    one square repeated to 8,000,001 vertices took 205 s and 5.9 GB through GDAL and union_all.
    Records are found through the .shx index, as GDAL finds them (an index may point at the same
    record many times); numParts/numPoints are read from each record's header, never its points."""
    n_records = max(shx.stat().st_size - 100, 0) // 8
    limit = settings.ONEMAP_MAX_SITE_PARTS
    if n_records > 4 * limit:
        check_counts(parts=n_records, vertices=0)  # far too many to look at one by one: each record is a feature
    index = np.fromfile(shx, dtype=">i4", offset=100, count=2 * n_records).reshape(-1, 2)
    shp_size = shp.stat().st_size
    data = np.memmap(shp, dtype=np.uint8, mode="r") if shp_size else np.zeros(0, dtype=np.uint8)
    offsets = index[:, 0].astype(np.int64) * 2 + 8  # record content starts after its 8-byte header
    offsets = offsets[(offsets >= 100) & (offsets + 44 <= shp_size)]  # the rest GDAL refuses as corrupt

    def little_int(at: np.ndarray) -> np.ndarray:
        """The little-endian int32 at each byte offset `at` of the .shp."""
        return np.ascontiguousarray(data[at[:, None] + np.arange(4)]).view("<i4").reshape(-1).astype(np.int64)

    types = little_int(offsets)
    parts = int(np.count_nonzero(types != 0))
    points = np.where(np.isin(types, _SHP_PARTS_TYPES), little_int(offsets + 40),
                      np.where(np.isin(types, _SHP_MULTIPOINT_TYPES), little_int(offsets + 36), np.isin(types, _SHP_POINT_TYPES)))
    check_counts(parts=parts, vertices=int(np.clip(points, 0, None).sum()))


def check_kml_size(data: bytes, *, source: str) -> None:
    """Raises SiteTooLarge when a KML holds more <Polygon>s (parts) or coordinate tuples (vertices,
    in every <coordinates>) than the settings allow, counted on the parsed XML text before GDAL
    reads it (a 240,000-vertex KML took 5 s through GDAL). The XML parser is used rather than a
    pattern because character references (&#32;) may separate tuples. The file has passed
    parcels.importers.safety (no DOCTYPE, so no entities); malformed XML raises SpatialInputError."""
    import xml.etree.ElementTree as ET  # entities are refused before (safety._check_kml)
    from io import BytesIO

    parts = vertices = 0
    try:
        for _event, element in ET.iterparse(BytesIO(data), events=("end",)):  # noqa: S314 - no DOCTYPE (safety)
            tag = element.tag.rsplit("}", 1)[-1] if isinstance(element.tag, str) else ""
            if tag == "Polygon":
                parts += 1
            elif tag == "coordinates":
                vertices += len((element.text or "").split())
            element.clear()
    except ET.ParseError as exc:
        raise SpatialInputError(_("cannot be read as KML: not well-formed XML"), source=source) from exc
    check_counts(parts=parts, vertices=vertices)


def check_txt_size(data: bytes) -> None:
    """Raises SiteTooLarge when a boundary-point TXT file (报盘 TXT) holds more parcels or points than
    the settings allow, counted on its lines before the parser builds anything (the parser takes
    20 s for 19,600 parcels): a parcel header ends with "@", a point line is "name,ring,x,y". Commas
    are ASCII in GBK and UTF-8 alike; a line the count misreads is still refused after parsing."""
    parts = vertices = 0
    for line in data.splitlines():
        line = line.strip()
        if line.endswith(b"@"):
            parts += 1
        elif line.count(b",") == 3:
            vertices += 1
    check_counts(parts=parts, vertices=vertices)


def check_counts(*, parts: int, vertices: int) -> None:
    """Raises SiteTooLarge when `parts` or `vertices` is above its limit (counted by the caller)."""
    if parts > settings.ONEMAP_MAX_SITE_PARTS:
        raise SiteTooLarge(
            _("site has %(value)s parts; the limit is %(limit)s") % {"value": _n(parts), "limit": _n(settings.ONEMAP_MAX_SITE_PARTS)},
            limit="parts", value=parts, maximum=settings.ONEMAP_MAX_SITE_PARTS)
    if vertices > settings.ONEMAP_MAX_SITE_VERTICES:
        raise SiteTooLarge(
            _("site has %(value)s vertices; the limit is %(limit)s")
            % {"value": _n(vertices), "limit": _n(settings.ONEMAP_MAX_SITE_VERTICES)},
            limit="vertices", value=vertices, maximum=settings.ONEMAP_MAX_SITE_VERTICES)


def check_site_size(*, site: MultiPolygon) -> None:
    """Raises SiteTooLarge when `site` (4490) has more parts, vertices or area than the settings
    allow. Counting is in memory (GEOS, pyproj), so a refused site costs no database work."""
    check_counts(parts=len(site), vertices=site.num_coords)
    # ellipsoidal like every area in OneMap (within 1e-6 of PostGIS geography; parcels.geo)
    area_m2 = float(ellipsoidal_areas(np.array([shapely.from_wkb(bytes(site.wkb))], dtype=object))[0])
    if area_m2 > settings.ONEMAP_MAX_SITE_AREA_M2:
        raise SiteTooLarge(
            _("site area is %(value)s m² (%(km2).2f km²); the limit is %(limit)s m² (%(limit_km2).2f km²)")
            % {"value": _n(area_m2), "km2": area_m2 / 1e6, "limit": _n(settings.ONEMAP_MAX_SITE_AREA_M2),
               "limit_km2": settings.ONEMAP_MAX_SITE_AREA_M2 / 1e6},
            limit="area_m2", value=area_m2, maximum=settings.ONEMAP_MAX_SITE_AREA_M2)


def lift_statement_timeout() -> None:
    """No statement timeout for the rest of the current transaction (SET LOCAL): for jobs that
    are long by nature and bounded by their input (layer and parcel imports). Must be called inside
    transaction.atomic; outside one, SET LOCAL would do nothing."""
    if not connection.in_atomic_block:
        raise RuntimeError("lift_statement_timeout() must run inside transaction.atomic")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL statement_timeout = 0")
