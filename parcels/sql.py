"""The only module with raw SQL in the spatial core: what the ORM cannot say without a model row.

Every statement is parameterised; geometries travel as EWKB (SRID included).
"""

from __future__ import annotations

import itertools
import struct
from collections.abc import Iterator

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


_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
_COPY_TRAILER = struct.pack(">h", -1)


def zone_copy_rows(
    *, layer_version_id: int, codes: list[str], names: list[str], attributes: list[str], wkbs: list[bytes], areas: list[float], min_zooms: list[int]
) -> bytes:
    """Rows for parcels_zone in PostgreSQL's binary COPY format (without the file header/trailer).

    Columns: layer_version_id (int8), class_code, class_name (text), attributes (jsonb, JSON text),
    geom (EWKB, SRID 4490, MultiPolygon; PostGIS's binary receive), area_m2 (float8), min_zoom (int2).
    """
    head = struct.pack(">hiq", 7, 8, layer_version_id)
    pack_len = struct.Struct(">i").pack
    tail = struct.Struct(">idih").pack
    parts: list[bytes] = []
    for code, name, attrs, wkb, area, min_zoom in zip(codes, names, attributes, wkbs, areas, min_zooms, strict=True):
        c, n, a = code.encode(), name.encode(), attrs.encode()
        parts += (head, pack_len(len(c)), c, pack_len(len(n)), n, pack_len(len(a) + 1), b"\x01", a, pack_len(len(wkb)), wkb, tail(8, area, 2, min_zoom))
    return b"".join(parts)


def copy_zones(*, chunks: Iterator[bytes], total: int) -> int:
    """Bulk-loads zones with one binary COPY straight into parcels_zone (its GiST indexes are kept
    up to date by PostgreSQL). `chunks` yields rows from zone_copy_rows. Returns the number of rows
    loaded; fails unless it is `total`."""
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(
            "COPY parcels_zone (layer_version_id, class_code, class_name, attributes, geom, area_m2, min_zoom) FROM STDIN WITH (FORMAT binary)",
            _CopyStream(itertools.chain([_COPY_HEADER], chunks, [_COPY_TRAILER])),
            size=1 << 20,
        )
        loaded = cursor.cursor.rowcount
    if loaded != total:
        raise RuntimeError(f"COPY loaded {loaded} zones, expected {total}")
    return loaded


def zone_overlap_by_class(*, site: GEOSGeometry, version_ids: list[int], tolerance_m2: float) -> list[dict]:
    """Per (layer version, class code): overlap with `site` in m² (ellipsoidal), zones hit, a class name.

    The site is written as a constant in each predicate (not joined from a subquery) so that the
    planner folds it and PostGIS reuses one prepared geometry across rows.
    Raw SQL because the per-zone overlap is computed once in a derived table and then both summed
    and used to count the zones hit (overlap above `tolerance_m2`, so a zone that only touches the
    site does not count) — the ORM would repeat the expression. A zone wholly inside the site
    contributes its stored area, so only zones crossing the boundary are intersected.
    """
    sql = """
        SELECT layer_version_id, class_code, max(class_name), sum(overlap), count(*) FILTER (WHERE overlap > %(tol)s)
        FROM (
            SELECT z.layer_version_id, z.class_code, z.class_name,
                   CASE WHEN ST_CoveredBy(z.geom, ST_GeomFromEWKB(%(site)s)) THEN z.area_m2
                        ELSE ST_Area(ST_Intersection(z.geom, ST_GeomFromEWKB(%(site)s))::geography, true) END AS overlap
            FROM parcels_zone z
            WHERE z.layer_version_id = ANY(%(versions)s) AND ST_Intersects(z.geom, ST_GeomFromEWKB(%(site)s))
        ) AS hits
        GROUP BY layer_version_id, class_code
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, {"site": bytes(site.ewkb), "versions": list(version_ids), "tol": tolerance_m2})
        rows = cursor.fetchall()
    return [
        {"layer_version_id": v, "class_code": code, "name": name or "", "area": float(area or 0.0), "count": count}
        for v, code, name, area, count in rows
    ]


def refine_large_zone_areas(*, layer_version_id: int, min_span_deg: float) -> int:
    """Recomputes with PostGIS geography the stored area of zones spanning more than `min_span_deg`
    degrees (continent-sized features, long edges), where the equal-area shortcut drifts from the
    geodesic area. Survey-sized zones are untouched. Returns the number of zones updated."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE parcels_zone SET area_m2 = ST_Area(geom::geography, true) "
            "WHERE layer_version_id = %s AND (ST_XMax(geom) - ST_XMin(geom) > %s OR ST_YMax(geom) - ST_YMin(geom) > %s)",
            [layer_version_id, min_span_deg, min_span_deg],
        )
        return cursor.rowcount


