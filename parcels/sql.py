"""The only module with raw SQL in the spatial core: what the ORM cannot say without a model row.

Every statement is parameterised; geometries travel as EWKB (SRID included).
"""

from __future__ import annotations

from django.contrib.gis.geos import GEOSGeometry
from django.db import connection


def geometry_areas(geom: GEOSGeometry, gk_epsg: int) -> tuple[float, float]:
    """(ellipsoidal m² on the geometry's geographic SRID, planar m² after ST_Transform to `gk_epsg`)."""
    ewkb = bytes(geom.ewkb)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_Area(ST_GeomFromEWKB(%s)::geography, true), ST_Area(ST_Transform(ST_GeomFromEWKB(%s), %s))",
            [ewkb, ewkb, int(gk_epsg)],
        )
        ellipsoidal, planar = cursor.fetchone()
    return float(ellipsoidal), float(planar)
