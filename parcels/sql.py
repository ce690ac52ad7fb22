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


class _CopyStream:
    """A file-like object feeding COPY ... FROM STDIN in text format, built chunk by chunk."""

    def __init__(self, chunks) -> None:
        self._chunks = iter(chunks)
        self._buffer = b""

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk
        if size < 0:
            out, self._buffer = self._buffer, b""
        else:
            out, self._buffer = self._buffer[:size], self._buffer[size:]
        return out

    readline = read


def copy_escape(values: list[str]) -> list[str]:
    """Escapes text for COPY's text format (backslash, tab, newline, carriage return)."""
    return [v.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r") for v in values]


def copy_zones(*, layer_version_id: int, rows, total: int) -> int:
    """Bulk-loads zones of one layer version: COPY into a temporary table, then one INSERT … SELECT
    that computes every ellipsoidal area (m², geography on the CGCS2000 ellipsoid) in PostGIS.

    `rows` yields bytes chunks of COPY text lines: class_code, class_name, attributes (JSON),
    geometry (hex EWKB, SRID 4490, MultiPolygon). Returns the number of rows inserted.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS onemap_zone_import "
            "(class_code text, class_name text, attributes jsonb, geom geometry(MultiPolygon, 4490))"
        )
        cursor.execute("TRUNCATE onemap_zone_import")
        cursor.cursor.copy_expert("COPY onemap_zone_import FROM STDIN", _CopyStream(rows), size=1 << 20)
        cursor.execute(
            "INSERT INTO parcels_zone (layer_version_id, class_code, class_name, attributes, geom, area_m2) "
            "SELECT %s, class_code, class_name, attributes, geom, ST_Area(geom::geography, true) FROM onemap_zone_import",
            [layer_version_id],
        )
        inserted = cursor.rowcount
        cursor.execute("DROP TABLE onemap_zone_import")
    if inserted != total:
        raise RuntimeError(f"COPY loaded {inserted} zones, expected {total}")
    return inserted


def zone_tile(*, layer_version_id: int, z: int, x: int, y: int, min_area_m2: float, extent: int) -> bytes:
    """A Mapbox vector tile (layer name "zones") of one layer version's zones in tile z/x/y.

    The tile envelope is made in Web Mercator (3857) and transformed to 4490 so the GiST index on
    the stored geometry is used. Zones smaller than `min_area_m2` (stored ellipsoidal area) are
    dropped: at low zooms they would be sub-pixel specks that only add bytes.
    """
    sql = """
        WITH bounds AS (
            SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS merc,
                   ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s), 4490) AS geo
        )
        SELECT ST_AsMVT(tile, 'zones', %(extent)s, 'geom', 'id') FROM (
            SELECT z.id, z.class_code, z.class_name, round(z.area_m2::numeric, 1) AS area_m2,
                   ST_AsMVTGeom(ST_Transform(z.geom, 3857), b.merc, %(extent)s, 16, true) AS geom
            FROM parcels_zone z, bounds b
            WHERE z.layer_version_id = %(version)s AND z.geom && b.geo AND z.area_m2 >= %(min_area)s
        ) AS tile WHERE tile.geom IS NOT NULL
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, {"z": z, "x": x, "y": y, "extent": extent, "version": layer_version_id, "min_area": min_area_m2})
        row = cursor.fetchone()
    return bytes(row[0]) if row and row[0] is not None else b""