def zone_tile(*, layer_version_id: int, z: int, x: int, y: int, extent: int) -> bytes:
    """A Mapbox vector tile (layer name "zones") of one layer version's zones in tile z/x/y.

    Zones whose min_zoom is above z are left out (they would be sub-pixel; the partial GiST
    index of the zoom band skips them). Geometries go into the tile straight from 4490: the tile's
    lon/lat box (its Web Mercator envelope transformed exactly at the corners) is mapped linearly,
    which within one tile differs from the Mercator projection by under 0.2 display pixels at
    zoom ≥ 10, and saves projecting every vertex.
    """
    sql = """
        WITH bounds AS (SELECT ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s), 4490) AS geo)
        SELECT ST_AsMVT(tile, 'zones', %(extent)s, 'geom', 'id') FROM (
            SELECT z.id, z.class_code, z.class_name, round(z.area_m2::numeric, 1) AS area_m2,
                   ST_AsMVTGeom(z.geom, b.geo::box2d, %(extent)s, 16, true) AS geom
            FROM parcels_zone z, bounds b
            WHERE z.layer_version_id = %(version)s AND z.geom && b.geo AND z.min_zoom <= %(z)s
        ) AS tile WHERE tile.geom IS NOT NULL
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, {"z": z, "x": x, "y": y, "extent": extent, "version": layer_version_id})
        row = cursor.fetchone()
    return bytes(row[0]) if row and row[0] is not None else b""


def layer_cross_overlap(*, version_a: int, version_b: int, area: GEOSGeometry, simplify_deg: float, tolerance_m2: float) -> list[dict]:
    """Intersections of two layer versions' zones inside `area` (4490), per pair of classes:
    area in m² (ellipsoidal, of the exact intersection), number of zone pairs, and the pieces
    (simplified by `simplify_deg` for display only) as a GeoJSON geometry string.

    Raw SQL: a spatial self-join of the zone table with the intersection computed once per pair
    and reused for the area and the displayed geometry, which the ORM cannot say.
    """
    sql = """
        WITH pairs AS (
            SELECT za.class_code AS code_a, za.class_name AS name_a, zb.class_code AS code_b, zb.class_name AS name_b,
                   ST_Intersection(za.geom, zb.geom) AS geom,
                   ST_CoveredBy(za.geom, ST_GeomFromEWKB(%(area)s)) OR ST_CoveredBy(zb.geom, ST_GeomFromEWKB(%(area)s)) AS inside
            FROM parcels_zone za
            JOIN parcels_zone zb ON zb.layer_version_id = %(b)s AND ST_Intersects(za.geom, zb.geom)
            WHERE za.layer_version_id = %(a)s AND ST_Intersects(za.geom, ST_GeomFromEWKB(%(area)s))
        ), clipped AS (
            -- only pairs not wholly inside the area are clipped to it (the expensive case)
            SELECT code_a, name_a, code_b, name_b,
                   ST_CollectionExtract(CASE WHEN inside THEN geom ELSE ST_Intersection(geom, ST_GeomFromEWKB(%(area)s)) END, 3) AS geom
            FROM pairs
        )
        SELECT code_a, max(name_a), code_b, max(name_b), sum(ST_Area(geom::geography, true)), count(*),
               ST_AsGeoJSON(ST_SimplifyPreserveTopology(ST_CollectionExtract(ST_Collect(geom), 3), %(simplify)s), 7)
        FROM clipped WHERE NOT ST_IsEmpty(geom)
        GROUP BY code_a, code_b
        HAVING sum(ST_Area(geom::geography, true)) > %(tol)s
        ORDER BY 5 DESC
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, {"a": version_a, "b": version_b, "area": bytes(area.ewkb), "simplify": simplify_deg, "tol": tolerance_m2})
        rows = cursor.fetchall()
    return [
        {"class_a": ca, "name_a": na or "", "class_b": cb, "name_b": nb or "", "area_m2": float(area_m2), "pairs": n, "geometry": geom}
        for ca, na, cb, nb, area_m2, n, geom in rows
    ]
