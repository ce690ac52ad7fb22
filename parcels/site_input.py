"""Parsing a site boundary (drawn on the map or uploaded as GeoJSON) into a valid MultiPolygon.

Preconditions the caller can rely on afterwards: SRID 4490, valid, non-empty, polygonal, every
vertex inside China's lon/lat range. Anything else raises a SpatialInputError that names the
feature and ring at fault.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.contrib.gis.gdal import SpatialReference
from django.contrib.gis.geos import GEOSException, GEOSGeometry, MultiPolygon, Polygon
from django.utils.translation import gettext as _

from parcels.exceptions import CRSError, InvalidGeometryError, SpatialInputError
from parcels.geo import MIN_AREA_DEG2, STORAGE_SRID

# China's extent in lon/lat (degrees); coordinates outside it are certainly not a site here.
CHINA_LON = (73.0, 136.0)
CHINA_LAT = (3.0, 54.0)
EPSG_NAME = re.compile(r"^(?:urn:ogc:def:crs:EPSG:[0-9.]*:|EPSG:)([0-9]{4,6})$", re.IGNORECASE)


def _crs_srid(doc: dict[str, Any], source: str) -> int:
    """SRID named by a legacy GeoJSON `crs` member; RFC 7946 GeoJSON has none and is lon/lat.

    Only EPSG codes and CRS84 are accepted: a free-form SRS string is never handed to GDAL
    (GDAL < 3.9 may open files or URLs named in one).
    """
    crs = doc.get("crs")
    if not crs:
        return STORAGE_SRID
    name = str((crs.get("properties") or {}).get("name", "")) if isinstance(crs, dict) else ""
    if name.upper().endswith("CRS84"):
        return 4326
    match = EPSG_NAME.match(name)
    if not match:
        raise CRSError(_("unsupported coordinate reference system %(name)r; use an EPSG code") % {"name": name[:80]}, source=source)
    srid = int(match.group(1))
    try:
        SpatialReference(srid)
    except Exception as exc:  # GDAL raises SRSException or GDALException for unknown codes
        raise CRSError(_("unknown EPSG code %(srid)d") % {"srid": srid}, source=source) from exc
    return srid


def _polygons(geometry: dict[str, Any], where: str, source: str) -> list[dict[str, Any]]:
    gtype = geometry.get("type")
    if gtype == "Polygon":
        return [geometry]
    if gtype == "MultiPolygon":
        return [{"type": "Polygon", "coordinates": c} for c in geometry.get("coordinates") or []]
    raise InvalidGeometryError(
        _("a site must be a Polygon or MultiPolygon, not %(type)s") % {"type": gtype}, source=source, location=where
    )


def _lonlat(points: list[Any], srid: int) -> list[tuple[float, float]]:
    """Positions of the document (in `srid`) as lon/lat in 4490 for pinning an error on the map."""
    out = []
    for p in points:
        try:
            point = GEOSGeometry(f"SRID={srid};POINT({float(p[0])} {float(p[1])})")
            if srid != STORAGE_SRID:
                point.transform(STORAGE_SRID)
        except (GEOSException, ValueError, TypeError, IndexError):
            continue
        out.append((round(point.x, 7), round(point.y, 7)))
    return out


# GEOS names the place of an invalidity: "Self-intersection[113.94 29.955]"
_GEOS_POINT = re.compile(r"\[(-?[0-9.]+(?:e-?[0-9]+)?) (-?[0-9.]+(?:e-?[0-9]+)?)\]")


def _reason_points(reason: str) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in _GEOS_POINT.findall(reason)]


def _check_ring(ring: list[Any], where: str, source: str, srid: int = STORAGE_SRID) -> None:
    if not isinstance(ring, list) or len(ring) < 4:
        raise InvalidGeometryError(_("ring has fewer than 4 points"), source=source, location=where,
                                   points=_lonlat(ring[:1], srid) if isinstance(ring, list) else None)
    if ring[0] != ring[-1]:
        raise InvalidGeometryError(
            _("ring is not closed (first point %(first)s, last point %(last)s)") % {"first": ring[0], "last": ring[-1]},
            source=source,
            location=where,
            points=_lonlat([ring[0], ring[-1]], srid),
        )


def _inside(extent: tuple[float, float, float, float], lon: tuple[float, float], lat: tuple[float, float]) -> bool:
    xmin, ymin, xmax, ymax = extent
    return lon[0] <= xmin and xmax <= lon[1] and lat[0] <= ymin and ymax <= lat[1]


def _check_lonlat(poly: Polygon, where: str, source: str) -> None:
    """Coordinates must be lon/lat inside China; swapped axes and projected metres are named as such."""
    extent = poly.extent
    if _inside(extent, CHINA_LON, CHINA_LAT):
        return
    shown = [round(v, 5) for v in extent]
    if _inside(extent, CHINA_LAT, CHINA_LON):
        raise CRSError(
            _("coordinates look like latitude/longitude (axes swapped, extent %(extent)s); GeoJSON is longitude first") % {"extent": shown},
            source=source,
            location=where,
        )
    if _inside(extent, (-180.0, 180.0), (-90.0, 90.0)):
        raise CRSError(_("coordinates lie outside China (extent %(extent)s)") % {"extent": shown}, source=source, location=where)
    raise CRSError(
        _(
            "coordinates are not longitude/latitude (extent %(extent)s); projected coordinates need "
            "a declared CRS, e.g. EPSG:4526 for CGCS2000 3° zone 38"
        )
        % {"extent": [round(v, 3) for v in extent]},
        source=source,
        location=where,
    )


def parse_site_geojson(data: str | bytes | dict[str, Any], *, source: str = "GeoJSON") -> MultiPolygon:
    """Parses a GeoJSON geometry, Feature or FeatureCollection of polygons into one MultiPolygon (4490).

    Parts are kept as given (not dissolved); overlapping parts are an error because the site's
    area would be counted twice.
    """
    if isinstance(data, (str, bytes)):
        try:
            doc = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            line = getattr(exc, "lineno", None)
            where = _("line %(line)s") % {"line": line} if line else None
            raise SpatialInputError(_("not valid JSON: %(error)s") % {"error": getattr(exc, "msg", str(exc))}, source=source, location=where) from exc
    else:
        doc = data
    if not isinstance(doc, dict) or "type" not in doc:
        raise SpatialInputError(_("not a GeoJSON object"), source=source)
    srid = _crs_srid(doc, source)

    if doc["type"] == "FeatureCollection":
        features = doc.get("features") or []
        items = [(f.get("geometry") or {}, _("feature %(n)d") % {"n": i + 1}) for i, f in enumerate(features)]
    elif doc["type"] == "Feature":
        items = [(doc.get("geometry") or {}, _("feature 1"))]
    else:
        items = [(doc, _("geometry"))]
    if not items:
        raise InvalidGeometryError(_("no features"), source=source)

    polygons: list[Polygon] = []
    for geometry, label in items:
        for p_index, poly_json in enumerate(_polygons(geometry, label, source)):
            rings = poly_json.get("coordinates") or []
            if not rings:
                raise InvalidGeometryError(_("empty polygon"), source=source, location=label)
            for r_index, ring in enumerate(rings):
                where = _("%(label)s, polygon %(p)d, ring %(r)d") % {"label": label, "p": p_index + 1, "r": r_index + 1}
                _check_ring(ring, where, source, srid)
            where = _("%(label)s, polygon %(p)d") % {"label": label, "p": p_index + 1}
            try:
                poly = GEOSGeometry(json.dumps(poly_json))
                poly.srid = srid  # GeoJSON parsing labels everything 4326; the document's CRS decides
            except (GEOSException, ValueError, TypeError) as exc:
                raise InvalidGeometryError(_("unreadable coordinates (%(error)s)") % {"error": exc}, source=source, location=where) from exc
            if srid != STORAGE_SRID:
                poly.transform(STORAGE_SRID)
            _check_lonlat(poly, where, source)
            if not poly.valid:
                raise InvalidGeometryError(
                    _("invalid polygon: %(reason)s") % {"reason": poly.valid_reason}, source=source, location=where,
                    points=_reason_points(poly.valid_reason),
                )
            if poly.area <= MIN_AREA_DEG2:
                raise InvalidGeometryError(_("polygon has zero area"), source=source, location=where)
            polygons.append(poly)

    site = MultiPolygon(polygons, srid=STORAGE_SRID)
    if not site.valid:
        raise InvalidGeometryError(
            _("the site's polygons overlap each other: %(reason)s") % {"reason": site.valid_reason}, source=source,
            points=_reason_points(site.valid_reason),
        )
    return site
